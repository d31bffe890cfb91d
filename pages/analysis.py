"""Analysis page: the forest plot, the pooled result, heterogeneity and subgroups."""

from __future__ import annotations

import streamlit as st

from igmeta.effects import measure_info
from igmeta.plots import forest_figure
from igmeta.tables import display_scale, forest_frame
from ui import compute, state
from ui.bootstrap import require_app
from ui.components import engine_messages, headline, provenance_banner
from ui.panels import heterogeneity_panel, nnt_panel, subgroup_panel, zero_cell_panel
from ui.published_strip import published_strip

require_app()

table = state.get_table()
settings = state.get_settings()
bundle = compute.current_bundle(table, settings)

st.title("Meta-analysis")
provenance_banner(table)
published_strip(table, settings)
headline(bundle)
engine_messages(bundle, table)

if bundle.result is not None:
    transform, log_axis, null = display_scale(bundle)
    frame = forest_frame(bundle, table)
    label = measure_info(settings.measure).label
    fig = forest_figure(
        frame,
        log_scale=log_axis,
        null_value=None if null != null else null,
        x_label=label,
        show_prediction=settings.show_prediction,
    )
    event = st.plotly_chart(
        fig,
        key=f"forest_{state.table_version()}",
        on_select="rerun",
        theme=None,
        selection_mode=("points",),
        width="stretch",
        config={"displaylogo": False},
    )
    st.caption("Click a study to exclude it (grey) or include it again. \u2020 reconstructed row.")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    ids = [p.get("customdata") for p in points if p.get("customdata") is not None]
    ids = [i[0] if isinstance(i, list | tuple) else i for i in ids]
    if ids and str(ids[0]).isdigit():
        state.toggle_included(int(ids[0]))
        st.rerun()

nnt_panel(bundle)
if bundle.result is not None:
    left, right = st.columns(2)
    with left:
        heterogeneity_panel(bundle, table)
    with right:
        subgroup_panel(bundle)
        zero_cell_panel(bundle, table)
