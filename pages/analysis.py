"""Analysis page: the forest plot, the pooled result, heterogeneity and subgroups."""

from __future__ import annotations

import streamlit as st

from ui import compute, state
from ui.bootstrap import require_app
from ui.charts import plotly_chart
from ui.components import engine_messages, headline, provenance_banner
from ui.multilevel_panel import multilevel_panel
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

#: The forest is planned for the page's main column at a 1280 px wide window with the
#: sidebar open (820 px) and stretched to wider pages; its text keeps its size.
FOREST_WIDTH_PX = 800
_LABEL_INPUTS = (
    ("treatment", "Treatment group"),
    ("control", "Control group"),
    ("favours_left", "Left of the null line"),
    ("favours_right", "Right of the null line"),
)

if bundle.result is not None:
    defaults = state.default_forest_labels()
    with st.expander("Plot labels"):
        st.caption(
            "Names of the groups over the data columns and the 'Favours' labels under the "
            "axis. Leave a field empty for the default shown; type a space for no label."
        )
        columns = st.columns(4)
        for column, (field, title) in zip(columns, _LABEL_INPUTS, strict=True):
            state.restore_forest_label(field)
            column.text_input(
                title,
                key=state.forest_label_key(field),
                placeholder=getattr(defaults, field),
                max_chars=60,
                on_change=state.remember_forest_label,
                args=(field,),
            )
    spec = compute.forest_spec(table, settings, state.forest_labels(), FOREST_WIDTH_PX)
    event = plotly_chart(
        spec,
        key=f"forest_{state.table_version()}",
        on_select="rerun",
        theme=None,
        selection_mode=("points",),
        width="stretch",
        config={"displaylogo": False},
    )
    st.caption(
        "Click a study (its name or its square) to exclude it (grey) or include it again. "
        "\u2020 reconstructed row."
    )
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
    multilevel_panel(bundle, table)
