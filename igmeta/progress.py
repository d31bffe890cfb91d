"""Progress reports and cancellation for long batched computations (GOSH, permutation tests).

A caller passes ``progress``, a function of one float (the share of the work done, from 0
to 1). The engine calls it between chunks of fits, possibly from worker threads. To stop
the computation, the function raises an exception -- :class:`Cancelled` by convention --
which the engine lets through: the remaining chunks are not fitted and the exception
reaches the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Cancelled", "ProgressCallback", "ProgressTracker"]

#: ``progress(fraction_done)``; may raise :class:`Cancelled` to stop the computation.
ProgressCallback = Callable[[float], None]


class Cancelled(Exception):  # noqa: N818 - the name says what happened
    """Raised by a progress callback to stop a long computation."""


class ProgressTracker:
    """Counts work units done across threads and reports the share done.

    Parameters
    ----------
    callback : callable or None
        ``callback(fraction)``; None turns reporting off (every method is then a no-op).
    total : int
        Work units in the whole computation (at least 1 is assumed).
    """

    def __init__(self, callback: ProgressCallback | None, total: int) -> None:
        self._callback = callback
        self._total = max(int(total), 1)
        self._done = 0
        self._lock = threading.Lock()

    def check(self) -> None:
        """Report the share done without advancing (lets the callback cancel)."""
        if self._callback is not None:
            self._callback(self.fraction)

    def advance(self, units: int) -> None:
        """Count ``units`` more units as done and report."""
        if self._callback is None:
            return
        with self._lock:
            self._done = min(self._done + int(units), self._total)
        self._callback(self.fraction)

    @property
    def fraction(self) -> float:
        """Share of the work done, between 0 and 1."""
        return self._done / self._total
