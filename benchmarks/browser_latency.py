"""Browser latency: edit a count in the study grid and time until the new result shows.

Usage::

    python benchmarks/browser_latency.py [--edits 20] [--sizes 10 50]

On demand only (timed tests are flaky on a busy machine, so this is not part of the test
suite). It starts the dashboard (``python -m streamlit run app.py``) on a free loopback
port, opens it in headless Debian Chromium (``/usr/bin/chromium``, or ``$IGMETA_CHROMIUM``)
through Playwright, loads a table of k simulated two-arm trials by uploading a CSV on the
Data page (the only way to give the app a table from outside), and then, ``--edits``
times, types a new treatment-arm event count into the first row of the grid and measures

* ``rerun``: from pressing Enter in the cell to the end of the Data page's rerun (the
  app's "running" indicator gone; Streamlit has stored the edit and recomputed);
* ``pooled``: from pressing Enter to the new pooled estimate being visible in the
  live result above the grid (the issue's "edit-to-update" latency).

Medians (and the spread) are printed and written to ``benchmarks/results/browser.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.data_grid import cell_centre, column_index  # noqa: E402
from devtools.local_server import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

AI_COLUMN = "Events (treatment) \u00b7 ai"
SLOW = 30_000


def study_csv(k: int, path: Path) -> Path:
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


def app_idle(page, timeout: float = SLOW) -> None:
    """Wait until no script run is in progress (the status widget is gone)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )


def settle(page) -> None:
    page.wait_for_selector("[data-testid='stApp']")
    app_idle(page)
    page.wait_for_timeout(300)


def go_to(page, link: str, heading: str) -> None:
    page.get_by_role("link", name=link).click()
    settle(page)
    page.get_by_role("heading", name=heading).wait_for()


def pooled_text(page) -> str:
    """The text of the live result's metrics (see :data:`LIVE_RESULT`)."""
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Pooled").first
    metric.locator("[data-testid='stMetricValue']").wait_for(timeout=SLOW)
    return page.evaluate(LIVE_RESULT)


def load_table(page, url: str, csv: Path) -> None:
    page.goto(url)
    settle(page)
    page.get_by_role("heading", name="Meta-analysis").wait_for(timeout=SLOW)
    go_to(page, "Data", "Study data")
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(csv))
    settle(page)
    page.get_by_role("button", name="Use this table").click(timeout=SLOW)
    settle(page)
    page.get_by_text(f"Loaded '{csv.name}'").wait_for(timeout=SLOW)


OBSERVE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.__states = [];
    if (window.__observer) window.__observer.disconnect();
    window.__observer = new MutationObserver(() => window.__states.push(
        [app.getAttribute('data-test-script-state'), performance.now()]));
    window.__observer.observe(app, {attributes: true,
                                    attributeFilter: ['data-test-script-state']});
    return performance.now();
}"""

RERUN_DONE = """(t0) => {
    const s = window.__states || [];
    const i = s.findIndex(e => e[0] === 'running');
    if (i < 0) return false;
    const end = s.slice(i + 1).find(e => e[0] === 'notRunning');
    return end ? end[1] - t0 : false;
}"""

# The live result: pooled estimate [CI], p-value, k, I\u00b2 and tau\u00b2 as one text. With
# k = 50 one edited count can leave the 2-decimal estimate unchanged, but not all of them.
LIVE_RESULT = """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
    .map(e => e.innerText).join(' | ')"""

POOLED_SHOWN = """(before) => {
    const now = [...document.querySelectorAll('[data-testid="stMetric"]')]
        .map(e => e.innerText).join(' | ');
    return (now.includes('Pooled') && now !== before) ? performance.now() : false;
}"""


def cell_position(page, column: int) -> tuple[float, float]:
    """Centre of the first row's cell in grid column ``column`` (found anew each edit)."""
    page.get_by_role("heading", name="Study data").scroll_into_view_if_needed()
    return cell_centre(page, column)


def one_edit(page, cell: tuple[float, float], value: int, before: str) -> tuple[float, float]:
    """Double-click the cell, type ``value`` and press Enter; returns (rerun, pooled) in
    seconds, both timed by the page's clock from the key press."""
    page.mouse.dblclick(*cell)
    cell_editor = page.locator("#portal .gdg-input")
    cell_editor.wait_for(timeout=5_000)
    page.keyboard.press("Control+A")
    page.keyboard.type(str(value))
    page.wait_for_timeout(300)  # the number editor commits its value after a short delay
    t0 = page.evaluate(OBSERVE)
    page.keyboard.press("Enter")
    shown = page.wait_for_function(POOLED_SHOWN, arg=before, timeout=SLOW).json_value()
    rerun = page.wait_for_function(RERUN_DONE, arg=t0, timeout=SLOW).json_value() / 1e3
    return rerun, (shown - t0) / 1e3


def ai_column(page) -> int:
    return column_index(page, AI_COLUMN)


def measure(browser, url: str, k: int, edits: int, workdir: Path) -> dict:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(SLOW)
    try:
        load_table(page, url, study_csv(k, workdir / f"trials_{k}.csv"))
        before = pooled_text(page)
        reruns, pooled, failures = [], [], []
        column = ai_column(page)
        for i in range(edits):
            try:
                # The grid moves when messages above it come and go: find the cell anew.
                cell = cell_position(page, column)
                r, p = one_edit(page, cell, 3 + (i % 2) * 7 + i, before)
            except Exception as exc:  # noqa: BLE001 - report and go on with the next edit
                shot = Path(tempfile.gettempdir()) / f"igmeta_latency_failed_k{k}_{i + 1}.png"
                page.screenshot(path=str(shot), full_page=True)
                print(
                    f"  k={k} edit {i + 1} failed ({type(exc).__name__}: {str(exc)[:160]}); "
                    f"screenshot {shot}",
                    flush=True,
                )
                failures.append(i)
                settle(page)
                before = pooled_text(page)
                continue
            settle(page)
            before = pooled_text(page)
            reruns.append(r)
            pooled.append(p)
            print(
                f"  k={k} edit {i + 1}: rerun {r * 1e3:.0f} ms, pooled shown {p * 1e3:.0f} ms",
                flush=True,
            )
        return {"k": k, "rerun": reruns, "pooled": pooled, "failed": len(failures)}
    finally:
        context.close()


def summary(values: list[float]) -> str:
    if not values:
        return "no successful edit"
    q = np.percentile(values, [25, 75])
    return f"{statistics.median(values) * 1e3:.0f} ms (IQR {q[0] * 1e3:.0f}-{q[1] * 1e3:.0f} ms)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "browser.md")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    proc, url = start_server(timeout=90)
    results = []
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                for k in args.sizes:
                    results.append(measure(browser, url, k, args.edits, Path(tmp)))
            finally:
                browser.close()
    finally:
        stop_server(proc)
    lines = [
        "# Browser latency (edit a count -> new pooled estimate)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')}; {args.edits} edits per table; headless "
        f"Chromium via Playwright; load average {os.getloadavg()[0]:.2f}.",
        "",
        "| k | edit -> new pooled estimate visible | edit -> Data page rerun finished |",
        "|---:|---:|---:|",
    ]
    for r in results:
        failed = f" ({r['failed']} edits failed)" if r["failed"] else ""
        lines.append(f"| {r['k']}{failed} | {summary(r['pooled'])} | {summary(r['rerun'])} |")
    lines += [
        "",
        "Times from pressing Enter in the edited cell, by the page's clock: until the "
        "live pooled estimate above the grid shows the new value, and until Streamlit "
        "reports the Data page's whole rerun (checks, styled grid) finished.",
        "",
    ]
    text = "\n".join(lines)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
