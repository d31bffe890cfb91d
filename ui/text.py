"""Showing user text literally in Streamlit's markdown."""

from __future__ import annotations

import re

# ASCII punctuation with a meaning in Markdown or in Streamlit's Markdown extensions
# (colour directives ``:red[...]``, icons ``:material/x:``, LaTeX ``$...$``, HTML).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'])")
_AUTOLINK_BREAK = re.compile(r"[:@](?=\S)")
_WWW = re.compile(r"(?i)\b(www)\.")


def plain(text: object) -> str:
    """``text`` made literal for ``st.markdown`` and alerts (no links, images, HTML, LaTeX).

    Every Markdown-significant ASCII character gets a backslash, and line breaks become
    spaces, so a study or file name such as ``[x](http://evil)`` or ``<img>`` shows as
    typed. Backslashes do not stop bare links (``http://``, ``www.``, e-mail addresses) or
    Streamlit's icons (``:material/home:``), so a zero-width space is put after ``:`` and
    ``@`` and inside ``www.``: the text looks the same but is never a link or an icon.
    Study names, file names and engine messages that quote them go through this before any
    ``st.markdown``/``st.warning``/``st.info`` call.
    """
    flat = " ".join(str(text).split())
    flat = _AUTOLINK_BREAK.sub("\\g<0>\u200b", flat)
    flat = _WWW.sub("\\1\u200b.", flat)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def demote_headings(markdown: str, levels: int = 3) -> str:
    """Push markdown headings down ``levels`` levels (for our own documents shown inside a
    page, so that their titles do not outrank the page title)."""
    lines = []
    for line in markdown.splitlines():
        if line.startswith("#"):
            line = "#" * levels + line
        lines.append(line)
    return "\n".join(lines)
