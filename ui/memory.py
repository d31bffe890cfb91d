"""Keep Streamlit's after-run garbage collection cheap: freeze the startup objects once.

Streamlit runs a full collection (``gc.collect(2)``, option ``runner.postScriptGC``)
after every script run. With streamlit, pandas, scipy, plotly and igmeta imported that
walks about 190,000 container objects -- 60 to 150 ms of CPU per run, more than the
analysis itself -- although nearly all of them are modules, classes and functions that
live as long as the process. :func:`freeze_startup_objects` moves everything alive at the
end of the first complete script run into the interpreter's permanent generation
(:func:`gc.freeze`), so later collections walk only what runs created since.

Memory: objects that are frozen are never collected by the cycle collector (reference
counting still frees them). They are the imported modules plus the first session's
table, results and figures (a few MB); everything created later is collected as before,
after every run.
"""

from __future__ import annotations

import gc
import threading

__all__ = ["freeze_startup_objects"]

_LOCK = threading.Lock()
_FROZEN = False


def freeze_startup_objects() -> bool:
    """Collect, then freeze every object alive now; only the first call does anything.

    Returns
    -------
    bool
        True when this call froze the objects.
    """
    global _FROZEN
    with _LOCK:
        if _FROZEN:
            return False
        gc.collect()
        gc.freeze()
        _FROZEN = True
        return True
