"""The teaching toolkit for the multilevel-models course: models, plots, widgets and checks."""
