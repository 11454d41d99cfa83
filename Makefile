# Two commands a newcomer needs:  `make lab`  and  `make test`.
# Everything lives in .venv inside the repository; nothing is installed system-wide.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8888
# NO_BROWSER=1 starts JupyterLab without opening a browser (servers, containers, CI).
# PRESENTATION=1 draws every lesson and explorer in projector sizes (multilevel.style).
NO_BROWSER ?=
FIRST_LESSON := course/00_start_here.ipynb
# JupyterLab refuses to run as root unless told it may.
ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)

.PHONY: lab test unit notebooks browser lint format bench exercises env clean clean-notebooks book demo axe

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10 or newer is needed, found " + sys.version.split()[0]' \
		|| (echo "Set PYTHON=/path/to/python3.10+ and try again." && exit 1)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev,site]'
	@touch $@

# The web site (Sphinx + MyST-NB + sphinx-book-theme) and the lecture app (Voila): the `site` extra.
$(VENV)/.installed-site: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[site]'
	@touch $@

# axe-core, the accessibility checker the site's tests inject into Chromium, from npm (pinned in
# tests/browser/axe/package-lock.json). Without npm the accessibility test skips and says so.
AXE := tests/browser/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/axe/package.json tests/browser/axe/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/browser/axe --no-audit --no-fund --loglevel=error && touch $@ \
		|| echo "npm could not install axe-core: the site's accessibility test will skip"; \
	else echo "npm not found: the site's accessibility test will skip (apt-get install npm)"; fi
axe: $(AXE)

env: $(VENV)/.installed

lab: $(VENV)/.installed
	$(if $(PRESENTATION),MULTILEVEL_PRESENTATION=1) $(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" --port=$(PORT) $(ROOT_FLAG) \
		$(if $(NO_BROWSER),--no-browser --ServerApp.ip=0.0.0.0) $(FIRST_LESSON)

test: $(VENV)/.installed-dev $(AXE)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -n 2 --dist loadgroup

# The quick loop while developing: no notebooks, no browser, nothing marked slow (R, simulation
# studies, many-samples runs). `make test` runs everything.
unit: $(VENV)/.installed-dev
	$(PY) -m pytest -n 2 --dist loadgroup -m "not notebook and not browser and not slow"

browser: $(VENV)/.installed-dev $(AXE)
	$(PY) -m pytest tests/test_browser.py tests/test_site.py tests/test_demo.py -m browser

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed-dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Speed goals live here, not in the tests: each script prints its figures and says when one misses
# its goal. CI machines are shared and busy, so a timed test would fail at random.
bench: $(VENV)/.installed-dev
	$(PY) scripts/bench_simdata.py
	$(PY) scripts/bench_models.py
	$(PY) scripts/bench_formula.py
	$(PY) scripts/bench_explorers.py
	$(PY) scripts/bench_grading.py

exercises: $(VENV)/.installed
	$(PY) scripts/make_exercises.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Strip outputs, execution counts and editor metadata from every notebook (keeps cell ids and tags).
clean-notebooks: $(VENV)/.installed-dev
	$(VENV)/bin/nbstripout --keep-id --extra-keys "metadata.widgets metadata.jupytext cell.metadata.execution cell.metadata.scrolled cell.metadata.collapsed cell.metadata.jupyter" course/*.ipynb solutions/*.ipynb exercises/*.ipynb

# Static reveal.js slides of every lesson (docs/instructors.md), run in presentation mode:
# build/slides/<lesson>.slides.html (gitignored). Live slides: the RISE extension in JupyterLab.
SLIDES_DIR := build/slides
.PHONY: slides
slides: $(VENV)/.installed
	MULTILEVEL_PRESENTATION=1 $(VENV)/bin/jupyter nbconvert --to slides \
		--execute --ExecutePreprocessor.timeout=300 --output-dir $(SLIDES_DIR) course/*.ipynb

# The course as a static web site: every lesson executed, with its figures, a table of contents,
# search, a download and a Binder button per notebook: build/book/html/index.html (gitignored).
# Executed lessons are cached in build/book/jupyter_cache: a rebuild runs only what changed.
# REPOSITORY_URL=https://github.com/you/multilevel-course points the Binder button at your copy.
book: $(VENV)/.installed-site
	$(PY) scripts/build_book.py

# The five explorers as a code-free app for a lecture (Voila, projector sizes): a launcher page
# with one entry per explorer. Honours PORT and NO_BROWSER (then on all interfaces), as `make lab`;
# runs as root too (Voila does not refuse it).
demo: $(VENV)/.installed-site
	$(PY) scripts/demo.py --port=$(PORT) $(if $(NO_BROWSER),--no-browser --ip=0.0.0.0)
