"""Execute a notebook in a fresh kernel and collect what a reader would see go wrong."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parent.parent
#: Folders whose notebooks a reader opens: the lessons, the solutions and the exercises.
NOTEBOOK_FOLDERS = ("course", "solutions", "exercises")
#: Every notebook of those folders, relative to ``REPO``, sorted.
NOTEBOOKS = sorted(
    path.relative_to(REPO)
    for folder in NOTEBOOK_FOLDERS
    for path in (REPO / folder).glob("*.ipynb")
)

# Text that must never reach a reader: a warning, a traceback, or the text fallback that JupyterLab
# shows when a widget failed to render.
FORBIDDEN_TEXT = (
    "Warning:",
    "Traceback (most recent call last)",
    "VBox(children=",
    "HBox(children=",
)


@dataclass(frozen=True)
class NotebookRun:
    """What executing one notebook produced."""

    notebook: nbformat.NotebookNode
    problems: tuple[str, ...]


def _cell_label(index: int, cell: nbformat.NotebookNode) -> str:
    first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else "<empty>"
    return f"cell {index} ({first_line[:60]!r})"


def find_problems(nb: nbformat.NotebookNode) -> list[str]:
    """List every error output, stderr stream and forbidden text in an executed notebook."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            label = _cell_label(index, cell)
            if output.output_type == "error":
                problems.append(f"{label} raised {output.ename}: {output.evalue}")
                continue
            if output.output_type == "stream" and output.name == "stderr":
                problems.append(f"{label} wrote to stderr: {output.text[:300]!r}")
                continue
            texts = []
            if output.output_type == "stream":
                texts.append(output.text)
            else:
                data = output.get("data", {})
                texts.extend(str(data.get(key, "")) for key in ("text/plain", "text/html"))
            for text in texts:
                for forbidden in FORBIDDEN_TEXT:
                    if (
                        forbidden in text
                        and "application/vnd.jupyter.widget-view+json" not in output.get("data", {})
                    ):
                        problems.append(f"{label} shows {forbidden!r}: {text[:300]!r}")
    return problems


def execute_notebook(
    path: Path, *, timeout: int = 120, allow_errors: bool = False, kernels: Path | None = None
) -> NotebookRun:
    """Run ``path`` top to bottom in a fresh ``python3`` kernel, in a copy, from its own folder.

    ``kernels`` is a folder of kernelspecs whose ``python3`` is started instead of the installed
    one (another virtual environment's, say). The file on disk is never modified.
    """
    nb = nbformat.read(path, as_version=4)  # a new object: the run never touches the file
    km = None
    if kernels is not None:
        specs = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
        km = KernelManager(kernel_name="python3", kernel_spec_manager=specs)
    env_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        client = NotebookClient(
            nb,
            km=km,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=allow_errors,
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            # cleanup_kc: shut the kernel down afterwards, also when its manager is ours (km).
            client.execute(cleanup_kc=True)
        except CellExecutionError as error:
            return NotebookRun(nb, (*find_problems(nb), str(error).splitlines()[0]))
    finally:
        if env_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_backend
    return NotebookRun(nb, tuple(find_problems(nb)))
