"""The shared model controls in the sidebar.

Each control is bound to one field of :class:`igmeta.app.pipeline.analysis.AnalysisSettings` through
the key ``ui.state.widget_key(field)``. Widgets are initialised from the stored settings
(never with a default argument), so presets and scenarios can set them, and a control
that is hidden (not relevant to the current analysis) keeps its last value.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from igmeta.app.intake.schema import CANONICAL_COLUMNS
from igmeta.app.pipeline.analysis import (
    ANALYSES,
    PUBLISHED_COMPARISON,
    PUBLISHED_SINGLE_ARM,
    AnalysisSettings,
)
from ui import state

MEASURES = {
    "comparison": {"RR": "Risk ratio (RR)", "OR": "Odds ratio (OR)", "RD": "Risk difference"},
    "single_arm": {
        "PR": "Raw proportion",
        "PLO": "Logit",
        "PAS": "Arcsine",
        "PFT": "Freeman-Tukey double arcsine",
    },
    "continuous": {"SMD": "Standardised mean difference (Hedges' g)", "MD": "Mean difference"},
    "generic": {
        "GEN": "Generic (no back-transform)",
        "OR": "Log odds ratio",
        "RR": "Log risk ratio",
        "HR": "Log hazard ratio",
    },
}
MEASURE_FIELD = {
    "comparison": "binary_measure",
    "single_arm": "proportion_measure",
    "continuous": "continuous_measure",
    "generic": "generic_measure",
}
POOLING = {
    "IV": "Inverse variance",
    "MH": "Mantel-Haenszel",
    "PETO": "Peto (OR)",
    "GLMM": "GLMM (logistic, OR)",
}
SINGLE_ARM_POOLING = {"IV": "Inverse variance", "GLMM": "GLMM (random-effects logistic)"}
GLMM_MODELS = {
    "UM.FS": "Unconditional, fixed study effects (UM.FS)",
    "CM.EL": "Conditional, exact likelihood (CM.EL)",
}
MODELS = {"random": "Random effects", "common": "Common effect"}
ESTIMATORS = {
    "REML": "REML",
    "DL": "DerSimonian-Laird",
    "PM": "Paule-Mandel",
    "ML": "Maximum likelihood",
    "SJ": "Sidik-Jonkman",
    "HE": "Hedges",
    "HS": "Hunter-Schmidt",
    "HSk": "Hunter-Schmidt, small-sample corrected (HSk)",
    "EB": "Empirical Bayes",
    "PMM": "Paule-Mandel, median-unbiased (PMM)",
    "GENQ": "Generalised Q, user weights (GENQ)",
}
LEVELS = {0.9: "90%", 0.95: "95%", 0.99: "99%"}
CORRECTION_TARGETS = {
    "only0": "studies with a zero cell",
    "all": "all studies",
    "if0all": "all studies, if any has a zero",
    "none": "no correction",
}
ZERO_CELLS = {
    "metafor": "metafor default (raw counts)",
    "revman": "RevMan (add 0.5 to zero-cell tables)",
}
MAX_SUBGROUP_LEVELS = 12


def _subgroup_columns(table: pd.DataFrame) -> list[tuple[str, tuple[str, ...]]]:
    """(column, levels) of the text columns with 2 to 12 distinct values."""
    skip = {"study", "include", "provenance", "responder_definition"}
    skip |= {col for cols in CANONICAL_COLUMNS.values() for col in cols}
    out = []
    for col in table.columns:
        if col in skip or pd.api.types.is_numeric_dtype(table[col]):
            continue
        levels = subgroup_levels(table, col)
        if 2 <= len(levels) <= MAX_SUBGROUP_LEVELS:
            out.append((col, tuple(levels)))
    return out


def weight_columns(table: pd.DataFrame) -> list[str]:
    """Numeric columns that can hold the GENQ estimator's weights (not ``include``,
    ``year`` or true/false columns)."""
    return [
        str(col)
        for col in table.columns
        if col not in ("include", "year")
        and pd.api.types.is_numeric_dtype(table[col])
        and not pd.api.types.is_bool_dtype(table[col])
    ]


def _estimator(table: pd.DataFrame, s: AnalysisSettings, values: dict) -> None:
    """The tau^2 estimator and, for GENQ, the column of weights (GENQ is offered only
    when the table has a numeric column)."""
    weights = weight_columns(table)
    options = ESTIMATORS if weights else {k: v for k, v in ESTIMATORS.items() if k != "GENQ"}
    values["tau2_method"] = _select("tau\u00b2 estimator", "tau2_method", options, s.tau2_method)
    if not weights:
        st.caption(
            "GENQ (generalised Q with your own weights) needs a numeric column of weights, "
            "e.g. sample sizes; this table has none, so it cannot be chosen."
        )
    elif values["tau2_method"] == "GENQ":
        values["genq_weights"] = _select(
            "Weights (GENQ)",
            "genq_weights",
            {c: c for c in weights},
            s.genq_weights,
            help="Each study's weight in the estimate and in the generalised Q statistic "
            "(metafor's rma(..., method = 'GENQ', weights = column)).",
        )


def _init(field: str, value) -> str:
    key = state.widget_key(field)
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def _apply(settings: AnalysisSettings) -> None:
    for field, value in settings.to_dict().items():
        key = state.widget_key(field)
        if field == "subgroup_levels":
            if value is None:
                st.session_state.pop(key, None)
                continue
            value = list(value)
        if field == "subgroup_column":
            value = value or ""
        st.session_state[key] = value


def _select(label: str, field: str, options: dict, current, help: str | None = None):
    if current not in options:
        current = next(iter(options))
        st.session_state[state.widget_key(field)] = current
    key = _init(field, current)
    if st.session_state[key] not in options:
        st.session_state[key] = current
    return st.selectbox(label, list(options), format_func=options.get, key=key, help=help)


def _presets(current: AnalysisSettings) -> None:
    col1 = col2 = st.container()
    published = PUBLISHED_SINGLE_ARM if current.analysis == "single_arm" else PUBLISHED_COMPARISON
    if col1.button(
        "Published analysis",
        width="stretch",
        help="Common-effect pooling as in Liampas et al. 2022: Mantel-Haenszel RR "
        "with RevMan's zero-cell rule; raw proportions for the pooled share.",
    ):
        state.request_settings(published.with_changes(data_type=current.data_type))
        st.rerun()
    if col2.button(
        "metafor defaults",
        width="stretch",
        help="Random effects, REML, z-test, inverse variance, metafor's corrections.",
    ):
        state.request_settings(
            AnalysisSettings(
                data_type=current.data_type,
                analysis=current.analysis,
                subgroup_column=current.subgroup_column,
            )
        )
        st.rerun()


def subgroup_levels(table: pd.DataFrame, column: str) -> list[str]:
    """The distinct non-blank values of ``column`` (stripped text), sorted."""
    values = table[column].astype("string").str.strip().replace("", pd.NA).dropna()
    return sorted(values.unique().tolist())


def table_inputs(table: pd.DataFrame) -> tuple:
    """What the sidebar reads from the table: the subgroup columns and their levels.

    A change of the table that leaves this unchanged cannot change any control of the
    sidebar, so the Data page's grid can rerun on its own (a fragment) after such an edit.
    """
    return tuple(_subgroup_columns(table))


def subgroup_candidates(table: pd.DataFrame) -> list[str]:
    """Columns that can define subgroups: text columns with 2 to 12 distinct values."""
    return [column for column, _ in _subgroup_columns(table)]


def render_sidebar(table: pd.DataFrame, data_type: str) -> AnalysisSettings:
    """Draw the model controls and return the settings they describe."""
    pending = state.pop_pending_settings()
    if pending is not None:
        _apply(pending)
        state.set_settings(pending)
    s = state.get_settings()
    if s.data_type != data_type:
        s = AnalysisSettings(
            data_type=data_type,
            analysis=ANALYSES[data_type][0][0],
            subgroup_column=s.subgroup_column,
        )
        _apply(s)
    values = s.to_dict()
    with st.sidebar:
        st.header("Model")
        _presets(s)
        analyses = dict(ANALYSES[data_type])
        values["analysis"] = _select("Analysis", "analysis", analyses, s.analysis)
        analysis = values["analysis"]
        if analysis in MEASURE_FIELD:
            field = MEASURE_FIELD[analysis]
            label = "Proportion transform" if analysis == "single_arm" else "Effect measure"
            values[field] = _select(label, field, MEASURES[analysis], values[field])
        pooling = "IV"
        if analysis in ("comparison", "single_arm"):
            options = POOLING if analysis == "comparison" else SINGLE_ARM_POOLING
            pooling = _select("Pooling method", "pooling", options, s.pooling)
            if pooling in ("PETO", "GLMM") and analysis == "comparison":
                st.caption("This method pools odds ratios; the effect measure is OR.")
            if pooling == "GLMM" and analysis == "single_arm":
                st.caption(
                    "The GLMM pools proportions on the logit scale (no transform or "
                    "continuity correction needed); it may take a second."
                )
            if pooling == "GLMM" and analysis == "comparison":
                values["glmm_model"] = _select("GLMM", "glmm_model", GLMM_MODELS, s.glmm_model)
            values["pooling"] = pooling
        if pooling == "IV":
            values["model"] = _select("Model", "model", MODELS, s.model)
            if values["model"] == "random":
                _estimator(table, s, values)
                key = _init("test", s.test)
                knha = st.toggle(
                    "Hartung-Knapp adjustment",
                    value=st.session_state[key] == "knha",
                    help="t-distribution with k-1 df and a rescaled variance.",
                )
                st.session_state[key] = "knha" if knha else "z"
                values["test"] = st.session_state[key]
                pi_key = _init("show_prediction", s.show_prediction)
                values["show_prediction"] = st.toggle("Prediction interval", key=pi_key)
        elif pooling in ("MH", "PETO"):
            values["zero_cells"] = _select(
                "Zero cells in MH/Peto",
                "zero_cells",
                ZERO_CELLS,
                s.zero_cells,
                help="metafor pools raw counts; RevMan first adds "
                "0.5 to every cell of a table with a zero cell.",
            )
        values["level"] = _select("Confidence level", "level", LEVELS, s.level)
        if analysis in ("comparison", "single_arm") and not (
            analysis == "single_arm" and values["proportion_measure"] in ("PAS", "PFT")
        ):
            with st.expander("Continuity correction"):
                add_key = _init("add", float(s.add))
                values["add"] = st.number_input(
                    "Value added to each cell", min_value=0.0, max_value=1.0, step=0.1, key=add_key
                )
                values["to"] = _select("Added to", "to", CORRECTION_TARGETS, s.to)
                if analysis == "comparison":
                    d_key = _init("drop00", s.drop00)
                    values["drop00"] = st.checkbox("Drop double-zero studies", key=d_key)
        st.header("Subgroups")
        inputs = table_inputs(table)
        seen = dict(state.sidebar_inputs() or ())
        state.set_sidebar_inputs(inputs)
        candidates = [column for column, _ in inputs]
        options = {"": "None", **{c: c for c in candidates}}
        column = s.subgroup_column if s.subgroup_column in candidates else ""
        chosen = _select("Subgroup column", "subgroup_column", options, column)
        values["subgroup_column"] = chosen or None
        values["subgroup_levels"] = None
        if chosen:
            levels = list(dict(inputs)[chosen])
            key = state.widget_key("subgroup_levels")
            current = st.session_state.get(key)
            if current is None or not set(current) <= set(levels):
                st.session_state[key] = (
                    levels
                    if s.subgroup_levels is None
                    else [lev for lev in s.subgroup_levels if lev in levels] or levels
                )
            elif s.subgroup_levels is None and set(levels) - set(seen.get(chosen, levels)):
                # A level new in the table (e.g. typed in the grid) joins "all levels".
                st.session_state[key] = levels
            picked = st.multiselect("Subgroups included", levels, key=key)
            values["subgroup_levels"] = None if set(picked) == set(levels) else tuple(picked)
    settings = AnalysisSettings.from_dict(values)
    state.set_settings(settings)
    return settings
