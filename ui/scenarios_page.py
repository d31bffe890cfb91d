"""The Scenarios & sharing page: save, open, compare and share analyses; exports.

Each section is one function; the page script calls :func:`render_scenarios`.
"""

from __future__ import annotations

import datetime as _dt

import pandas as pd
import streamlit as st

from igmeta.app.intake.schema import CLUSTER_COLUMN
from igmeta.app.outputs.codegen import CodegenError, python_script, r_script
from igmeta.app.outputs.comparison_text import comparison_display
from igmeta.app.outputs.exports import (
    FIGURE_FORMATS,
    ExportError,
    analysis_figures,
    browser_path,
    figures_bytes,
    prepare_renderer,
    tables_csv,
    tables_excel,
)
from igmeta.app.outputs.methods_text import methods_paragraph
from igmeta.app.outputs.report import report_html
from igmeta.app.outputs.report_docx import DOCX_MIME, report_docx
from igmeta.app.outputs.safe_export import to_safe_csv_bytes
from igmeta.app.pipeline.analysis import AnalysisBundle, AnalysisSettings
from igmeta.app.store.records import (
    BUILTIN_PUBLISHED,
    BUILTIN_PUBLISHED_SINGLE_ARM,
    ScenarioError,
)
from igmeta.app.store.scenarios import comparison_frame
from ui import compute, share, state

__all__ = ["render_scenarios"]

K = state.journal_key
CURRENT = "__current__"


def render_scenarios(table: pd.DataFrame, settings: AnalysisSettings) -> None:
    """The whole page for the current ``table`` and ``settings``."""
    bundle = compute.current_bundle(table, settings)
    db = share.store()
    st.title("Scenarios & sharing")
    st.caption(
        "A scenario is one analysis: the study table and every setting. Save it, share a "
        "link that opens the dashboard on it, compare it with the published analysis, "
        "and export code, figures and a report that reproduce it."
    )
    if db is None:
        st.error(
            share.store_error() or "The scenario store is unavailable.", icon=":material/database:"
        )

    status = _save_section(table, settings, bundle, db)
    names = _list_section(db)
    _compare_section(settings, bundle, db, names)
    _export_section(table, settings, bundle, status)


def _save_section(table: pd.DataFrame, settings: AnalysisSettings, bundle: AnalysisBundle, db):
    """Save (new or update), the link of the current scenario, the workspace link.

    Returns the current scenario's status (:func:`ui.share.current_status`).
    """
    st.header("Save and share the current analysis")
    status = share.current_status(table, settings)
    info = state.current_scenario()
    if status is not None:
        st.success(
            f"The current analysis is the scenario \u201c{share.plain(status['name'])}\u201d.",
            icon=":material/bookmark:",
        )
    elif info:
        st.info(
            f"Changed since you opened \u201c{share.plain(info['name'])}\u201d: save it to keep "
            "and share these changes.",
            icon=":material/edit:",
        )

    default_name = f"Analysis {_dt.datetime.now():%Y-%m-%d %H:%M}"
    name = st.text_input(
        "Scenario name", key=K("save_name"), max_chars=120, placeholder=default_name
    )
    cols = st.columns([1, 1, 2])
    can_update = bool(info and info.get("mine") and status is None)
    save_new = cols[0].button(
        "Save as new scenario",
        key=K("save_new"),
        type="primary",
        disabled=db is None or bundle.result is None and table.empty,
    )
    save_update = cols[1].button(
        f"Update \u201c{share.plain(info['name'][:30])}\u201d" if can_update else "Update scenario",
        key=K("save_update"),
        disabled=not can_update,
    )
    if save_new or save_update:
        try:
            share.save_current(name.strip() or default_name, table, settings, update=save_update)
        except ScenarioError as exc:
            st.error(str(exc))
        else:
            st.rerun()

    st.subheader("Link to this analysis")
    if status is not None:
        link, absolute = share.link_for(share.SCENARIO_PARAM, status["id"])
        st.code(link, language=None, wrap_lines=True)
        if absolute:
            st.caption(
                "Anyone who can reach this dashboard and has the link opens exactly this "
                "analysis (table and settings). The id is random and cannot be guessed."
            )
        else:
            st.caption(
                "Append this to the dashboard's address, e.g. "
                "http://your-server:8501/?scenario=\u2026 (the browser address was not "
                "available to build the full link)."
            )
    else:
        st.caption("Save the analysis to get a link (the link always opens the saved version).")
        if st.button("Save and get a link", key=K("save_link"), disabled=db is None):
            try:
                share.save_current(name.strip() or default_name, table, settings)
            except ScenarioError as exc:
                st.error(str(exc))
            else:
                st.rerun()

    with st.expander("Find your saved scenarios again later"):
        ws_link, _ = share.link_for(share.WORKSPACE_PARAM, share.workspace())
        st.write(
            "Your scenarios are listed for this workspace, which the address bar keeps (so a "
            "reload keeps the list). Bookmark this private link to see them again in a new "
            "browser session. To share an analysis, send its scenario link, not this link or "
            "the address bar: they let anyone rename or delete your scenarios."
        )
        st.code(ws_link, language=None, wrap_lines=True)
    return status


def _list_section(db) -> dict[str, str]:
    """The workspace's scenarios: open, rename, delete; open from a pasted link.

    Returns the scenarios' names by id.
    """
    info = state.current_scenario()
    st.header("Your scenarios")
    scenarios = db.list(share.workspace()) if db is not None else []
    names = {item.id: item.name for item in scenarios}
    if scenarios:
        listing = pd.DataFrame(
            {
                "Name": [item.name for item in scenarios],
                "Kind": ["built-in" if item.builtin else "saved" for item in scenarios],
                "Data": [item.data_type for item in scenarios],
                "Last changed (UTC)": [
                    item.updated_at[:16].replace("T", " ") if not item.builtin else ""
                    for item in scenarios
                ],
            }
        )
        st.dataframe(listing, hide_index=True, width="stretch")
        chosen = st.selectbox("Scenario", list(names), format_func=names.get, key=K("chosen"))
        chosen_item = next(item for item in scenarios if item.id == chosen)
        c1, c2, c3 = st.columns([1, 2, 1])
        if c1.button("Open", key=K("open"), type="primary"):
            try:
                share.load_into_session(db.load(chosen))
            except ScenarioError as exc:
                st.error(str(exc))
            else:
                st.rerun()
        with c2:
            new_name = st.text_input(
                "New name",
                key=K("rename_to"),
                max_chars=120,
                disabled=chosen_item.builtin,
                label_visibility="collapsed",
                placeholder="New name",
            )
            if st.button("Rename", key=K("rename"), disabled=chosen_item.builtin):
                try:
                    db.rename(chosen, new_name, owner=share.workspace())
                except ScenarioError as exc:
                    st.error(str(exc))
                else:
                    if info and info.get("id") == chosen:
                        state.set_current_scenario({**info, "name": new_name.strip()})
                    st.rerun()
        with c3:
            sure = st.checkbox("Really delete", key=K("delete_sure"), disabled=chosen_item.builtin)
            if st.button("Delete", key=K("delete"), disabled=chosen_item.builtin or not sure):
                try:
                    db.delete(chosen, owner=share.workspace())
                except ScenarioError as exc:
                    st.error(str(exc))
                else:
                    if info and info.get("id") == chosen:
                        state.set_current_scenario(None)
                    st.rerun()

    with st.expander("Open a scenario from a link"):
        pasted = st.text_input("Paste a scenario link or id", key=K("pasted"))
        if st.button("Open link", key=K("open_pasted"), disabled=db is None or not pasted.strip()):
            text = pasted.strip()
            scenario_id = (
                text.split("scenario=", 1)[1].split("&", 1)[0] if "scenario=" in text else text
            )
            try:
                share.load_into_session(db.load(scenario_id))
            except ScenarioError as exc:
                st.warning(f"{exc}", icon=":material/link_off:")
            else:
                st.rerun()
    return names


def _compare_section(
    settings: AnalysisSettings, bundle: AnalysisBundle, db, names: dict[str, str]
) -> None:
    """Two or more scenarios side by side, relative to a baseline."""
    st.header("Compare scenarios")
    published = (
        BUILTIN_PUBLISHED_SINGLE_ARM if settings.analysis == "single_arm" else BUILTIN_PUBLISHED
    )
    options = [CURRENT, *names]
    labels = {CURRENT: "Current analysis", **names}
    default = [opt for opt in (published, CURRENT) if opt in options]
    picked = st.multiselect(
        "Scenarios to compare (two or more)",
        options,
        default=default,
        format_func=labels.get,
        key=K("compare"),
    )
    if len(picked) >= 2:
        base_default = published if published in picked else picked[0]
        baseline = st.selectbox(
            "Baseline (differences are relative to it)",
            picked,
            index=picked.index(base_default),
            format_func=labels.get,
            key=K("baseline"),
        )
        items, loaded = [], []
        for option in picked:
            if option == CURRENT:
                items.append((labels[option], bundle))
                loaded.append(option)
                continue
            try:
                scenario = db.load(option)
            except ScenarioError as exc:
                st.warning(f"{share.plain(labels[option])}: {exc}")
                continue
            items.append(
                (
                    scenario.name,
                    compute.analysis_bundle(scenario.table, scenario.settings.to_dict()),
                )
            )
            loaded.append(option)
        base_pos = loaded.index(baseline) if baseline in loaded else 0
        frame = comparison_frame(items, baseline=base_pos)
        if not frame.empty:
            shown = comparison_display(frame)
            st.dataframe(
                shown,
                hide_index=True,
                width="stretch",
                column_config={"Changes vs baseline": st.column_config.TextColumn(width="large")},
            )
            st.caption(
                "Estimates on the natural scale (ratios, proportions). \u0394: this row "
                "minus the baseline (only for the same measure)."
            )
            st.download_button(
                "Download the comparison (CSV)",
                to_safe_csv_bytes(frame),
                file_name="scenario_comparison.csv",
                mime="text/csv",
                key=K("compare_csv"),
                on_click="ignore",
            )
    else:
        st.caption("Pick at least two scenarios.")


def _export_section(
    table: pd.DataFrame, settings: AnalysisSettings, bundle: AnalysisBundle, status
) -> None:
    """R and Python scripts, reports, tables, figures and the methods paragraph."""
    st.header("Reproduce and export")
    if bundle.result is None:
        st.info("There is no pooled result for the current settings, so nothing to export.")
    else:
        try:
            # With the Publication bias page's analyses (inverse-variance models) and, for a
            # table with a cluster column, the three-level model of the Analysis page (unless
            # it was switched off there).
            r_code = r_script(
                table,
                settings,
                bundle,
                publication_bias=True,
                three_level=settings.three_level and CLUSTER_COLUMN in table.columns,
            )
        except CodegenError as exc:
            try:  # the three-level part cannot be written: the rest still can
                r_code = r_script(table, settings, bundle, publication_bias=True)
                st.caption(f"R script without the three-level model: {share.plain(exc)}")
            except CodegenError as again:
                r_code = None
                st.warning(f"No R script: {share.plain(again)}")
        py_code = python_script(table, settings)
        c1, c2, c3 = st.columns(3)
        if r_code:
            c1.download_button(
                "R script (metafor)",
                r_code,
                file_name="igmeta_analysis.R",
                mime="text/plain",
                key=K("dl_r"),
                on_click="ignore",
                icon=":material/code:",
            )
        c2.download_button(
            "Python script (igmeta)",
            py_code,
            file_name="igmeta_analysis.py",
            mime="text/x-python",
            key=K("dl_py"),
            on_click="ignore",
            icon=":material/code:",
        )
        source = state.get_source()
        scenario_name = status["name"] if status else None
        link = share.link_for(share.SCENARIO_PARAM, status["id"])[0] if status else None

        def _report() -> str:
            return report_html(
                table,
                settings,
                bundle=bundle,
                source=source,
                scenario_name=scenario_name,
                link=link,
            )

        c3.download_button(
            "HTML report (works offline)",
            _report,
            file_name="igmeta_report.html",
            mime="text/html",
            key=K("dl_report"),
            on_click="ignore",
            icon=":material/description:",
        )

        def _report_docx() -> bytes:
            return report_docx(
                table,
                settings,
                bundle=bundle,
                source=source,
                scenario_name=scenario_name,
                link=link,
            )

        c3.download_button(
            "Word report (.docx)",
            _report_docx,
            file_name="igmeta_report.docx",
            mime=DOCX_MIME,
            key=K("dl_report_docx"),
            on_click="ignore",
            icon=":material/article:",
        )
        if r_code:
            with st.expander("Show the R script"):
                st.code(r_code, language="r")
        c1, c2, c3 = st.columns(3)
        c1.download_button(
            "Study results (CSV)",
            lambda: tables_csv(bundle, table, "studies"),
            file_name="igmeta_studies.csv",
            mime="text/csv",
            key=K("dl_studies"),
            on_click="ignore",
            icon=":material/table:",
        )
        c2.download_button(
            "Pooled results (CSV)",
            lambda: tables_csv(bundle, table, "results"),
            file_name="igmeta_results.csv",
            mime="text/csv",
            key=K("dl_results"),
            on_click="ignore",
            icon=":material/table:",
        )
        c3.download_button(
            "All tables (Excel)",
            lambda: tables_excel(bundle, table),
            file_name="igmeta_results.xlsx",
            key=K("dl_excel"),
            on_click="ignore",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/table_view:",
        )

        st.subheader("Figures for slides")
        try:
            browser_path()
            chromium_ok = True
        except ExportError as exc:
            chromium_ok = False
            st.info(str(exc))
        if chromium_ok:
            prepare_renderer()  # the first click should not also wait for Chromium to start
            f1, f2 = st.columns(2)
            theme = f1.radio(
                "Figure theme", ["light", "dark"], horizontal=True, key=K("export_theme")
            )
            fmt = f2.radio(
                "Format",
                list(FIGURE_FORMATS),
                horizontal=True,
                key=K("export_format"),
                format_func=lambda f: {"png": "PNG (1920\u00d71080)", "svg": "SVG", "pdf": "PDF"}[
                    f
                ],
            )
            figures = analysis_figures(bundle, table, theme=theme)
            cols = st.columns(max(len(figures), 1))
            for col, (fig_name, fig) in zip(cols, figures.items(), strict=False):

                def _render(fig=fig, fig_name=fig_name, fmt=fmt) -> bytes:
                    return figures_bytes({fig_name: fig}, (fmt,))[(fig_name, fmt)]

                col.download_button(
                    f"{fig_name.title()} plot ({fmt.upper()})",
                    _render,
                    file_name=f"igmeta_{fig_name}.{fmt}",
                    mime=FIGURE_FORMATS[fmt],
                    key=K(f"dl_fig_{fig_name}"),
                    on_click="ignore",
                    icon=":material/image:",
                )
            st.caption("Figures are rendered when you click (a few seconds).")

        st.subheader("Methods paragraph")
        text, refs = methods_paragraph(bundle)
        st.code(text, language=None, wrap_lines=True)
        st.code(
            "\n".join(f"{i}. {ref}" for i, ref in enumerate(refs, start=1)),
            language=None,
            wrap_lines=True,
        )
        st.caption("Use the copy icon at the top right of each box.")
