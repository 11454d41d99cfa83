"""The explorers as a code-free app for lectures (``make demo``): Voila, one page per explorer.

Writes one small notebook per explorer into ``build/demo/`` (a heading, a sentence on what to
try, and the one call that makes the explorer) and serves that folder with Voila, which shows
Markdown and outputs and never the code. Voila's start page lists the five notebooks: the
launcher. The explorers are drawn in presentation mode (projector sizes) unless
``--no-presentation`` is given.

Usage::

    python scripts/demo.py --port 8866              # write build/demo and serve it
    python scripts/demo.py --write-only             # only write the notebooks
    python scripts/demo.py --port 8866 --no-browser --ip 0.0.0.0
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO / "build" / "demo"
#: The JupyterLab extensions Voila loads: the widget managers (ipywidgets 8, and 7 for safety).
WIDGET_EXTENSIONS = (
    "@jupyter-widgets/jupyterlab-manager",
    "@voila-dashboards/widgets-manager8",
    "@voila-dashboards/widgets-manager7",
)


@dataclass(frozen=True)
class DemoPage:
    """One explorer's page: its file name, heading, what to try and the call that makes it."""

    name: str
    title: str
    try_this: str
    call: str


#: One page per explorer of :mod:`multilevel.widgets`, with the seeds the lessons use.
PAGES: tuple[DemoPage, ...] = (
    DemoPage(
        "1_varying_intercepts.ipynb",
        "Varying intercepts: departments pay different base salaries",
        "Set the spread of base salaries to $0, then make departments small: watch the "
        "partial-pooling lines move between no pooling and complete pooling.",
        "varying_intercepts_explorer(seed=1)",
    ),
    DemoPage(
        "2_varying_slopes.ipynb",
        "Varying slopes: departments give different raises",
        "Raise the spread of raises and the noise within departments: the partial-pooling "
        "raises are pulled towards the average, most where the data are noisy.",
        "varying_slopes_explorer(seed=8)",
    ),
    DemoPage(
        "3_varying_intercepts_and_slopes.ipynb",
        "Varying intercepts and slopes: base and raise both differ",
        "Move the correlation of base and raise: departments that pay more at the start give "
        "larger (or smaller) raises, and the estimates follow.",
        "varying_both_explorer(seed=5)",
    ),
    DemoPage(
        "4_shrinkage.ipynb",
        "Shrinkage: small departments borrow strength from the others",
        "Lower the between- to within-department variance ratio: every department is pulled "
        "further towards the overall line, the small ones most.",
        "shrinkage_explorer(seed=21)",
    ),
    DemoPage(
        "5_many_samples.ipynb",
        "Truth versus estimate over many samples",
        "Make departments fewer or smaller and rerun: the estimated spread between "
        "departments scatters more and is more often estimated as zero.",
        "many_samples_explorer(seed=5, n_samples=200)",
    ),
)


def page_notebook(page: DemoPage) -> nbformat.NotebookNode:
    """The notebook of one demo page."""
    # The explorer shows its own title; the page adds what to try and the way back.
    markdown = nbformat.v4.new_markdown_cell(
        f"[\u2190 All explorers](../../)\n\n**Try this.** {page.try_this}"
    )
    code = nbformat.v4.new_code_cell(
        f"import multilevel as ml\n\nml.style.use_course_style()\nml.widgets.{page.call}"
    )
    notebook = nbformat.v4.new_notebook(cells=[markdown, code])
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    return notebook


def write_pages(folder: Path = DEMO_DIR) -> list[Path]:
    """Write every page into ``folder`` (removing other notebooks there); return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {page.name for page in PAGES}
    for stale in folder.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    paths = []
    for page in PAGES:
        path = folder / page.name
        nbformat.write(page_notebook(page), path)
        paths.append(path)
    return paths


def voila_command(
    folder: Path, *, port: int, ip: str = "127.0.0.1", open_browser: bool = True
) -> list[str]:
    """The Voila command line that serves ``folder`` (its start page lists the explorers)."""
    command = [
        sys.executable,
        "-m",
        "voila",
        str(folder),
        f"--port={port}",
        f"--Voila.ip={ip}",
        "--Voila.port_retries=0",
        "--theme=light",
        # The start page as plain HTML from the server (the launcher), not the JupyterLab-style
        # file browser, which needs the lab extensions below to match Voila's JupyterLab.
        "--VoilaConfiguration.classic_tree=True",
        # Only the widget managers: other lab extensions installed beside the course (jupytext)
        # are built for a newer JupyterLab than Voila's and fail to load, with console errors.
        *(f"--VoilaConfiguration.extension_allowlist={name}" for name in WIDGET_EXTENSIONS),
        # A sentence instead of a traceback if an explorer fails in front of a class.
        "--VoilaConfiguration.show_tracebacks=False",
    ]
    if not open_browser:
        command.append("--no-browser")
    return command


def demo_environment(*, presentation: bool = True) -> dict[str, str]:
    """The environment Voila and its kernels run with: presentation mode on or off."""
    env = dict(os.environ)
    if presentation:
        env["MULTILEVEL_PRESENTATION"] = "1"
    else:
        env.pop("MULTILEVEL_PRESENTATION", None)
    # The kernels draw with the inline backend whatever a user set for their own work.
    env.pop("MPLBACKEND", None)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--ip", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-presentation", action="store_true", help="laptop sizes")
    parser.add_argument("--write-only", action="store_true", help="write build/demo and stop")
    args = parser.parse_args(argv)
    write_pages()
    if args.write_only:
        print(f"Wrote {len(PAGES)} explorer pages into {DEMO_DIR}")
        return 0
    command = voila_command(DEMO_DIR, port=args.port, ip=args.ip, open_browser=not args.no_browser)
    env = demo_environment(presentation=not args.no_presentation)
    print(f"Explorers for a lecture: http://{args.ip}:{args.port}/ (Ctrl-C stops)", flush=True)
    os.execve(sys.executable, command, env)
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())
