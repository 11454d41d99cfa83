"""No test asserts a time, CPU or memory budget: those belong in ``make bench``.

The machines that run CI are shared and busy; a test that fails when a figure exceeds a budget
fails at random there and blocks a landing that changed nothing near it (a many-samples test once
measured 23 s of CPU against its 2 s budget under load). Speed is measured and reported by the
scripts behind ``make bench``; tests check behaviour.

This check reads every test module's syntax tree. A *measurement* is a call such as
``time.perf_counter()``, ``time.thread_time()``, ``time.process_time()``, ``time.monotonic()``,
``time.time()``, ``resource.getrusage()`` or ``tracemalloc.get_traced_memory()``; a name assigned
from an expression that holds a measurement (or another such name) is a measurement too. An
``assert`` (or an ``if`` that leads to ``pytest.fail``) that compares a measurement is a budget.
Waiting loops (``while time.monotonic() < deadline``) are allowed: they guard against a hang and
do not fail the test by themselves.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

#: ``module.function`` calls that read a clock or the process's resource use.
MEASUREMENTS = {
    ("time", "perf_counter"),
    ("time", "perf_counter_ns"),
    ("time", "thread_time"),
    ("time", "thread_time_ns"),
    ("time", "process_time"),
    ("time", "process_time_ns"),
    ("time", "monotonic"),
    ("time", "monotonic_ns"),
    ("time", "time"),
    ("time", "time_ns"),
    ("resource", "getrusage"),
    ("tracemalloc", "get_traced_memory"),
    ("psutil", "Process"),
}


def _is_measurement(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr) in MEASUREMENTS
    )


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _holds_measurement(node: ast.AST, measured: set[str]) -> bool:
    return any(_is_measurement(n) for n in ast.walk(node)) or bool(_names(node) & measured)


def _measured_names(scope: ast.AST) -> set[str]:
    """Names in ``scope`` that hold a measurement, directly or through other such names."""
    assignments: list[tuple[set[str], ast.AST]] = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            targets = set().union(*(_names(t) for t in node.targets))
            assignments.append((targets, node.value))
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and node.value is not None:
            assignments.append((_names(node.target), node.value))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            # timings.append(time.perf_counter() - start) makes `timings` a measurement.
            call = node.value
            if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
                assignments.append(({call.func.value.id}, call))
    measured: set[str] = set()
    changed = True
    while changed:
        changed = False
        for targets, value in assignments:
            if not targets <= measured and _holds_measurement(value, measured):
                measured |= targets
                changed = True
    return measured


def _fails_the_test(body: list[ast.stmt]) -> bool:
    for node in body:
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "fail"
            ):
                return True
        if isinstance(node, ast.Raise):
            return True
    return False


def budget_asserts(source: str, filename: str = "<test>") -> list[str]:
    """The places in ``source`` that fail a test on a time, CPU or memory figure.

    Parameters
    ----------
    source
        The text of a Python test module.
    filename
        Used in the messages.

    Returns
    -------
    list of str
        ``"file:line: ..."`` for each budget found; empty when there is none.
    """
    tree = ast.parse(source, filename=filename)
    found = []
    for scope in ast.walk(tree):
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
            continue
        measured = _measured_names(scope)
        for node in ast.walk(scope):
            if isinstance(node, ast.Assert) and _holds_measurement(node.test, measured):
                found.append(f"{filename}:{node.lineno}: assert on a time/CPU/memory figure")
            elif (
                isinstance(node, ast.If)
                and _holds_measurement(node.test, measured)
                and _fails_the_test(node.body)
            ):
                found.append(f"{filename}:{node.lineno}: fails on a time/CPU/memory figure")
    return sorted(set(found))


def test_no_test_asserts_a_time_cpu_or_memory_budget() -> None:
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        found += budget_asserts(path.read_text(encoding="utf-8"), str(path.relative_to(TESTS)))
    assert not found, (
        "Tests must not assert a time, CPU or memory budget (busy CI machines make them fail at "
        "random); report the figure from a script behind `make bench` instead:\n" + "\n".join(found)
    )


@pytest.mark.parametrize(
    "source",
    [
        "import time\ndef test():\n    t = time.thread_time()\n    run()\n"
        "    cpu = time.thread_time() - t\n    assert cpu < 2.0\n",
        "import time\ndef test():\n    started = time.perf_counter()\n    run()\n"
        "    assert time.perf_counter() - started < 5\n",
        "import time, numpy as np\ndef test():\n    cpu = []\n    for _ in range(3):\n"
        "        s = time.thread_time()\n        run()\n        cpu.append(time.thread_time() - s)\n"
        "    assert np.median(cpu) < 0.05\n",
        "import time, pytest\ndef test():\n    s = time.monotonic()\n    run()\n"
        "    total = time.monotonic() - s\n    if total > 10:\n        pytest.fail('slow')\n",
        "import tracemalloc\ndef test():\n    run()\n"
        "    peak = tracemalloc.get_traced_memory()[1]\n    assert peak < 1e6\n",
    ],
    ids=["cpu-budget", "wall-budget", "median-of-list", "if-fail", "memory"],
)
def test_the_check_finds_a_budget(source: str) -> None:
    assert budget_asserts(source)


def test_the_check_allows_waiting_loops_and_reporting() -> None:
    source = (
        "import time\ndef test():\n    deadline = time.monotonic() + 20\n"
        "    while not done() and time.monotonic() < deadline:\n        time.sleep(0.02)\n"
        "    assert done()\n    started = time.perf_counter()\n    run()\n"
        "    print(f'{time.perf_counter() - started:.1f} s')\n"
    )
    assert budget_asserts(source) == []
