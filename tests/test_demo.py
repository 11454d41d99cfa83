"""The explorers as a code-free app for lectures (``make demo``, scripts/demo.py, Voila).

Quick checks: one page per explorer of :mod:`multilevel.widgets`, and ``make demo`` passes
``PORT`` on. In Chromium (marked ``browser``): the launcher lists the five explorers, every page
shows its explorer in presentation mode with no code and no error, and one arrow-key step on a
slider redraws the figure. Voila runs as the user running the tests (root in CI).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import multilevel as ml

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
from browser import student  # noqa: E402
from browser.server import answers, free_port, start_logged, stop_group  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts" / "demo"


def _load_demo():
    spec = importlib.util.spec_from_file_location("demo_script", REPO / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


demo = _load_demo()
EXPLORERS = sorted(name for name in ml.widgets.__all__ if name.endswith("_explorer"))


def test_one_page_per_explorer() -> None:
    called = sorted(page.call.split("(")[0] for page in demo.PAGES)
    assert called == EXPLORERS, f"demo pages call {called}, the explorers are {EXPLORERS}"
    assert len({page.name for page in demo.PAGES}) == len(demo.PAGES)


def test_pages_are_notebooks_whose_code_makes_the_explorer(tmp_path: Path) -> None:
    paths = demo.write_pages(tmp_path)
    assert [path.name for path in paths] == [page.name for page in demo.PAGES]
    for path, page in zip(paths, demo.PAGES, strict=True):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.cells[-1].source.endswith(f"ml.widgets.{page.call}")


def test_make_demo_honours_port_and_no_browser() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry_run = subprocess.run(
        ["make", "-n", "--no-print-directory", "demo", "PORT=9123", "NO_BROWSER=1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # The install steps may come first (a fresh .venv), and under `make test` make may say
    # which directory it is in: the demo's command is the line that runs scripts/demo.py.
    (command,) = [line for line in dry_run.splitlines() if "scripts/demo.py" in line]
    assert "scripts/demo.py" in command and "--port=9123" in command, command
    assert "--no-browser" in command and "--ip=0.0.0.0" in command, command


def test_voila_command_and_presentation_mode() -> None:
    command = demo.voila_command(Path("x"), port=9124, open_browser=False)
    assert "--port=9124" in command and "--no-browser" in command
    assert "--allow-root" not in " ".join(command)  # Voila runs as root without it
    assert demo.demo_environment()["MULTILEVEL_PRESENTATION"] == "1"
    assert "MULTILEVEL_PRESENTATION" not in demo.demo_environment(presentation=False)


# --------------------------------------------------------------------------- in Chromium
@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    """Voila serving freshly written demo pages on 127.0.0.1 (as ``make demo`` does)."""
    folder = tmp_path_factory.mktemp("demo")
    demo.write_pages(folder)
    port = free_port()
    log_path = folder.parent / "voila.log"
    env = demo.demo_environment()
    env["JUPYTER_RUNTIME_DIR"] = str(folder.parent / "runtime")
    command = demo.voila_command(folder, port=port, open_browser=False)
    process = start_logged(command, cwd=folder, env=env, log_path=log_path)
    base = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    try:
        answered = False
        while not answered and process.poll() is None and time.monotonic() < deadline:
            answered = answers(base)
            if not answered:
                time.sleep(0.3)
        if not answered:
            pytest.fail(f"Voila did not answer:\n{log_path.read_text()[-3000:]}", pytrace=False)
        yield base, log_path
    finally:
        stop_group(process)


def _explorer_page(chromium, url: str):
    log = student.PageLog()
    page = student.new_student_page(chromium, log)
    page.goto(url)
    cell = page.locator(f".jp-Cell:has({student.SLIDER_HANDLE})").first
    cell.wait_for(timeout=180_000)
    student.wait_explorer_ready(cell, timeout_s=60)
    return page, log, cell


#: Voila's page template links Font Awesome from a CDN although its own bundle carries the font
#: (the icons show without it); without a network these two requests fail, and nothing else may.
VOILA_CDN_LINKS = ("https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@",)


def _problems(page, log: student.PageLog) -> list[str]:
    blocked = [url for url in log.blocked if not url.startswith(VOILA_CDN_LINKS)]
    errors = [line for line in log.console if line.startswith("[error]")]
    if len(blocked) < len(log.blocked):
        # Chromium does not say which resource failed; one message per blocked CDN link.
        failed = [line for line in errors if "Failed to load resource" in line]
        for line in failed[: len(log.blocked) - len(blocked)]:
            errors.remove(line)
    problems = [f"console: {line}" for line in errors]
    problems += [f"page error: {error}" for error in log.page_errors]
    problems += [f"request to another host: {url}" for url in blocked]
    text = page.locator("body").inner_text()
    problems += [
        f"the page shows {marker!r}" for marker in student.UNRENDERED_WIDGET_TEXT if marker in text
    ]
    if "ml.widgets." in text or "import multilevel" in text:
        problems.append("the page shows code")
    if not page.locator(".ml-explorer.ml-presentation").count():
        problems.append("the explorer is not in presentation mode")
    return problems


def _save(page, log: student.PageLog, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        (ARTIFACTS / f"{name}-console.log").write_text(log.text())


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("browser")
@pytest.mark.timeout(900)
def test_demo_launcher_and_every_explorer(voila, chromium) -> None:
    base, log_path = voila
    log = student.PageLog()
    page = student.new_student_page(chromium, log)
    page.goto(base)
    links = page.locator("a[href*='/render/']")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    page.context.close()
    names = sorted(href.split("/render/")[1].split("?")[0] for href in hrefs)
    assert names == sorted(page.name for page in demo.PAGES), f"launcher lists {names}"

    for index, name in enumerate(sorted(names)):
        page, log, cell = _explorer_page(chromium, f"{base}voila/render/{name}")
        try:
            problems = _problems(page, log)
            assert not problems, f"{name}:\n" + "\n".join(problems)
            if index == 0:
                # One arrow-key step on the first slider redraws the figure.
                step = student.step_slider(cell, timeout_s=60)
                assert step.value_after != step.value_before, f"{step.key} did not move it"
                assert step.figure_changed, f"the figure did not change after {step.key}"
                problems = _problems(page, log)
                assert not problems, f"{name} after a step:\n" + "\n".join(problems)
        except BaseException:
            _save(page, log, Path(name).stem)
            shutil.copyfile(log_path, ARTIFACTS / "voila.log")
            raise
        finally:
            page.context.close()
