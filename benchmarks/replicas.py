"""Replica load test: N dashboard replicas sharing one PostgreSQL store, sessions that edit
and save, one replica killed half-way.

Run on demand (not part of the test suite), through the load test::

    python benchmarks/load_test.py --replicas 3 --sessions 60 --duration 120
    python benchmarks/load_test.py --replicas 3 --sessions 6 --duration 20   # a quick look

What runs, all on 127.0.0.1: a throwaway PostgreSQL server (:mod:`devtools.local_postgres`),
``--replicas`` servers started as in production (``scripts/serve.py``) with the same
``IGMETA_DB_URL``, and ``--sessions`` websocket clients (Streamlit's own protocol, as in
``load_test.py``). No proxy: session *i* is sent to replica *i mod N* and stays there, which
is what a load balancer with sticky sessions does; a session whose replica dies reconnects
to the next live replica with its ``?workspace=&session=`` query, as a browser behind the
balancer would after a reload.

Each session opens the Scenarios & sharing page, then, again and again: waits ``--think``
seconds (random, mean), *edits* (changes the effect measure and the confidence level in the
sidebar: a new analysis, autosaved) and, every ``--save-every`` edits, *saves* (types a
name, clicks "Save as new scenario"). Timed from sending the message to the server's
``script_finished``: edit -> visible, and save -> link shown (the run that shows the new
scenario's ``?scenario=`` link).

At ``--kill-at`` seconds the last replica is killed (SIGKILL). Afterwards:

* every save that showed a link is looked up in PostgreSQL: it must exist with the name
  and settings the session had (a *lost save* otherwise);
* up to ``--link-checks`` saved scenarios are opened by their link through another replica
  than the one that saved them;
* errors are counted for sessions on surviving replicas (an exception element, a run that
  did not finish, a timeout, a dropped connection) and, separately, failovers of the
  sessions of the killed replica (a save in flight when it died was never confirmed to the
  user: counted as interrupted, not lost);
* for scale, ``store.save`` alone is timed afterwards (8 threads x 25 saves, no app).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from devtools.local_postgres import PostgresServer
from devtools.local_server import start_server, stop_server

__all__ = ["run_replicas"]

MEASURES = {"Risk ratio (RR)": "RR", "Odds ratio (OR)": "OR", "Risk difference": "RD"}
LEVELS = {"95%": 0.95, "90%": 0.90, "99%": 0.99}
MEASURE_LABEL, LEVEL_LABEL = "Effect measure", "Confidence level"
NAME_LABEL, SAVE_LABEL = "Scenario name", "Save as new scenario"
OPENED = "Opened the shared scenario"


@dataclass
class Saved:
    id: str
    name: str
    measure: str
    level: float
    replica: int


@dataclass
class Results:
    edits: list[float] = field(default_factory=list)
    saves: list[float] = field(default_factory=list)
    first_loads: list[float] = field(default_factory=list)
    saved: list[Saved] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failovers: list[str] = field(default_factory=list)
    interrupted_saves: int = 0


class Cluster:
    """The replicas: base URLs, processes, which are alive."""

    def __init__(self, servers: list) -> None:
        self.servers = servers
        self.alive = [True] * len(servers)
        self.killed_at: float | None = None

    def ws_url(self, replica: int) -> str:
        return self.servers[replica][1].replace("http://", "ws://") + "/_stcore/stream"

    def next_alive(self, replica: int) -> int:
        for step in range(1, len(self.servers) + 1):
            candidate = (replica + step) % len(self.servers)
            if self.alive[candidate]:
                return candidate
        raise RuntimeError("no replica is alive")

    def kill(self, replica: int) -> None:
        self.alive[replica] = False
        self.killed_at = time.monotonic()
        self.servers[replica][0].kill()


class Run:
    """One script run's outcome: elements seen, query string, time, status."""

    def __init__(self) -> None:
        self.widgets: dict[str, str] = {}
        self.alerts: list[str] = []
        self.codes: list[str] = []
        self.exceptions: list[str] = []
        self.query_string = ""
        self.page_hash = ""
        self.pages: dict[str, str] = {}
        self.status = None
        self.seconds = 0.0


async def _script_run(ws, client_state: dict, timeout: float) -> Run:
    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = client_state.get("query_string", "")
    state.page_script_hash = client_state.get("page_hash", "")
    state.page_name = client_state.get("page_name", "")
    for widget_id, kind, value in client_state.get("widgets", ()):
        widget = state.widget_states.widgets.add()
        widget.id = widget_id
        setattr(widget, kind, value)
    run = Run()
    started = time.perf_counter()
    await ws.send(msg.SerializeToString())
    while True:
        fwd = ForwardMsg()
        fwd.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=timeout))
        kind = fwd.WhichOneof("type")
        if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            element = fwd.delta.new_element
            etype = element.WhichOneof("type")
            if etype in ("selectbox", "text_input", "button"):
                run.widgets[getattr(element, etype).label] = getattr(element, etype).id
            elif etype == "alert":
                run.alerts.append(element.alert.body)
            elif etype == "code":
                run.codes.append(element.code.code_text)
            elif etype == "exception":
                run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "page_info_changed":
            run.query_string = fwd.page_info_changed.query_string
        elif kind == "navigation":
            run.page_hash = fwd.navigation.page_script_hash
            run.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
        elif kind == "script_finished":
            if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                continue  # the app called st.rerun(): the run goes on
            run.status = fwd.script_finished
            run.seconds = time.perf_counter() - started
            return run


class SavingSession:
    """One simulated user: edits and saves on the Scenarios page of one replica."""

    def __init__(self, number: int, cluster: Cluster, results: Results, args) -> None:
        self.number = number
        self.cluster = cluster
        self.results = results
        self.args = args
        self.replica = number % len(cluster.servers)
        self.state = {"query_string": ""}
        self.widgets: dict[str, str] = {}

    def _problem(self, run: Run, what: str) -> str | None:
        if run.exceptions:
            return f"{what}: exception {run.exceptions[0][:200]}"
        if run.status != ForwardMsg.FINISHED_SUCCESSFULLY:
            return f"{what}: run status {run.status}"
        return None

    async def _run(self, ws, widgets=()) -> Run:
        run = await _script_run(ws, {**self.state, "widgets": widgets}, self.args.timeout)
        self.widgets.update(run.widgets)
        if run.query_string:
            self.state["query_string"] = run.query_string
        if run.page_hash:
            self.state["page_hash"] = run.page_hash
        return run

    async def _connected(self, deadline: float) -> None:
        rng = random.Random(self.number)
        async with websockets.connect(
            self.cluster.ws_url(self.replica),
            subprotocols=["streamlit"],
            max_size=None,
            open_timeout=self.args.timeout,
        ) as ws:
            # The main page first, then the Scenarios page by its hash, as a user clicking
            # in the sidebar does (opening /scenarios directly in several sessions at once
            # raised KeyError 'table' in all but one: see the report).
            self.state.pop("page_hash", None)
            run = await self._run(ws)
            problem = self._problem(run, "first load")
            if not problem:
                self.state["page_hash"] = run.pages.get("scenarios", "")
                page = await self._run(ws)
                run.seconds += page.seconds
                problem = self._problem(page, "opening the Scenarios page")
            self.results.first_loads.append(run.seconds)
            missing = {MEASURE_LABEL, LEVEL_LABEL, NAME_LABEL, SAVE_LABEL} - set(self.widgets)
            if problem or missing:
                self.results.errors.append(f"session {self.number}: {problem or missing}")
                raise _Stop
            edits = 0
            while time.monotonic() < deadline:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * self.args.think)
                measure = rng.choice(list(MEASURES))
                level = rng.choice(list(LEVELS))
                run = await self._run(
                    ws,
                    [
                        (self.widgets[MEASURE_LABEL], "string_value", measure),
                        (self.widgets[LEVEL_LABEL], "string_value", level),
                    ],
                )
                if problem := self._problem(run, "edit"):
                    self.results.errors.append(f"session {self.number}: {problem}")
                    continue
                self.results.edits.append(run.seconds)
                edits += 1
                if edits % self.args.save_every:
                    continue
                name = f"load s{self.number} e{edits}"
                self._saving = True
                run = await self._run(
                    ws,
                    [
                        (self.widgets[MEASURE_LABEL], "string_value", measure),
                        (self.widgets[LEVEL_LABEL], "string_value", level),
                        (self.widgets[NAME_LABEL], "string_value", name),
                        (self.widgets[SAVE_LABEL], "trigger_value", True),
                    ],
                )
                self._saving = False
                links = [c for c in run.codes if c.startswith("?scenario=")]
                confirmed = any(f"\u201c{name}\u201d" in a for a in run.alerts)
                problem = self._problem(run, "save")
                if problem or not links or not confirmed:
                    self.results.errors.append(
                        f"session {self.number}: {problem or 'save not confirmed with a link'}"
                    )
                    continue
                self.results.saves.append(run.seconds)
                scenario_id = links[0].split("=", 1)[1]
                self.results.saved.append(
                    Saved(scenario_id, name, MEASURES[measure], LEVELS[level], self.replica)
                )

    async def main(self, deadline: float) -> None:
        self._saving = False
        while time.monotonic() < deadline:
            try:
                await self._connected(deadline)
                return
            except _Stop:
                return
            except (TimeoutError, websockets.ConnectionClosed, OSError) as exc:
                if self.cluster.alive[self.replica]:
                    self.results.errors.append(f"session {self.number}: {type(exc).__name__}")
                    return
                if self._saving:
                    self.results.interrupted_saves += 1
                    self._saving = False
                old, self.replica = self.replica, self.cluster.next_alive(self.replica)
                self.results.failovers.append(f"session {self.number}: {old} -> {self.replica}")


class _Stop(Exception):
    """The session cannot go on (already recorded as an error)."""


async def _check_link(cluster: Cluster, saved: Saved, timeout: float) -> str | None:
    """Open ``saved`` by its link through a live replica other than the one that saved it."""
    replica = cluster.next_alive(saved.replica)
    if replica == saved.replica:
        return "no other replica alive"
    async with websockets.connect(
        cluster.ws_url(replica), subprotocols=["streamlit"], max_size=None
    ) as ws:
        run = await _script_run(ws, {"query_string": f"scenario={saved.id}"}, timeout)
    if run.exceptions or not any(OPENED in a and saved.name in a for a in run.alerts):
        return f"link {saved.id} via replica {replica}: {run.alerts[:2] or run.exceptions[:1]}"
    return None


async def _drive(cluster: Cluster, args, results: Results) -> None:
    deadline = time.monotonic() + args.duration
    users = [SavingSession(i, cluster, results, args) for i in range(args.sessions)]

    async def killer() -> None:
        await asyncio.sleep(args.kill_at)
        cluster.kill(len(cluster.servers) - 1)

    kill_task = asyncio.ensure_future(killer()) if args.kill_at < args.duration else None
    await asyncio.gather(*(user.main(deadline) for user in users))
    if kill_task is not None:
        kill_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await kill_task


def _ms(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))], 1)


def _store_saves(store, threads: int = 8, each: int = 25) -> list[float]:
    """Seconds per ``store.save`` with ``threads`` concurrent writers (no app around it)."""
    import threading

    from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON
    from igmeta.datasets import load_ig_pnp_canonical

    table = load_ig_pnp_canonical()
    times: list[float] = []

    def work(n: int) -> None:
        for i in range(each):
            started = time.perf_counter()
            store.save(f"direct {n} {i}", table, PUBLISHED_COMPARISON, owner=f"bench{n}")
            times.append(time.perf_counter() - started)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return times


def run_replicas(args) -> tuple[dict, list[str]]:
    """Run the replica load test; returns (figures, problems)."""
    from igmeta.app.store import open_store

    server = PostgresServer()
    server.start()
    servers: list = []
    results = Results()
    try:
        url = server.create_database()
        open_store(url).close()  # migrate once before the replicas start
        for _ in range(args.replicas):
            servers.append(start_server({"IGMETA_DB_URL": url}, timeout=180))
        cluster = Cluster(servers)
        started = time.perf_counter()
        asyncio.run(_drive(cluster, args, results))
        wall = time.perf_counter() - started
        store = open_store(url)
        lost, wrong = [], []
        try:
            for item in results.saved:
                try:
                    scenario = store.load(item.id)
                except Exception as exc:  # noqa: BLE001 - reported
                    lost.append(f"{item.id}: {exc}")
                    continue
                got = (scenario.name, scenario.settings.binary_measure, scenario.settings.level)
                if got != (item.name, item.measure, item.level):
                    wrong.append(f"{item.id}: saved {got}, expected {item}")
            stored = len(store.list(all_owners=True, include_builtin=False))
            direct = _store_saves(store)  # after the count: the store alone, for scale
        finally:
            store.close()
        sample = random.Random(0).sample(results.saved, min(args.link_checks, len(results.saved)))
        link_problems = [
            p
            for p in (asyncio.run(_check_link(cluster, s, args.timeout)) for s in sample)
            if p is not None
        ]
    finally:
        for proc, _url in servers:
            stop_server(proc)
        server.stop()
    figures = {
        "replicas": args.replicas,
        "sessions": args.sessions,
        "duration_s": round(wall, 1),
        "think_s": args.think,
        "save_every": args.save_every,
        "killed_replica_at_s": args.kill_at if args.kill_at < args.duration else None,
        "edits": len(results.edits),
        "edit_p50_ms": _ms(results.edits, 50),
        "edit_p95_ms": _ms(results.edits, 95),
        "saves_confirmed": len(results.saved),
        "save_p50_ms": _ms(results.saves, 50),
        "save_p95_ms": _ms(results.saves, 95),
        "store_save_alone_p50_ms": _ms(direct, 50),
        "store_save_alone_p95_ms": _ms(direct, 95),
        "first_load_p50_ms": (
            round(1000 * statistics.median(results.first_loads), 1) if results.first_loads else None
        ),
        "scenarios_in_database": stored,
        "lost_saves": len(lost),
        "wrong_saves": len(wrong),
        "interrupted_saves_on_killed_replica": results.interrupted_saves,
        "failovers": len(results.failovers),
        "errors_on_surviving_replicas": len(results.errors),
        "links_checked_via_other_replica": len(sample),
        "link_failures": len(link_problems),
    }
    problems = results.errors + lost + wrong + link_problems
    return figures, problems
