"""The Data page's file upload: CSV/TSV/TXT, Excel and RevMan 5 files.

A RevMan file goes to :mod:`ui.revman_import`, any other file to the column-mapping step
(:mod:`ui.column_mapping`); reading and guessing are :mod:`igmeta.app.intake`'s.
"""

from __future__ import annotations

import streamlit as st

from igmeta.app.intake.io import MAX_UPLOAD_BYTES, ReadResult, read_table
from igmeta.app.intake.upload import UploadPlan, plan_upload, read_summary
from ui import revman_import, state
from ui.column_mapping import mapping_step
from ui.text import plain

UPLOAD_TYPES = ("csv", "tsv", "txt", "xlsx", "rm5")
_CACHE = {"max_entries": 16, "ttl": 1800, "show_spinner": False}


@st.cache_data(**_CACHE)
def _read_cached(data: bytes, filename: str, sheet: str | None) -> ReadResult:
    return read_table(data, filename, sheet=sheet)


def prepare_upload(
    data: bytes, filename: str, *, sheet: str | None = None, data_type: str | None = None
) -> UploadPlan:
    """Read an uploaded file (cached) and guess its data type and column mapping.

    Parameters
    ----------
    data, filename : bytes, str
        The upload (``UploadedFile.getvalue()`` and ``.name``).
    sheet : str, optional
        Worksheet of an Excel workbook (default: the first with data).
    data_type : str, optional
        Use this data type instead of the detected one.

    Returns
    -------
    UploadPlan
        :func:`igmeta.app.intake.upload.plan_upload` of the file as read.
    """
    result = _read_cached(bytes(data), str(filename), sheet)
    return plan_upload(result, str(filename), data_type)


def read_messages(result: ReadResult) -> None:
    """Messages from reading the file, by severity (file and column names escaped)."""
    if result.ok and not result.frame.empty:
        st.caption(f"Read as: {plain(read_summary(result))}.")
    show = {"error": st.error, "warning": st.warning, "info": st.info}
    icons = {"error": ":material/error:", "warning": ":material/warning:", "info": None}
    for severity, text in result.messages:
        show.get(severity, st.info)(plain(text), icon=icons.get(severity))


def upload_section() -> None:
    """Upload a CSV/TSV/TXT or Excel file, map its columns and load it."""
    st.subheader("Load your own table")
    uploaded = st.file_uploader(
        "CSV, TSV, TXT, Excel (.xlsx) or RevMan 5 (.rm5) file",
        type=list(UPLOAD_TYPES),
        key=state.upload_key("file"),
        max_upload_size=MAX_UPLOAD_BYTES // 2**20,
        help="One row per study, column names in the first row. Comma, semicolon or tab "
        "separated; a decimal comma is recognised. Use a template below to start.",
    )
    if uploaded is None:
        return
    data = uploaded.getvalue()
    file_token = f"{uploaded.file_id}"
    if revman_import.is_revman(uploaded.name):
        revman_import.revman_section(data, uploaded.name, file_token)
        return
    plan = prepare_upload(data, uploaded.name)
    if len(plan.result.sheet_names) > 1:
        names = list(plan.result.sheet_names)
        sheet = st.selectbox(
            "Sheet",
            names,
            index=names.index(plan.result.sheet) if plan.result.sheet in names else 0,
            key=state.upload_key(f"{file_token}_sheet"),
            help="The workbook has several sheets; choose the one with the study table.",
        )
        if sheet != plan.result.sheet:
            plan = prepare_upload(data, uploaded.name, sheet=sheet)
        file_token = f"{file_token}_{names.index(sheet)}"
    read_messages(plan.result)
    if not plan.result.ok or plan.result.frame.empty:
        return
    mapping_step(plan, file_token)
