"""Shared test configuration."""

import matplotlib

# Tests never open windows.
matplotlib.use("Agg")
