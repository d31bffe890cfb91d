"""The column-mapping step of an upload: data type, one selectbox per column, preview, load.

Shared by the file upload (:mod:`ui.upload`) and the RevMan import
(:mod:`ui.revman_import`); the decisions are :mod:`igmeta.app.intake.upload`'s.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from igmeta.app.intake.schema import (
    COLUMN_DESCRIPTIONS,
    DATA_TYPE_LABELS,
    DATA_TYPES,
    REQUIRED_COLUMN_SETS,
)
from igmeta.app.intake.upload import (
    UploadPlan,
    apply_upload,
    column_label,
    guess_columns,
    mapping_problems,
    mapping_targets,
    required_columns_text,
    table_errors,
)
from ui import state
from ui.data_page import STATUS_COLUMN, annotate, check_summary, issues_table, row_status, styled
from ui.text import plain

NOT_IN_FILE = "(not in the file)"
PREVIEW_ROWS = 50


def use_table(table: pd.DataFrame, filename: str, data_type: str) -> None:
    """Make an uploaded table the study table (undoable) and clear the upload widgets."""
    state.set_table(table, source=f"Uploaded file '{filename}'", data_type=data_type)
    state.next_upload()
    state.set_notice(
        f"Loaded '{filename}': {len(table)} rows as "
        f"{DATA_TYPE_LABELS.get(data_type, data_type).lower()}. Undo brings back the "
        "previous table."
    )


def _describe_choice(source: str | None) -> str:
    return NOT_IN_FILE if source is None else str(source)


def mapping_step(plan: UploadPlan, file_token: str) -> None:
    """Data type, one selectbox per canonical column, preview, then "Use this table"."""
    columns = [str(c) for c in plan.result.frame.columns]
    if not plan.detected:
        st.warning(
            "The data type could not be recognised from the column names. Choose it, then "
            "say which column of the file holds what.",
            icon=":material/help:",
        )
    data_type = st.selectbox(
        "Data type",
        DATA_TYPES,
        index=DATA_TYPES.index(plan.data_type),
        format_func=lambda t: DATA_TYPE_LABELS[t],
        key=state.upload_key(f"{file_token}_type"),
        help="Detected from the column names; change it if it is wrong.",
    )
    guess = guess_columns(columns, data_type)
    sets = [set(group) for group in REQUIRED_COLUMN_SETS.get(data_type, ())]
    required = set.intersection(*sets) if sets else set()
    with st.expander(
        "Column mapping" + ("" if plan.needs_mapping else " (all names recognised)"),
        expanded=plan.needs_mapping or data_type != plan.data_type,
        icon=":material/swap_horiz:",
    ):
        st.caption(
            "For each column igmeta uses, pick the column of your file that holds it. "
            f"Needed: {plain(required_columns_text(data_type))}. Columns you do not pick are "
            "kept as extra columns."
        )
        options = [None, *columns]
        choice: dict[str, str | None] = {}
        grid = st.columns(3)
        for number, target in enumerate(mapping_targets(data_type)):
            suffix = " (required)" if target in required else ""
            with grid[number % 3]:
                choice[target] = st.selectbox(
                    f"{column_label(target, data_type)}{suffix}",
                    options,
                    index=options.index(guess[target]),
                    format_func=_describe_choice,
                    key=state.upload_key(f"{file_token}_{data_type}_{target}"),
                    help=f"{target}: {COLUMN_DESCRIPTIONS.get(target, '')}",
                )
    problems = mapping_problems(choice, data_type)
    for problem in problems:
        st.error(plain(problem), icon=":material/error:")
    if problems:
        return
    table, report = apply_upload(plan, choice, data_type)
    st.markdown("**Preview** (the table as it will be loaded; nothing is dropped)")
    preview = annotate(table.head(PREVIEW_ROWS), data_type)
    preview[STATUS_COLUMN] = row_status(table, data_type)[:PREVIEW_ROWS]
    st.dataframe(
        styled(preview),
        width="stretch",
        column_config={
            STATUS_COLUMN: st.column_config.TextColumn("Check", width="medium"),
            **{c: column_label(c, data_type) for c in table.columns if isinstance(c, str)},
        },
    )
    if len(table) > PREVIEW_ROWS:
        st.caption(f"First {PREVIEW_ROWS} of {len(table)} rows.")
    check_summary(report, len(table))
    if not report.issues.empty:
        issues_table(report, height=min(400, 38 + 35 * len(report.issues)))
    blocking = table_errors(report)
    if blocking:
        st.error(
            "The table cannot be used yet: "
            + " ".join(plain(message) for message in blocking)
            + " Columns cannot be added in the editor, so fix this in the column mapping "
            "above (or in the file).",
            icon=":material/block:",
        )
        return
    if st.button("Use this table", type="primary", icon=":material/check:"):
        use_table(table, plan.filename, data_type)
        st.rerun()
    st.caption("The current table is replaced; Undo brings it back.")
