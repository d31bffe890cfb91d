"""Methods & about: the methods paragraph, data provenance and what the tool guarantees."""

from __future__ import annotations

import streamlit as st

from igmeta.app.outputs.methods_text import methods_paragraph
from igmeta.datasets import ig_pnp_provenance
from ui import compute, state
from ui.bootstrap import require_app
from ui.text import demote_headings

require_app()

table = state.get_table()
bundle = compute.current_bundle(table, state.get_settings())

st.title("Methods & about")
st.subheader("Methods paragraph for the current analysis")
if bundle.result is None:
    st.info("There is no pooled result for the current settings, so no methods text.")
else:
    text, refs = methods_paragraph(bundle)
    st.text_area("Copy into slides or a manuscript", text, height=180)
    st.markdown("**References**")
    st.text("\n".join(f"{i}. {ref}" for i, ref in enumerate(refs, start=1)))

st.subheader("The bundled immunoglobulin (IG) data")
with st.expander(
    "Provenance of the bundled data (sourced and reconstructed rows)",
    expanded=state.get_source() == state.BUNDLED_SOURCE,
):
    # Our own markdown file shipped with the package, not user text.
    st.markdown(demote_headings(ig_pnp_provenance()))

st.subheader("Numbers you can check")
st.markdown(
    "Every computation is checked against the R package **metafor 3.8-1** on 160 reference "
    "cases (effect sizes, all nine tau\u00b2 estimators, Hartung-Knapp, Mantel-Haenszel, Peto, "
    "Q-profile intervals, subgroups, meta-regression, Egger, Begg, trim-and-fill, "
    "leave-one-out, cumulative and influence diagnostics) to a relative tolerance of 1e-10 "
    "(closed forms) or 1e-6 (iterative estimators)."
)
