"""Teaching in class: slides, the instructor's guide, and a fresh install that runs every lesson.

* Every lesson is marked as slides (``scripts/mark_slides.py``): it starts with a slide and each
  ``## `` section starts a new one, so JupyterLab (RISE) and ``make slides`` can present it.
* ``docs/instructors.md`` covers every lesson and exercise, and the commands it shows exist:
  make targets in the Makefile, scripts on disk, gradebook options in ``--help``.
* A fresh virtual environment built only from ``pyproject.toml`` (``pip install <repo>``, not
  editable, so the package data must ship) runs every lesson with that environment's kernel:
  what a JupyterHub image or a student's laptop gets. This one takes a few minutes; it reuses
  pip's cache.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "instructors.md"
LESSONS = sorted((REPO / "course").glob("*.ipynb"))
EXERCISES = sorted((REPO / "solutions").glob("*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}

sys.path.insert(0, str(REPO / "scripts"))
import mark_slides  # noqa: E402

sys.path.pop(0)

from tests.notebook_runner import execute_notebook  # noqa: E402


# --------------------------------------------------------------------------------------------
# Slides
# --------------------------------------------------------------------------------------------
def slide_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What stops a notebook from presenting as slides (empty when it presents well)."""
    problems = []
    for index, cell in enumerate(nb.cells):
        kind = cell.metadata.get("slideshow", {}).get("slide_type")
        if kind is None:
            problems.append(f"cell {index} has no slideshow metadata")
        elif kind not in SLIDE_TYPES:
            problems.append(f"cell {index} has slide_type {kind!r}")
        elif cell.cell_type == "markdown" and cell.source.lstrip().startswith("## "):
            if kind != "slide":
                problems.append(f"cell {index} opens a '## ' section but is {kind!r}, not a slide")
    if nb.cells and nb.cells[0].metadata.get("slideshow", {}).get("slide_type") != "slide":
        problems.append("the first cell does not start a slide")
    return problems


def test_there_are_lessons() -> None:
    assert len(LESSONS) >= 4, f"found only {[p.name for p in LESSONS]} in course/"


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_lesson_is_marked_as_slides(path: Path) -> None:
    problems = slide_problems(nbformat.read(path, as_version=4))
    assert not problems, (
        f"{path.name} is not ready to present as slides: {'; '.join(problems[:5])}. "
        "Run: python scripts/mark_slides.py"
    )


def test_slide_check_can_fail() -> None:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(cells=[md("# Lesson"), code("x = 1"), md("## Part")])
    assert len(slide_problems(nb)) == 4  # three cells without metadata, no first slide
    mark_slides.mark(nb)
    assert slide_problems(nb) == []
    nb.cells[2].metadata["slideshow"] = {"slide_type": "-"}
    assert slide_problems(nb) == ["cell 2 opens a '## ' section but is '-', not a slide"]


def test_mark_slides_rules() -> None:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    long_text = md("\n".join(f"line {i}" for i in range(mark_slides.SCREEN_LINES - 2)))
    cells = [
        md("# Lesson 9 · Title"),
        code("import multilevel as ml"),
        md("## A section"),
        long_text,
        md("More prose\nafter a\nfull screen"),
        md("### A subsection"),
        code("ml.widgets.varying_intercepts_explorer(seed=1)"),
        md("## Summary"),
    ]
    assert mark_slides.slide_types(cells) == [
        "slide",
        "-",
        "slide",
        "-",
        "subslide",
        "subslide",
        "subslide",
        "slide",
    ]


def test_mark_slides_is_idempotent_and_touches_only_slideshow(tmp_path: Path) -> None:
    source = LESSONS[0]
    copy = tmp_path / source.name
    shutil.copyfile(source, copy)
    mark_slides.main([str(copy)])
    first = copy.read_text(encoding="utf-8")
    assert mark_slides.main([str(copy), "--check"]) == 0
    mark_slides.main([str(copy)])
    assert copy.read_text(encoding="utf-8") == first
    before, after = nbformat.read(source, as_version=4), nbformat.read(copy, as_version=4)
    for old, new in zip(before.cells, after.cells, strict=True):
        assert old.source == new.source
        assert {k: v for k, v in new.metadata.items() if k != "slideshow"} == {
            k: v for k, v in old.metadata.items() if k != "slideshow"
        }


# --------------------------------------------------------------------------------------------
# The instructor's guide
# --------------------------------------------------------------------------------------------
def _guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL)


def _commands(text: str) -> list[str]:
    """Shell command lines of the guide's code blocks (continuations joined, comments cut)."""
    lines = []
    for block in _code_blocks(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def test_guide_is_linked_from_the_readme() -> None:
    assert "docs/instructors.md" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_guide_covers_every_lesson(path: Path) -> None:
    number = int(path.name[:2])
    title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
    headings = re.findall(r"^### Lesson (\d+)\b", _guide(), flags=re.MULTILINE)
    assert str(number) in headings, (
        f"docs/instructors.md has no '### Lesson {number}' section for {path.name} ({title})"
    )
    assert f"course/{path.name}" in _guide(), f"the guide never names course/{path.name}"


@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_guide_names_every_exercise(path: Path) -> None:
    assert f"exercises/{path.name}" in _guide(), f"the guide never names exercises/{path.name}"


def _make_targets() -> set[str]:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*):", makefile, flags=re.MULTILINE))


def _grade_options() -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "multilevel.grade", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return set(re.findall(r"(--[a-z][a-z-]*)", result.stdout))


def command_problems(commands: list[str], targets: set[str], options: set[str]) -> list[str]:
    """Commands that name a make target, script or gradebook option that does not exist."""
    problems = []
    for command in commands:
        for target in re.findall(r"\bmake ((?:[\w=-]+ ?)+)", command):
            for name in target.split():
                if "=" not in name and name not in targets:
                    problems.append(f"`{command}`: no make target {name!r}")
        for script in re.findall(r"\b(scripts/[\w./-]+\.py)", command):
            if not (REPO / script).is_file():
                problems.append(f"`{command}`: {script} does not exist")
        if "multilevel.grade" in command or "multilevel-grade" in command:
            for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", command):
                if option not in options:
                    problems.append(f"`{command}`: the gradebook has no option {option}")
    return problems


def test_guide_commands_exist() -> None:
    commands = _commands(_guide())
    assert any("multilevel.grade" in c for c in commands), "the guide shows no gradebook command"
    problems = command_problems(commands, _make_targets(), _grade_options())
    assert not problems, "\n".join(problems)


def test_command_check_can_fail() -> None:
    commands = [
        "make lab slidez",
        "python scripts/no_such_script.py",
        "python -m multilevel.grade subs --output out --regrade-all",
    ]
    problems = command_problems(commands, {"lab"}, {"--output", "--fresh"})
    assert len(problems) == 3, problems


def test_guide_paths_exist() -> None:
    """Repository paths the guide names (course/, exercises/, scripts/, docs/ ...) exist."""
    text = _guide()
    names = set(
        re.findall(
            r"(?<![\w/.])((?:course|exercises|solutions|scripts|docs|tests)/[\w.-]+\.\w+)", text
        )
    )
    names |= {n for n in ("environment.yml", "postBuild", "pyproject.toml") if n in text}
    missing = sorted(n for n in names if "lessonN" not in n and not (REPO / n).exists())
    assert not missing, f"the guide names files that do not exist: {missing}"


# --------------------------------------------------------------------------------------------
# Binder and JupyterHub: environment.yml, postBuild, and a fresh install from pyproject.toml
# --------------------------------------------------------------------------------------------
def test_binder_files_are_at_the_root() -> None:
    import yaml

    environment = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    assert isinstance(environment.get("dependencies"), list) and environment["dependencies"]
    assert "conda-forge" in environment.get("channels", [])
    post_build = REPO / "postBuild"
    assert post_build.is_file() and os.access(post_build, os.X_OK), "postBuild must be executable"
    assert re.search(r"pip install .*\.\s*$", post_build.read_text(), flags=re.MULTILINE), (
        "postBuild must install the course package (pip install .)"
    )


#: What a fresh install needs from the repository: the packaging files and the two packages.
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "simdata", "multilevel")
#: A guard against a hang, not a budget: the fresh install plus every lesson takes about 2 minutes
#: on a quiet 2-core machine and several times that on a busy one.
FRESH_HANG_GUARD_SECONDS = 2400

_PROBE = """
import sys, multilevel, simdata
print(sys.prefix)
print(multilevel.__file__)
print(simdata.__file__)
"""


def _write_kernelspec(python: Path, kernels: Path) -> None:
    """A ``python3`` kernelspec in ``kernels`` that starts ``python`` (the fresh environment's)."""
    import json

    spec = kernels / "python3"
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec_json = {"argv": argv, "display_name": "fresh venv", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(spec_json))


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.timeout(FRESH_HANG_GUARD_SECONDS)
def test_fresh_environment_from_pyproject_runs_every_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.perf_counter()
    source = tmp_path / "source"
    source.mkdir()
    for name in PACKAGE_FILES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(
                path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(path, source / name)
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True, env=env)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(source)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert install.returncode == 0, f"pip install failed:\n{install.stderr[-3000:]}"
    installed = time.perf_counter() - started

    # Lessons and the exercise solutions (which use the answer keys in multilevel.exercises):
    # everything a class runs, from a plain pip install.
    lessons = tmp_path / "course"
    lessons.mkdir()
    for path in [*LESSONS, *EXERCISES]:
        shutil.copyfile(path, lessons / path.name)
    # The kernels inherit this environment: no PYTHONPATH may lead them back to the repository.
    monkeypatch.delenv("PYTHONPATH", raising=False)
    kernels = tmp_path / "kernels"
    _write_kernelspec(python, kernels)
    probe = tmp_path / "probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(_PROBE)]), probe)
    run = execute_notebook(probe, kernels=kernels, timeout=180, allow_errors=True)
    prefix, multilevel_file, simdata_file = run.notebook.cells[0].outputs[0].text.split()
    assert Path(prefix).resolve() == venv.resolve(), f"the kernel ran in {prefix}"
    for file in (multilevel_file, simdata_file):
        assert Path(file).resolve().is_relative_to(venv.resolve()), (
            f"the kernel imported {file}, not the fresh install"
        )
    problems, timings = [], []
    for path in sorted(lessons.glob("*.ipynb")):
        lesson_started = time.perf_counter()
        run = execute_notebook(path, kernels=kernels, timeout=180, allow_errors=True)
        timings.append(f"{path.name} {time.perf_counter() - lesson_started:.0f} s")
        problems += [f"{path.name}: {p}" for p in run.problems]
    total = time.perf_counter() - started
    print(f"pip install {installed:.0f} s; " + ", ".join(timings) + f"; total {total:.0f} s")
    assert not problems, "lessons failed in a fresh environment:\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------
# Presentation mode: one switch, before the lesson's own use_course_style(), reaches everything
# --------------------------------------------------------------------------------------------
SWITCH = "MULTILEVEL_PRESENTATION=1"


def test_guide_make_lab_and_make_slides_use_the_same_switch() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "make lab PRESENTATION=1" in _guide(), "the guide no longer shows the switch"
    assert makefile.count("MULTILEVEL_PRESENTATION=1") >= 2, (
        "make lab and make slides must both set it"
    )


@pytest.mark.slow
def test_one_switch_before_the_lesson_reaches_plots_and_explorers() -> None:
    """A kernel started with the switch draws the lesson's figures and explorers large."""
    code = (
        "import matplotlib as mpl, multilevel as ml\n"
        "from multilevel import style\n"
        "ml.style.use_course_style()\n"  # every lesson's first cell
        "explorer = ml.widgets.varying_intercepts_explorer(seed=1)\n"
        "print(mpl.rcParams['font.size'] > style.COURSE_RC['font.size'],"
        " mpl.rcParams['lines.linewidth'] > style.COURSE_RC['lines.linewidth'],"
        " explorer.presentation, 'ml-presentation' in explorer._dom_classes)\n"
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    switched = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "MULTILEVEL_PRESENTATION": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert switched.stdout.split() == ["True"] * 4, switched.stdout + switched.stderr
    env.pop("MULTILEVEL_PRESENTATION", None)
    normal = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert normal.stdout.split() == ["False"] * 4, normal.stdout + normal.stderr
