"""One progress line per finished test file when pytest-xdist runs the tests in parallel.

Run serially, pytest prints a line per file with a character per test. Under xdist (the
default, ``-n auto`` in ``pyproject.toml``) the workers' results arrive interleaved and
pytest only prints characters and a percentage; these hooks, imported by ``conftest.py``,
add a line as soon as every test of a file has finished, e.g.::

    tests/test_oracle.py: 412 passed [gw1]

They act only in the xdist controller (a serial run never calls the first hook).
"""

from __future__ import annotations

from collections import Counter

import pytest

__all__ = [
    "pytest_runtest_logreport",
    "pytest_sessionstart",
    "pytest_xdist_node_collection_finished",
]


class _Files:
    """Tests still to finish and outcomes so far, per file (the controller's state)."""

    def __init__(self) -> None:
        self.remaining: Counter[str] | None = None
        self.outcomes: dict[str, Counter[str]] = {}
        self.reporter = None


_FILES = _Files()


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_sessionstart(session):
    """Keep the terminal reporter (absent when pytest's output goes elsewhere)."""
    _FILES.reporter = session.config.pluginmanager.get_plugin("terminalreporter")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """Count the tests of each file (every worker collects the same ones: count once)."""
    if _FILES.remaining is None:
        _FILES.remaining = Counter(_file_of(nodeid) for nodeid in ids)


def _outcome(report) -> str | None:
    """The outcome a report decides for its test, or None if a later phase decides it."""
    if report.failed:
        return "error" if report.when != "call" else "failed"
    if report.skipped:
        return "xfailed" if hasattr(report, "wasxfail") else "skipped"
    if report.when == "call":
        return "xpassed" if hasattr(report, "wasxfail") else "passed"
    return None


def pytest_runtest_logreport(report):
    """Record the outcome; after a file's last teardown, print the file's line."""
    if _FILES.remaining is None:
        return  # not the xdist controller
    path = _file_of(report.nodeid)
    outcomes = _FILES.outcomes.setdefault(path, Counter())
    outcome = _outcome(report)
    if outcome is not None:
        outcomes[outcome] += 1
    if report.when != "teardown":
        return
    _FILES.remaining[path] -= 1
    if _FILES.remaining[path] > 0:
        return
    if _FILES.reporter is None:
        return
    summary = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
    worker = getattr(getattr(report, "node", None), "gateway", None)
    # The progress characters leave the line open; pytest's own ensure_newline() only
    # knows about lines it started itself.
    if getattr(_FILES.reporter._tw, "width_of_current_line", 0):
        _FILES.reporter.write("\n")
    _FILES.reporter.write_line(f"{path}: {summary}" + (f" [{worker.id}]" if worker else ""))
