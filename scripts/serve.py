"""Start the dashboard with its heavy modules already imported.

``python scripts/serve.py [streamlit options]`` is ``streamlit run app.py [options]``,
except that numpy, scipy, pandas, plotly and the igmeta engine are imported before the
server starts. Streamlit imports a script's modules on its first run, so without this the
first visitor after a (re)start waits several seconds for the imports; with it, the
first session costs what every later one costs. ``scripts/run.sh``, the Dockerfile and the
browser tests (``devtools.local_server``) all start the app this way.
"""

from __future__ import annotations

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
    "igmeta.analysis",
    "igmeta.exports",
    "igmeta.plots",
    "igmeta.published",
    "igmeta.scenarios",
    "igmeta.tables",
)


def preload() -> None:
    """Import :data:`PRELOAD` (the project root first on ``sys.path``)."""
    import importlib

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for name in PRELOAD:
        importlib.import_module(name)


def main(argv: list[str]) -> int:
    """Preload, then hand over to Streamlit's command line as ``streamlit run app.py``."""
    preload()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
