"""The course's web site (``make book``): it builds, shows every lesson with its figures and alt
text, loads nothing from another host, publishes no solution, and passes axe-core.

One build serves every test here (the ``site`` fixture, once per test session; a second
pytest-xdist worker waits for it and reuses its cache), into
``build/book-test`` (``ML_SITE_BUILD_DIR`` elsewhere), so MyST-NB's execution cache makes a second
run quick; a change in the lessons or the packages re-executes what it touches. Where the machine
allows it (Linux, as root: CI), the build runs in a network namespace of its own with only a
loopback interface, so a build that needs the network fails here.

The browser tests serve the HTML on 127.0.0.1 and open it in Debian's Chromium (as
tests/test_browser.py does); the accessibility test injects axe-core from npm
(``make axe``, into tests/browser/axe). Without Chromium, Playwright or axe-core the browser tests
skip and say so, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

# The helpers live in tests/browser/; pytest does not put tests/ on sys.path by itself.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
from browser import student  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BUILD_DIR = Path(os.environ.get("ML_SITE_BUILD_DIR", REPO / "build" / "book-test"))
AXE_JS = REPO / "tests" / "browser" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "artifacts" / "site"
LESSONS = sorted((REPO / "course").glob("*.ipynb"))
EXERCISES = sorted((REPO / "exercises").glob("*.ipynb"))
SOLUTIONS = sorted((REPO / "solutions").glob("*.ipynb"))
#: axe-core impacts that fail the accessibility test (minor and moderate ones are reported).
FAILING_IMPACTS = ("serious", "critical")
#: An alt text is a sentence: at least this many words.
MIN_ALT_WORDS = 8


def needs_site(test):
    """Marks of a test that uses the built site: slow (building executes every lesson, about
    two minutes on 2 busy cores from a cold cache), and in the browser group, so that one
    pytest-xdist worker builds the site once and runs one Chromium at a time."""
    for mark in (pytest.mark.slow, pytest.mark.xdist_group("browser"), pytest.mark.timeout(1500)):
        test = mark(test)
    return test


# --------------------------------------------------------------------------- the build
@dataclass(frozen=True)
class Site:
    """A finished build: its HTML folder, its source folder and how it was run."""

    html: Path
    src: Path
    offline: bool
    log: str


def _offline_prefix() -> list[str]:
    """A command prefix that runs a program with no network but loopback, or [] if impossible.

    ``unshare -n`` (root on Linux) makes a network namespace with only a loopback interface,
    which is down until ``ip link set lo up``; kernels talk to the build over 127.0.0.1.
    """
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not (sys.platform.startswith("linux") and unshare and ip and os.geteuid() == 0):
        return []
    probe = subprocess.run(
        [unshare, "-n", ip, "link", "set", "lo", "up"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        return []
    return [unshare, "-n", "sh", "-c", f'{ip} link set lo up && exec "$@"', "offline"]


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """Hold a lock on the build folder while building.

    pytest-xdist may give the site's tests to both workers (with pytest 9 it no longer keeps an
    xdist_group on one worker), and each worker has its own session: the second one waits here,
    then finds every lesson in the execution cache and rebuilds in seconds.
    """
    try:
        import fcntl
    except ImportError:  # Windows: one worker at a time is then up to the caller
        yield
        return
    BUILD_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(BUILD_DIR.parent / f"{BUILD_DIR.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def site() -> Site:
    """Build the site once per session (offline where the machine allows it)."""
    prefix = _offline_prefix()
    command = [*prefix, sys.executable, str(REPO / "scripts" / "build_book.py"), "--out"]
    command.append(str(BUILD_DIR))
    with _build_lock():
        result = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, check=False, timeout=1400
        )
    log = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"the site did not build:\n{log[-6000:]}", pytrace=False)
    return Site(BUILD_DIR / "html", BUILD_DIR / "src", bool(prefix), log)


def _page(relative_notebook: Path) -> str:
    """The site's page of a notebook (``course/02_x.ipynb`` -> ``course/02_x.html``)."""
    return relative_notebook.with_suffix(".html").as_posix()


def lesson_pages() -> list[str]:
    return [_page(path.relative_to(REPO)) for path in LESSONS]


@needs_site
def test_the_site_builds_with_every_lesson_and_exercise(site: Site) -> None:
    missing = [
        page
        for page in ["index.html", "exercises.html", "explorers.html", "search.html"]
        + lesson_pages()
        + [_page(path.relative_to(REPO)) for path in EXERCISES]
        if not (site.html / page).is_file()
    ]
    assert not missing, f"pages missing from the site: {missing}"
    exercises_page = (site.html / "exercises.html").read_text(encoding="utf-8")
    for path in EXERCISES:
        assert f'href="exercises/{path.stem}.html"' in exercises_page, (
            f"the Exercises page does not list {path.name}"
        )
    # Each notebook can be downloaded as stored (the theme's download button).
    for path in [*LESSONS, *EXERCISES]:
        relative = path.relative_to(REPO)
        assert (site.html / "_sources" / relative).is_file(), f"no download of {relative}"


@needs_site
def test_the_build_ran_without_a_network(site: Site) -> None:
    if not site.offline:
        student.unavailable(
            "cannot cut this machine's network for the build (needs root and unshare)"
        )
    assert site.offline


@needs_site
def test_lessons_are_executed_with_their_figures(site: Site) -> None:
    for page in lesson_pages():
        text = (site.html / page).read_text(encoding="utf-8")
        assert "cell_output" in text, f"{page} shows no cell output: was it executed?"
        images = _Images.of(text)
        assert any(not img.is_theme for img in images), f"{page} shows no figure"


@needs_site
def test_exercises_are_listed_not_executed(site: Site) -> None:
    for path in EXERCISES:
        text = (site.html / _page(path.relative_to(REPO))).read_text(encoding="utf-8")
        assert "cell_output" not in text, f"{path.name} was executed for the site"


# --------------------------------------------------------------------------- alt text
@dataclass(frozen=True)
class _Image:
    src: str
    alt: str | None
    is_theme: bool


class _Images(HTMLParser):
    """Every <img> of a page, with whether it belongs to the theme (logos, buttons)."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[_Image] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img":
            return
        values = dict(attrs)
        src = values.get("src") or ""
        theme = "_static/" in src or "logo" in (values.get("class") or "")
        self.images.append(_Image(src, values.get("alt"), theme))

    @classmethod
    def of(cls, text: str) -> list[_Image]:
        parser = cls()
        parser.feed(text)
        return parser.images


def alt_text_problems(text: str) -> list[str]:
    """Figures of a page whose alt text is missing, a file name, or shorter than a sentence."""
    problems = []
    for image in _Images.of(text):
        if image.is_theme:
            continue
        alt = (image.alt or "").strip()
        words = len(alt.split())
        if not alt or re.search(r"\.(png|jpe?g|svg|gif)$", alt) or words < MIN_ALT_WORDS:
            problems.append(f"{image.src[:60]}: alt {alt!r}")
    return problems


def test_the_alt_text_check_can_fail() -> None:
    page = (
        '<img src="a.png" alt="../_images/a.png"><img src="b.png">'
        '<img src="c.png" alt="A plot.">'
        '<img src="d.png" alt="Salary against experience for eight departments, one line each.">'
        '<img src="_static/logo.svg" alt="">'
    )
    assert len(alt_text_problems(page)) == 3


@needs_site
def test_every_figure_has_alt_text(site: Site) -> None:
    problems = {
        page: found
        for page in lesson_pages()
        if (found := alt_text_problems((site.html / page).read_text(encoding="utf-8")))
    }
    assert not problems, (
        "figures without a sentence of alt text (give the cell mystnb.image.alt metadata; see "
        "docs/instructors.md):\n" + json.dumps(problems, indent=1)
    )


def test_pending_alt_text_names_existing_cells() -> None:
    """Every entry of book/alt_text_pending.json points at a cell that exists."""
    path = REPO / "book" / "alt_text_pending.json"
    if not path.is_file():
        pytest.skip("no alt text is pending: every lesson holds its own")
    for notebook, cells in json.loads(path.read_text(encoding="utf-8")).items():
        nb = nbformat.read(REPO / notebook, as_version=4)
        ids = {cell.get("id") for cell in nb.cells}
        assert set(cells) <= ids, f"{notebook} has no cells {sorted(set(cells) - ids)}"


# --------------------------------------------------------------------------- nothing external
_EXTERNAL = re.compile(r"^(https?:)?//", re.IGNORECASE)


class _Resources(HTMLParser):
    """The addresses a page loads by itself: scripts, styles, images, fonts, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed"):
            self.loaded.append(values.get("src") or "")
        elif tag == "link" and set((values.get("rel") or "").split()) & {
            "stylesheet",
            "preload",
            "modulepreload",
            "icon",
            "prefetch",
        }:
            self.loaded.append(values.get("href") or "")
        style = values.get("style") or ""
        self.loaded += re.findall(r"url\(\s*['\"]?([^'\")]+)", style)


def external_resources(text: str, *, css: bool = False) -> list[str]:
    """Addresses on another host that an HTML page (or a CSS file) loads."""
    if css:
        found = re.findall(r"url\(\s*['\"]?([^'\")]+)", text)
        found += re.findall(r"@import\s+['\"]([^'\"]+)", text)
    else:
        parser = _Resources()
        parser.feed(text)
        found = parser.loaded
    return sorted({address for address in found if _EXTERNAL.match(address.strip())})


def test_the_external_resource_check_can_fail() -> None:
    page = (
        '<script src="https://cdn.example/x.js"></script><script src="_static/a.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/css"><a href="https://mybinder.org">x</a>'
    )
    assert external_resources(page) == ["//fonts.example/css", "https://cdn.example/x.js"]
    assert external_resources("a{b:url(https://f.example/f.woff)}", css=True)


@needs_site
def test_pages_load_nothing_from_another_host(site: Site) -> None:
    found = {}
    for path in sorted(site.html.rglob("*")):
        if path.suffix not in (".html", ".css"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        external = external_resources(text, css=path.suffix == ".css")
        if external:
            found[str(path.relative_to(site.html))] = external
    assert not found, f"the site loads from other hosts: {json.dumps(found, indent=1)}"


# --------------------------------------------------------------------------- no solutions
def _page_texts(root: Path) -> Iterator[tuple[str, str]]:
    """Every text file of the site, HTML as the words a reader sees (tags gone, unescaped)."""
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix in (".png", ".jpg", ".woff", ".woff2", ".ttf"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".html":
            text = html.unescape(re.sub(r"<[^>]+>", "", text))
        yield str(path.relative_to(root)), re.sub(r"\s+", " ", text)


def solution_lines() -> set[str]:
    """Code lines that only the solutions hold: each solution cell's non-comment lines, less
    any line that a lesson or an exercise notebook shows as well."""
    public = set()
    for path in [*LESSONS, *EXERCISES]:
        for cell in nbformat.read(path, as_version=4).cells:
            public.update(line.strip() for line in cell.source.splitlines())
    found = set()
    for path in SOLUTIONS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code" or "solution" not in cell.metadata.get("tags", []):
                continue
            for line in cell.source.splitlines():
                line = line.strip()
                # Short lines (a closing bracket, `x = 1`) would be found anywhere.
                if len(line) >= 15 and not line.startswith("#") and line not in public:
                    found.add(re.sub(r"\s+", " ", line))
    return found


def solutions_published(root: Path, lines: set[str]) -> list[str]:
    """Where the site under ``root`` holds a solution file or a line of solution code."""
    found = [
        f"{path.relative_to(root)}: a file from solutions/"
        for path in root.rglob("*")
        if path.is_file() and "solutions" in path.relative_to(root).parts
    ]
    for name, text in _page_texts(root):
        found += [f"{name}: {line!r}" for line in sorted(lines) if line in text]
    return found


def test_solution_lines_are_found() -> None:
    lines = solution_lines()
    assert len(lines) >= len(SOLUTIONS), f"too few solution lines to check: {sorted(lines)}"


def test_the_solution_check_can_fail(tmp_path: Path) -> None:
    line = sorted(solution_lines())[0]
    (tmp_path / "page.html").write_text(f"<p>{html.escape(line)}</p>")
    assert solutions_published(tmp_path, {line})
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "x.ipynb").write_text("{}")
    assert len(solutions_published(tmp_path, set())) == 1


@needs_site
def test_no_solution_is_published(site: Site) -> None:
    lines = solution_lines()
    found = solutions_published(site.html, lines) + solutions_published(site.src, lines)
    assert not found, "solutions reached the site:\n" + "\n".join(found[:20])


# --------------------------------------------------------------------------- in Chromium
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # the test reports what matters
        pass


@pytest.fixture(scope="module")
def served(site: Site) -> Iterator[str]:
    """The built site on http://127.0.0.1:<port>/ (a static server, as any host would be)."""
    handler = functools.partial(_QuietHandler, directory=str(site.html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


# Runs in the page: every image drawn (loaded, with a size), and the figures among them.
_IMAGES_JS = """() => Array.from(document.querySelectorAll('article img')).map(img => ({
    src: img.getAttribute('src').slice(0, 80), alt: img.getAttribute('alt') || '',
    drawn: img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().width > 0,
    output: !!img.closest('.cell_output')}))"""


def _open(chromium, url: str) -> tuple[object, student.PageLog]:
    log = student.PageLog()
    page = student.new_student_page(chromium, log)
    page.goto(url, wait_until="networkidle")
    return page, log


@needs_site
@pytest.mark.browser
@pytest.mark.parametrize("page_path", lesson_pages())
def test_lesson_page_shows_its_figures_without_errors(page_path, site, served, chromium) -> None:
    page, log = _open(chromium, served + page_path)
    try:
        # Scrolling through the page makes lazily loaded images load.
        page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_load_state("networkidle")
        images = page.evaluate(_IMAGES_JS)
        figures = [image for image in images if image["output"]]
        assert figures, f"{page_path}: no figure in the cell outputs"
        not_drawn = [image["src"] for image in images if not image["drawn"]]
        assert not not_drawn, f"{page_path}: images not drawn: {not_drawn}"
        errors = [line for line in log.console if line.startswith("[error]")]
        assert not errors, f"{page_path}: console errors:\n" + "\n".join(errors)
        assert not log.page_errors, f"{page_path}: page errors: {log.page_errors}"
        assert not log.blocked, f"{page_path}: requests to other hosts: {log.blocked}"
        if 'class="math' in (site.html / page_path).read_text(encoding="utf-8"):
            page.locator("mjx-container").first.wait_for(timeout=30_000)
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{Path(page_path).stem}.png"), full_page=True)
        (ARTIFACTS / f"{Path(page_path).stem}-console.log").write_text(log.text())
        raise
    finally:
        page.context.close()


def axe_pages() -> list[str]:
    return ["index.html", "exercises.html", "explorers.html", "search.html"] + [
        *lesson_pages(),
        _page(EXERCISES[0].relative_to(REPO)),
    ]


def serious_violations(violations: list[dict]) -> list[str]:
    """axe-core violations whose impact fails the test, one line per rule, with where."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in violations
        if v.get("impact") in FAILING_IMPACTS
    ]


def test_the_axe_filter_can_fail() -> None:
    violation = {
        "id": "image-alt",
        "impact": "critical",
        "help": "alt",
        "nodes": [{"target": ["img"]}],
    }
    minor = {**violation, "impact": "minor"}
    assert serious_violations([violation, minor]) == ["image-alt (critical): alt at img"]


@needs_site
@pytest.mark.browser
def test_site_passes_axe_core(served, chromium) -> None:
    if not AXE_JS.is_file():
        student.unavailable(f"axe-core is not installed at {AXE_JS}: run `make axe` (needs npm)")
    found = {}
    for page_path in axe_pages():
        page, _log = _open(chromium, served + page_path)
        try:
            page.add_script_tag(path=str(AXE_JS))
            violations = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            )
        finally:
            page.context.close()
        if serious := serious_violations(violations):
            found[page_path] = serious
    assert not found, "axe-core finds serious or critical violations:\n" + json.dumps(
        found, indent=1
    )
