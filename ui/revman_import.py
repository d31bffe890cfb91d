"""Loading one outcome of a RevMan 5 (``.rm5``) file on the Data page.

The Data page's uploader hands a ``.rm5`` file to :func:`revman_section`: the user picks a
comparison and outcome, sees how many studies it has, and the outcome's table then goes
through the same preview, checks and "Use this table" step as a CSV upload
(:func:`ui.column_mapping.mapping_step`), so bad cells are flagged by row and column and no row
is dropped. User text (titles, outcome and study names) is only shown through
:func:`ui.text.plain`, select boxes and data frames.
"""

from __future__ import annotations

from pathlib import PurePath

import streamlit as st

from igmeta.app.intake.io import ReadResult
from igmeta.app.intake.revman import (
    RevManOutcome,
    RevManReview,
    outcome_table,
    read_rm5,
    revman_settings,
)
from igmeta.app.intake.schema import DATA_TYPE_LABELS
from igmeta.app.intake.upload import UploadPlan, guess_columns
from igmeta.effects import measure_info
from ui import state
from ui.column_mapping import mapping_step
from ui.sidebar import ESTIMATORS, MODELS, POOLING
from ui.text import plain

REVMAN_SUFFIX = ".rm5"


def is_revman(filename: str | None) -> bool:
    """Whether an upload is a RevMan 5 file, by its name."""
    return PurePath(str(filename or "")).suffix.lower() == REVMAN_SUFFIX


@st.cache_data(max_entries=4, ttl=1800, show_spinner=False)
def _read_cached(data: bytes) -> RevManReview:
    return read_rm5(data)


def outcome_plan(review: RevManReview, key: str, filename: str) -> UploadPlan:
    """The upload plan of one outcome: its table as read cells, canonical names mapped.

    The table's messages (unknown study, missing or non-numeric number) become the
    plan's reading messages, shown above the preview.
    """
    outcome = review.outcome(key)
    frame, messages = outcome_table(review, key)
    columns = [str(c) for c in frame.columns]
    return UploadPlan(
        filename=f"{filename}: {outcome.key} {outcome.name}",
        result=ReadResult(frame=frame, messages=tuple(messages)),
        data_type=outcome.data_type,
        detected=True,
        guess=guess_columns(columns, outcome.data_type),
        needs_mapping=False,
    )


def settings_hint(outcome: RevManOutcome) -> str | None:
    """How RevMan analysed the outcome, when the sidebar's settings differ (else None)."""
    wanted = revman_settings(outcome)
    current = state.get_settings()
    if all(getattr(current, name) == value for name, value in wanted.items()):
        return None
    names = {"pooling": POOLING, "model": MODELS, "tau2_method": ESTIMATORS}
    parts = [
        names[name].get(value, value) if name in names else measure_info(value).label
        for name, value in wanted.items()
    ]
    return (
        f"RevMan analysed this outcome with: {', '.join(parts)}. The sidebar's settings "
        "differ; choose these there after loading to reproduce RevMan's analysis."
    )


def _show(messages: tuple[tuple[str, str], ...]) -> None:
    """Messages by severity, user text escaped."""
    show = {"error": st.error, "warning": st.warning, "info": st.info}
    for severity, text in messages:
        show.get(severity, st.info)(plain(text))


def revman_section(data: bytes, filename: str, file_token: str) -> None:
    """Choose a comparison and outcome of a RevMan file and load it as the study table."""
    review = _read_cached(bytes(data))
    _show(review.messages)
    if not review.outcomes:
        return
    if review.title:
        st.caption(f"RevMan 5 review: {plain(review.title)}")
    keys = [outcome.key for outcome in review.outcomes]
    key = st.selectbox(
        "Comparison and outcome",
        keys,
        format_func=lambda k: review.outcome(k).label,
        key=state.upload_key(f"{file_token}_rm5_outcome"),
        help="Each outcome of each comparison of the review; one is loaded as the table.",
    )
    outcome = review.outcome(key)
    groups = (
        f" in {len(outcome.subgroups)} subgroups (loaded as the 'design' column)"
        if outcome.subgroups
        else ""
    )
    st.markdown(
        f"**{outcome.n_studies} studies**{groups}; "
        f"{plain(DATA_TYPE_LABELS[outcome.data_type].lower())}; RevMan's effect measure: "
        f"{plain(outcome.effect_measure or 'not given')}."
    )
    if not outcome.n_studies:
        st.warning("This outcome has no study data; choose another one.")
        return
    hint = settings_hint(outcome)
    if hint:
        st.info(plain(hint), icon=":material/tune:")
    plan = outcome_plan(review, key, filename)
    _show(plan.result.messages)
    mapping_step(plan, f"{file_token}_rm5_{keys.index(key)}")
