"""Style sheets of presenter mode: projector-sized type and the light or dark theme.

Constant CSS only (no user text is ever placed in it). Sizes use ``clamp()`` with ``cqi``
units: the page's main column is a CSS size container, so type grows with the width of
the column (not of the window, which includes the sidebar) between a floor readable at
1024 px and a ceiling for 4K screens. The same container queries show the one figure
variant of :data:`igmeta.app.outputs.presenter.SCREEN_BANDS` that was laid out for the column's
width.
"""

from __future__ import annotations

from igmeta.app.outputs.presenter import SCREEN_BANDS, ScreenBand

__all__ = ["BAND_CLASS_PREFIX", "band_key", "stylesheet"]

#: Widget-key prefix of the containers holding one figure variant per screen band.
BAND_CLASS_PREFIX = "present_band_"

_MAIN = '[data-testid="stMain"]'
_BLOCK = '[data-testid="stMainBlockContainer"]'

_LAYOUT_CSS = f"""
{_BLOCK} {{ container-type: inline-size; padding-left: clamp(1rem, 2.5vw, 5rem);
  padding-right: clamp(1rem, 2.5vw, 5rem); padding-top: 4rem; }}
.st-key-{{prefix}}present_indicator {{ min-width: min(100%, 16rem); }}
{_MAIN} [data-testid="stMarkdownContainer"] p, {_MAIN} [data-testid="stMarkdownContainer"] li {{
  font-size: clamp(1.2rem, 1.45cqi, 3.4rem); line-height: 1.45; }}
{_MAIN} h1 {{ font-size: clamp(2rem, 2.8cqi, 6rem); }}
{_MAIN} [data-testid="stCaptionContainer"] p {{ font-size: clamp(1rem, 1.1cqi, 2.6rem); }}
{_MAIN} button p {{ font-size: clamp(1.1rem, 1.3cqi, 3rem); }}
{_MAIN} [data-testid="stWidgetLabel"] p {{ font-size: clamp(0.95rem, 1cqi, 2.2rem); }}
{_MAIN} summary p {{ font-size: clamp(1rem, 1.2cqi, 2.6rem); }}
@media (min-width: 2400px) {{ [data-testid="stSidebar"] {{ zoom: 1.6; }} }}
@media (min-width: 3200px) {{ [data-testid="stSidebar"] {{ zoom: 2; }} }}
.igp-headline {{ display: flex; flex-wrap: wrap; gap: clamp(0.5rem, 1cqi, 2.5rem);
  margin: 0.25rem 0 0.5rem 0; }}
.igp-card {{ flex: 1 1 auto; min-width: min-content; box-sizing: border-box;
  border: 2px solid currentColor; border-radius: clamp(8px, 0.6cqi, 20px);
  padding: clamp(0.35rem, 0.7cqi, 1.6rem) clamp(0.6rem, 1.1cqi, 2.6rem); }}
.igp-card-estimate, .igp-card-nnt {{ flex-grow: 3; }}
.igp-label {{ font-size: clamp(0.95rem, 1.25cqi, 3rem); line-height: 1.3;
  overflow-wrap: anywhere; }}
.igp-value {{ font-size: clamp(1.5rem, 2.7cqi, 6.5rem); font-weight: 700; line-height: 1.15; }}
.igp-main, .igp-detail {{ display: inline-block; white-space: nowrap; }}
.igp-detail {{ font-size: 0.72em; font-weight: 600; }}
"""

_LIGHT_CSS = f"""
.stApp, [data-testid="stAppViewContainer"], {_MAIN}, [data-testid="stHeader"] {{
  background-color: #FFFFFF; }}
{_MAIN}, .igp-card {{ color: #000000; }}
"""

_DARK_BG, _DARK_PANEL, _DARK_FIELD = "#0B0B0B", "#141414", "#1F1F1F"
_DARK_TEXT, _DARK_LINE, _ACCENT = "#F5F5F5", "#8C8C8C", "#E69F00"
_DARK_CSS = f"""
.stApp, [data-testid="stAppViewContainer"], {_MAIN}, [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stBottomBlockContainer"] {{
  background-color: {_DARK_BG} !important; color: {_DARK_TEXT} !important; }}
[data-testid="stSidebar"], [data-testid="stSidebar"] > div,
[data-testid="stSidebarContent"], [data-testid="stSidebarHeader"],
[data-testid="stSidebarUserContent"] {{ background-color: {_DARK_PANEL} !important; }}
[data-testid="stDecoration"] {{ background-image: none !important;
  background-color: {_DARK_BG} !important; }}
.stApp :is(p, li, span, label, h1, h2, h3, h4, h5, h6, summary, small, strong, em, a,
  [data-testid="stMarkdownContainer"], [data-testid="stWidgetLabel"],
  [data-testid="stCaptionContainer"], [data-testid="stSidebarNavLink"]) {{
  color: {_DARK_TEXT} !important; }}
.stApp svg:not(.main-svg):not(.main-svg *) {{ color: {_DARK_TEXT}; fill: currentColor; }}
.stApp [data-testid="stSidebarNavLink"]:hover,
.stApp [data-testid="stSidebarNavLink"][aria-current="page"] {{
  background-color: {_DARK_FIELD} !important; }}
.stApp :is([data-baseweb="select"] > div, [data-baseweb="input"], [data-baseweb="base-input"],
  [data-baseweb="textarea"], input, textarea, [data-testid="stNumberInputContainer"],
  :is([data-testid="stMultiSelect"], [data-testid="stSelectbox"]) div[role="group"],
  [data-testid="stExpander"] details, [data-testid="stExpander"] summary) {{
  background-color: {_DARK_FIELD} !important; color: {_DARK_TEXT} !important;
  border-color: {_DARK_LINE} !important; }}
.stApp :is([data-testid="stMultiSelect"], [data-testid="stSelectbox"]) :is(button, input) {{
  background-color: transparent !important; border-color: transparent !important; }}
.stApp [data-testid="stExpander"] details {{ background-color: {_DARK_PANEL} !important; }}
.stApp [data-baseweb="tag"] {{ background-color: #3A2A00 !important;
  border: 1px solid {_ACCENT} !important; }}
[data-baseweb="popover"] :is(ul, li, div[role="listbox"], div[role="option"]) {{
  background-color: {_DARK_FIELD} !important; color: {_DARK_TEXT} !important; }}
[data-baseweb="popover"] li:hover, [data-baseweb="popover"] [aria-selected="true"] {{
  background-color: #333333 !important; }}
.stApp button {{ background-color: {_DARK_FIELD} !important; color: {_DARK_TEXT} !important;
  border-color: {_DARK_LINE} !important; }}
.stApp button:disabled {{ opacity: 0.55; }}
.stApp button[kind="primary"], .stApp button[kind="primary"] :is(p, span) {{
  background-color: {_ACCENT} !important; color: #000000 !important;
  border-color: {_ACCENT} !important; }}
.stApp [data-testid="stAlertContainer"] {{ background-color: #2B2100 !important;
  border: 1px solid {_ACCENT}; }}
.stApp [data-testid="stAlertContainer"] :is(p, svg) {{ color: #FFE7A8 !important; }}
.stApp [data-testid="stCode"] pre {{ background-color: {_DARK_PANEL} !important; }}
.stApp [data-testid="stCode"] code, .stApp [data-testid="stCode"] code span {{
  color: {_DARK_TEXT} !important; }}
.igp-card {{ color: {_DARK_TEXT}; background-color: {_DARK_PANEL}; }}
"""


def band_key(band: ScreenBand, figure: str) -> str:
    """Widget key (without the page prefix) of the container of ``figure`` for ``band``."""
    return f"{BAND_CLASS_PREFIX}{band.name}_{figure}"


def _band_css(prefix: str) -> str:
    """Show only the figure variants of the band that contains the column's width."""
    rules = []
    for i, band in enumerate(SCREEN_BANDS):
        query = [f"(min-width: {band.min_width_px}px)"] if band.min_width_px else []
        if i + 1 < len(SCREEN_BANDS):
            query.append(f"(max-width: {SCREEN_BANDS[i + 1].min_width_px - 0.02:.2f}px)")
        hidden = (
            f'[class*="st-key-{prefix}{BAND_CLASS_PREFIX}"]'
            f':not([class*="st-key-{prefix}{BAND_CLASS_PREFIX}{band.name}_"])'
        )
        # The container and the layout wrapper Streamlit puts around it (no gap left).
        rules.append(
            f"@container {' and '.join(query)} {{ "
            f":is({hidden}, div:has(> {hidden})) {{ display: none !important; }} }}"
        )
    return "\n".join(rules)


def stylesheet(theme: str, key_prefix: str) -> str:
    """The presenter's ``<style>`` element for ``theme`` ("light" or "dark");
    ``key_prefix`` is the page's widget-key prefix (for the figure containers)."""
    colours = _DARK_CSS if theme == "dark" else _LIGHT_CSS
    layout = _LAYOUT_CSS.replace("{prefix}", key_prefix)
    return f"<style>{layout}{colours}{_band_css(key_prefix)}</style>"
