"""Helpers for the browser test (``tests/test_browser.py``): a throw-away JupyterLab server and
Playwright page helpers that act like a student in JupyterLab."""
