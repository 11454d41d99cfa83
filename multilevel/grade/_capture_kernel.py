"""Kernel-side answer capture for the grader (runs inside the student's kernel, not the grader).

The grader copies this file, as ``_multilevel_grade_capture.py``, with a copy of ``answers.py``
into its helper folder on the kernel's ``PYTHONPATH``; the fork server imports it before any
student cell runs,
so the functions below are bound before any student code can monkeypatch :mod:`json` or
:mod:`multilevel.checks`. After every cell the grader asks the kernel, through the Jupyter
``user_expressions`` field of the execute request, for ``dump(names)``: a JSON text mapping each
defined answer variable to ``multilevel.checks.describe_answer(value).to_json()``, the same plain
description the notebook's instant feedback uses.

Nothing here decides a score. A student who tampers with this module can only change which
*answers* are reported, which they could do anyway by assigning the variables; the grader
compares those answers with expected answers it computes in its own process.
"""

import importlib.util
import json
import signal
import sys
from pathlib import Path

from IPython import get_ipython


def _private_describe_answer():
    """``describe_answer`` from a private copy of ``multilevel/exercises/answers.py``.

    Loading the file as a separate module (not ``multilevel.checks``) means a student who
    patches ``multilevel.checks`` patches a different module object, and the kernel does not pay
    for importing the whole ``multilevel`` package (scipy, statsmodels) just to describe answers.
    """
    path = Path(__file__).with_name("_multilevel_grade_answers.py")
    try:
        spec = importlib.util.spec_from_file_location("_multilevel_grade_checks", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while being made
        spec.loader.exec_module(module)
        return module.describe_answer
    except Exception:  # checks.py grew a package-relative import: use the package's own
        sys.modules.pop("_multilevel_grade_checks", None)
        from multilevel.checks import describe_answer

        return describe_answer


# Bound at import time, before any student cell runs.
_encode = json.JSONEncoder(allow_nan=True, ensure_ascii=True).encode
_describe = _private_describe_answer()

#: Longest JSON text kept for one answer, in characters.
MAX_ANSWER_CHARS = 50_000
#: Seconds one answer may take to describe (a ``__float__`` may loop forever).
ANSWER_SECONDS = 2.0


class _TooSlow(BaseException):
    pass


def _too_slow(signum, frame):
    raise _TooSlow


def _encode_one(value):
    try:
        previous = signal.signal(signal.SIGALRM, _too_slow)
    except (ValueError, OSError):  # not the main thread: describe without a clock
        previous = None
    try:
        if previous is not None:
            signal.setitimer(signal.ITIMER_REAL, ANSWER_SECONDS)
        text = _encode(_describe(value).to_json())
    except _TooSlow:
        text = _encode({"kind": "other", "type_name": "answer that took too long to read"})
    except Exception:  # one odd answer must not lose the others
        text = _encode({"kind": "other", "type_name": "unreadable answer"})
    finally:
        if previous is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if len(text) > MAX_ANSWER_CHARS:
        text = _encode({"kind": "other", "type_name": "answer too large to read"})
    return text


def dump(names):
    """Return a JSON text mapping each defined name in ``names`` to its described answer."""
    # Looked up per call: the module may be imported before the kernel's shell exists.
    namespace = get_ipython().user_ns
    parts = [_encode(n) + ":" + _encode_one(namespace[n]) for n in names if n in namespace]
    return "{" + ",".join(parts) + "}"
