"""Run a slow engine call (GOSH, permutation test) with a progress bar and a Cancel button.

The call runs in a worker thread; the script thread redraws the progress bar from the
share of work the engine reports (:mod:`igmeta.progress`). Pressing Cancel makes Streamlit
rerun the page; the rerun interrupts this script at its next redraw (call this outside
any ``st.fragment``: a click inside a fragment waits for the running script instead of
interrupting it), and the ``finally``
clause flags the worker, whose next progress report raises :class:`igmeta.Cancelled`, so
no more fits are computed. Any other interruption (the user changes a setting or leaves
the page) stops the worker the same way. A cancelled call leaves nothing in the cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from igmeta.progress import Cancelled
from ui import state

__all__ = ["TICK_SECONDS", "duration_text", "run_with_progress", "show_if_cancelled"]

#: Seconds between redraws of the progress bar.
TICK_SECONDS = 0.25


def run_with_progress(task: str, label: str, func: Callable[..., Any], *args) -> tuple[Any, float]:
    """``func(*args, _progress=callback)`` with a progress bar and a Cancel button.

    Parameters
    ----------
    task : str
        Name of the task (``"gosh"``, ``"permutation"``): the Cancel button's key and the
        mark :func:`show_if_cancelled` looks for.
    label : str
        What is running, in plain words (shown on the bar with the share done).
    func : callable
        A cached engine call taking ``_progress`` (a ``progress(fraction)`` callback that
        Streamlit does not hash).
    *args
        Its other arguments.

    Returns
    -------
    result : object
        ``func``'s result.
    seconds : float
        Wall time taken (near 0 when the result came from the cache).
    """
    cancel = threading.Event()
    share = [0.0]

    def progress(fraction: float) -> None:
        if cancel.is_set():
            raise Cancelled(f"{task} cancelled")
        share[0] = fraction

    ctx = get_script_run_ctx()

    def work():
        if ctx is not None:
            add_script_run_ctx(threading.current_thread(), ctx)
        return func(*args, _progress=progress)

    holder = st.empty()
    with holder.container():
        bar = st.progress(0.0, text=label)
        st.button(
            "Cancel",
            key=f"cancel_{task}",
            icon=":material/cancel:",
            on_click=state.mark_cancelled,
            args=(task,),
            help="Stop the computation (nothing is kept).",
        )
    pool = ThreadPoolExecutor(max_workers=1)
    start = time.monotonic()
    try:
        future = pool.submit(work)
        while True:
            try:
                result = future.result(timeout=TICK_SECONDS)
                break
            except FutureTimeout:
                elapsed = time.monotonic() - start
                bar.progress(share[0], text=f"{label} {share[0]:.0%} done, {elapsed:.0f} s")
    finally:
        # Interrupted (Cancel, or any other rerun) or finished: the worker stops at its
        # next progress report, if it is still running.
        cancel.set()
        pool.shutdown(wait=False)
    holder.empty()
    return result, time.monotonic() - start


def duration_text(seconds: float) -> str:
    """``"in 2.4 s"``, or ``"in under 0.1 s"`` for a near-instant (often cached) run."""
    return "in under 0.1 s" if seconds < 0.05 else f"in {seconds:.1f} s"


def show_if_cancelled(task: str, what: str) -> bool:
    """Say that ``what`` was cancelled, if the user just pressed its Cancel button."""
    if state.pop_cancelled(task):
        st.info(f"{what} was cancelled; nothing was kept.", icon=":material/cancel:")
        return True
    return False
