"""Nested data with known truth for the multilevel-models course."""
