"""Sphinx configuration of the course's web site (``make book``; see scripts/build_book.py).

Sphinx + MyST-NB + sphinx-book-theme, all from PyPI: the theme's CSS, JavaScript and fonts are in
its wheel and MathJax comes from the ``sphinx-mathjax-offline`` wheel, so a build needs no network
and the pages load nothing from another host (tests/test_site.py checks both).

The source folder is assembled by scripts/build_book.py from ``book/`` (these pages), ``course/``
(the lessons, executed) and ``exercises/`` (listed, not executed); ``solutions/`` never enters it.
"""

from __future__ import annotations

import os
from pathlib import Path

CONF_DIR = Path(__file__).resolve().parent
REPO = CONF_DIR.parent
#: Where executed notebooks are cached between builds (myst-nb's jupyter-cache).
BUILD_DIR = Path(os.environ.get("BOOK_BUILD_DIR", REPO / "build" / "book"))
#: The repository the Binder and download buttons point at; set it when you publish
#: (``make book REPOSITORY_URL=https://github.com/you/multilevel-course``).
REPOSITORY_URL = os.environ.get("REPOSITORY_URL") or "https://github.com/OWNER/multilevel-course"
REPOSITORY_BRANCH = os.environ.get("REPOSITORY_BRANCH") or "main"

project = "Multilevel models, hands on"
author = "The multilevel-course authors"
copyright = "the multilevel-course authors, MIT licence"  # noqa: A001 - Sphinx's name

extensions = [
    "myst_nb",
    # MathJax from a PyPI wheel instead of Sphinx's default CDN address.
    "sphinx-mathjax-offline",
]

root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
# The lessons' Markdown uses $...$ and $$...$$ maths, as JupyterLab does.
myst_enable_extensions = ["dollarmath", "amsmath"]
# Lesson headings go from # to ### with some levels skipped inside quizzes and notes.
suppress_warnings = ["myst.header"]

# --- Execution: every lesson runs at build time; results are cached per notebook and reused
# until its code changes (jupyter-cache keys on the code cells).
nb_execution_mode = "cache"
nb_execution_cache_path = str(BUILD_DIR / "jupyter_cache")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# Exercise notebooks are shown as handed out: questions and empty answers, not run.
nb_execution_excludepatterns = ["exercises/*"]
nb_merge_streams = True
# Lessons are read, not run, here: the kernel's stderr would be a warning, and a lesson that
# writes to stderr fails its notebook test already.
nb_output_stderr = "warn"

# --- Rendering. Explorers and quizzes are ipywidgets: with no kernel behind the page they
# cannot move, so each also offers text/html (a picture of its first state with where to run
# it; the question with its answer behind a "Show the answer"), which the site uses instead of
# the widget. No widget JavaScript is loaded (its default comes from a CDN).
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None),
    ("html", "application/vnd.jupyter.widget-state+json", None),
]
nb_ipywidgets_js = {}

# --- Pages.
html_theme = "sphinx_book_theme"
html_title = "Multilevel models, hands on"
html_static_path = ["_static"]
templates_path = ["_templates"]
html_css_files = ["course.css"]
html_last_updated_fmt = None
html_copy_source = True  # the notebook each page's download button offers
html_show_sourcelink = False
html_theme_options = {
    "repository_url": REPOSITORY_URL,
    "repository_branch": REPOSITORY_BRANCH,
    "path_to_docs": "",
    "use_download_button": True,
    "use_repository_button": True,
    "use_fullscreen_button": False,
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "notebook_interface": "jupyterlab",
    },
    "home_page_in_toc": True,
    # One level in the left sidebar: the theme's expand/collapse toggles for deeper levels are
    # <summary> elements with no text, a serious axe-core violation (summary-name). The exercise
    # pages are listed on the Exercises page.
    "max_navbar_depth": 1,
    "show_toc_level": 2,
    # No icon fonts or analytics from another host.
    "icon_links": [],
}
html_context = {"default_mode": "light"}
