"""Keyboard and presentation-clicker navigation for Streamlit buttons.

Streamlit sends no key events to Python. :func:`step_keys` adds an empty frame
(``st.iframe`` with inline HTML, the successor of ``st.components.v1.html``; it has no
content, so no height) whose inline script (no external file) listens for
``keydown`` on the app's own document (``window.parent.document``: the frame is served
from the same origin) and clicks the Previous or Next button, found by the class
``st-key-<widget key>`` that Streamlit gives every keyed widget:

- ArrowRight, PageDown and space click *Next*; ArrowLeft and PageUp click *Previous*
  (a presentation clicker sends PageUp/PageDown or the arrow keys);
- nothing happens while the focus is in a text field, number field, select box, slider,
  radio button or toggle (there the keys keep their usual meaning), with Ctrl/Alt/Meta
  held, on pages without the buttons, or for space on a focused button (the browser
  presses that button itself);
- exactly one listener is active: it is kept on the parent window (``__igmetaStepKeys``)
  and the script replaces it when it runs again. A plain "installed" flag is not enough,
  because the listener lives in the frame, and a browser stops running it once Streamlit
  removes the frame (after a visit to another page); the new frame then takes over.
"""

from __future__ import annotations

import json
import re

import streamlit as st

__all__ = ["NEXT_KEYS", "PREVIOUS_KEYS", "step_keys", "step_keys_script"]

#: ``KeyboardEvent.key`` values that go one step forward / back.
NEXT_KEYS = ("ArrowRight", "PageDown", " ")
PREVIOUS_KEYS = ("ArrowLeft", "PageUp")
_WIDGET_KEY = re.compile(r"[A-Za-z0-9_-]+")

_SCRIPT = """<script>
(function () {
  const win = window.parent;
  const doc = win.document;
  const cfg = %(config)s;
  const editable = 'input, textarea, select, [contenteditable=""], [contenteditable="true"], '
    + '[role="combobox"], [role="listbox"], [role="option"], [role="slider"], '
    + '[role="spinbutton"], [role="radio"], [role="switch"], [role="textbox"]';
  function button(key) {
    return doc.querySelector('.st-key-' + key + ' button');
  }
  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
    const forward = cfg.next_keys.includes(event.key);
    if (!forward && !cfg.previous_keys.includes(event.key)) return;
    if (!button(cfg.next) && !button(cfg.previous)) return;
    const active = doc.activeElement;
    if (active && active.closest && active.closest(editable)) return;
    if (event.key === ' ' && active && active.closest
        && active.closest('button, a, summary, [role="button"]')) return;
    event.preventDefault();
    const target = button(forward ? cfg.next : cfg.previous);
    if (target && !target.disabled) target.click();
  }
  if (win.__igmetaStepKeys) doc.removeEventListener('keydown', win.__igmetaStepKeys);
  win.__igmetaStepKeys = onKey;
  doc.addEventListener('keydown', onKey);
})();
</script>"""


def step_keys_script(previous_key: str, next_key: str) -> str:
    """The HTML of the listener for the buttons with widget keys ``previous_key`` and
    ``next_key`` (letters, digits, ``_`` and ``-`` only: they go into a CSS selector)."""
    for key in (previous_key, next_key):
        if not _WIDGET_KEY.fullmatch(key):
            raise ValueError(f"widget key {key!r} cannot be used in a CSS selector")
    config = json.dumps(
        {
            "previous": previous_key,
            "next": next_key,
            "next_keys": list(NEXT_KEYS),
            "previous_keys": list(PREVIOUS_KEYS),
        }
    )
    return _SCRIPT % {"config": config}


def hidden_holder_css(holder: str) -> str:
    """A style sheet that hides the container keyed ``holder`` (a widget key of ours:
    letters, digits, ``_`` and ``-`` only, refused otherwise)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", holder):
        raise ValueError(f"not a container key: {holder!r}")
    return f"<style>.st-key-{holder}, div:has(> .st-key-{holder}) {{ display: none; }}</style>"


def step_keys(previous_key: str, next_key: str) -> None:
    """Let the arrow keys, PageUp/PageDown and space press the two buttons (see the module
    docstring)."""
    holder = f"{next_key}_keys"
    # The frame shows nothing; hidden, it takes no room (its script still runs).
    st.html(hidden_holder_css(holder))
    with st.container(key=holder):
        st.iframe(step_keys_script(previous_key, next_key), height="content")
