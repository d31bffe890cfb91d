"""GENQ with a column of user weights through the pipeline: run_analysis equals the
engine, row checks, subgroups, scenarios, the methods text, meta-regression and the tools
that cannot use the weights."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import igmeta.app.store.scenarios as sc
from igmeta.app.evidence.what_if_trial import what_if_available
from igmeta.app.outputs.methods_text import methods_paragraph
from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.app.pipeline.metareg import fit_moderators
from igmeta.app.store import open_store
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.effects import effect_sizes
from igmeta.pooling import meta_analysis, meta_regression

CLOSED = {"rtol": 1e-10, "atol": 1e-12}
GENQ = AnalysisSettings(tau2_method="GENQ", genq_weights="size", subgroup_column="design")


def _table() -> pd.DataFrame:
    """Eight two-arm studies in two designs with a numeric column ``size`` of weights."""
    return pd.DataFrame(
        {
            "study": [f"S{i}" for i in range(1, 9)],
            "design": ["RCT"] * 4 + ["cohort"] * 4,
            "ai": [10, 5, 15, 20, 2, 18, 6, 12],
            "n1i": [11, 30, 19, 50, 40, 22, 35, 15],
            "ci": [1, 9, 2, 10, 8, 3, 12, 2],
            "n2i": [12, 30, 20, 50, 41, 20, 33, 16],
            "size": [23.0, 60.0, 39.0, 100.0, 81.0, 42.0, 68.0, 31.0],
            "dose": [1.0, 2.0, 1.5, 3.0, 2.5, 1.0, 2.0, 3.5],
        }
    )


def _effects(table: pd.DataFrame):
    return effect_sizes("RR", ai=table["ai"], n1i=table["n1i"], ci=table["ci"], n2i=table["n2i"])


def test_run_analysis_is_the_engine_fit_with_the_column_weights():
    table = _table()
    bundle = run_analysis(table, GENQ)
    assert bundle.ok, bundle.error
    ref = meta_analysis(_effects(table), method="GENQ", weights=table["size"])
    for attr in ("estimate", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "i2"):
        np.testing.assert_allclose(getattr(bundle.result, attr), getattr(ref, attr), **CLOSED)
    np.testing.assert_allclose(bundle.result.weights, 100 * table["size"] / table["size"].sum())
    # Each subgroup is fitted with the weights of its own studies.
    rct = table["design"] == "RCT"
    sub = meta_analysis(_effects(table[rct]), method="GENQ", weights=table["size"][rct])
    level = bundle.subgroups.levels.index("RCT")
    np.testing.assert_allclose(bundle.subgroups.fits[level].estimate, sub.estimate, **CLOSED)


def test_other_estimators_ignore_the_weights_column():
    table = _table()
    plain = run_analysis(table, AnalysisSettings(tau2_method="DL"))
    chosen = run_analysis(table, GENQ.with_changes(tau2_method="DL"))
    assert chosen.result.user_weights is None
    assert chosen.result.estimate == plain.result.estimate


@pytest.mark.parametrize(("value", "words"), [(np.nan, "weight is missing"), (-2.0, "negative")])
def test_a_bad_weight_flags_its_row_and_names_the_column(value, words):
    table = _table()
    table.loc[2, "size"] = value
    bundle = run_analysis(table, GENQ)
    issues = bundle.validation.issues
    row = issues[(issues["row"] == 3) & (issues["column"] == "size")]
    assert len(row) == 1 and row["severity"].iloc[0] == "error"
    assert words in row["message"].iloc[0] and row["message"].iloc[0].startswith("Row 3")
    assert 2 not in bundle.used_rows.tolist() and len(table) == 8  # flagged, kept in the table
    assert bundle.ok and bundle.result.k == 7


def test_weights_of_single_arm_rows_are_not_needed_for_a_comparison():
    table = load_ig_pnp_canonical()  # rows 4-5 have no control arm (n2i empty)
    bundle = run_analysis(table, AnalysisSettings(tau2_method="GENQ", genq_weights="n2i"))
    assert bundle.ok
    assert not (bundle.validation.issues["column"] == "n2i").any()


def test_genq_without_a_column_or_with_an_unknown_column_says_why():
    bundle = run_analysis(_table(), GENQ.with_changes(genq_weights=None))
    assert not bundle.ok and "needs a column of weights" in bundle.error
    bundle = run_analysis(_table(), GENQ.with_changes(genq_weights="nope"))
    assert not bundle.ok
    assert bundle.validation.issues["message"].str.contains("'nope'").any()


def test_scenario_round_trip_and_fingerprint(tmp_path):
    table = _table()
    assert sc.settings_from_json(sc.settings_to_json(GENQ)) == GENQ
    store = open_store(str(tmp_path / "scenarios.db"))
    sid = store.save("GENQ", table, GENQ, owner="w1")
    loaded = store.load(sid)
    assert loaded.settings == GENQ
    assert loaded.run().result.estimate == run_analysis(table, GENQ).result.estimate
    other = GENQ.with_changes(genq_weights="n1i")
    assert sc.analysis_fingerprint(table, GENQ) != sc.analysis_fingerprint(table, other)
    assert sc.describe_settings(GENQ)["Weights (GENQ)"] == "column size"


def test_methods_text_names_genq_and_its_column():
    text, refs = methods_paragraph(run_analysis(_table(), GENQ))
    assert "generalised Q estimator (GENQ)" in text and "'size'" in text
    assert any("DerSimonian R, Kacker R" in ref for ref in refs)


def test_meta_regression_page_keeps_the_weights():
    table = _table()
    bundle = run_analysis(table, GENQ.with_changes(subgroup_column=None))
    fit = fit_moderators(bundle, table, ["dose"])
    ref = meta_regression(
        _effects(table), mods={"dose": table["dose"]}, method="GENQ", weights=table["size"]
    )
    np.testing.assert_allclose(fit.result.estimate, ref.estimate, **CLOSED)
    np.testing.assert_allclose(fit.result.se, ref.se, **CLOSED)


def test_what_if_trial_says_it_needs_another_estimator():
    assert "GENQ" in what_if_available(GENQ)
    assert what_if_available(GENQ.with_changes(tau2_method="REML")) is None


def test_leave_one_out_of_the_bundle_refits_with_the_weights():
    from igmeta.sensitivity import leave_one_out

    table = _table()
    res = run_analysis(table, GENQ).result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = leave_one_out(res)
        rest = table.drop(index=0)
        ref = meta_analysis(_effects(rest), method="GENQ", weights=rest["size"])
    np.testing.assert_allclose(loo["estimate"].iloc[0], ref.estimate, **CLOSED)
