"""Notebooks are stored without outputs and with clean metadata, so that diffs stay readable."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.notebook_runner import NOTEBOOKS, REPO, find_problems

ALLOWED_NOTEBOOK_METADATA = {"kernelspec", "language_info", "multilevel"}
#: ``mystnb`` holds a figure's alt text (``{"image": {"alt": "..."}}``), which the web site uses
#: (docs/instructors.md, "Alt text for figures"); nothing else of MyST-NB's cell options is used.
ALLOWED_CELL_METADATA = {"tags", "slideshow", "editable", "deletable", "mystnb"}


@pytest.mark.parametrize("relative_path", NOTEBOOKS, ids=[str(p) for p in NOTEBOOKS])
def test_notebook_is_stored_clean(relative_path: Path) -> None:
    nb = nbformat.read(REPO / relative_path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "kernel must be python3"
    extra = set(nb.metadata) - ALLOWED_NOTEBOOK_METADATA
    assert not extra, f"notebook metadata has {sorted(extra)}; run `make clean-notebooks`"
    for index, cell in enumerate(nb.cells):
        extra = set(cell.metadata) - ALLOWED_CELL_METADATA
        assert not extra, f"cell {index} metadata has {sorted(extra)}; run `make clean-notebooks`"
        if "mystnb" in cell.metadata:
            assert set(cell.metadata["mystnb"]) == {"image"}, (
                f"cell {index}: mystnb metadata may only hold the figure's alt text (image.alt)"
            )
            assert set(cell.metadata["mystnb"]["image"]) == {"alt"}, (
                f"cell {index}: mystnb.image may only hold alt"
            )
        if cell.cell_type == "code":
            assert cell.outputs == [], (
                f"cell {index} has stored outputs; run `make clean-notebooks`"
            )
            assert cell.execution_count is None, f"cell {index} has an execution count"


def _executed_notebook(outputs: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("x = 1", outputs=outputs)
    return nbformat.v4.new_notebook(cells=[cell])


def test_runner_flags_errors_warnings_and_unrendered_widgets() -> None:
    """The notebook checks can fail: each kind of problem is caught."""
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])
    warning = nbformat.v4.new_output("stream", name="stderr", text="UserWarning: careful\n")
    fallback = nbformat.v4.new_output(
        "execute_result", data={"text/plain": "VBox(children=(IntSlider(value=1),))"}
    )
    clean = nbformat.v4.new_output("stream", name="stdout", text="all good\n")
    assert len(find_problems(_executed_notebook([error]))) == 1
    assert len(find_problems(_executed_notebook([warning]))) == 1
    assert len(find_problems(_executed_notebook([fallback]))) == 1
    assert find_problems(_executed_notebook([clean])) == []
