"""environment.yml (conda, Binder) and pyproject.toml (pip) name the same packages, and together
they name everything the course imports."""

from __future__ import annotations

import ast
import sys
from importlib.metadata import packages_distributions

import pytest
import yaml
from packaging.requirements import Requirement

from tests.notebook_runner import NOTEBOOKS, REPO

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

FIRST_PARTY = {"simdata", "multilevel", "tests"}


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    requirements = [*project["dependencies"], *(req for extra in extras.values() for req in extra)]
    parsed = (Requirement(text) for text in requirements)
    # Requirements with an environment marker (e.g. tomli on Python 3.10) are pip-only back-ports.
    return {_normalise(req.name): str(req.specifier) for req in parsed if req.marker is None}


def _conda_requirements() -> dict[str, str]:
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    result = {}
    entries = []
    for entry in environment["dependencies"]:
        # A `pip:` section lists packages taken from PyPI rather than conda-forge.
        entries += entry.get("pip", []) if isinstance(entry, dict) else [entry]
    for entry in entries:
        requirement = Requirement(entry.replace(" ", ""))
        result[_normalise(requirement.name)] = str(requirement.specifier)
    result.pop("python", None)
    result.pop("pip", None)
    return result


def test_environment_yml_matches_pyproject() -> None:
    pip_side, conda_side = _pyproject_requirements(), _conda_requirements()
    assert set(conda_side) == set(pip_side), (
        f"only in pyproject: {sorted(set(pip_side) - set(conda_side))}; "
        f"only in environment.yml: {sorted(set(conda_side) - set(pip_side))}"
    )
    for name, specifier in pip_side.items():
        assert conda_side[name] == specifier, (
            f"{name}: pyproject says {specifier!r}, environment.yml {conda_side[name]!r}"
        )


def _imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


def _course_sources() -> list[tuple[str, str]]:
    import nbformat

    sources = []
    for folder in ("simdata", "multilevel"):
        sources += [(str(p), p.read_text()) for p in (REPO / folder).rglob("*.py")]
    for relative_path in NOTEBOOKS:
        path = REPO / relative_path
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(
            "\n".join(
                line
                for line in cell.source.splitlines()
                if not line.lstrip().startswith(("%", "!"))
            )
            for cell in nb.cells
            if cell.cell_type == "code"
        )
        sources.append((str(path), code))
    return sources


def test_every_import_is_a_declared_dependency() -> None:
    declared = set(_pyproject_requirements())
    distributions = packages_distributions()
    missing = []
    for path, source in _course_sources():
        for module in _imported_modules(source) - FIRST_PARTY:
            if module in sys.stdlib_module_names:
                continue
            dists = {_normalise(d) for d in distributions.get(module, [module])}
            if not dists & declared:
                missing.append(f"{path} imports {module} (distribution {sorted(dists)})")
    assert not missing, "undeclared imports:\n" + "\n".join(missing)


def test_the_import_scan_can_fail() -> None:
    assert _imported_modules(
        "import numpy as np\nfrom pandas import DataFrame\nfrom . import x"
    ) == {"numpy", "pandas"}


@pytest.mark.parametrize("folder", ["simdata", "multilevel"])
def test_packages_exist(folder: str) -> None:
    assert (REPO / folder / "__init__.py").is_file()
