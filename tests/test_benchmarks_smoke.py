"""The browser benchmark imports, parses its options and formats a report (nothing timed).

``benchmarks/browser_floor.py`` runs on demand only; this keeps it from rotting: the
module and its trivial reference app must import, the options must parse, and the report
must carry every path with its ratio to the trivial app and its target verdict.
"""

from __future__ import annotations

import ast

import pytest

from benchmarks import browser_floor as bf


def test_default_options_cover_the_issue_sizes():
    args = bf.parse_args([])
    assert args.sizes == [10, 50, 500]
    assert args.repeats == 20
    assert args.detail_k == 50
    assert args.out == bf.RESULTS


def test_options_parse_and_reject_nonsense():
    args = bf.parse_args(["--repeats", "3", "--sizes", "50", "--exports", "2"])
    assert (args.repeats, args.sizes, args.exports) == (3, [50], 2)
    with pytest.raises(SystemExit):
        bf.parse_args(["--repeats", "0"])
    with pytest.raises(SystemExit):
        bf.parse_args(["--sizes", "1"])


def test_summary_is_median_and_quartiles():
    assert bf.summary([]) is None
    assert bf.summary([0.1, 0.2, 0.3, 0.4, 0.5]) == pytest.approx((0.3, 0.2, 0.4))


def _fake_results():
    edit = bf.Measure("trivial_edit")
    for v in (0.10, 0.10, 0.12):
        edit.add(v, v + 0.05)
    grid50 = bf.Measure("grid_edit", 50)
    for v in (0.15, 0.19, 0.21):
        grid50.add(v, v + 0.1)
    grid500 = bf.Measure("grid_edit", 500, failed=1)
    for v in (0.40, 0.42):
        grid500.add(v, v)
    side50 = bf.Measure("sidebar_change", 50, values=[0.5], done=[0.6])
    return [
        edit,
        grid50,
        grid500,
        side50,
        bf.Measure("trivial_cold", values=[1.0, 1.2]),
        bf.Measure("cold", values=[2.5, 2.9]),
        bf.Measure("switch", values=[0.3, 0.7, 0.4]),
        bf.Measure("export", values=[]),
    ]


def test_report_has_ratios_targets_and_machine():
    text = bf.format_report(
        _fake_results(), machine="Test CPU, 2 cores", loads=[0.5, 1.5], when="now", repeats=3
    )
    rows = {
        line.split("|")[1].strip() + "/" + line.split("|")[2].strip(): line
        for line in text.splitlines()
        if line.startswith(("| grid", "| sidebar"))
    }
    # grid edit at k = 50: median 190 ms over the trivial app's 100 ms -> 1.9x, target met.
    assert "190 ms (170–200)" in rows["grid edit (Data page) -> pooled value/50"]
    assert "| 1.9x |" in rows["grid edit (Data page) -> pooled value/50"]
    assert "≤ 2x ✔" in rows["grid edit (Data page) -> pooled value/50"]
    failed = rows["grid edit (Data page) -> pooled value (1 failed)/500"]
    assert "4.1x" in failed and "≤ 3x ✘" in failed
    # A path with no result says so instead of inventing a number.
    assert "| sidebar model common/random (Analysis) -> forest redrawn | 10 |" not in text
    assert "5.0x" in rows["sidebar model common/random (Analysis) -> forest redrawn/50"]
    assert "Test CPU, 2 cores" in text and "0.50–1.50" in text
    assert "| new session (browser context) -> forest | 2,700 ms (2,600–2,800) | 2 |" in text
    assert "≤ 3 s ✔" in text and "≤ 0.5 s ✔" in text
    export = next(line for line in text.splitlines() if "PNG export" in line)
    assert "| – | 0 |" in export and "✔" not in export and "✘" not in export


def test_machine_description_names_the_cpu_and_python():
    text = bf.machine_description()
    assert "cores" in text and "Python" in text


def test_trivial_app_is_the_documented_floor():
    source = (bf.ROOT / "benchmarks" / "trivial_app.py").read_text()
    calls = {
        node.func.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert {"number_input", "metric", "plotly_chart"} <= calls
    assert "np.arange(50)" in source
