"""Browser latency against the Streamlit floor: igmeta beside a trivial Streamlit app.

Usage::

    python benchmarks/browser_floor.py                      # k = 10, 50, 500; 20 repeats
    python benchmarks/browser_floor.py --repeats 5 --sizes 50   # quick look while developing

On demand only (timed tests are flaky on a busy machine, so nothing here is part of the
test suite). In one run on one machine it starts two Streamlit servers with the same
launcher and configuration (:func:`devtools.local_server.start_server`): the trivial app
of ``benchmarks/trivial_app.py`` (number input -> metric + plotly scatter of 50 points) and
the dashboard. Headless Debian Chromium, driven by Playwright, then times

* **trivial edit**: a new value typed into the number input, Enter -> the metric shows it;
* **grid edit** (per k): a new event count typed into the first row of the study grid on
  the Data page, Enter -> the live pooled result above the grid changed;
* **sidebar change** (per k): the model switched (random <-> common effect) on the
  Analysis page -> both the headline and the forest plot's text changed;
* **cold session**: a new browser context opens the URL -> the first figure is drawn (the
  first session after the server started is reported on its own); and a new tab of a
  browser that has the app's scripts in its HTTP cache (a user opening the app again);
* **page switch** (at ``--detail-k``): a click in the navigation -> the new page's heading
  and its figure or grid are drawn and not stale (Analysis -> Data -> Bias -> Analysis);
* **PNG export** (at ``--detail-k``): a click on "Forest plot (PNG)" on the Scenarios page
  -> the download has arrived.

Interaction times start at the browser's own input event (a capturing listener stores
``performance.now()`` of the key or pointer press) and end when a ``requestAnimationFrame``
poll sees the change, so Playwright's round trips are not counted; for the forest, at the
browser's Element Timing paint time of its last image. "Done" also waits for
every script run the edit caused to finish (Streamlit's ``data-test-script-state``),
which counts a second run (``st.rerun``) that "visible" may not. Cold sessions, page
switches and exports are timed from the Python side (they include navigation).

Prints a Markdown table (medians, IQR, ratios to the trivial app, machine, load average)
and writes it to ``benchmarks/results/browser_floor.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools.data_grid import cell_centre, column_index  # noqa: E402
from devtools.local_server import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

__all__ = [
    "TARGETS",
    "Measure",
    "format_report",
    "machine_description",
    "parse_args",
    "study_csv",
    "summary",
]

TRIVIAL_APP = ROOT / "benchmarks" / "trivial_app.py"
RESULTS = ROOT / "benchmarks" / "results" / "browser_floor.md"
AI_COLUMN = "Events (treatment) \u00b7 ai"
SLOW = 60_000
#: A new session may wait for the server's first imports (seconds on a busy machine).
COLD = 180_000
VIEWPORT = {"width": 1440, "height": 1000}
#: Targets of issue 11: ratio to the trivial app's edit for the two interactive paths (by
#: k), seconds for the others.
TARGETS = {
    "ratio": {50: 2.0, 500: 3.0},
    "cold": 3.0,
    "switch": 0.5,
    "export": 2.0,
}


# --------------------------------------------------------------------------- results


@dataclass
class Measure:
    """Repeated timings (seconds) of one path; ``failed`` counts repeats that failed."""

    name: str
    k: int | None = None
    values: list[float] = field(default_factory=list)
    done: list[float] = field(default_factory=list)
    #: Seconds the server spent in script runs (whole app or fragment) per repeat, and how
    #: many runs each repeat caused (from ``IGMETA_RUN_TRACE``; igmeta only).
    server: list[float] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)
    #: The sidebar path's older, looser measure (every image decoded again, plus a frame
    #: and a Playwright round trip): an upper bound of *visible*.
    bound: list[float] = field(default_factory=list)
    failed: int = 0

    def add(self, value: float, done: float | None = None, bound: float | None = None) -> None:
        self.values.append(value)
        if done is not None:
            self.done.append(done)
        if bound is not None:
            self.bound.append(bound)


def summary(values: Sequence[float]) -> tuple[float, float, float] | None:
    """(median, first quartile, third quartile) in seconds, or None without values."""
    if not values:
        return None
    q1, q3 = np.percentile(values, [25, 75])
    return float(statistics.median(values)), float(q1), float(q3)


def _ms(values: Sequence[float]) -> str:
    s = summary(values)
    if s is None:
        return "–"
    return f"{s[0] * 1e3:,.0f} ms ({s[1] * 1e3:,.0f}–{s[2] * 1e3:,.0f})"


def _ratio(values: Sequence[float], floor: Sequence[float]) -> float | None:
    a, b = summary(values), summary(floor)
    if a is None or b is None or b[0] <= 0:
        return None
    return a[0] / b[0]


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else (" ✔" if ok else " ✘")


def machine_description() -> str:
    """CPU, cores, memory, OS and the versions that matter, in one line."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.1f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    versions = []
    for module in ("streamlit", "plotly", "pandas", "numpy", "kaleido", "playwright"):
        try:
            from importlib.metadata import version

            versions.append(f"{module} {version(module)}")
        except Exception:  # noqa: BLE001 - a missing package is just not listed
            continue
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, {', '.join(versions)}"
    )


def format_report(
    results: Sequence[Measure], *, machine: str, loads: Sequence[float], when: str, repeats: int
) -> str:
    """The Markdown report of one run.

    Parameters
    ----------
    results : sequence of Measure
        Names used: ``trivial_edit``, ``trivial_cold``, ``grid_edit`` and
        ``sidebar_change`` (one per k), ``cold``, ``cold_first``, ``switch``, ``export``.
    machine : str
        :func:`machine_description`.
    loads : sequence of float
        1-minute load averages sampled during the run.
    when : str
        Start time of the run.
    repeats : int
        Requested repeats per interactive path.
    """
    by_name: dict[tuple[str, int | None], Measure] = {(m.name, m.k): m for m in results}

    def get(name: str, k: int | None = None) -> Measure:
        return by_name.get((name, k), Measure(name, k))

    floor = get("trivial_edit").values
    load = f"{min(loads):.2f}–{max(loads):.2f}" if loads else "unknown"
    lines = [
        "# Browser latency against the Streamlit floor",
        "",
        f"Run {when}; {repeats} repeats per interactive path; headless Chromium via "
        f"Playwright; both apps served by the same launcher and `.streamlit/config.toml`; "
        f"load average during the run {load}.",
        "",
        f"Machine: {machine}.",
        "",
        "Medians with the interquartile range; ratio = median / median of the trivial app's "
        "edit (number input -> metric).",
        "",
        "Server = time inside the script runs that one edit caused (Streamlit's after-run "
        "garbage collection included) and how many runs that was, logged by the server "
        "(`IGMETA_RUN_TRACE`); the rest of *visible* is the websocket, the browser's "
        "rendering and Plotly drawing the figure.",
        "",
        "Visible of the sidebar path ends when the browser painted the last image of the "
        "forest (Element Timing); *upper bound* is the older measure, which decodes every "
        "image again after one more Playwright round trip.",
        "",
        "| path | k | visible | ratio | done (all reruns) | ratio | upper bound | ratio "
        "| server (runs) | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| trivial app: number input -> metric | – | {_ms(floor)} | 1.0x | "
        f"{_ms(get('trivial_edit').done)} | "
        f"{_fmt_ratio(_ratio(get('trivial_edit').done, floor))} | – | – | – | floor |",
    ]
    sizes = sorted({m.k for m in results if m.k is not None})
    labels = {
        "grid_edit": "grid edit (Data page) -> pooled value",
        "sidebar_change": "sidebar model common/random (Analysis) -> forest redrawn",
    }
    for name, label in labels.items():
        for k in sizes:
            m = get(name, k)
            ratio = _ratio(m.values, floor)
            target = TARGETS["ratio"].get(k)
            verdict = _verdict(None if target is None or ratio is None else ratio <= target)
            failed = f" ({m.failed} failed)" if m.failed else ""
            runs = f" ({statistics.median(m.runs):g})" if m.runs else ""
            lines.append(
                f"| {label}{failed} | {k} | {_ms(m.values)} | {_fmt_ratio(ratio)} | "
                f"{_ms(m.done)} | {_fmt_ratio(_ratio(m.done, floor))} | "
                f"{_ms(m.bound)} | {_fmt_ratio(_ratio(m.bound, floor))} | "
                f"{_ms(m.server)}{runs} | {f'≤ {target:g}x{verdict}' if target else ''} |"
            )
    lines += [
        "",
        "| path | median (IQR) | repeats | trivial app | target |",
        "|---|---:|---:|---:|---|",
    ]
    others = {
        "cold_first": ("first session after server start -> forest", "trivial_cold_first", None),
        "cold": ("new session (browser context) -> forest", "trivial_cold", "cold"),
        "tab": ("new session, new tab (browser cache warm) -> forest", "trivial_tab", "cold"),
        "switch": ("page switch -> page drawn", None, "switch"),
        "export": ("forest PNG export: click -> download", None, "export"),
    }
    for name, (label, floor_name, target_name) in others.items():
        m = get(name)
        s = summary(m.values)
        target = TARGETS.get(target_name) if target_name else None
        verdict = _verdict(None if target is None or s is None else s[0] <= target)
        trivial = _ms(get(floor_name).values) if floor_name else "–"
        failed = f" ({m.failed} failed)" if m.failed else ""
        lines.append(
            f"| {label}{failed} | {_ms(m.values)} | {len(m.values)} | {trivial} | "
            f"{f'≤ {target:g} s{verdict}' if target else ''} |"
        )
    lines.append("")
    return "\n".join(lines)


def _fmt_ratio(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.1f}x"


# --------------------------------------------------------------------------- arguments


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="edits per path and k")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 500])
    parser.add_argument("--detail-k", type=int, default=50, help="k for switches and export")
    parser.add_argument("--colds", type=int, default=6, help="new sessions per app")
    parser.add_argument("--switches", type=int, default=4, help="Analysis->Data->Bias cycles")
    parser.add_argument("--exports", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.colds < 1 or any(k < 2 for k in args.sizes):
        parser.error("--repeats and --colds must be >= 1 and every size >= 2")
    return args


# --------------------------------------------------------------------------- browser

#: A capturing listener stamps the browser's own input event (the clock starts there).
ARM = """(kind) => {
    window.__t0 = null;
    const stamp = (e) => {
        if (window.__t0 !== null) return;
        if (kind === 'Enter' && !(e.type === 'keydown' && e.key === 'Enter')) return;
        if (kind === 'pointer' && e.type !== 'pointerdown') return;
        window.__t0 = performance.now();
    };
    if (!window.__armed) {
        window.__armed = true;
        window.__stamp = stamp;
        for (const t of ['keydown', 'pointerdown'])
            document.addEventListener(t, (e) => window.__stamp(e), true);
        // Element Timing: the browser reports when each SVG <image> was painted. The
        // attribute is set as the node is inserted (a mutation callback runs before the
        // next paint), so every image Plotly draws gets an entry.
        window.__paints = new Map();
        new PerformanceObserver((list) => {
            for (const e of list.getEntries())
                if (e.element) window.__paints.set(e.element, e.renderTime || e.loadTime);
        }).observe({type: 'element', buffered: true});
        new MutationObserver((records) => {
            for (const r of records) for (const n of r.addedNodes) {
                if (n.nodeType !== 1) continue;
                const images = n.localName === 'image' ? [n] : n.querySelectorAll('image');
                for (const i of images) i.setAttribute('elementtiming', 'igmeta-image');
            }
        }).observe(document.body, {childList: true, subtree: true});
    }
    window.__paints.clear();
    window.__stamp = stamp;
    const app = document.querySelector('[data-testid="stApp"]');
    window.__states = [];
    if (window.__observer) window.__observer.disconnect();
    window.__observer = new MutationObserver(() => window.__states.push(
        [app.getAttribute('data-test-script-state'), performance.now()]));
    window.__observer.observe(app, {attributes: true,
                                    attributeFilter: ['data-test-script-state']});
}"""

#: Text of the metrics whose label contains ``label`` (all metrics when empty).
METRICS = """(label) => [...document.querySelectorAll('[data-testid="stMetric"]')]
    .map(e => e.innerText).filter(t => t.includes(label)).join(' | ')"""

#: JavaScript: the text of the first plotly chart -- the text of all its SVG layers plus
#: the sources of its images (the forest draws its text columns as images, see
#: igmeta.plots.text_images, in the chart's second SVG layer).
PLOT_TEXT_FUNCTION = """const plotText = () => {
    const chart = document.querySelector('[data-testid="stPlotlyChart"]');
    if (!chart) return '';
    const svgs = [...chart.querySelectorAll('.main-svg')];
    const images = svgs.flatMap(s => [...s.querySelectorAll('image')])
        .map(i => i.getAttribute('href'));
    return svgs.map(s => s.textContent).join(' ') + images.join('');
};"""

#: Metrics (and, when asked, the first plotly chart's text) differ from ``before``.
CHANGED = (
    """([label, before, withPlot]) => {
    """
    + PLOT_TEXT_FUNCTION
    + """
    const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
        .map(e => e.innerText).filter(t => t.includes(label)).join(' | ');
    if (!m || m === before[0]) return false;
    if (withPlot) {
        const text = plotText();
        if (!text || text === before[1]) return false;
    }
    return window.__t0 === null ? false : performance.now() - window.__t0;
}"""
)

PLOT_TEXT = "() => { " + PLOT_TEXT_FUNCTION + " return plotText(); }"

#: Milliseconds from the input event until every image of the first chart is decoded.
IMAGES_DECODED = """async () => {
    const chart = document.querySelector('[data-testid="stPlotlyChart"]');
    const sources = [...chart.querySelectorAll('.main-svg image')].map(i => i.getAttribute('href'));
    await Promise.all(sources.map(src => { const img = new Image(); img.src = src;
                                           return img.decode().catch(() => null); }));
    await new Promise(resolve => requestAnimationFrame(resolve));
    return performance.now() - window.__t0;
}"""

#: Milliseconds from the input event until the browser painted every image of the first
#: chart (Element Timing ``renderTime``, see :data:`ARM`); ``null`` when an image got no
#: paint entry within 5 s (e.g. an element reused with a new source).
IMAGES_PAINTED = """async () => {
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline) {
        const chart = document.querySelector('[data-testid="stPlotlyChart"]');
        const images = chart ? [...chart.querySelectorAll('.main-svg image')] : [];
        const times = images.map(i => window.__paints.get(i));
        if (images.length && times.every(t => t !== undefined))
            return Math.max(...times) - window.__t0;
        await new Promise(resolve => requestAnimationFrame(resolve));
    }
    return null;
}"""

#: All script runs since :data:`ARM` finished and nothing ran for 400 ms: the time of the
#: last run's end after the input event (-1 when no run was seen 3 s after the input).
ALL_DONE = """() => {
    const s = window.__states || [];
    if (window.__t0 === null) return false;
    if (!s.length) return performance.now() - window.__t0 > 3000 ? -1 : false;
    const last = s[s.length - 1];
    if (last[0] !== 'notRunning' || performance.now() - last[1] < 400) return false;
    return last[1] - window.__t0;
}"""

IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"

#: A fresh (not stale) figure or grid under a visible heading ``name``.
PAGE_DRAWN = """([heading, selector]) => {
    const h = [...document.querySelectorAll('h1')].find(e => e.innerText.trim() === heading);
    if (!h) return false;
    const el = document.querySelector(selector);
    if (!el) return false;
    const box = el.closest('[data-stale]');
    return !(box && box.getAttribute('data-stale') === 'true');
}"""

PAGES = [
    ("Data", "Study data", "[data-testid='stDataFrame'] [data-testid='data-grid-canvas']"),
    (
        "Publication bias (funnel)",
        "Publication bias and small-study effects",
        "[data-testid='stPlotlyChart'] .main-svg",
    ),
    ("Analysis (forest)", "Meta-analysis", "[data-testid='stPlotlyChart'] .main-svg"),
]


def settle(page) -> None:
    page.wait_for_selector("[data-testid='stApp']", timeout=COLD)
    page.wait_for_function(IDLE, timeout=COLD)
    page.wait_for_timeout(300)


def _timed(page, action: Callable[[], None], kind: str, label: str, plot: bool):
    """Run ``action`` (an input) and return (visible, done, bound) seconds from its input
    event (done is None when the browser showed no script run; bound, with ``plot``, the
    older upper bound of visible)."""
    before = [page.evaluate(METRICS, label), page.evaluate(PLOT_TEXT) if plot else ""]
    page.evaluate(ARM, kind)
    action()
    shown = page.wait_for_function(CHANGED, arg=[label, before, plot], timeout=SLOW)
    visible = shown.json_value() / 1e3
    bound = None
    if plot:
        # The forest's text columns are SVG images: visible is when the browser painted
        # the last of them (Element Timing). The older measure decodes every image again
        # after a Playwright round trip: kept beside it as an upper bound.
        painted = page.evaluate(IMAGES_PAINTED)
        decoded = page.evaluate(IMAGES_DECODED) / 1e3
        bound = max(visible, decoded)
        visible = bound if painted is None else max(visible, painted / 1e3)
    done = page.wait_for_function(ALL_DONE, timeout=SLOW).json_value()
    settle(page)
    return visible, (None if done < 0 else done / 1e3), bound


#: The igmeta server's script-run log (``IGMETA_RUN_TRACE``, see ``scripts/serve.py``).
RUN_TRACE: list[Path] = []


def _trace_size() -> int:
    return RUN_TRACE[0].stat().st_size if RUN_TRACE and RUN_TRACE[0].exists() else 0


def server_runs(since: int) -> tuple[float, int]:
    """(seconds in script runs incl. their GC, number of runs) logged after byte ``since``."""
    if not RUN_TRACE or not RUN_TRACE[0].exists():
        return 0.0, 0
    with RUN_TRACE[0].open("rb") as log:
        log.seek(since)
        lines = log.read().decode("utf-8").splitlines()
    spent = [float(line.split("\t")[1]) for line in lines if line.count("\t") >= 3]
    return sum(spent) / 1e3, len(spent)


def _repeat(page, measure: Measure, repeats: int, one: Callable[[int], tuple]):
    for i in range(repeats):
        since = _trace_size()
        try:
            visible, done, bound = one(i)
        except Exception as exc:  # noqa: BLE001 - report, then go on with the next repeat
            measure.failed += 1
            shot = Path(tempfile.gettempdir()) / f"igmeta_floor_{measure.name}_{measure.k}_{i}.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"  {measure.name} k={measure.k} #{i + 1} failed: {exc!s:.160} ({shot})")
            settle(page)
            continue
        measure.add(visible, done, bound)
        if RUN_TRACE:
            spent, runs = server_runs(since)
            measure.server.append(spent)
            measure.runs.append(runs)
        finished = "not seen" if done is None else f"{done * 1e3:.0f} ms"
        upper = "" if bound is None else f", upper bound {bound * 1e3:.0f} ms"
        print(
            f"  {measure.name} k={measure.k} #{i + 1}: visible {visible * 1e3:.0f} ms"
            f"{upper}, done {finished}",
            flush=True,
        )


def new_page(browser):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(COLD)
    return context, page


def cold_sessions(browser, url: str, n: int, ready: str, name: str) -> list[Measure]:
    """Open ``url`` in ``n`` new contexts; time until ``ready`` (a selector) is visible."""
    first, rest = Measure(f"{name}_first"), Measure(name)
    for i in range(n):
        context, page = new_page(browser)
        try:
            t0 = time.perf_counter()
            page.goto(url, timeout=COLD)
            page.locator(ready).first.wait_for(state="visible", timeout=COLD)
            (first if i == 0 else rest).add(time.perf_counter() - t0)
            print(f"  {name} #{i + 1}: {(time.perf_counter() - t0) * 1e3:.0f} ms", flush=True)
        except Exception as exc:  # noqa: BLE001 - report, then go on
            (first if i == 0 else rest).failed += 1
            print(f"  {name} #{i + 1} failed: {exc!s:.160}", flush=True)
        finally:
            context.close()
    return [first, rest]


def new_tabs(browser, url: str, n: int, ready: str, name: str) -> Measure:
    """Open ``url`` in ``n`` new tabs of one browser context whose HTTP cache holds the
    app's scripts (a user opening the app again): each tab is a new Streamlit session.
    Time until ``ready`` is visible."""
    measure = Measure(name)
    context, page = new_page(browser)
    try:
        page.goto(url, timeout=COLD)
        page.locator(ready).first.wait_for(state="visible", timeout=COLD)
        settle(page)
        for i in range(n):
            tab = context.new_page()
            try:
                t0 = time.perf_counter()
                tab.goto(url, timeout=COLD)
                tab.locator(ready).first.wait_for(state="visible", timeout=COLD)
                measure.add(time.perf_counter() - t0)
                print(f"  {name} #{i + 1}: {measure.values[-1] * 1e3:.0f} ms", flush=True)
            except Exception as exc:  # noqa: BLE001 - report, then go on
                measure.failed += 1
                print(f"  {name} #{i + 1} failed: {exc!s:.160}", flush=True)
            finally:
                tab.close()
    finally:
        context.close()
    return measure


# --------------------------------------------------------------------------- the two apps


def trivial_measures(browser, url: str, args: argparse.Namespace) -> list[Measure]:
    chart = "[data-testid='stPlotlyChart'] .main-svg"
    results = cold_sessions(browser, url, args.colds, chart, "trivial_cold")
    results.append(new_tabs(browser, url, args.colds, chart, "trivial_tab"))
    context, page = new_page(browser)
    try:
        page.goto(url)
        settle(page)
        box = page.get_by_label("Value")
        edit = Measure("trivial_edit")

        def one(i: int) -> tuple:
            box.fill(str(2 + i))

            return _timed(page, lambda: box.press("Enter"), "Enter", "Result", False)

        _repeat(page, edit, args.repeats, one)
        results.append(edit)
    finally:
        context.close()
    return results


def study_csv(k: int, path: Path) -> Path:
    """A table of k simulated two-arm trials (seeded by k) written to ``path``."""
    rng = np.random.default_rng(k)
    n1 = rng.integers(40, 200, k)
    n2 = rng.integers(40, 200, k)
    p2 = rng.uniform(0.15, 0.4, k)
    p1 = np.clip(p2 * np.exp(rng.normal(0.3, 0.3, k)), 0.02, 0.95)
    pd.DataFrame(
        {
            "study": [f"Trial {i + 1:03d}" for i in range(k)],
            "year": rng.integers(1990, 2024, k),
            "ai": rng.binomial(n1, p1),
            "n1i": n1,
            "ci": rng.binomial(n2, p2),
            "n2i": n2,
        }
    ).to_csv(path, index=False)
    return path


def go_to(page, link: str, heading: str) -> None:
    page.get_by_role("link", name=link).click()
    settle(page)
    page.get_by_role("heading", name=heading).wait_for()


def load_table(page, url: str, csv: Path) -> None:
    """Open the dashboard and upload ``csv`` on the Data page."""
    page.goto(url, timeout=COLD)
    settle(page)
    page.get_by_role("heading", name="Meta-analysis").wait_for(timeout=COLD)
    go_to(page, "Data", "Study data")
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(csv))
    settle(page)
    page.get_by_role("button", name="Use this table").click(timeout=SLOW)
    settle(page)
    page.get_by_text(f"Loaded '{csv.name}'").wait_for(timeout=SLOW)


def grid_edits(page, k: int, repeats: int) -> Measure:
    measure = Measure("grid_edit", k)
    column = column_index(page, AI_COLUMN)

    def one(i: int) -> tuple:
        # The grid moves when messages above it come and go: find the cell anew.
        page.get_by_role("heading", name="Study data").scroll_into_view_if_needed()
        cell = cell_centre(page, column)
        page.mouse.dblclick(*cell)
        page.locator("#portal .gdg-input").wait_for(timeout=5_000)
        page.keyboard.press("Control+A")
        page.keyboard.type(str(3 + (i % 2) * 7 + i))
        page.wait_for_timeout(300)  # the number editor commits its value after a delay
        return _timed(page, lambda: page.keyboard.press("Enter"), "Enter", "", False)

    _repeat(page, measure, repeats, one)
    return measure


def sidebar_select(page, label: str):
    """The sidebar's select box labelled ``label``."""
    sidebar = page.locator("[data-testid='stSidebar']")
    has_label = page.get_by_text(label, exact=True)
    return sidebar.locator("[data-testid='stSelectbox']").filter(has=has_label)


def open_option(page, label: str, option: str):
    """Open the sidebar select ``label``; returns its ``option`` (visible, not clicked)."""
    sidebar_select(page, label).locator("[role='combobox'], input").first.click()
    choice = page.get_by_role("option", name=option, exact=True)
    choice.wait_for()
    return choice


def sidebar_changes(page, k: int, repeats: int) -> Measure:
    measure = Measure("sidebar_change", k)
    if not sidebar_select(page, "Model").count():  # e.g. a Mantel-Haenszel default
        open_option(page, "Pooling method", "Inverse variance").click()
        settle(page)
        sidebar_select(page, "Model").wait_for()
        settle(page)
    # Common <-> random (at k = 500 REML and DL can give the same rounded numbers). Each
    # repeat picks the model not in force, read from the headline (tau² "— (CE)" under a
    # common-effect model), so that no click selects the option already selected.

    def one(i: int) -> tuple:
        common = "(CE)" in page.evaluate(METRICS, "tau")
        option = open_option(page, "Model", "Random effects" if common else "Common effect")
        return _timed(page, option.click, "pointer", "Pooled", True)

    _repeat(page, measure, repeats, one)
    return measure


def page_switches(page, cycles: int) -> Measure:
    measure = Measure("switch")
    for _ in range(cycles):
        for link, heading, selector in PAGES:
            t0 = time.perf_counter()
            page.get_by_role("link", name=link).click()
            page.wait_for_function(PAGE_DRAWN, arg=[heading, selector], timeout=SLOW)
            measure.add(time.perf_counter() - t0)
            print(f"  switch to {link}: {measure.values[-1] * 1e3:.0f} ms", flush=True)
            settle(page)
    return measure


def exports(page, n: int) -> Measure:
    measure = Measure("export")
    go_to(page, "Scenarios & sharing", "Scenarios & sharing")
    button = page.get_by_role("button", name="Forest plot (PNG)")
    button.scroll_into_view_if_needed()
    for i in range(n):
        try:
            t0 = time.perf_counter()
            with page.expect_download(timeout=SLOW) as info:
                button.click()
            info.value.path()  # the whole file has arrived
            measure.add(time.perf_counter() - t0)
            print(f"  export #{i + 1}: {measure.values[-1] * 1e3:.0f} ms", flush=True)
        except Exception as exc:  # noqa: BLE001 - report and go on
            measure.failed += 1
            print(f"  export #{i + 1} failed: {exc!s:.160}")
        settle(page)
    return measure


def igmeta_measures(browser, url: str, args: argparse.Namespace, tmp: Path) -> list[Measure]:
    forest = "[data-testid='stPlotlyChart'] .main-svg"
    results = cold_sessions(browser, url, args.colds, forest, "cold")
    results.append(new_tabs(browser, url, args.colds, forest, "tab"))
    for k in args.sizes:
        context, page = new_page(browser)
        try:
            load_table(page, url, study_csv(k, tmp / f"trials_{k}.csv"))
        except Exception as exc:  # noqa: BLE001 - report, then go on with the next k
            print(f"  k={k}: the table could not be loaded ({exc!s:.160})", flush=True)
            context.close()
            continue
        try:
            results.append(grid_edits(page, k, args.repeats))
            go_to(page, "Analysis (forest)", "Meta-analysis")
            page.locator(forest).first.wait_for()
            results.append(sidebar_changes(page, k, args.repeats))
            if k == args.detail_k:
                for path in (page_switches, exports):
                    count = args.switches if path is page_switches else args.exports
                    try:
                        results.append(path(page, count))
                    except Exception as exc:  # noqa: BLE001 - report, keep what was measured
                        shot = Path(tempfile.gettempdir()) / f"igmeta_floor_{path.__name__}.png"
                        page.screenshot(path=str(shot), full_page=True)
                        print(f"  {path.__name__} failed: {exc!s:.160} ({shot})", flush=True)
        finally:
            context.close()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    loads = [os.getloadavg()[0]]
    results: list[Measure] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            proc, url = start_server(timeout=90, script=TRIVIAL_APP)
            try:
                print(f"trivial app at {url}", flush=True)
                results += trivial_measures(browser, url, args)
            finally:
                stop_server(proc)
            loads.append(os.getloadavg()[0])
            RUN_TRACE[:] = [Path(tmp) / "runs.tsv"]
            env = {
                "IGMETA_DB_PATH": str(Path(tmp) / "bench.sqlite3"),
                "IGMETA_RUN_TRACE": str(RUN_TRACE[0]),
            }
            proc, url = start_server(env_extra=env, timeout=90)
            try:
                print(f"igmeta at {url}", flush=True)
                results += igmeta_measures(browser, url, args, Path(tmp))
            finally:
                stop_server(proc)
            loads.append(os.getloadavg()[0])
        finally:
            browser.close()
    text = format_report(
        results, machine=machine_description(), loads=loads, when=when, repeats=args.repeats
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
