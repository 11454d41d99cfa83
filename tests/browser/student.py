"""What a student does in JupyterLab, as Playwright steps: open a notebook, run all cells, find the
explorer, move a slider with the keyboard and watch the figure redraw.

Selectors are JupyterLab 4 / ipywidgets 8 ones; they were read off the live DOM of the toy notebook
``tests/browser/toy_slider.ipynb``.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Debian's Chromium; Playwright's own browser downloads are not possible everywhere.
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
#: Headless flags measured to work here (as root, on a closed network).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1400, "height": 1000}

KERNEL_STATUS = '#jp-main-statusbar span.jp-StatusBar-TextItem[title^="Change kernel"]'
SLIDER_HANDLE = ".widget-slider .noUi-handle[role=slider]"
EXPLORER_CELL = f".jp-CodeCell:has(.jp-OutputArea-output {SLIDER_HANDLE})"
#: An error or a warning printed by a cell (tracebacks render with this MIME type as well).
STDERR_OUTPUT = '.jp-OutputArea [data-mime-type="application/vnd.jupyter.stderr"]'
#: What a notebook shows when a widget is not rendered: its text fallback, or the front end's error.
UNRENDERED_WIDGET_TEXT = (
    "VBox(children=",
    "HBox(children=",
    "IntSlider(",
    "FloatSlider(",
    "Output(",
    "Error displaying widget",
    "Traceback (most recent call last)",
)

# Runs in the page: the explorer's figure is the largest image or canvas in the cell's outputs
# (an ipywidgets.Image, an inline PNG inside an Output widget, or an ipympl canvas).
_FIGURE_JS = """
(cell) => {
  const candidates = Array.from(cell.querySelectorAll(
    '.jp-OutputArea img, .jp-OutputArea canvas, .jp-OutputArea svg.jp-RenderedSVG, .jp-RenderedSVG svg'));
  let best = null, bestArea = 0;
  for (const el of candidates) {
    const box = el.getBoundingClientRect();
    const area = box.width * box.height;
    if (area > bestArea) { best = el; bestArea = area; }
  }
  return best;
}
"""

# Runs in the page before a key press: time from the keydown to the first animation frame in which
# the figure shows different, fully loaded content.
_WATCH_JS = (
    """
(cell) => {
  const figure = """
    + _FIGURE_JS
    + """;
  const signature = (el) => {
    if (!el) return '';
    if (el.tagName === 'IMG') return (el.complete && el.naturalWidth > 0) ? el.currentSrc || el.src : '';
    if (el.tagName === 'CANVAS') return el.toDataURL();
    return el.outerHTML;
  };
  const watch = {before: signature(figure(cell)), t0: null, t1: null};
  window.__mlWatch = watch;
  document.addEventListener('keydown', () => { watch.t0 = performance.now(); },
                            {capture: true, once: true});
  const started = performance.now();
  const tick = () => {
    const now = performance.now();
    const current = signature(figure(cell));
    if (watch.t0 !== null && current && current !== watch.before) { watch.t1 = now; return; }
    if (now - started < 60000) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
"""
)


@dataclass
class PageLog:
    """Everything the browser said: console messages, uncaught page errors, blocked requests."""

    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def text(self) -> str:
        """All of it as one text, for the failure artifacts."""
        parts = ["# console", *self.console, "# page errors", *self.page_errors]
        parts += ["# blocked requests (not 127.0.0.1)", *self.blocked]
        return "\n".join(parts) + "\n"


@dataclass(frozen=True)
class SliderStep:
    """One keyboard step of one slider and what the explorer did in response.

    Attributes
    ----------
    key : str
        ``"ArrowRight"`` or ``"ArrowLeft"``.
    value_before, value_after : str
        The slider's ``aria-valuetext`` before and after the step.
    number_after : float
        The slider's value after the step: its ``aria-valuetext`` as a number, else its
        ``aria-valuenow`` (which, for a ``FloatLogSlider``, is the exponent).
    readout_before, readout_after : str
        The slider's own readout text (the number shown next to it).
    explorer_text_before, explorer_text_after : str
        The text of the explorer's outputs other than its sliders (its readout from the kernel).
    figure_changed : bool
        Whether a screenshot of the figure differs, pixel for pixel, after the step.
    latency_s : float
        Seconds from the key press to the first frame showing the redrawn figure.
    """

    key: str
    value_before: str
    value_after: str
    number_after: float
    readout_before: str
    readout_after: str
    explorer_text_before: str
    explorer_text_after: str
    figure_changed: bool
    latency_s: float


def chromium_available() -> bool:
    """Whether Chromium exists at :data:`CHROMIUM_PATH`.

    Examples
    --------
    >>> isinstance(chromium_available(), bool)
    True
    """
    return Path(CHROMIUM_PATH).is_file() and os.access(CHROMIUM_PATH, os.X_OK)


def unavailable(reason: str) -> None:
    """Skip a test that cannot run here (no Chromium, Playwright, axe-core, ...), but fail it under
    CI (``CI=true``), where every test must run."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: this test must run, not skip)", pytrace=False)
    pytest.skip(reason)


def launch_chromium(playwright):
    """Launch headless Chromium from :data:`CHROMIUM_PATH`.

    Examples
    --------
    >>> with sync_playwright() as p:  # doctest: +SKIP
    ...     browser = launch_chromium(p)
    """
    return playwright.chromium.launch(
        executable_path=CHROMIUM_PATH, headless=True, args=list(CHROMIUM_ARGS)
    )


def new_student_page(browser, log: PageLog):
    """A fresh browser context and page that may talk to 127.0.0.1 only, logging into ``log``.

    Examples
    --------
    >>> page = new_student_page(browser, PageLog())  # doctest: +SKIP
    """
    context = browser.new_context(viewport=VIEWPORT)

    def only_localhost(route) -> None:
        url = route.request.url
        host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if url.startswith(("blob:", "data:")) or host == "127.0.0.1":
            route.continue_()
        else:
            log.blocked.append(url)
            route.abort()

    context.route("**/*", only_localhost)
    page = context.new_page()
    page.on("console", lambda message: log.console.append(f"[{message.type}] {message.text}"))
    page.on("pageerror", lambda error: log.page_errors.append(str(error)))
    return page


def wait_kernel_idle(page, *, timeout_s: float = 60.0) -> None:
    """Wait until the status bar's kernel text reads Idle.

    The notebook's own execution indicator says idle before the kernel is ready; the status bar
    does not, and Run All issued earlier silently runs nothing.
    """
    page.locator(KERNEL_STATUS).filter(has_text="| Idle").wait_for(timeout=timeout_s * 1000)


def open_notebook(page, url: str, *, timeout_s: float = 60.0) -> None:
    """Open the notebook at ``url`` and wait for its kernel to be ready (Idle)."""
    page.goto(url)
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=timeout_s * 1000)
    wait_kernel_idle(page, timeout_s=timeout_s)


def run_all_cells(page, *, timeout_s: float = 120.0) -> None:
    """Run all cells through the Run menu (command ``runmenu:run-all``) and wait until every code
    cell has an execution count and the kernel is Idle again."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    page.wait_for_function(
        """() => {
          const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'));
          const code = cells.filter(c => (c.querySelector('.cm-content')?.textContent ?? 'x').trim());
          return code.length > 0 && code.every(
            c => /^\\[\\d+\\]:$/.test((c.querySelector('.jp-InputPrompt')?.textContent ?? '').trim()));
        }""",
        timeout=timeout_s * 1000,
        polling=100,
    )
    wait_kernel_idle(page, timeout_s=timeout_s)


def problems_shown(page) -> list[str]:
    """What in the notebook a student would see as broken: printed errors or warnings, widget text
    fallbacks, and unread output in the log console (where errors from widget callbacks go).

    Examples
    --------
    >>> problems_shown(page)  # doctest: +SKIP
    []
    """
    problems = [
        f"error or warning printed: {text.strip()[:500]}"
        for text in page.locator(STDERR_OUTPUT).all_inner_texts()
    ]
    outputs = "\n".join(page.locator(".jp-Notebook .jp-OutputArea-output").all_inner_texts())
    problems += [
        f"output shows {marker!r} (a widget that did not render, or an error)"
        for marker in UNRENDERED_WIDGET_TEXT
        if marker in outputs
    ]
    log_console = page.locator(".jp-LogConsoleStatusItem")
    if log_console.count() and log_console.first.is_visible():
        text = log_console.first.inner_text().strip()
        problems.append(f"the log console has unread kernel output ({text or 'some'} messages)")
    return problems


def log_console_text(page) -> str:
    """Open JupyterLab's log console (where output of widget callbacks that belongs to no cell goes,
    such as a callback's traceback) and return its text; ``""`` when it holds nothing."""
    item = page.locator(".jp-LogConsoleStatusItem")
    if not (item.count() and item.first.is_visible()):
        return ""
    item.first.locator("[role=button]").first.click()
    panel = page.locator(".jp-LogConsolePanel")
    panel.first.wait_for(timeout=5000)
    page.wait_for_timeout(300)
    return panel.first.inner_text()


def explorer_cells(page):
    """Locators of the code cells whose outputs hold at least one ipywidgets slider."""
    return page.locator(EXPLORER_CELL).all()


def wait_explorer_ready(cell, *, timeout_s: float = 30.0) -> None:
    """Wait until the cell shows a slider handle and a figure with loaded content."""
    cell.locator(SLIDER_HANDLE).first.wait_for(timeout=timeout_s * 1000)
    cell.page.wait_for_function(
        "(cell) => { const f = (" + _FIGURE_JS + ")(cell);"
        " return !!f && (f.tagName !== 'IMG' || (f.complete && f.naturalWidth > 0)); }",
        arg=cell.element_handle(),
        timeout=timeout_s * 1000,
        polling=100,
    )


def _figure_screenshot(cell) -> bytes:
    figure = cell.evaluate_handle(_FIGURE_JS).as_element()
    if figure is None:
        raise AssertionError(
            "the explorer shows no figure (no image, canvas or SVG in its outputs)"
        )
    figure.scroll_into_view_if_needed()
    return figure.screenshot(animations="disabled")


def _explorer_text(cell) -> str:
    """Text of the cell's outputs other than the sliders: the explorer's readout."""
    return cell.evaluate(
        """(cell) => {
          const area = cell.querySelector('.jp-OutputArea').cloneNode(true);
          area.querySelectorAll('.widget-slider, .jp-OutputPrompt').forEach(e => e.remove());
          return area.innerText.trim();
        }"""
    )


def step_slider(cell, *, slider_index: int = 0, timeout_s: float = 10.0) -> SliderStep:
    """Focus a slider's handle, press one arrow key, and wait for the figure to redraw.

    The key is ArrowRight, or ArrowLeft when the slider is already at its maximum.

    Raises
    ------
    AssertionError
        If the slider does not move or the figure does not redraw within ``timeout_s``.
    """
    page = cell.page
    handle = cell.locator(SLIDER_HANDLE).nth(slider_index)
    slider = cell.locator(".widget-slider").nth(slider_index)
    handle.scroll_into_view_if_needed()
    value_before = handle.get_attribute("aria-valuetext") or ""
    at_max = float(handle.get_attribute("aria-valuenow") or 0) >= float(
        handle.get_attribute("aria-valuemax") or 0
    )
    key = "ArrowLeft" if at_max else "ArrowRight"
    readout = slider.locator(".widget-readout")
    readout_before = readout.inner_text() if readout.count() else ""
    text_before = _explorer_text(cell)
    shot_before = _figure_screenshot(cell)

    cell.evaluate(_WATCH_JS)
    handle.focus()
    page.keyboard.press(key)
    try:
        page.wait_for_function(
            "() => window.__mlWatch && window.__mlWatch.t1 !== null",
            timeout=timeout_s * 1000,
            polling="raf",
        )
    except Exception as error:
        shown = "".join(f"\n  {problem}" for problem in problems_shown(page))
        raise AssertionError(
            f"the figure did not redraw within {timeout_s:.0f} s of pressing {key} on a slider "
            f"(value {value_before!r} -> {handle.get_attribute('aria-valuetext')!r}){shown}"
        ) from error
    latency_s = page.evaluate("() => (window.__mlWatch.t1 - window.__mlWatch.t0) / 1000")
    value_after = handle.get_attribute("aria-valuetext") or ""
    # The kernel may update the readout a moment after the figure.
    deadline = time.monotonic() + timeout_s
    text_after = _explorer_text(cell)
    while text_after == text_before and time.monotonic() < deadline:
        time.sleep(0.05)
        text_after = _explorer_text(cell)
    shot_after = _figure_screenshot(cell)
    return SliderStep(
        key=key,
        value_before=value_before,
        value_after=value_after,
        number_after=_as_number(value_after, handle.get_attribute("aria-valuenow")),
        readout_before=readout_before,
        readout_after=readout.inner_text() if readout.count() else "",
        explorer_text_before=text_before,
        explorer_text_after=text_after,
        figure_changed=shot_after != shot_before,
        latency_s=latency_s,
    )


def _as_number(text: str, fallback: str | None) -> float:
    for candidate in (text, fallback):
        try:
            return float(candidate)
        except (TypeError, ValueError):
            continue
    return float("nan")


def median_latency_s(steps: list[SliderStep]) -> float:
    """Median seconds from key press to redrawn figure over ``steps``.

    Examples
    --------
    >>> median_latency_s([])  # doctest: +SKIP
    """
    return statistics.median(step.latency_s for step in steps)


def save_artifacts(page, log: PageLog, directory: Path) -> str:
    """Save screenshots (the page, each explorer, the log console), the browser console and the
    log console's text into ``directory``; return the log console's text for the failure message.
    Never raises: it runs while a test is already failing."""
    directory.mkdir(parents=True, exist_ok=True)
    console_text = ""
    try:
        page.screenshot(path=str(directory / "page.png"))
        for index, cell in enumerate(explorer_cells(page)):
            cell.scroll_into_view_if_needed()
            cell.screenshot(path=str(directory / f"explorer-{index}.png"))
        console_text = log_console_text(page)
        if console_text:
            page.screenshot(path=str(directory / "page-with-log-console.png"))
            (directory / "log-console.txt").write_text(console_text)
    except Exception as error:  # a closed or crashed page still leaves the logs
        log.page_errors.append(f"(while saving artifacts: {error})")
    (directory / "browser-console.log").write_text(log.text())
    return console_text
