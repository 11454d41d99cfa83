"""End-to-end: what a student does in JupyterLab, in a real browser.

For the toy slider notebook (``tests/browser/toy_slider.ipynb``, which proves the harness) and each
lesson with an explorer (lessons 2-5): start a throw-away JupyterLab, open a copy of the notebook,
run all cells, wait for the explorer, press an arrow key on its slider a few times and check that
the figure redraws, the readouts follow, and nothing shows an error or an unrendered widget.

The time from a key press to the redrawn figure is printed for each notebook in the test summary,
flagged when a lesson's median exceeds the toy figure's by more than :data:`LATENCY_ALLOWANCE_S`.
It is reported rather than asserted (the speed budget is the benchmarks' job), so a busy machine
does not turn the suite red; a figure that does not redraw at all still fails.

Needs Playwright (the ``dev`` extra) and Chromium (``apt-get install chromium``; another path via
``CHROMIUM_PATH``). Without them the test skips, except under CI (``CI=true``) where it fails.
Failure artifacts (screenshots, browser console, server log) go to ``artifacts/browser/``
(``ML_BROWSER_ARTIFACTS=always`` saves screenshots of passing runs too); the latency lines are
appended to ``artifacts/browser/latency.log`` (pytest-xdist hides a test's printing).
``ML_BROWSER_EXTRA=a.ipynb:b.ipynb`` drives further notebooks the same way (e.g. a scratch copy).
Run alone with ``.venv/bin/pytest tests/test_browser.py -m browser``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

# The helpers live in tests/browser/; pytest does not put tests/ on sys.path by itself.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
from browser import student  # noqa: E402
from browser.server import copy_notebook, start_lab, stop_lab  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TOY_NOTEBOOK = REPO / "tests" / "browser" / "toy_slider.ipynb"
ARTIFACTS = REPO / "artifacts" / "browser"
#: Lessons that must have an explorer, by number (``course/0N_*.ipynb``).
LESSONS_WITH_EXPLORERS = (2, 3, 4, 5)
#: Lessons 2-5 all exist, so a missing one is a failure, not a skip.
REQUIRE_ALL_LESSONS = True
#: Keyboard steps per explorer; the latency reported is their median.
STEPS = 5
#: A lesson's redraw may take this much longer than the toy figure's (s).
LATENCY_ALLOWANCE_S = 0.1
#: The toy figure's median redraw measured on this machine (s), used when the toy did not run first.
TOY_LATENCY_REFERENCE_S = 0.19
#: Per notebook: JupyterLab start + open + run all + steps took 15-30 s here (2 busy cores).
TIMEOUT_S = 150

pytestmark = [
    pytest.mark.browser,
    # One browser test at a time: two JupyterLabs and two Chromiums swamp a 2-core machine.
    pytest.mark.xdist_group("browser"),
    pytest.mark.timeout(TIMEOUT_S),
]

_toy_latency_s: list[float] = []


def _notebook_params() -> list:
    params = [pytest.param(TOY_NOTEBOOK, id="toy_slider")]
    # Extra notebooks to drive the same way, e.g. a scratch copy of a lesson while debugging it.
    for extra in filter(None, os.environ.get("ML_BROWSER_EXTRA", "").split(os.pathsep)):
        params.append(pytest.param(Path(extra).resolve(), id=f"extra-{Path(extra).stem}"))
    for number in LESSONS_WITH_EXPLORERS:
        found = sorted((REPO / "course").glob(f"0{number}_*.ipynb"))
        params += [pytest.param(path, id=path.stem) for path in found]
        if not found:
            reason = f"lesson {number} not written yet (no course/0{number}_*.ipynb)"
            marks = [] if REQUIRE_ALL_LESSONS else [pytest.mark.skip(reason=reason)]
            params.append(pytest.param(reason, id=f"lesson0{number}", marks=marks))
    return params


def _unavailable(reason: str) -> None:
    """Skip on a student's machine; fail under CI, where the browser test must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run, not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium shared by the notebooks of this module (each gets a fresh context)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable(
            "Playwright is not installed: `make test` installs it (or "
            "`.venv/bin/pip install -e '.[dev]'`)"
        )
    if not student.chromium_available():
        _unavailable(
            f"Chromium not found at {student.CHROMIUM_PATH}: install it with "
            "`sudo apt-get install chromium` (or point CHROMIUM_PATH at a Chromium)"
        )
    with sync_playwright() as playwright:
        browser = student.launch_chromium(playwright)
        yield browser
        browser.close()


def _readout_matches(readout: str, value: float) -> bool:
    """Whether a slider readout such as ``6``, ``$8,000`` or ``0.30`` shows ``value`` (to the
    decimals shown). Readouts in other forms (``30%``, ``8k``) are not judged."""
    plain = readout.replace("$", "").replace(",", "").strip()
    if not re.fullmatch(r"-?\d+(\.\d+)?", plain):
        return True
    decimals = len(plain.partition(".")[2])
    return abs(float(plain) - round(value, decimals)) < 10.0 ** (-decimals) / 2


def _check_step(step: student.SliderStep, *, echoes_value: bool) -> list[str]:
    problems = []
    if step.value_after == step.value_before:
        problems.append(f"{step.key} did not move the slider (still {step.value_before!r})")
    if not step.figure_changed:
        problems.append(f"the figure looks the same after {step.key} ({step.value_after!r})")
    if step.readout_after == step.readout_before:
        problems.append(f"the slider's readout still shows {step.readout_before!r}")
    elif not _readout_matches(step.readout_after, step.number_after):
        problems.append(
            f"the slider's readout shows {step.readout_after!r}, not its value {step.value_after!r}"
        )
    if step.explorer_text_after == step.explorer_text_before:
        problems.append(
            f"the explorer's readout did not change after {step.key}: "
            f"{step.explorer_text_before[:300]!r}"
        )
    elif echoes_value and not re.search(
        rf"(?<![\d.]){re.escape(step.value_after)}(?![\d.])", step.explorer_text_after
    ):
        problems.append(
            f"the explorer's readout does not show the new value {step.value_after!r}: "
            f"{step.explorer_text_after[:300]!r}"
        )
    return problems


def _student_session(page, server, notebook: Path, *, echoes_value: bool) -> dict:
    """Open, run all, step every explorer's first slider; return timings; raise on any problem."""
    started = time.monotonic()
    student.open_notebook(page, server.lab_url(notebook.name))
    student.run_all_cells(page)
    problems = student.problems_shown(page)
    assert not problems, "after Run All:\n" + "\n".join(problems)
    cells = student.explorer_cells(page)
    assert cells, "no explorer: no cell output holds an ipywidgets slider after Run All"
    for cell in cells:
        student.wait_explorer_ready(cell)
    ready_s = time.monotonic() - started

    latencies = []
    for index, cell in enumerate(cells):
        steps = [student.step_slider(cell) for _ in range(STEPS)]
        step_problems = [
            f"explorer {index}, step {number}: {problem}"
            for number, step in enumerate(steps, start=1)
            for problem in _check_step(step, echoes_value=echoes_value)
        ]
        assert not step_problems, "\n".join(step_problems)
        latencies.append(student.median_latency_s(steps))
    problems = student.problems_shown(page)
    assert not problems, "after moving the sliders:\n" + "\n".join(problems)
    return {
        "ready_s": ready_s,
        "latency_s": latencies,
        "steps": STEPS,
    }


def _report(line: str, capsys) -> None:
    with capsys.disabled():
        print(f"\n{line}", flush=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with open(ARTIFACTS / "latency.log", "a") as log:
        log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")


@pytest.mark.parametrize("notebook", _notebook_params())
def test_student_moves_explorer_slider(notebook, chromium, tmp_path, capsys, record_property):
    if isinstance(notebook, str):  # a lesson that is not there (REQUIRE_ALL_LESSONS)
        pytest.fail(notebook, pytrace=False)
    root = tmp_path / "root"
    copy_notebook(notebook, root)
    is_toy = notebook.name.startswith("toy_")
    log = student.PageLog()
    server = start_lab(root, tmp_path / "home")
    page = None
    failed_in = None
    try:
        page = student.new_student_page(chromium, log)
        result = _student_session(page, server, notebook, echoes_value=is_toy)
        assert not log.page_errors, "JavaScript errors in the page:\n" + "\n".join(log.page_errors)
        if os.environ.get("ML_BROWSER_ARTIFACTS") == "always":
            student.save_artifacts(page, log, ARTIFACTS / f"{notebook.stem}-passed")
    except BaseException as error:
        failed_in = ARTIFACTS / f"{notebook.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
        console_text = student.save_artifacts(page, log, failed_in) if page is not None else ""
        if hasattr(error, "add_note"):
            if console_text:
                error.add_note(f"JupyterLab's log console shows:\n{console_text[-2000:]}")
            error.add_note(f"browser test artifacts for {notebook.name}: {failed_in}")
        print(f"browser test artifacts for {notebook.name}: {failed_in}")
        raise
    finally:
        if page is not None:
            page.context.close()
        stop_lab(server)
        if failed_in is not None:
            # After the stop, so that the kernel's last words are in it too.
            shutil.copyfile(server.log_path, failed_in / "jupyterlab.log")

    median = sorted(result["latency_s"])[len(result["latency_s"]) // 2]
    record_property("redraw_latency_s", round(median, 3))
    record_property("ready_s", round(result["ready_s"], 1))
    _report(
        f"browser {notebook.stem}: explorer ready {result['ready_s']:.1f} s after opening; "
        f"key press -> redrawn figure median {median:.3f} s over {result['steps']} steps "
        f"(per explorer: {', '.join(f'{s:.3f}' for s in result['latency_s'])} s)",
        capsys,
    )
    if is_toy:
        _toy_latency_s.append(median)
        return
    budget = (_toy_latency_s[-1] if _toy_latency_s else TOY_LATENCY_REFERENCE_S) + (
        LATENCY_ALLOWANCE_S
    )
    # Reported, not asserted: speed is measured by the benchmark scripts, and a wall-clock
    # threshold here would fail whenever the machine is busy. A frozen or broken explorer still
    # fails above (the figure must redraw within seconds of every key press).
    record_property("redraw_budget_s", round(budget, 3))


@pytest.mark.parametrize(
    ("readout", "value", "expected"),
    [
        ("6", 6.0, True),
        ("$8,500", 8500.0, True),
        ("0.30", 0.30000000000000004, True),
        ("7", 6.0, False),
        ("$8,000", 8500.0, False),
        ("0.2", 0.3, False),
        ("30%", 0.3, True),  # not judged
    ],
)
def test_readout_matches(readout, value, expected):
    assert _readout_matches(readout, value) is expected
