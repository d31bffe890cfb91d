"""Forest plot speed: figure build times and the Analysis page's render time at large k.

Usage::

    python benchmarks/forest_page.py [--build 50 2000 10000] [--page 2000 10000] [--repeat 3]

On demand only (never a timed test). Two measurements:

* ``build``: :func:`igmeta.plots.forest_figure` on a simulated frame of k studies (all
  drawn), and, for comparison, the same figure dict passed through plotly's validated
  constructor ``go.Figure(dict)`` (the cost the unvalidated build avoids); median of
  ``--repeat`` runs after one warm-up.
* ``page``: the dashboard (``streamlit run app.py`` on a loopback port) in headless Debian
  Chromium; a CSV of k simulated two-arm trials is uploaded on the Data page, then the
  time from clicking "Analysis (forest)" in the sidebar to the forest drawn and the app
  idle is measured (``--repeat`` times, by going to the Data page and back).

Results are printed and written to ``benchmarks/results/forest.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.local_server import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

CHART = "[data-testid='stPlotlyChart']"


def simulated_frame(k: int) -> pd.DataFrame:
    """A forest frame of k studies (display scale, ratio measure) and an overall row."""
    rng = np.random.default_rng(0)
    estimate = np.exp(rng.normal(0.3, 0.4, k))
    se = rng.uniform(0.1, 0.6, k)
    weight = 1 / se**2
    weight = 100 * weight / weight.sum()
    studies = pd.DataFrame(
        {
            "row_type": "study",
            "label": [f"Study {i + 1}" for i in range(k)],
            "study_id": [str(i) for i in range(k)],
            "estimate": estimate,
            "ci_lower": estimate * np.exp(-1.96 * se),
            "ci_upper": estimate * np.exp(1.96 * se),
            "weight": weight,
            "events1_text": [str(i % 20) for i in range(k)],
            "total1_text": "30",
            "events2_text": [str(i % 17) for i in range(k)],
            "total2_text": "30",
            "estimate_text": "1.00 [0.50, 2.00]",
            "weight_text": [f"{w:.2g}%" for w in weight],
        }
    )
    overall = pd.DataFrame(
        [
            {
                "row_type": "overall",
                "label": "Overall",
                "estimate": 1.3,
                "ci_lower": 1.1,
                "ci_upper": 1.5,
                "estimate_text": "1.30 [1.10, 1.50]",
                "weight_text": "100%",
            }
        ]
    )
    return pd.concat([studies, overall], ignore_index=True)


def _median_s(action, repeat: int) -> float:
    action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build_times(sizes, repeat: int) -> list[tuple[int, float, float]]:
    import plotly.graph_objects as go

    from igmeta.plots import forest_figure

    rows = []
    options = {"log_scale": True, "null_value": 1.0}
    for k in sizes:
        frame = simulated_frame(k)
        built = _median_s(lambda frame=frame: forest_figure(frame, **options), repeat)
        figure = forest_figure(frame, **options).to_dict()
        validated = _median_s(lambda figure=figure: go.Figure(figure), repeat)
        rows.append((k, built, validated))
        print(
            f"build k={k}: {built * 1000:.0f} ms; "
            f"validated constructor alone {validated * 1000:.0f} ms"
        )
    return rows


def _upload_csv(k: int, folder: Path) -> Path:
    rng = np.random.default_rng(k)
    events = rng.integers(1, 30, (k, 2))
    lines = ["study,ai,n1i,ci,n2i"]
    lines += [f"Study {i + 1},{a},60,{c},60" for i, (a, c) in enumerate(events)]
    path = folder / f"k{k}.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _wait_idle(page) -> None:
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=600_000
    )


def page_times(sizes, repeat: int) -> list[tuple[int, float]]:
    from playwright.sync_api import sync_playwright

    proc, url = start_server()
    rows = []
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            for k in sizes:
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.set_default_timeout(600_000)
                page.goto(url)
                _wait_idle(page)
                page.get_by_role("link", name="Data").click()
                _wait_idle(page)
                uploader = page.locator("[data-testid='stFileUploaderDropzoneInput']")
                uploader.set_input_files(str(_upload_csv(k, Path(tmp))))
                page.get_by_role("button", name="Use this table").click()
                page.get_by_text(f"Loaded 'k{k}.csv'").first.wait_for()
                _wait_idle(page)
                times = []
                for _ in range(repeat):
                    page.get_by_role("link", name="Data").click()
                    _wait_idle(page)
                    start = time.perf_counter()
                    page.get_by_role("link", name="Analysis (forest)").click()
                    page.locator(f"{CHART} .scatterlayer").first.wait_for()
                    _wait_idle(page)
                    times.append(time.perf_counter() - start)
                rows.append((k, statistics.median(times)))
                print(f"page k={k}: {statistics.median(times):.1f} s (runs {times})")
                page.close()
            browser.close()
    finally:
        stop_server(proc)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=int, nargs="*", default=[50, 2000, 10000])
    parser.add_argument("--page", type=int, nargs="*", default=[2000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lines = ["# Forest plot speed", ""]
    if args.build:
        lines += [
            "| k | forest_figure (s) | validated go.Figure(dict) alone (s) |",
            "|---|---|---|",
        ]
        lines += [
            f"| {k} | {b:.3f} | {v:.3f} |" for k, b, v in build_times(args.build, args.repeat)
        ]
        lines.append("")
    if args.page:
        lines += ["| k | Analysis page, click to forest drawn (s) |", "|---|---|"]
        lines += [f"| {k} | {s:.1f} |" for k, s in page_times(args.page, args.repeat)]
    out = ROOT / "benchmarks" / "results" / "forest.md"
    out.write_text("\n".join(lines) + "\n", "utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
