"""Start the dashboard with its heavy modules already imported.

``python scripts/serve.py [streamlit options]`` is ``streamlit run app.py [options]``,
except that numpy, scipy, pandas, plotly and the igmeta engine are imported before the
server starts. Streamlit imports a script's modules on its first run, so without this the
first visitor after a (re)start waits several seconds for the imports; with it, the
first session costs what every later one costs. ``scripts/run.sh``, the Dockerfile and the
browser tests (``devtools.local_server``) all start the app this way. The scenario store is
opened (and migrated) before the server starts too; if it cannot be, the start stops with
the reason.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Modules the first script run needs; imported once, before the server starts.
PRELOAD = (
    "numpy",
    "pandas",
    "scipy.optimize",
    "scipy.special",
    "scipy.stats",
    "plotly.graph_objects",
    "plotly.io",
    "streamlit",
    "igmeta",
    "igmeta.app.pipeline.analysis",
    "igmeta.app.outputs.exports",
    "igmeta.plots",
    "igmeta.app.pipeline.published",
    "igmeta.app.store.scenarios",
    "igmeta.app.outputs.tables",
)


def preload() -> None:
    """Import :data:`PRELOAD` (the project root first on ``sys.path``)."""
    import importlib

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for name in PRELOAD:
        importlib.import_module(name)


def store_problem() -> str | None:
    """Open the scenario store named by ``IGMETA_DB_URL`` / ``IGMETA_DB_PATH`` once (it
    stays open for the app); None when it works, else why not, in plain words.

    A wrong or unreachable database, a database written by a newer igmeta or a folder the
    process cannot write stops the start with that message, instead of a server whose
    saves fail.
    """
    from igmeta.app.store import default_store
    from igmeta.app.store.scenarios import ScenarioError

    try:
        default_store()
    except ScenarioError as exc:
        return str(exc)
    return None


def trace_script_runs(path: str) -> None:
    """Append one line per script run to ``path``: start time, seconds in the script, GC.

    For the browser benchmark (``IGMETA_RUN_TRACE``): it shows how much of what the
    browser waits for is spent in the script runs themselves, how many runs one edit
    caused, and what the after-run garbage collections cost.
    """
    import gc
    import threading
    import time

    from streamlit.runtime.scriptrunner import script_runner

    lock = threading.Lock()
    collected = {"seconds": 0.0, "start": 0.0}

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            collected["start"] = time.perf_counter()
        else:
            collected["seconds"] += time.perf_counter() - collected["start"]

    gc.callbacks.append(on_gc)
    original = script_runner.ScriptRunner._run_script

    def timed(self, rerun_data):
        start, gc_before = time.perf_counter(), collected["seconds"]
        try:
            return original(self, rerun_data)
        finally:
            spent = time.perf_counter() - start
            with lock, open(path, "a", encoding="utf-8") as out:
                fragment = "fragment" if rerun_data.fragment_id_queue else "full"
                out.write(
                    f"{time.time():.3f}\t{spent * 1e3:.1f}\t"
                    f"{(collected['seconds'] - gc_before) * 1e3:.1f}\t{fragment}\n"
                )

    script_runner.ScriptRunner._run_script = timed


def main(argv: list[str]) -> int:
    """Preload, then hand over to Streamlit's command line as ``streamlit run app.py``."""
    preload()
    problem = store_problem()
    if problem:
        print(f"igmeta cannot start: {problem}", file=sys.stderr)
        return 2
    trace = os.environ.get("IGMETA_RUN_TRACE")
    if trace:
        trace_script_runs(trace)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
