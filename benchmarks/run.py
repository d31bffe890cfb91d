"""Benchmark igmeta side by side with metafor (R), PyMARE and statsmodels, in one run.

Usage::

    python benchmarks/run.py            # full run (about 10-15 minutes, mostly metafor)
    python benchmarks/run.py --quick    # smaller sizes and fewer repeats (about 2 minutes)

Every tool fits the same simulated data (written to temporary CSV files for R). Times are
wall-clock medians of repeated runs inside one process per tool; R is timed inside R with
``proc.time()`` around each call (R's start-up and the CSV reading are excluded), Python
with ``time.perf_counter``. A tool is left out of a row (with the reason in the notes)
when it lacks the analysis, is not installed, or would take too long. The results go to
``benchmarks/results/latest.md`` (a Markdown table plus a description of the machine) and
``benchmarks/results/latest.json``.

Peers are optional: ``pip install -r requirements-bench.txt`` installs PyMARE and
statsmodels; metafor needs ``Rscript`` with the metafor package (Debian:
``apt-get install r-cran-metafor``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import igmeta as im  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
#: metafor's rma builds k x k matrices: single fits above this k are not run in R.
METAFOR_MAX_K = 2000
#: Largest k for PyMARE's likelihood estimator (it also works with k x k arrays).
PEER_TIME_CAP = 20.0


@dataclass
class Row:
    """One benchmark row: times in seconds (None = not run) and notes."""

    task: str
    k: int
    detail: str
    igmeta: float | None = None
    metafor: float | None = None
    pymare: float | None = None
    statsmodels: float | None = None
    target: str = ""
    notes: list[str] = field(default_factory=list)

    def ratio(self, peer: str) -> float | None:
        other = getattr(self, peer)
        if other is None or not self.igmeta:
            return None
        return other / self.igmeta


# ----------------------------------------------------------------------------- timing


def timed(
    func: Callable[[], object],
    *,
    min_total: float = 0.3,
    max_reps: int = 200,
    min_reps: int = 3,
    max_total: float = 60.0,
) -> float:
    """Median wall time of ``func()`` over repeats (batched for very fast calls)."""
    t0 = time.perf_counter()
    func()
    first = time.perf_counter() - t0
    if first > max_total / min_reps:
        return first
    inner = max(1, int(0.002 / max(first, 1e-7))) if first < 0.002 else 1
    times = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        for _ in range(inner):
            func()
        times.append((time.perf_counter() - t0) / inner)
        spent = time.perf_counter() - start
        if len(times) >= max_reps or (len(times) >= min_reps and spent >= min_total):
            break
        if spent > max_total:
            break
    return statistics.median(times)


def quiet(func: Callable[[], object]) -> Callable[[], object]:
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return func()

    return run


# ----------------------------------------------------------------------------- data


def simulate(k: int, seed: int, tau2: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Log-ratio-like outcomes: v ~ U(0.01, 0.2), y ~ N(0.3, v + tau2)."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.2, k)
    y = rng.normal(0.3, np.sqrt(v + tau2))
    return y, v


def binary_table(k: int, seed: int) -> pd.DataFrame:
    """A canonical binary study table (the dashboard's format) with k two-arm trials."""
    rng = np.random.default_rng(seed)
    n1 = rng.integers(20, 200, k)
    n2 = rng.integers(20, 200, k)
    p2 = rng.uniform(0.1, 0.5, k)
    p1 = np.clip(p2 * np.exp(rng.normal(0.3, 0.3, k)), 0.01, 0.95)
    return pd.DataFrame(
        {
            "study": [f"Trial {i + 1:04d}" for i in range(k)],
            "include": True,
            "design": np.where(rng.random(k) < 0.7, "RCT", "Open-label"),
            "year": pd.array(rng.integers(1990, 2024, k), dtype="Int64"),
            "ai": pd.array(rng.binomial(n1, p1), dtype="Int64"),
            "n1i": pd.array(n1, dtype="Int64"),
            "ci": pd.array(rng.binomial(n2, p2), dtype="Int64"),
            "n2i": pd.array(n2, dtype="Int64"),
            "provenance": "simulated",
            "condition": "benchmark",
            "responder_definition": "simulated",
        }
    )


# ----------------------------------------------------------------------------- metafor


R_SCRIPT = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
jobs <- read.csv(args[1], stringsAsFactors = FALSE)
out <- args[2]
ctl <- list(threshold = 1e-13, maxiter = 1000)
timeit <- function(f, budget) {
  t1 <- system.time(f())[["elapsed"]]
  if (t1 > budget / 3) return(c(t1, 1))
  inner <- if (t1 < 0.02) ceiling(0.02 / max(t1, 1e-4)) else 1
  times <- c()
  start <- proc.time()[["elapsed"]]
  repeat {
    times <- c(times, system.time(for (r in seq_len(inner)) f())[["elapsed"]] / inner)
    spent <- proc.time()[["elapsed"]] - start
    if (length(times) >= 25 || (length(times) >= 3 && spent >= 0.3) || spent > budget) break
  }
  c(median(times), length(times) * inner)
}
res_rows <- list()
for (i in seq_len(nrow(jobs))) {
  j <- jobs[i, ]
  d <- read.csv(j$file)
  budget <- j$budget
  f <- switch(j$task,
    single = function() rma(d$yi, d$vi, method = j$method, control = ctl),
    loo_inf = {
      fit <- rma(d$yi, d$vi, method = j$method, control = ctl)
      function() { leave1out(fit); influence(fit) }
    },
    gosh = {
      fit <- rma(d$yi, d$vi, method = j$method, control = ctl)
      function() gosh(fit, subsets = j$subsets, progbar = FALSE)
    },
    permutation = {
      fit <- rma(d$yi, d$vi, method = j$method, control = ctl)
      function() permutest(fit, iter = j$iterations, progbar = FALSE)
    })
  r <- tryCatch(timeit(f, budget), error = function(e) c(NA, 0))
  res_rows[[i]] <- data.frame(id = j$id, seconds = r[1], reps = r[2])
  write.csv(do.call(rbind, res_rows), out, row.names = FALSE)
}
"""


def run_metafor(jobs: list[dict], workdir: Path, timeout: float) -> dict[str, tuple]:
    """Run metafor jobs in one Rscript; returns {id: (seconds, reps)}."""
    if not jobs or shutil.which("Rscript") is None:
        return {}
    script = workdir / "bench.R"
    script.write_text(R_SCRIPT)
    pd.DataFrame(jobs).to_csv(workdir / "jobs.csv", index=False)
    out = workdir / "metafor_times.csv"
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(
            ["Rscript", str(script), str(workdir / "jobs.csv"), str(out)],
            check=False,
            timeout=timeout,
            capture_output=True,
        )
    if not out.exists():
        return {}
    frame = pd.read_csv(out)
    return {
        str(r.id): (None if pd.isna(r.seconds) else float(r.seconds), int(r.reps))
        for r in frame.itertuples()
    }


def r_versions() -> str:
    if shutil.which("Rscript") is None:
        return "R not installed"
    try:
        text = subprocess.run(
            [
                "Rscript",
                "-e",
                'cat(R.version.string, "; metafor", as.character(packageVersion("metafor")))',
            ],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        return text.strip() or "R: metafor not installed"
    except Exception as exc:  # pragma: no cover - environment specific
        return f"R: {exc}"


# ----------------------------------------------------------------------------- peers


def pymare_fit(method: str):
    try:
        from pymare import Dataset, estimators
    except ImportError:
        return None

    def fit(y, v):
        data = Dataset(y=y, v=v)
        if method == "DL":
            est = estimators.DerSimonianLaird()
        else:
            est = estimators.VarianceBasedLikelihoodEstimator(
                method="REML", small_sample_correction="wald"
            )
        return est.fit_dataset(data).summary()

    return fit


def statsmodels_fit(method: str):
    if method != "DL":
        return None  # combine_effects has DL ("chi2") and Paule-Mandel, not REML
    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:
        return None
    return lambda y, v: combine_effects(y, v, method_re="chi2")


# ----------------------------------------------------------------------------- suites


def single_fits(rows, jobs, workdir, quick):
    sizes = [10, 100, 1000, 2000, 10_000, 100_000, 1_000_000]
    if quick:
        sizes = [10, 100, 1000, 10_000, 1_000_000]
    for method in ("DL", "REML"):
        pm, sm = pymare_fit(method), statsmodels_fit(method)
        pm_stop = sm_stop = False
        for k in sizes:
            y, v = simulate(k, seed=k)
            row = Row("single fit", k, method)
            if method == "REML":
                row.target = (
                    "faster than PyMARE"
                    + ("; >= 1000x metafor" if k == 2000 else "")
                    + ("; < 0.5 s" if k == 1_000_000 else "")
                )
            row.igmeta = timed(
                quiet(lambda y=y, v=v, m=method: im.meta_analysis(yi=y, vi=v, method=m)),
                min_total=0.5 if k < 1e5 else 1.0,
            )
            if pm is not None and not pm_stop:
                row.pymare = timed(
                    quiet(lambda y=y, v=v, pm=pm: pm(y, v)), min_total=0.3, max_total=PEER_TIME_CAP
                )
                pm_stop = row.pymare > PEER_TIME_CAP / 4
            elif pm is None:
                row.notes.append("PyMARE not installed")
            else:
                row.notes.append("PyMARE skipped (previous size too slow)")
            if sm is not None and not sm_stop:
                row.statsmodels = timed(
                    quiet(lambda y=y, v=v, sm=sm: sm(y, v)), min_total=0.3, max_total=PEER_TIME_CAP
                )
                sm_stop = row.statsmodels > PEER_TIME_CAP / 4
            elif method == "REML":
                row.notes.append("statsmodels has no REML")
            if k <= METAFOR_MAX_K:
                file = workdir / f"single_{k}.csv"
                pd.DataFrame({"yi": y, "vi": v}).to_csv(file, index=False)
                jobs.append(
                    {
                        "id": f"single_{method}_{k}",
                        "task": "single",
                        "file": str(file),
                        "method": method,
                        "budget": 30 if not quick else 10,
                        "subsets": 0,
                        "iterations": 0,
                    }
                )
            else:
                row.notes.append(f"metafor not run above k = {METAFOR_MAX_K} (k x k matrices)")
            rows.append(row)
            print(f"  single {method} k={k}: igmeta {row.igmeta:.3g}s", flush=True)


def sensitivity(rows, jobs, workdir, quick):
    for k in (200, 2000):
        y, v = simulate(k, seed=7 + k)
        row = Row("leave-one-out + influence", k, "REML")
        if k == 200:
            row.target = ">= 200x metafor"

        def run(y=y, v=v):
            # A fresh result each time: leave_one_out/influence reuse fits of the same
            # result object, which would flatter repeated timings.
            res = im.meta_analysis(yi=y, vi=v, method="REML")
            im.leave_one_out(res)
            im.influence(res)

        fit_only = timed(quiet(lambda y=y, v=v: im.meta_analysis(yi=y, vi=v, method="REML")))
        row.igmeta = max(timed(quiet(run), min_total=0.5) - fit_only, 1e-9)
        row.notes.append(
            "igmeta: leave_one_out + influence on a new result (its fit "
            "subtracted); PyMARE/statsmodels have no leave-one-out"
        )
        if k <= 200:
            file = workdir / f"loo_{k}.csv"
            pd.DataFrame({"yi": y, "vi": v}).to_csv(file, index=False)
            jobs.append(
                {
                    "id": f"loo_inf_{k}",
                    "task": "loo_inf",
                    "file": str(file),
                    "method": "REML",
                    "budget": 20,
                    "subsets": 0,
                    "iterations": 0,
                }
            )
        else:
            row.notes.append(
                "metafor not run at k = 2000 (2000 refits with 2000 x 2000 matrices: hours)"
            )
        rows.append(row)
        print(f"  leave-one-out+influence k={k}: igmeta {row.igmeta:.3g}s", flush=True)


def gosh_suite(rows, jobs, workdir, quick):
    for k, method in ((14, "REML"), (14, "DL"), (20, "DL"), (20, "REML")):
        if quick and k == 20 and method == "REML":
            continue
        y, v = simulate(k, seed=100 + k)
        res = quiet(lambda y=y, v=v, method=method: im.meta_analysis(yi=y, vi=v, method=method))()
        n = (1 << k) - 1
        row = Row("GOSH, all subsets", k, f"{method}, {n:,} fits")
        row.target = {
            (14, "REML"): ">= 100x metafor",
            (20, "DL"): "< 5 s",
            (20, "REML"): "< 60 s",
        }.get((k, method), "")
        reps = 3 if k == 14 else 1
        row.igmeta = timed(
            quiet(lambda res=res: im.gosh(res)),
            min_reps=reps,
            min_total=0.5 if k == 14 else 0.0,
            max_total=300,
        )
        frame = quiet(lambda res=res: im.gosh(res))() if k == 14 else None
        if frame is not None and not frame.attrs.get("converged", True):
            row.notes.append("some subsets' REML did not converge in 1000 iterations (metafor: NA)")
        if k == 14:
            file = workdir / f"gosh_{k}.csv"
            pd.DataFrame({"yi": y, "vi": v}).to_csv(file, index=False)
            subsets = n if not quick else 2000
            jobs.append(
                {
                    "id": f"gosh_{method}_{k}",
                    "task": "gosh",
                    "file": str(file),
                    "method": method,
                    "budget": 1,
                    "subsets": subsets,
                    "iterations": 0,
                }
            )
            if quick:
                row.notes.append("metafor: 2,000 random subsets, scaled to 16,383 fits")
        else:
            row.notes.append(
                "metafor not run at k = 20 (about 1 million refits: about 40 minutes for DL)"
            )
        rows.append(row)
        print(f"  gosh {method} k={k}: igmeta {row.igmeta:.3g}s", flush=True)


def permutation_suite(rows, jobs, workdir, quick):
    k = 20
    y, v = simulate(k, seed=321)
    row = Row("permutation test", k, "REML, 1,000 permutations", target=">= 20x metafor")
    if not hasattr(im, "permutation_test"):
        row.notes.append("igmeta.permutation_test not available")
        rows.append(row)
        return
    res = quiet(lambda: im.meta_analysis(yi=y, vi=v, method="REML"))()
    row.igmeta = timed(
        quiet(lambda: im.permutation_test(res, iterations=1000, seed=1)), min_total=0.5
    )
    file = workdir / "perm.csv"
    pd.DataFrame({"yi": y, "vi": v}).to_csv(file, index=False)
    jobs.append(
        {
            "id": "perm_20",
            "task": "permutation",
            "file": str(file),
            "method": "REML",
            "budget": 5,
            "subsets": 0,
            "iterations": 1000,
        }
    )
    rows.append(row)
    print(f"  permutation k={k}: igmeta {row.igmeta:.3g}s", flush=True)


def dashboard_suite(rows, quick):
    """Server-side rerun of each page with Streamlit's AppTest, after a table edit."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.testing.v1 import AppTest

        from ui import state
    except ImportError as exc:  # pragma: no cover
        rows.append(Row("dashboard rerun", 0, "", notes=[f"not run: {exc}"]))
        return
    original = PagesManager.__init__

    def init(self, *args, **kwargs):  # as tests/test_app_pages.py: a live server's mode
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    # (page, open tab): the Sensitivity page computes only its open tab, so each tab is
    # timed as a page of its own (GOSH and the permutation test run on a button press).
    pages = {
        "data": ("pages/data.py", None),
        "analysis": ("pages/analysis.py", None),
        "bias": ("pages/bias.py", None),
        "leave-one-out": ("pages/sensitivity.py", "Leave-one-out"),
        "cumulative": ("pages/sensitivity.py", "Cumulative"),
        "influence": ("pages/sensitivity.py", "Influence & Baujat"),
    }
    reps = 5 if quick else 11
    try:
        for k in (10, 50, 500):
            table = binary_table(k, seed=k)
            totals = []
            per_page = {}
            for name, (path, tab) in pages.items():
                at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
                at.run()
                at.switch_page(path)
                if tab:
                    at.session_state[state.SENSITIVITY_TAB] = tab
                times = []
                for rep in range(reps + 1):
                    edited = table.copy()
                    # A new count each time: the cached results cannot be reused.
                    edited.loc[rep % k, "ai"] = int(edited.loc[rep % k, "ai"]) % 5 + rep + 1
                    at.session_state[state.TABLE] = edited
                    at.session_state[state.EDITOR_BASE] = edited
                    at.session_state[state.TABLE_VERSION] = (
                        at.session_state[state.TABLE_VERSION] + 1
                    )
                    t0 = time.perf_counter()
                    at.run()
                    if rep:  # the first run also imports and warms up the page
                        times.append(time.perf_counter() - t0)
                    if at.exception:
                        raise RuntimeError(f"{path}: {at.exception[0].value}")
                per_page[name] = statistics.median(times)
            totals = sum(per_page.values())
            detail = ", ".join(f"{n} {t * 1e3:.0f} ms" for n, t in per_page.items())
            # Server-side script time only: what a user waits for (browser, websocket,
            # second runs, Streamlit's GC) is measured by benchmarks/browser_floor.py.
            row = Row(
                "dashboard script run, server side only (AppTest)",
                k,
                "every page (and tab) with all panels",
            )
            row.igmeta = max(per_page.values())
            row.notes.append(
                f"slowest page shown; per page: {detail}; all together: "
                f"{totals * 1e3:.0f} ms (AppTest, caches missed)"
            )
            rows.append(row)
            print(f"  dashboard k={k}: {detail}", flush=True)
    finally:
        PagesManager.__init__ = original


# ----------------------------------------------------------------------------- report


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for mod in ("scipy", "pandas", "pymare", "statsmodels", "streamlit"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": platform.platform(),
        "versions": versions,
        "r": r_versions(),
        "load_average": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.0f} us"
    if t < 1:
        return f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:,.0f}x" if r >= 10 else f"{r:.1f}x"


def markdown(rows: list[Row], info: dict, started: str, elapsed: float, quick: bool) -> str:
    lines = [
        "| analysis | k | details | igmeta | metafor | PyMARE | statsmodels "
        "| metafor / igmeta | PyMARE / igmeta | statsmodels / igmeta | target |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.task} | {r.k:,} | {r.detail} | {fmt_time(r.igmeta)} | {fmt_time(r.metafor)} "
            f"| {fmt_time(r.pymare)} | {fmt_time(r.statsmodels)} | {fmt_ratio(r.ratio('metafor'))} "
            f"| {fmt_ratio(r.ratio('pymare'))} | {fmt_ratio(r.ratio('statsmodels'))} "
            f"| {r.target} |"
        )
    notes = []
    for r in rows:
        for note in dict.fromkeys(r.notes):
            notes.append(f"- {r.task}, k = {r.k:,} ({r.detail}): {note}")
    v = info["versions"]
    return "\n".join(
        [
            "# igmeta benchmark results",
            "",
            f"Run {started} ({'--quick' if quick else 'full run'}, {elapsed / 60:.1f} min). "
            "Times are medians of repeated wall-clock runs in one process per tool; R is timed "
            "inside R (start-up excluded). Ratios above 1 mean igmeta is faster.",
            "",
            *lines,
            "",
            "Notes:",
            "",
            *notes,
            "- metafor fits use control = list(threshold = 1e-13, maxiter = 1000), the "
            "convergence settings igmeta uses by default; PyMARE's REML uses "
            "small_sample_correction='wald' (a z-test, as igmeta's default).",
            "",
            "## Machine",
            "",
            f"- CPU: {info['cpu']}, {info['cores']} cores; memory {info['memory']}",
            f"- OS: {info['os']}",
            f"- Python {v['python']}, numpy {v['numpy']}, scipy {v['scipy']}, pandas "
            f"{v['pandas']}, streamlit {v['streamlit']}, PyMARE {v['pymare']}, statsmodels "
            f"{v['statsmodels']}",
            f"- {info['r']}",
            f"- Load average at the start of the run: {info['load_average']} (a shared machine: "
            "other work running at the same time slows every tool)",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--no-r", action="store_true", help="do not run metafor")
    parser.add_argument("--no-dashboard", action="store_true", help="skip the AppTest timings")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.md")
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    t_start = time.perf_counter()
    info = machine()
    rows: list[Row] = []
    jobs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="igmeta-bench-") as tmp:
        workdir = Path(tmp)
        print("igmeta and Python peers:", flush=True)
        single_fits(rows, jobs, workdir, args.quick)
        sensitivity(rows, jobs, workdir, args.quick)
        gosh_suite(rows, jobs, workdir, args.quick)
        permutation_suite(rows, jobs, workdir, args.quick)
        if not args.no_dashboard:
            print("dashboard (Streamlit AppTest):", flush=True)
            dashboard_suite(rows, args.quick)
        if not args.no_r:
            print(f"metafor ({len(jobs)} jobs in one Rscript) ...", flush=True)
            times = run_metafor(jobs, workdir, timeout=3600)
            if not times:
                for r in rows:
                    r.notes.append("metafor not run (Rscript or metafor missing)")
            by_id = {j["id"]: j for j in jobs}
            for r in rows:
                key = {
                    "single fit": f"single_{r.detail}_{r.k}",
                    "leave-one-out + influence": f"loo_inf_{r.k}",
                    "permutation test": f"perm_{r.k}",
                }.get(r.task)
                if r.task.startswith("GOSH"):
                    key = f"gosh_{r.detail.split(',')[0]}_{r.k}"
                if key in times and times[key][0] is not None:
                    seconds, reps = times[key]
                    job = by_id[key]
                    if job["task"] == "gosh" and job["subsets"] < (1 << r.k) - 1:
                        seconds *= ((1 << r.k) - 1) / job["subsets"]
                    r.metafor = seconds
    elapsed = time.perf_counter() - t_start
    text = markdown(rows, info, started, elapsed, args.quick)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(
        json.dumps(
            {
                "started": started,
                "quick": args.quick,
                "machine": info,
                "rows": [asdict(r) for r in rows],
            },
            indent=2,
        )
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
