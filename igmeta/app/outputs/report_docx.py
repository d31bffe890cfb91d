"""The report of one analysis as a Word document (.docx).

Same content as the HTML report -- both render
:func:`igmeta.app.outputs.report_content.report_content`
-- with the forest and funnel plots as PNG images (rendered by :mod:`igmeta.app.outputs.exports` in
the system Chromium; without a renderer the document says so where the figure would be),
tables as Word tables, the methods paragraph with its references, the provenance notes
and the R script in a monospace block.

Written with python-docx (optional: the ``export`` extra). All user text (study names,
column names, titles, source) goes into text runs, where Word shows it literally: it can
never become a field code (``{ MERGEFIELD }``, ``=HYPERLINK(...)``), a hyperlink or XML.
Characters that XML cannot hold (control characters other than tab and line feed) are
shown as U+FFFD.
"""

from __future__ import annotations

import io
import re

import pandas as pd

from igmeta._optional import MissingOptionalDependency, import_optional
from igmeta.app.outputs.exports import (
    FIGURE_DEFAULT_HEIGHT,
    FIGURE_DEFAULT_WIDTH,
    ExportError,
    figures_bytes,
)
from igmeta.app.outputs.report_content import (
    Block,
    Code,
    Figure,
    Heading,
    Metrics,
    Paragraph,
    References,
    ReportContent,
    Table,
    report_content,
)
from igmeta.app.pipeline.analysis import AnalysisSettings

__all__ = ["DOCX_MIME", "content_docx", "report_docx"]

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: Pixel density of the figure PNGs (the figure's own size times this).
FIGURE_SCALE = 2
#: Tallest figure on a page (inches), so a long forest plot still fits one page.
MAX_FIGURE_HEIGHT_IN = 8.5
#: Figures wider than this (px) and tables with more columns get a landscape page.
WIDE_FIGURE_PX = 1100
WIDE_TABLE_COLUMNS = 7
_MONOSPACE = "Courier New"
_WARNING_RGB = (0xA8, 0x45, 0x00)
_NOTE_RGB = (0x1F, 0x3A, 0x5F)
_META_RGB = (0x44, 0x44, 0x44)
# XML 1.0 cannot hold these (tab, line feed and carriage return are allowed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _docx():
    return import_optional("docx", "export", "The Word report")


def _plain(text: str) -> str:
    """``text`` with the characters XML cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


class _Writer:
    """Renders report blocks into one python-docx Document."""

    def __init__(self, figures: dict[str, bytes | str]) -> None:
        docx = _docx()
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt, RGBColor

        self._align_right = WD_ALIGN_PARAGRAPH.RIGHT
        self._pt = Pt
        self._rgb = RGBColor
        self.doc = docx.Document()
        self._figures = figures
        style = self.doc.styles["Normal"]
        style.font.name = "Arial"
        style.font.size = Pt(10.5)

    # -- text -------------------------------------------------------------------------

    def _run(self, paragraph, text: str, *, bold=False, italic=False, size=None, rgb=None):
        run = paragraph.add_run(_plain(text))  # a text run: never a field, link or markup
        run.bold = bold or None
        run.italic = italic or None
        if size is not None:
            run.font.size = self._pt(size)
        if rgb is not None:
            run.font.color.rgb = self._rgb(*rgb)
        return run

    def heading(self, block: Heading) -> None:
        # Level 1 is the title; report sections are Word's Heading 1, subsections Heading 2.
        paragraph = self.doc.add_heading("", level=0 if block.level == 1 else block.level - 1)
        self._run(paragraph, block.text)

    def paragraph(self, block: Paragraph) -> None:
        paragraph = self.doc.add_paragraph()
        if block.kind == "warning":
            self._run(paragraph, "Warning: ", bold=True, rgb=_WARNING_RGB)
            self._run(paragraph, block.text, rgb=_WARNING_RGB)
        elif block.kind == "note":
            self._run(paragraph, block.text, rgb=_NOTE_RGB)
        elif block.kind == "meta":
            self._run(paragraph, block.text, size=9, rgb=_META_RGB)
        else:
            self._run(paragraph, block.text)
        if block.kind in ("warning", "note"):
            paragraph.paragraph_format.left_indent = self._pt(12)

    def references(self, block: References) -> None:
        for reference in block.items:
            self._run(self.doc.add_paragraph(style="List Number"), reference, size=9.5)

    def code(self, block: Code) -> None:
        self._run(self.doc.add_paragraph(), block.title, bold=True)
        # python-docx writes each line feed as a line break and each tab as a tab.
        run = self._run(self.doc.add_paragraph(), block.text, size=8)
        run.font.name = _MONOSPACE

    # -- tables -----------------------------------------------------------------------

    def _grid(self, rows: list[list[tuple[str, bool]]], header: tuple[str, ...] | None):
        n_cols = len(header) if header else len(rows[0])
        size = 10 if n_cols <= 4 else 9 if n_cols <= 7 else 7.5
        table = self.doc.add_table(rows=0, cols=n_cols)
        table.style = "Table Grid"
        if header:
            cells = table.add_row().cells
            for cell, text in zip(cells, header, strict=True):
                self._run(cell.paragraphs[0], text, bold=True, size=size)
            self._repeat_header(table.rows[0])
        for row in rows:
            cells = table.add_row().cells
            for cell, (text, numeric) in zip(cells, row, strict=True):
                paragraph = cell.paragraphs[0]
                self._run(paragraph, text, size=size)
                if numeric:
                    paragraph.alignment = self._align_right
        self.doc.add_paragraph()
        return table

    @staticmethod
    def _repeat_header(row) -> None:
        from docx.oxml import OxmlElement

        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:tblHeader"))

    def table(self, block: Table) -> None:
        if not block.rows:
            self._run(self.doc.add_paragraph(), "(none)")
            return
        self._grid([[(c.text, c.numeric) for c in row] for row in block.rows], block.headers)

    def metrics(self, block: Metrics) -> None:
        table = self._grid([[(label, False), (value, False)] for label, value in block.items], None)
        for row in table.rows:
            for run in row.cells[1].paragraphs[0].runs:
                run.bold = True

    # -- figures ----------------------------------------------------------------------

    def figure(self, block: Figure) -> None:
        from docx.shared import Emu, Inches

        image = self._figures.get(block.name)
        if not isinstance(image, bytes):
            self.paragraph(
                Paragraph(
                    f"The {block.name} plot is not shown here: {image or 'it was not drawn'} "
                    "The HTML report holds it as an interactive figure.",
                    "note",
                )
            )
            return
        section = self.doc.sections[-1]
        text_width = Emu(section.page_width - section.left_margin - section.right_margin)
        fig_width, fig_height = _figure_size(block.figure)
        aspect = fig_height / fig_width
        width = min(text_width.inches, MAX_FIGURE_HEIGHT_IN / aspect)
        shape = self.doc.add_picture(io.BytesIO(image), width=Inches(width))
        shape._inline.docPr.set("descr", f"{block.name.title()} plot")

    # -- document ---------------------------------------------------------------------

    def orient(self, landscape: bool) -> None:
        """Start a new page in landscape (or portrait) unless the page already is."""
        from docx.enum.section import WD_ORIENT, WD_SECTION

        section = self.doc.sections[-1]
        if (section.orientation == WD_ORIENT.LANDSCAPE) == landscape:
            return
        new = self.doc.add_section(WD_SECTION.NEW_PAGE)
        new.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        new.page_width, new.page_height = section.page_height, section.page_width

    def add(self, block: Block) -> None:
        render = {
            Heading: self.heading,
            Paragraph: self.paragraph,
            Metrics: self.metrics,
            Table: self.table,
            Figure: self.figure,
            References: self.references,
            Code: self.code,
        }.get(type(block))
        if render is None:
            raise TypeError(f"Unknown report block {type(block).__name__}")
        render(block)


def _is_wide(block: Block) -> bool:
    if isinstance(block, Figure):
        return _figure_size(block.figure)[0] > WIDE_FIGURE_PX
    return isinstance(block, Table) and len(block.headers) > WIDE_TABLE_COLUMNS


def _figure_size(fig) -> tuple[int, int]:
    return int(fig.layout.width or FIGURE_DEFAULT_WIDTH), int(
        fig.layout.height or FIGURE_DEFAULT_HEIGHT
    )


def _render_figures(content: ReportContent) -> dict[str, bytes | str]:
    """PNG bytes of each figure at its own size, or the reason it could not be rendered."""
    out: dict[str, bytes | str] = {}
    for block in content.blocks:
        if not isinstance(block, Figure):
            continue
        width, height = _figure_size(block.figure)
        try:
            out[block.name] = figures_bytes(
                {block.name: block.figure},
                ("png",),
                width=width,
                height=height,
                scale=FIGURE_SCALE,
            )[(block.name, "png")]
        except (ExportError, MissingOptionalDependency) as exc:
            out[block.name] = str(exc)
    return out


def content_docx(content: ReportContent) -> bytes:
    """Render report ``content`` as .docx bytes (see :func:`report_docx`)."""
    writer = _Writer(_render_figures(content))
    properties = writer.doc.core_properties
    properties.title = _plain(content.title)
    properties.author = "igmeta"
    properties.last_modified_by = "igmeta"
    properties.comments = ""
    blocks = content.blocks
    for i, block in enumerate(blocks):
        if isinstance(block, Heading) and block.level == 2:
            # A section whose first content is a wide figure or table gets landscape pages.
            writer.orient(i + 1 < len(blocks) and _is_wide(blocks[i + 1]))
        writer.add(block)
    buffer = io.BytesIO()
    writer.doc.save(buffer)
    return buffer.getvalue()


def report_docx(table: pd.DataFrame, settings: AnalysisSettings, **options) -> bytes:
    """The analysis as a Word document, with the content of the HTML report.

    Parameters
    ----------
    table : DataFrame
        The study table.
    settings : AnalysisSettings
    **options
        ``bundle``, ``title``, ``source``, ``scenario_name``, ``link``, ``baseline_risk``,
        ``event_is_good`` and ``generated_at``, as in
        :func:`igmeta.app.outputs.report_content.report_content`.

    Returns
    -------
    bytes
        The .docx file (:data:`DOCX_MIME`).

    Raises
    ------
    MissingOptionalDependency
        When python-docx is not installed (``pip install 'igmeta[export]'``).

    Notes
    -----
    Figures are rendered at their own size times :data:`FIGURE_SCALE` and scaled to the
    text width (at most :data:`MAX_FIGURE_HEIGHT_IN` inches tall). When Chromium or
    kaleido is missing the report is still written, with a note in place of each figure.
    """
    _docx()  # a clear message before any work when python-docx is missing
    return content_docx(report_content(table, settings, **options))
