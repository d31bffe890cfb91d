"""Start and stop the dashboard on a free loopback port; how to launch Debian Chromium.

Used by the browser tests (``tests/browser/conftest.py``), the load test and the browser
latency benchmark, so that all of them run the app the same way.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "free_port", "start_server", "stop_server"]

ROOT = Path(__file__).resolve().parents[1]
#: Debian's Chromium (no browser downloads); ``$IGMETA_CHROMIUM`` overrides the path.
CHROMIUM = os.environ.get("IGMETA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-first-run",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    env_extra: dict | None = None, timeout: float = 60.0, script: Path | None = None
) -> tuple[subprocess.Popen, str]:
    """Run the dashboard (``scripts/serve.py``) on a free port; wait for its health check.

    Parameters
    ----------
    env_extra : dict, optional
        Environment variables for the server (e.g. ``IGMETA_DB_PATH``).
    timeout : float
        Seconds to wait for ``/_stcore/health``.
    script : Path, optional
        Another Streamlit script to run the same way (default: the dashboard's ``app.py``);
        the browser benchmark runs its trivial reference app with it.

    Returns
    -------
    (subprocess.Popen, str)
        The server process and its base URL.
    """
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env_extra or {})}
    # The dashboard starts as in production (scripts/serve.py: heavy imports first);
    # another script runs through plain ``streamlit run``.
    launch = ["-m", "streamlit", "run", str(script)] if script else [str(ROOT / "scripts/serve.py")]
    cmd = [
        sys.executable,
        *launch,
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"the Streamlit server did not start within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    """Terminate the server (kill it if it does not stop within 15 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)
