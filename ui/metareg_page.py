"""Display blocks of the meta-regression page: moderators, tests, bubble plot, predictions,
permutation p-values and the R script.

Statistics come from :mod:`igmeta.app.pipeline.metareg` (metafor's ``rma(yi, vi, mods = ~ ...)``,
``predict(newmods = ...)``, ``regplot``) and :mod:`igmeta.permutation` (``permutest``);
this module lays out widgets, figures and formatted tables. Column names and study labels
are shown in dataframes (plain text), in plots (escaped) or through :func:`ui.text.plain`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from igmeta.app.outputs.tables import display_scale
from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.app.pipeline.metareg import (
    ModeratorFit,
    fit_moderators,
    moderator_candidates,
    moderator_kinds,
    new_design,
    predict,
    r_script,
    regplot_points,
    regression_band,
)
from igmeta.formatting import format_number, format_percent
from igmeta.permutation import permutation_test
from igmeta.plots.regplot import regplot_figure
from igmeta.transforms import back_transform
from ui import state
from ui.bias_page import measure_label, p_text
from ui.text import plain

__all__ = ["render_metareg"]

K = state.metareg_key
PERMUTATION_SEED = 1
PLOT_CONFIG = {"displaylogo": False}


def _choose_moderators(table: pd.DataFrame) -> list[str]:
    candidates = moderator_candidates(table)
    if not candidates:
        st.info("The study table has no columns besides the study data to use as moderators.")
        return []
    kinds = moderator_kinds(table, candidates)
    return st.multiselect(
        "Moderators (columns of the study table)",
        candidates,
        format_func=lambda c: f"{c} ({kinds[c]})",
        key=K("moderators"),
        help="Numeric columns enter as they are; text columns as categories, the first "
        "level in sorted order being the reference (treatment contrasts, as R).",
    )


def _tests(fit: ModeratorFit) -> None:
    res = fit.result
    knha = res.test == "knha"
    qm = (
        f"F({res.qm_df[0]:g}, {res.qm_df[1]:g}) = {format_number(res.qm)}"
        if knha
        else f"QM({res.qm_df[0]:g}) = {format_number(res.qm)}"
    )
    cols = st.columns(4)
    cols[0].metric("Test of moderators", qm)
    cols[1].metric("p (moderators)", p_text(res.qm_pval))
    cols[2].metric("R\u00b2 (heterogeneity explained)", format_percent(res.r2))
    cols[3].metric("Studies", str(res.k))
    residual = f"QE({res.q_df:g}) = {format_number(res.q)}, p {p_text(res.q_pval)}"
    if res.method != "FE":
        residual += (
            f"; residual tau\u00b2 = {format_number(res.tau2, 4)}, "
            f"I\u00b2 = {format_percent(res.i2)}"
        )
    st.caption(f"Residual heterogeneity: {residual}. Model: {res.method}, test {res.test}.")
    shown = pd.DataFrame(
        {
            "coefficient": list(res.coef_names),
            "estimate": res.estimate,
            "se": res.se,
            "t" if knha else "z": res.statistic,
            "p": [p_text(p) for p in res.pval],
            "CI lower": res.ci_lower,
            "CI upper": res.ci_upper,
        }
    )
    st.dataframe(shown.round(4), hide_index=True, width="stretch")
    st.caption("Coefficients on the analysis scale (log scale for ratios).")


def _bubble_plot(fit: ModeratorFit, bundle: AnalysisBundle) -> str | None:
    numeric = [c for c, kind in fit.kinds.items() if kind == "numeric"]
    if not numeric:
        st.caption("The bubble plot needs a numeric moderator.")
        return None
    moderator = (
        numeric[0]
        if len(numeric) == 1
        else st.selectbox("Moderator on the x axis", numeric, key=K("plot_moderator"))
    )
    _, log_axis, _ = display_scale(bundle)
    held = [c for c in fit.kinds if c != moderator]
    label = measure_label(bundle) + (" (log scale)" if log_axis else "")
    fig = regplot_figure(
        regplot_points(fit, moderator),
        regression_band(fit, moderator),
        log_scale=log_axis,
        x_label=moderator,
        y_label=label,
        level=fit.result.level,
    )
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG, key=K("regplot"))
    if held:
        st.caption(
            "Line and bands with the other moderators at their mean (numeric) or "
            "reference level (categories): " + plain(", ".join(held)) + "."
        )
    return moderator


def _prediction_inputs(fit: ModeratorFit) -> pd.DataFrame:
    values = {}
    cols = st.columns(min(len(fit.kinds), 4))
    for i, (column, kind) in enumerate(fit.kinds.items()):
        where = cols[i % len(cols)]
        if kind == "numeric":
            observed = fit.moderators[column].astype(float)
            values[column] = [
                where.number_input(
                    f"{column}",
                    value=float(round(observed.mean(), 4)),
                    key=K(f"new_{i}"),
                    help=f"Observed: {format_number(observed.min())} to "
                    f"{format_number(observed.max())}.",
                )
            ]
        else:
            levels = sorted(fit.moderators[column].unique())
            values[column] = [where.selectbox(f"{column}", levels, key=K(f"new_{i}"))]
    return pd.DataFrame(values)


def _predictions(fit: ModeratorFit, bundle: AnalysisBundle) -> pd.DataFrame:
    st.subheader("Predicted effect for chosen moderator values")
    new = _prediction_inputs(fit)
    got = predict(fit.result, new_design(fit, new))
    transform, _, _ = display_scale(bundle)
    ni = bundle.effects.data.get("ni") if bundle.effects is not None else None
    shown = {"": ["analysis scale"]}
    for name in ("pred", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        shown[name] = [format_number(got[name].iloc[0], 4)]
    table = pd.DataFrame(shown)
    if transform != "none":
        natural = {"": [measure_label(bundle)]}
        for name in ("pred", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
            value = back_transform(got[name].to_numpy(), transform, ni)[0]
            natural[name] = [format_number(value, 3)]
        table = pd.concat([table, pd.DataFrame(natural)], ignore_index=True)
    table = table.rename(
        columns={
            "pred": "Predicted",
            "ci_lower": "CI lower",
            "ci_upper": "CI upper",
            "pi_lower": "PI lower",
            "pi_upper": "PI upper",
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(
        f"{100 * fit.result.level:g}% confidence interval of the mean effect at these values "
        "and prediction interval for a new study (metafor's predict(res, newmods = ...))."
    )
    return new


def _permutation(fit: ModeratorFit) -> int:
    st.subheader("Permutation p-values")
    iterations = int(
        st.number_input(
            "Permutations",
            min_value=100,
            max_value=100_000,
            value=1000,
            step=100,
            key=K("iterations"),
        )
    )
    if st.button("Run the permutation test", key=K("permute")):
        with st.spinner("Permuting the moderators\u2026"):
            out = permutation_test(fit.result, iterations, seed=PERMUTATION_SEED)
        kind = "exact (every permutation)" if out.exact else f"{out.iterations} random"
        st.metric("Permutation p (moderators)", p_text(out.qm_pval))
        frame = out.to_frame()
        st.dataframe(
            pd.DataFrame(
                {
                    "coefficient": frame["name"],
                    "p (permutation)": [p_text(p) for p in frame["pval"]],
                    "p (model)": [p_text(p) for p in frame["pval_model"]],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(
            f"{kind} permutations, seed {PERMUTATION_SEED} (metafor's permutest; random "
            "permutations do not reproduce R's random numbers)."
        )
    return iterations


def render_metareg(bundle: AnalysisBundle, table: pd.DataFrame) -> None:
    """The whole meta-regression section of the page."""
    columns = _choose_moderators(table)
    if not columns:
        st.info("Choose one or more moderators to fit a meta-regression.")
        return
    try:
        fit = fit_moderators(bundle, table, columns)
    except ValueError as exc:
        st.warning(plain(exc), icon=":material/warning:")
        return
    if fit.left_out:
        st.warning(
            "Left out (empty moderator cell): " + plain(", ".join(fit.left_out)) + ".",
            icon=":material/filter_list:",
        )
    for message in fit.result.warnings:
        st.warning(plain(message), icon=":material/warning:")
    _tests(fit)
    moderator = _bubble_plot(fit, bundle)
    new = _predictions(fit, bundle)
    iterations = _permutation(fit)
    st.subheader("R code")
    code = r_script(
        fit, new, iterations=iterations, seed=PERMUTATION_SEED, plot_moderator=moderator
    )
    st.download_button(
        "R script (meta-regression)",
        code,
        file_name="igmeta_metaregression.R",
        mime="text/plain",
        key=K("dl_r"),
        on_click="ignore",
        icon=":material/code:",
    )
    with st.expander("Show the R script"):
        st.code(code, language="r")
