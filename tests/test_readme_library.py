"""The README's "Use igmeta as a library" example runs as written and prints real results."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import igmeta as im
from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# readme-library-example"


def readme_example() -> str:
    """The Python code block of README.md that starts with the marker comment."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(MARKER)
    assert text.rfind("```python\n", 0, start) == start - len("```python\n"), "marker not first"
    return text[start : text.index("```", start)]


def test_readme_example_runs(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    run = subprocess.run(
        [sys.executable, "-c", readme_example()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    html = (tmp_path / "forest.html").read_text(encoding="utf-8")
    assert "IG vs placebo" in html and "plotly" in html
    # the printed blocks are those of the same analyses run here
    table = im.datasets.load_ig_pnp_canonical()
    rcts = table[table["design"] == "RCT"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = im.effect_sizes(
            "RR",
            ai=rcts["ai"],
            n1i=rcts["n1i"],
            ci=rcts["ci"],
            n2i=rcts["n2i"],
            study=rcts["study"],
        )
        bundle = run_analysis(
            table, AnalysisSettings(binary_measure="RR", pooling="MH", model="common")
        )
    res = im.meta_analysis(es, method="REML")
    assert str(res) in run.stdout
    assert repr(bundle) in run.stdout
    assert "nan" not in run.stdout.lower()
    assert "Random-effects model (k = 3" in run.stdout
    assert "Common-effect model, Mantel-Haenszel method (k = 3)" in run.stdout
