"""Exports of one analysis: figures as PNG/SVG/PDF, result tables as CSV/Excel.

Figures are rendered by kaleido (1.x) in the system Chromium -- Debian's ``chromium`` at
``/usr/bin/chromium``, or the browser named by ``$BROWSER_PATH`` -- with plotly.js from the
installed plotly package and MathJax disabled, so an export never downloads anything (a
browser, plotly.js or MathJax). Tables are written with :mod:`igmeta.app.outputs.safe_export`, so
study names cannot become spreadsheet formulas.

Static PNGs default to slide size: 1920 x 1080 px (16:9) at scale 1, with text and markers
enlarged (:func:`enlarge_figure`) to fill the slide; a figure taller than that (a forest
plot of many studies) keeps its own height. SVG and PDF keep the figure's own size.

Starting Chromium and loading plotly.js into it takes most of an export's time, so one
renderer (one Chromium with two kaleido tabs, on an event loop in a daemon thread) is
started on the first export and kept for later ones; it closes itself after
:data:`RENDERER_IDLE_S` seconds without an export (a headless Chromium holds some 100-200
MB) and is restarted after any failure.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import math
import os
import shutil
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import plotly
import plotly.graph_objects as go

from igmeta._optional import import_optional
from igmeta.app.outputs.safe_export import to_excel_bytes, to_safe_csv_bytes
from igmeta.app.outputs.tables import (
    MAX_DRAWN_STUDIES,
    ForestLabels,
    display_scale,
    drawn_forest_rows,
    forest_footer,
    forest_frame,
    result_summary_frame,
    subgroup_frame,
)
from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.app.store.scenarios import describe_settings
from igmeta.bias import funnel_frame
from igmeta.effects import measure_info
from igmeta.plots import forest_spec, funnel_figure
from igmeta.plots.forest import MIN_PLOT_PX, TextColumn
from igmeta.plots.risk_of_bias import add_rob_block, block_px
from igmeta.risk_of_bias import table_tools

__all__ = [
    "FIGURE_FORMATS",
    "SLIDE_HEIGHT",
    "SLIDE_WIDTH",
    "ExportError",
    "analysis_figures",
    "browser_path",
    "enlarge_figure",
    "figure_bytes",
    "figures_bytes",
    "forest_for",
    "funnel_for",
    "prepare_renderer",
    "result_tables",
    "slide_factor",
    "tables_csv",
    "tables_excel",
]

#: Static formats and their MIME types.
FIGURE_FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
SLIDE_WIDTH = 1920
SLIDE_HEIGHT = 1080
#: plotly's size for figures without an explicit one.
FIGURE_DEFAULT_WIDTH = 700
FIGURE_DEFAULT_HEIGHT = 450
#: Seconds allowed to render one figure.
RENDER_TIMEOUT_S = 90
#: Figures rendered at once (kaleido tabs of the one Chromium).
RENDER_TABS = 2
#: The renderer's Chromium is closed after this many seconds without an export.
RENDERER_IDLE_S = 300.0
_BROWSER_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


class ExportError(RuntimeError):
    """A figure could not be rendered (message in plain words)."""


# --------------------------------------------------------------------------- figures


def forest_for(
    bundle: AnalysisBundle,
    table: pd.DataFrame,
    *,
    theme: str = "light",
    highlight: str | None = None,
    title: str | None = None,
    labels: ForestLabels | None = None,
    max_studies: int = MAX_DRAWN_STUDIES,
    width_px: int | None = None,
    text_columns: Sequence[TextColumn | tuple[str, str]] | None = None,
    overall_label: str | None = None,
    as_spec: bool = False,
) -> go.Figure | dict | None:
    """The forest plot of an analysis (None without a result).

    Arm columns under the ``labels``' arm names, "Favours" labels (comparisons only),
    the heterogeneity / overall-effect footer, and at most ``max_studies`` studies drawn
    (see :func:`igmeta.app.outputs.tables.drawn_forest_rows`); ``width_px`` and ``text_columns`` as
    in
    :func:`igmeta.plots.forest_figure` (default: all columns); ``overall_label`` replaces
    the label of the overall row (which names the model) for narrow screens. With
    ``as_spec`` the plain spec of :func:`igmeta.plots.forest_spec` is returned instead of
    a Figure (what the dashboard caches and hands to Streamlit without validation). A
    table with risk-of-bias columns gets the risk-of-bias block right of the forest
    (:func:`igmeta.plots.risk_of_bias.add_rob_block`).
    """
    if bundle.result is None:
        return None
    _, log_axis, null = display_scale(bundle)
    frame, notes = drawn_forest_rows(forest_frame(bundle, table), max_studies)
    if overall_label is not None:
        frame.loc[frame["row_type"] == "overall", "label"] = overall_label
    labels = labels or ForestLabels()
    settings = bundle.settings
    label = measure_info(settings.measure).label
    comparison = settings.analysis not in ("single_arm", "correlation")
    tools = table_tools(table)
    if tools and width_px is not None:
        # Plan the forest narrower by the risk-of-bias block, which then fills the width.
        width_px = max(int(width_px - block_px(tools[0])), 1)
    spec = forest_spec(
        frame,
        log_scale=log_axis,
        null_value=None if not np.isfinite(null) else null,
        x_label=label,
        show_prediction=settings.show_prediction,
        theme=theme,
        highlight=highlight,
        title=title,
        arm_names=(labels.treatment, labels.control),
        estimate_header=f"{_short_measure(settings.measure)} [{100 * settings.level:g}% CI]",
        favours_left=labels.favours_left if comparison else "",
        favours_right=labels.favours_right if comparison else "",
        footer=forest_footer(bundle),
        notes=notes,
        width_px=width_px,
        text_columns=text_columns,
    )
    if tools:
        _risk_of_bias_block(spec, bundle, table, tools[0], theme, planned=width_px is not None)
    return spec if as_spec else go.Figure(spec, _validate=False)


def _risk_of_bias_block(
    spec: dict, bundle: AnalysisBundle, table: pd.DataFrame, tool, theme: str, planned: bool
) -> None:
    """The risk-of-bias columns right of the forest (the table's first tool, RoB 2 first)."""
    ids = [str(position) for position in range(len(table))]
    present = [column for column in tool.columns if column in table.columns]
    judged = table.loc[:, present].set_axis(ids, axis=0)
    labels = pd.Series(bundle.validation.labels, index=ids)
    least = math.inf if planned else MIN_PLOT_PX
    add_rob_block(spec, judged, tool, labels=labels, min_plot_px=least, theme=theme)


def _short_measure(measure: str) -> str:
    """Column-header name of a measure: "Risk ratio", "SMD", "Proportion"."""
    return {"SMD": "SMD (Hedges' g)", "ZCOR": "Correlation"}.get(
        measure, measure_info(measure).label.split(" (")[0]
    )


def funnel_for(
    bundle: AnalysisBundle, *, theme: str = "light", title: str | None = None
) -> go.Figure | None:
    """The contour-enhanced funnel plot of an analysis (None without a result)."""
    res = bundle.result
    if res is None:
        return None
    points = funnel_frame(res)
    if points.empty:
        return None
    _, log_axis, null = display_scale(bundle)
    label = measure_info(res.measure if res.measure != "PETO" else "OR").label
    scale = " (log scale)" if log_axis else " (analysis scale)" if res.transform != "none" else ""
    return funnel_figure(
        points,
        center=res.estimate,
        log_scale=log_axis,
        contours=bool(np.isfinite(null)),
        theme=theme,
        x_label=f"{label}{scale}",
        title=title,
    )


def _scaled(value, factor: float):
    if value is None:
        return None
    if isinstance(value, int | float):
        return value * factor
    try:
        return [v * factor if isinstance(v, int | float) else v for v in value]
    except TypeError:
        return value


def enlarge_figure(fig: go.Figure, factor: float) -> go.Figure:
    """A copy of ``fig`` with every text, marker, line and the figure size scaled by
    ``factor`` (for projectors and slides); the layout's proportions stay the same."""
    if factor == 1:
        return go.Figure(fig)
    out = go.Figure(fig)
    layout = out.layout
    for trace in out.data:
        for attr in ("textfont", "marker", "line"):
            # Not every trace type has every part or property (a bar's marker has no size).
            part = trace[attr] if attr in trace else None  # noqa: SIM401 (no .get)
            if part is None:
                continue
            if attr in ("textfont", "marker") and "size" in part and part.size is not None:
                part.size = _scaled(part.size, factor)
            if attr == "marker" and "line" in part and part.line.width is not None:
                part.line.width = _scaled(part.line.width, factor)
            if attr == "line" and "width" in part and part.width is not None:
                part.width = _scaled(part.width, factor)
        if getattr(trace, "error_x", None) is not None and trace.error_x.thickness is not None:
            trace.error_x.thickness = trace.error_x.thickness * factor
        if getattr(trace, "hoverlabel", None) is not None and trace.hoverlabel.font.size:
            trace.hoverlabel.font.size = _scaled(trace.hoverlabel.font.size, factor)
    for annotation in layout.annotations or ():
        if annotation.font is not None and annotation.font.size is not None:
            annotation.font.size = annotation.font.size * factor
        for shift in ("xshift", "yshift"):
            if annotation[shift]:
                annotation[shift] = annotation[shift] * factor
    for shape in layout.shapes or ():
        if shape.line is not None and shape.line.width is not None:
            shape.line.width = shape.line.width * factor
    if layout.font.size:
        layout.font.size = layout.font.size * factor
    if layout.title.font.size:
        layout.title.font.size = layout.title.font.size * factor
    if layout.legend.font.size:
        layout.legend.font.size = layout.legend.font.size * factor
    for axis_name in [name for name in layout if name.startswith(("xaxis", "yaxis"))]:
        axis = layout[axis_name]
        if axis.tickfont.size:
            axis.tickfont.size = axis.tickfont.size * factor
        if axis.title.font.size:
            axis.title.font.size = axis.title.font.size * factor
        if axis.linewidth:
            axis.linewidth = axis.linewidth * factor
        if axis.ticklen:
            axis.ticklen = axis.ticklen * factor
    margin = layout.margin
    for side in ("l", "r", "t", "b"):
        if margin[side] is not None:
            margin[side] = margin[side] * factor
    if layout.width:
        layout.width = int(layout.width * factor)
    if layout.height:
        layout.height = int(layout.height * factor)
    return out


def slide_factor(
    fig: go.Figure, width: int = SLIDE_WIDTH, height: int = SLIDE_HEIGHT, most: float = 1.6
) -> float:
    """How much ``fig`` can be enlarged to fill a ``width`` x ``height`` slide."""
    own_w = fig.layout.width or FIGURE_DEFAULT_WIDTH
    own_h = fig.layout.height or FIGURE_DEFAULT_HEIGHT
    return max(1.0, min(most, width / own_w, height / own_h))


def analysis_figures(
    bundle: AnalysisBundle, table: pd.DataFrame, *, theme: str = "light"
) -> dict[str, go.Figure]:
    """``{"forest": ..., "funnel": ...}`` for the analysis (missing figures left out)."""
    figures = {
        "forest": forest_for(bundle, table, theme=theme),
        "funnel": funnel_for(bundle, theme=theme),
    }
    return {name: fig for name, fig in figures.items() if fig is not None}


# --------------------------------------------------------------------------- rendering


def browser_path() -> str:
    """The Chromium used for static export: ``$BROWSER_PATH``, else Debian's chromium.

    Raises
    ------
    ExportError
        When no browser is installed (nothing is ever downloaded).
    """
    configured = os.environ.get("BROWSER_PATH", "").strip()
    if configured:
        if Path(configured).is_file():
            return configured
        raise ExportError(
            f"BROWSER_PATH={configured!r} is not a file. Install Debian's "
            "'chromium' package or point BROWSER_PATH to a Chromium."
        )
    for candidate in _BROWSER_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    raise ExportError(
        "Static image export needs Chromium (Debian package 'chromium'); "
        "none was found. The HTML report and CSV/Excel exports still work."
    )


def _plotly_js() -> str:
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():  # pragma: no cover - broken plotly install
        raise ExportError("plotly.js is missing from the plotly package.")
    return str(path)


def _size(fig: go.Figure, fmt: str, width: int | None, height: int | None) -> tuple[int, int]:
    own_w = fig.layout.width or SLIDE_WIDTH
    own_h = fig.layout.height or SLIDE_HEIGHT
    if fmt == "png":
        w = width or SLIDE_WIDTH
        h = height or max(SLIDE_HEIGHT, int(own_h))
        return int(w), int(h)
    return int(width or own_w), int(height or own_h)


class _Renderer:
    """One kaleido Chromium kept open between exports (see the module docstring).

    Jobs from any thread are run on the renderer's own event loop; kaleido hands them to
    its :data:`RENDER_TABS` tabs. A failed render closes the browser, so the next export
    starts a fresh one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido = None
        self._idle: asyncio.TimerHandle | None = None
        self._busy = 0
        # One browser start at a time: a warm-up and an export (or two warm-ups from page
        # reruns) must not each start a Chromium, one of which would never be closed.
        self._starting = asyncio.Lock()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="igmeta-export", daemon=True).start()
            self._loop = loop
        return self._loop

    async def _browser(self):
        async with self._starting:
            return await self._started_browser()

    async def _started_browser(self):
        if self._kaleido is None:
            try:
                kaleido = import_optional("kaleido", "export", "PNG/SVG/PDF export")
            except ImportError as exc:
                raise ExportError(str(exc)) from exc
            browser = kaleido.Kaleido(
                n=RENDER_TABS,
                timeout=RENDER_TIMEOUT_S,
                plotlyjs=_plotly_js(),
                mathjax=False,
                path=browser_path(),
            )
            await browser.__aenter__()
            self._kaleido = browser
        return self._kaleido

    async def _close(self) -> None:
        browser, self._kaleido = self._kaleido, None
        if browser is not None:
            with contextlib.suppress(Exception):  # a broken browser is dropped anyway
                await browser.__aexit__(None, None, None)

    def _close_if_idle(self) -> None:
        if self._busy == 0:
            asyncio.ensure_future(self._close())

    def _close_later(self) -> None:
        """(Re)start the idle timer: the browser closes after RENDERER_IDLE_S unused."""
        if self._idle is not None:
            self._idle.cancel()
        loop = asyncio.get_running_loop()
        self._idle = loop.call_later(RENDERER_IDLE_S, self._close_if_idle)

    async def _render(self, jobs: list[tuple[go.Figure, dict]]) -> list[bytes]:
        self._busy += 1
        if self._idle is not None:
            self._idle.cancel()
        try:
            browser = await self._browser()
            return list(
                await asyncio.gather(*(browser.calc_fig(fig, opts=opts) for fig, opts in jobs))
            )
        except BaseException:
            await self._close()
            raise
        finally:
            self._busy -= 1
            self._close_later()

    def render(self, jobs: list[tuple[go.Figure, dict]]) -> list[bytes]:
        """Render ``jobs`` (figure, kaleido options) and return their bytes in order."""
        with self._lock:
            loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(self._render(jobs), loop)
        try:
            return future.result(timeout=RENDER_TIMEOUT_S * max(len(jobs), 1) + 30)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    async def _warm(self) -> None:
        started = self._kaleido is None
        try:
            browser = await self._browser()
            if started and self._busy == 0:
                # The first figure of a new browser also loads plotly.js into its tabs.
                await browser.calc_fig(go.Figure(), opts={"format": "png"})
        except Exception:  # noqa: BLE001 - the next export starts afresh and says why
            await self._close()
            return
        if self._busy == 0:
            self._close_later()

    def warm_up(self) -> None:
        """Start the browser in the background (without waiting) if it is not running."""
        with self._lock:
            loop = self._ensure_loop()
        asyncio.run_coroutine_threadsafe(self._warm(), loop)

    def close(self) -> None:
        """Close the browser now (it is started again by the next export)."""
        with self._lock:
            loop = self._loop
        if loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(timeout=30)


_RENDERER = _Renderer()
atexit.register(_RENDERER.close)


def prepare_renderer() -> None:
    """Start the export renderer's browser in the background, if it is not running.

    A page that offers figure downloads calls this when it is drawn, so that the user's
    first click does not also wait for Chromium to start and load plotly.js (about five
    seconds on a small server). It returns at once; a renderer left unused closes after
    :data:`RENDERER_IDLE_S` seconds.
    """
    _RENDERER.warm_up()


def figures_bytes(
    figures: Mapping[str, go.Figure],
    formats=("png", "svg", "pdf"),
    *,
    width: int | None = None,
    height: int | None = None,
    scale: float = 1.0,
) -> dict[tuple[str, str], bytes]:
    """Render several figures in several formats with one Chromium.

    Parameters
    ----------
    figures : mapping of name -> Figure
    formats : iterable of {"png", "svg", "pdf"}
    width, height : int, optional
        Pixel size; default 1920 x 1080 (at least the figure's own height) for PNG and the
        figure's own size for SVG/PDF.
    scale : float
        Pixel density multiplier for PNG.

    Returns
    -------
    dict
        ``(name, format) -> bytes``.

    Raises
    ------
    ExportError
        When Chromium is missing or rendering fails.
    """
    formats = tuple(formats)
    for fmt in formats:
        if fmt not in FIGURE_FORMATS:
            raise ExportError(f"Unknown figure format {fmt!r}.")
    keys, jobs = [], []
    for name, fig in figures.items():
        for fmt in formats:
            drawn = fig
            if fmt == "png" and width is None and height is None:
                drawn = enlarge_figure(fig, slide_factor(fig))  # slide-sized text
            w, h = _size(drawn, fmt, width, height)
            keys.append((name, fmt))
            jobs.append((drawn, {"format": fmt, "width": w, "height": h, "scale": scale}))
    if not jobs:
        return {}
    browser_path()  # fail early with a clear message
    try:
        results = _RENDERER.render(jobs)
    except ExportError:
        raise
    except Exception as exc:  # kaleido/choreographer raise many error types
        raise ExportError(
            f"The figure could not be rendered ({type(exc).__name__}: {exc})."
        ) from exc
    return dict(zip(keys, results, strict=True))


def figure_bytes(fig: go.Figure, fmt: str = "png", **options) -> bytes:
    """One figure as PNG, SVG or PDF bytes (see :func:`figures_bytes`)."""
    return figures_bytes({"figure": fig}, (fmt,), **options)[("figure", fmt)]


# --------------------------------------------------------------------------- tables


def _study_table(bundle: AnalysisBundle, table: pd.DataFrame) -> pd.DataFrame:
    frame = forest_frame(bundle, table)
    if frame.empty:
        return pd.DataFrame()
    rows = frame[frame["row_type"] == "study"]
    out = pd.DataFrame(
        {
            "study": rows["label"],
            "subgroup": rows["group"],
            "data": rows["counts_text"],
            "estimate": rows["estimate"],
            "ci_lower": rows["ci_lower"],
            "ci_upper": rows["ci_upper"],
            "weight_percent": rows["weight"],
            "included": rows["included"],
            "reconstructed": rows["flag"].eq("reconstructed"),
        }
    )
    return out.reset_index(drop=True)


def _subgroup_table(bundle: AnalysisBundle) -> pd.DataFrame:
    fits = subgroup_frame(bundle)
    if fits.empty:
        return fits
    test = bundle.subgroups.test
    difference = {
        "subgroup": f"Test for subgroup differences ({test.name})",
        "k": np.nan,
        "estimate": test.statistic,
        "ci_lower": np.nan,
        "ci_upper": np.nan,
        "pval": test.pval,
        "i2": np.nan,
        "tau2": np.nan,
    }
    out = pd.concat([fits, pd.DataFrame([difference])], ignore_index=True)
    return out.rename(columns={"pval": "p_value", "i2": "i2_percent"})


def result_tables(bundle: AnalysisBundle, table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The analysis as tables: ``results``, ``studies``, ``subgroups`` (if any),
    ``settings``, ``warnings`` and the input ``data``."""
    out: dict[str, pd.DataFrame] = {}
    summary = result_summary_frame(bundle)
    if bundle.result is not None:
        res = bundle.result
        bt = res.back_transformed()
        numbers = pd.DataFrame(
            {
                "quantity": [
                    "estimate",
                    "ci_lower",
                    "ci_upper",
                    "pi_lower",
                    "pi_upper",
                    "p_value",
                    "tau2",
                    "i2_percent",
                    "q",
                    "q_df",
                    "q_p_value",
                    "k",
                ],
                "value": [
                    bt["estimate"],
                    bt["ci_lower"],
                    bt["ci_upper"],
                    bt["pi_lower"],
                    bt["pi_upper"],
                    res.pval,
                    res.tau2,
                    res.i2,
                    res.q,
                    res.q_df,
                    res.q_pval,
                    res.k,
                ],
            }
        )
        summary = pd.concat(
            [
                summary.assign(kind="formatted"),
                numbers.assign(value=numbers["value"].astype(object), kind="number"),
            ],
            ignore_index=True,
        )
    out["results"] = summary
    studies = _study_table(bundle, table)
    if not studies.empty:
        out["studies"] = studies
    subgroups = _subgroup_table(bundle)
    if not subgroups.empty:
        out["subgroups"] = subgroups
    out["settings"] = pd.DataFrame(
        list(describe_settings(bundle.settings).items()), columns=["setting", "value"]
    )
    messages = list(bundle.warnings) + ([bundle.error] if bundle.error else [])
    out["warnings"] = pd.DataFrame({"warning": messages})
    out["data"] = table.reset_index(drop=True)
    return out


def tables_csv(bundle: AnalysisBundle, table: pd.DataFrame, which: str = "studies") -> bytes:
    """One of :func:`result_tables` as formula-safe CSV bytes."""
    tables = result_tables(bundle, table)
    return to_safe_csv_bytes(tables.get(which, pd.DataFrame()))


def tables_excel(bundle: AnalysisBundle, table: pd.DataFrame) -> bytes:
    """Every table of :func:`result_tables` as one formula-safe Excel workbook."""
    return to_excel_bytes(result_tables(bundle, table))
