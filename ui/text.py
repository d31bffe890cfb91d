"""Showing user text literally in Streamlit's markdown."""

from __future__ import annotations

#: Characters with a meaning in Streamlit markdown (incl. HTML, LaTeX and emoji syntax).
MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()<>#+-.!|~$:=^&\"'")


def plain(text: object) -> str:
    """``text`` with every markdown special character escaped, so it is shown literally.

    Study names, file names and engine messages that quote them go through this before
    any ``st.markdown``/``st.warning``/``st.info`` call.
    """
    return "".join(f"\\{c}" if c in MARKDOWN_SPECIALS else c for c in str(text))


def demote_headings(markdown: str, levels: int = 3) -> str:
    """Push markdown headings down ``levels`` levels (for our own documents shown inside a
    page, so that their titles do not outrank the page title)."""
    lines = []
    for line in markdown.splitlines():
        if line.startswith("#"):
            line = "#" * levels + line
        lines.append(line)
    return "\n".join(lines)
