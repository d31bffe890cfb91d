"""Load test: N concurrent sessions rerunning the dashboard against one local server.

Run on demand (not part of the test suite)::

    python benchmarks/load_test.py                 # 20 sessions, 60 s, ~1 s think time
    python benchmarks/load_test.py --think 0       # stress: no pause between reruns
    python benchmarks/load_test.py --url http://127.0.0.1:8501   # an already running server
    python benchmarks/load_test.py --replicas 3 --sessions 60 --duration 120   # see below

``--replicas N`` (N > 1) runs the department deployment instead: N replicas sharing one
throwaway PostgreSQL store, sessions that edit and save, one replica killed half-way
(:mod:`benchmarks.replicas`); its figures go to
``benchmarks/results/replicas_<N>x<sessions>.json`` and ``.md``.

Each session speaks Streamlit's own websocket protocol, exactly as the browser does: it
connects to ``/_stcore/stream``, sends a ``rerun_script`` BackMsg (first with no widget
state, like a page load), then, again and again, a ``rerun_script`` in which a sidebar
control changed (effect measure, tau^2 estimator, confidence level: a new analysis, a
settings change that is autosaved), and times each rerun from sending the message to the
server's ``script_finished``. Errors are: an exception element in the page, a run that
does not finish successfully, a timeout or a dropped connection. Every session also
checks that the numbers it is shown (the headline metric) belong to its own settings.

Why the protocol and not 20 Chromium contexts: on a 2-core machine, 20 headless Chromium
pages drawing plotly figures use the CPU the server needs, so the figures would measure
Chromium, not the dashboard. The protocol client is a few coroutines in one process; it
measures what a user waits for on the server side (rerun until the last delta), without
the browser's own drawing time. The browser paths are covered by the Playwright tests.

Only 127.0.0.1 is accepted as a target. The server started here uses a temporary
``IGMETA_DB_PATH`` (autosaves are written, then thrown away).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.local_server import start_server, stop_server  # noqa: E402

#: Sidebar selectboxes changed by the sessions: label -> option labels to cycle through.
CONTROLS = {
    "Effect measure": ("Risk ratio (RR)", "Odds ratio (OR)", "Risk difference"),
    "tau\u00b2 estimator": (
        "REML (restricted maximum likelihood)",
        "DerSimonian-Laird",
        "Paule-Mandel",
        "Sidik-Jonkman",
    ),
    "Confidence level": ("95%", "90%", "99%"),
}
HEADLINE_PREFIX = {
    "Risk ratio (RR)": "Pooled risk ratio",
    "Odds ratio (OR)": "Pooled odds ratio",
    "Risk difference": "Pooled risk difference",
}


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    first_loads: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reruns: int = 0


class Session:
    """One simulated user on one websocket."""

    def __init__(self, number: int, ws_url: str, stats: Stats, timeout: float):
        self.number = number
        self.ws_url = ws_url
        self.stats = stats
        self.timeout = timeout
        self.query_string = ""
        self.widgets: dict[str, str] = {}  # label -> widget id
        self.metric_label = ""
        self.exceptions: list[str] = []

    async def run_once(self, ws, state: dict[str, str] | None) -> float:
        """Send one rerun (``state``: label -> option) and wait for it to finish."""
        msg = BackMsg()
        client = msg.rerun_script
        client.query_string = self.query_string
        client.page_script_hash = ""
        for label, value in (state or {}).items():
            widget = client.widget_states.widgets.add()
            widget.id = self.widgets[label]
            widget.string_value = value
        self.exceptions = []
        self.metric_label = ""
        started = time.perf_counter()
        await ws.send(msg.SerializeToString())
        while True:
            raw = await asyncio.wait_for(ws.recv(), timeout=self.timeout)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._element(fwd.delta.new_element)
            elif kind == "page_info_changed":
                self.query_string = fwd.page_info_changed.query_string
            elif kind == "script_finished":
                elapsed = time.perf_counter() - started
                status = fwd.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # the app called st.rerun(): the run goes on
                if status != ForwardMsg.FINISHED_SUCCESSFULLY:
                    self.stats.errors.append(f"session {self.number}: run status {status}")
                if self.exceptions:
                    self.stats.errors.append(
                        f"session {self.number}: exception {self.exceptions[0][:200]}"
                    )
                return elapsed

    def _element(self, element) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            self.exceptions.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "selectbox" and element.selectbox.label in CONTROLS:
            self.widgets[element.selectbox.label] = element.selectbox.id
        elif kind == "metric" and not self.metric_label:
            self.metric_label = element.metric.label

    async def main(self, deadline: float, think: float) -> None:
        rng = random.Random(self.number)
        try:
            async with websockets.connect(
                self.ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=self.timeout
            ) as ws:
                self.stats.first_loads.append(await self.run_once(ws, None))
                missing = set(CONTROLS) - set(self.widgets)
                if missing:
                    self.stats.errors.append(f"session {self.number}: no widget {missing}")
                    return
                while time.monotonic() < deadline:
                    if think:
                        await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
                    state = {label: rng.choice(options) for label, options in CONTROLS.items()}
                    self.stats.latencies.append(await self.run_once(ws, state))
                    self.stats.reruns += 1
                    expected = HEADLINE_PREFIX[state["Effect measure"]]
                    if not self.metric_label.startswith(expected):
                        self.stats.errors.append(
                            f"session {self.number}: shown '{self.metric_label}', "
                            f"expected '{expected}' (cross-talk?)"
                        )
        except TimeoutError:
            self.stats.errors.append(f"session {self.number}: timeout")
        except websockets.ConnectionClosed as exc:
            self.stats.errors.append(f"session {self.number}: connection closed ({exc})")
        except OSError as exc:
            self.stats.errors.append(f"session {self.number}: {exc}")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def _run(url: str, sessions: int, duration: float, think: float, timeout: float) -> Stats:
    parts = urllib.parse.urlsplit(url)
    ws_url = f"ws://{parts.netloc}/_stcore/stream"
    stats = Stats()
    deadline = time.monotonic() + duration
    users = [Session(i + 1, ws_url, stats, timeout) for i in range(sessions)]
    await asyncio.gather(*(user.main(deadline, think) for user in users))
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean pause between a session's reruns, seconds (0: none)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="per rerun, seconds")
    parser.add_argument("--url", help="an already running server on 127.0.0.1")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--replicas", type=int, default=1, help="N > 1: N replicas on one PostgreSQL store"
    )
    parser.add_argument("--save-every", type=int, default=3, help="replicas: edits per save")
    parser.add_argument(
        "--kill-at",
        type=float,
        help="replicas: seconds before the last one is killed "
        "(default: half the duration; >= duration: none)",
    )
    parser.add_argument(
        "--link-checks", type=int, default=20, help="replicas: saved links opened elsewhere"
    )
    args = parser.parse_args(argv)
    if args.replicas > 1:
        return _replicas_main(args)

    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="igmeta-load-")
    try:
        if args.url:
            host = urllib.parse.urlsplit(args.url).hostname
            if host != "127.0.0.1":
                parser.error("only a server on 127.0.0.1 may be load-tested")
            url = args.url.rstrip("/")
        else:
            proc, url = start_server({"IGMETA_DB_PATH": str(Path(tmp.name) / "igmeta.sqlite3")})
        started = time.perf_counter()
        stats = asyncio.run(_run(url, args.sessions, args.duration, args.think, args.timeout))
        wall = time.perf_counter() - started
    finally:
        if proc is not None:
            stop_server(proc)
        tmp.cleanup()

    lat = stats.latencies
    figures = {
        "sessions": args.sessions,
        "duration_s": round(wall, 1),
        "think_s": args.think,
        "cpu_count": os.cpu_count(),
        "reruns": stats.reruns,
        "reruns_per_s": round(stats.reruns / wall, 2) if wall else None,
        "p50_ms": round(1000 * statistics.median(lat), 1) if lat else None,
        "p95_ms": round(1000 * _percentile(lat, 95), 1) if lat else None,
        "max_ms": round(1000 * max(lat), 1) if lat else None,
        "first_load_p50_ms": (
            round(1000 * statistics.median(stats.first_loads), 1) if stats.first_loads else None
        ),
        "errors": len(stats.errors),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>20}: {value}")
        for error in stats.errors[:20]:
            print("ERROR", error)
    return 0 if not stats.errors and stats.reruns > 0 else 1


def _replicas_main(args) -> int:
    """``--replicas N``: run :mod:`benchmarks.replicas`, print and keep its figures."""
    from benchmarks.replicas import run_replicas

    if args.kill_at is None:
        args.kill_at = args.duration / 2
    figures, problems = run_replicas(args)
    figures["cpu_count"] = os.cpu_count()
    figures["run_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = ROOT / "benchmarks" / "results"
    stem = f"replicas_{args.replicas}x{args.sessions}"
    (results / f"{stem}.json").write_text(json.dumps(figures, indent=2) + "\n")
    lines = [
        "# Replica load test",
        "",
        f"`python benchmarks/load_test.py --replicas {args.replicas} --sessions "
        f"{args.sessions} --duration {args.duration:g} --think {args.think:g}` "
        f"({figures['run_at']}, {figures['cpu_count']} CPU cores shared with other work).",
        "",
        "| figure | value |",
        "|---|---:|",
        *(f"| {key} | {value} |" for key, value in figures.items()),
        "",
        *(f"- problem: {p}" for p in problems[:20]),
    ]
    (results / f"{stem}.md").write_text("\n".join(lines) + "\n")
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>36}: {value}")
        for problem in problems[:20]:
            print("PROBLEM", problem)
    return 0 if not problems and figures["saves_confirmed"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
