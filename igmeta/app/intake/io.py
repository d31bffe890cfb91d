"""Reading uploaded study tables (CSV, TSV, Excel) without trusting them.

:func:`read_table` turns the bytes of an upload into a table of cells kept exactly as
typed (text stays text, Excel numbers stay numbers) plus plain-English messages. It never
raises on user data: a file it cannot read gives an empty frame and an ``"error"`` message.
:func:`parse_numbers` and :func:`to_numeric_frame` then read numbers out of those cells,
honouring a decimal comma, and record every cell that is missing or not a number.

Nothing here evaluates or unpickles anything; Excel formulas are read as their cached
values, never computed.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np
import pandas as pd

from igmeta._optional import import_optional

__all__ = [
    "DELIMITERS",
    "MAX_ROWS",
    "MAX_UNZIPPED_BYTES",
    "MAX_UPLOAD_BYTES",
    "MISSING_TOKENS",
    "ReadResult",
    "parse_numbers",
    "read_table",
    "to_numeric_frame",
    "too_large_message",
]

#: Largest upload accepted (bytes); bigger files are refused before parsing.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Largest number of data rows read; further rows are ignored with a warning.
MAX_ROWS = 200_000
#: Largest total uncompressed size of an Excel workbook (guards against zip bombs).
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
#: Delimiters considered for text files, in order of preference on ties.
DELIMITERS = (",", ";", "\t")
#: Cell texts (compared case-insensitively after stripping) that mean "no value".
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", ".", "-", "\u2013", "\u2014"})

_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls")
_TAB_SUFFIXES = (".tsv", ".tab")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_SNIFF_CHARS = 65_536
_SNIFF_RECORDS = 200
_HEADER_SEARCH_ROWS = 10
_DECIMAL_SAMPLE_ROWS = 2_000
_COMMA_DECIMAL = re.compile(r"\s*[+\-\u2212]?\d*,\d+\s*")
_DOT_DECIMAL = re.compile(r"\s*[+\-\u2212]?\d*\.\d+\s*")
_NUMBER_TEXT = re.compile(r"\s*[+\-\u2212]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?\s*")


@dataclass(frozen=True, slots=True)
class ReadResult:
    """A table read from an upload, with what happened on the way.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per data row, cells as typed (object dtype; text from CSV, Python values
        from Excel, ``""`` or ``None`` when blank). Empty when the file could not be read.
    messages : tuple of (str, str)
        ``(severity, text)`` pairs with severity ``"error"``, ``"warning"`` or ``"info"``.
    encoding : str or None
        Text encoding used (None for Excel or when nothing was decoded).
    delimiter : str or None
        Field delimiter of a text file (None for Excel).
    decimal : str
        ``","`` when numbers were typed with a decimal comma, else ``"."``.
    sheet_names : tuple of str
        Worksheets of an Excel workbook (empty for text files).
    sheet : str or None
        The worksheet that was read.
    """

    frame: pd.DataFrame
    messages: tuple[tuple[str, str], ...] = ()
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    sheet_names: tuple[str, ...] = ()
    sheet: str | None = None

    @property
    def ok(self) -> bool:
        """True when no message has severity ``"error"``."""
        return not any(severity == "error" for severity, _ in self.messages)


@dataclass(frozen=True, slots=True)
class _Records:
    """Non-blank records of a file: cells, the file row each starts on, blank rows between."""

    rows: list[list[object]]
    line_numbers: list[int]
    truncated: bool
    blank_rows: int


def too_large_message(size: int) -> str:
    """Why a file of ``size`` bytes (more than :data:`MAX_UPLOAD_BYTES`) was not read."""
    return (
        f"The file is {size / 2**20:.1f} MB, more than the "
        f"{MAX_UPLOAD_BYTES / 2**20:.0f} MB limit, so it was not read."
    )


def _failure(text: str, **fields: object) -> ReadResult:
    """An empty result carrying one error message."""
    return ReadResult(frame=pd.DataFrame(), messages=(("error", text),), **fields)


def read_table(
    data: bytes | bytearray | memoryview | None,
    filename: str | None,
    *,
    sheet: str | int | None = None,
) -> ReadResult:
    """Read an uploaded CSV, TSV or Excel file into a table of raw cells.

    Parameters
    ----------
    data : bytes
        The file content, e.g. ``uploaded_file.getvalue()`` from ``st.file_uploader``.
    filename : str
        The original file name; its extension is a hint (the content decides).
    sheet : str or int, optional
        Worksheet of an Excel file, by name or 0-based position. By default the first
        non-empty worksheet is read.

    Returns
    -------
    ReadResult
        The cells and messages. Never raises on user data: an unreadable file gives an
        empty frame and an error message.

    Notes
    -----
    Text encodings: UTF-8 (with or without BOM), UTF-16/32 with BOM, UTF-16 without BOM
    (detected from its zero bytes), then Windows-1252 and Latin-1 as fallbacks. The
    delimiter (comma, semicolon or tab) is the one that gives the most consistent number
    of fields per record. A decimal comma is assumed when the delimiter is not a comma and
    numbers such as ``12,5`` outnumber numbers such as ``12.5``.
    """
    try:
        return _read_table(data, filename, sheet)
    except Exception as exc:  # the last line of defence: user data must never crash the app
        return _failure(f"The file could not be read ({type(exc).__name__}: {exc}).")


def _read_table(data: object, filename: str | None, sheet: str | int | None) -> ReadResult:
    """:func:`read_table` without the safety net."""
    if not isinstance(data, bytes | bytearray | memoryview):
        return _failure("No file content was received.")
    payload = bytes(data)
    if len(payload) > MAX_UPLOAD_BYTES:
        return _failure(
            too_large_message(len(payload)) + " Remove unused sheets or columns, or split the file."
        )
    if not payload.strip():
        return _failure("The file is empty.")
    suffix = PurePath(str(filename or "")).suffix.lower()
    if payload.startswith(_ZIP_MAGIC):
        return _read_excel(payload, sheet)
    if payload.startswith(_OLE2_MAGIC):
        return _failure(
            "This is an old-style Excel file (.xls, Excel 97-2003), which cannot be read here. "
            "Open it in Excel or LibreOffice and save it as .xlsx or CSV."
        )
    if suffix in _EXCEL_SUFFIXES:
        return _failure(f"The file is named '{suffix}' but is not an Excel workbook.")
    return _read_text(payload, prefer_tab=suffix in _TAB_SUFFIXES)


# --------------------------------------------------------------------------- text files


def _decode(payload: bytes) -> tuple[str | None, str, list[tuple[str, str]]]:
    """Decode bytes: BOM, then UTF-16 without BOM, UTF-8, Windows-1252, Latin-1."""
    for bom, codec in _BOMS:
        if payload.startswith(bom):
            try:
                return payload.decode(codec), codec, []
            except UnicodeDecodeError:
                return None, codec, [("error", f"The file starts like {codec} but is not.")]
    half = len(payload) // 2
    if half >= 2:
        zeros_odd, zeros_even = payload[1::2].count(0), payload[0::2].count(0)
        for codec, zeros, other in (
            ("utf-16-le", zeros_odd, zeros_even),
            ("utf-16-be", zeros_even, zeros_odd),
        ):
            if zeros > 0.3 * half and other < 0.05 * half:
                try:
                    return payload.decode(codec), codec, []
                except UnicodeDecodeError:
                    break
    try:
        return payload.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    note = (
        "The file is not UTF-8; it was read as {name}. Check that accented names "
        "(such as 'Müller') look right, or save the file as 'CSV UTF-8'."
    )
    try:
        return payload.decode("cp1252"), "cp1252", [("info", note.format(name="Windows-1252"))]
    except UnicodeDecodeError:
        return payload.decode("latin-1"), "latin-1", [("info", note.format(name="Latin-1"))]


def _delimiter_score(sample: str, delimiter: str, complete: bool) -> tuple[bool, bool, float, int]:
    """How well ``delimiter`` splits ``sample``: (splits at all, header fits, share, fields)."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=False)
    counts = []
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                counts.append(len(record))
            if len(counts) > _SNIFF_RECORDS:
                break
    except csv.Error:
        return (False, False, 0.0, 0)
    if not complete and len(counts) > 1:
        counts.pop()  # the sample may end inside the last record
    if not counts:
        return (False, False, 0.0, 0)
    modal = max(Counter(counts).items(), key=lambda item: (item[1], item[0]))[0]
    share = counts.count(modal) / len(counts)
    return (modal > 1, counts[0] == modal, round(share, 3), modal)


def _choose_delimiter(text: str, prefer_tab: bool) -> str:
    """The candidate giving the most consistent field counts (csv.Sniffer is not robust)."""
    sample = text[:_SNIFF_CHARS]
    complete = len(text) <= _SNIFF_CHARS
    order = ("\t", ",", ";") if prefer_tab else DELIMITERS
    scores = {delimiter: _delimiter_score(sample, delimiter, complete) for delimiter in order}
    return max(order, key=lambda delimiter: scores[delimiter])


def _text_records(text: str, delimiter: str) -> _Records:
    """Parse delimited text into non-blank records, stopping after the row limit."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    rows: list[list[object]] = []
    line_numbers: list[int] = []
    blank_rows = pending_blank = 0
    limit = MAX_ROWS + _HEADER_SEARCH_ROWS + 2
    start = 1
    for record in reader:
        if any(cell.strip() for cell in record):
            rows.append(list(record))
            line_numbers.append(start)
            blank_rows, pending_blank = blank_rows + pending_blank, 0
            if len(rows) >= limit:
                return _Records(rows, line_numbers, True, blank_rows)
        else:
            pending_blank += 1
        start = reader.line_num + 1
    return _Records(rows, line_numbers, False, blank_rows)


def _read_text(payload: bytes, prefer_tab: bool) -> ReadResult:
    """Read a delimited text file."""
    text, encoding, messages = _decode(payload)
    if text is None:
        return ReadResult(pd.DataFrame(), tuple(messages), encoding=encoding)
    if "\x00" in text:
        return _failure("The file contains binary data; upload a CSV, TSV or Excel file.")
    if not text.strip("".join(DELIMITERS) + " \r\n\ufeff"):
        return _failure("The file is empty.", encoding=encoding)
    delimiter = _choose_delimiter(text, prefer_tab)
    try:
        records = _text_records(text, delimiter)
    except csv.Error as exc:
        if "field larger" in str(exc):
            return _failure(
                f"A cell is longer than {csv.field_size_limit():,} characters (often a quote "
                "that is never closed), so the file could not be read.",
                encoding=encoding,
            )
        return _failure(f"The file could not be split into columns: {exc}.", encoding=encoding)
    if text.count('"') % 2:
        messages.append(
            (
                "warning",
                'The file has an unmatched double quote ("); the rows after it may have '
                "been merged into one cell.",
            )
        )
    return _build_result(records, messages, encoding=encoding, delimiter=delimiter)


# --------------------------------------------------------------------------- Excel files


def _workbook_problem(payload: bytes) -> str | None:
    """Why a zip archive cannot be read as an .xlsx workbook, or None if it can."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            names = set(archive.namelist())
            unzipped = sum(info.file_size for info in archive.infolist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except zipfile.BadZipFile:
        return "The file looks like a zip archive but is damaged, so it could not be read."
    if b"opendocument" in mimetype:
        return "OpenDocument spreadsheets (.ods) are not supported; save the file as .xlsx or CSV."
    if "xl/workbook.xml" not in names:
        return "The file is a zip archive but not an Excel workbook (.xlsx)."
    if unzipped > MAX_UNZIPPED_BYTES:
        return (
            f"The workbook expands to {unzipped / 2**20:.0f} MB when unpacked, more than the "
            f"{MAX_UNZIPPED_BYTES / 2**20:.0f} MB limit, so it was not read."
        )
    return None


def _sheet_records(worksheet: object) -> _Records:
    """Non-blank rows of a read-only worksheet, stopping after the row limit."""
    worksheet.reset_dimensions()  # stored dimensions can be wrong and would cut rows
    rows: list[list[object]] = []
    line_numbers: list[int] = []
    blank_rows = pending_blank = 0
    limit = MAX_ROWS + _HEADER_SEARCH_ROWS + 2
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if any(not _is_blank(value) for value in values):
            rows.append(list(values))
            line_numbers.append(number)
            blank_rows, pending_blank = blank_rows + pending_blank, 0
            if len(rows) >= limit:
                return _Records(rows, line_numbers, True, blank_rows)
        else:
            pending_blank += 1
    return _Records(rows, line_numbers, False, blank_rows)


def _pick_sheet(
    names: Sequence[str], sheet: str | int | None
) -> tuple[list[int], list[tuple[str, str]]]:
    """Positions of the worksheets to try, in order, or an error message."""
    if sheet is None:
        return list(range(len(names))), []
    if isinstance(sheet, int) and not isinstance(sheet, bool) and 0 <= sheet < len(names):
        return [sheet], []
    for position, name in enumerate(names):
        if name == sheet or name.casefold() == str(sheet).strip().casefold():
            return [position], []
    listed = ", ".join(f"'{name}'" for name in names)
    return [], [("error", f"The workbook has no sheet '{sheet}'. Its sheets are: {listed}.")]


def _read_excel(payload: bytes, sheet: str | int | None) -> ReadResult:
    """Read one worksheet of an .xlsx workbook (cached formula values, never evaluated)."""
    problem = _workbook_problem(payload)
    if problem:
        return _failure(problem)
    try:
        openpyxl = import_optional("openpyxl", "export", "Reading Excel files")
    except ImportError as exc:
        return _failure(str(exc))
    workbook = openpyxl.load_workbook(
        io.BytesIO(payload), read_only=True, data_only=True, keep_links=False
    )
    try:
        worksheets = [ws for ws in workbook.worksheets if hasattr(ws, "iter_rows")]
        names = tuple(ws.title for ws in worksheets)
        candidates, messages = _pick_sheet(names, sheet)
        skipped: list[str] = []
        for position in candidates:
            records = _sheet_records(worksheets[position])
            if records.rows:
                break
            skipped.append(names[position])
        else:
            if not messages:
                messages.append(("error", "The workbook has no sheet with data."))
            return ReadResult(pd.DataFrame(), tuple(messages), sheet_names=names)
    finally:
        workbook.close()
    chosen = names[position]
    if skipped:
        empty = ", ".join(f"'{name}'" for name in skipped)
        verb = "Sheet {} is" if len(skipped) == 1 else "Sheets {} are"
        messages.append(("info", f"{verb.format(empty)} empty; sheet '{chosen}' was read instead."))
    if len(names) > 1:
        listed = ", ".join(f"'{name}'" for name in names)
        messages.append(
            ("info", f"The workbook has {len(names)} sheets ({listed}); '{chosen}' was read.")
        )
    return _build_result(records, messages, sheet_names=names, sheet=chosen)


# --------------------------------------------------------------------------- shared steps


def _plural(count: int, noun: str) -> str:
    """``"1 row"``, ``"2 rows"``, with thousands separators."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _is_blank(cell: object) -> bool:
    """True for None, NaN and whitespace-only text."""
    if cell is None:
        return True
    if isinstance(cell, str):
        return not cell.strip()
    return isinstance(cell, float) and cell != cell


def _looks_numeric(cell: object) -> bool:
    """True for numbers and for text that reads as a number (either decimal mark)."""
    if isinstance(cell, bool):
        return False
    if isinstance(cell, int | float):
        return True
    return isinstance(cell, str) and _NUMBER_TEXT.fullmatch(cell) is not None


def _cell_text(cell: object) -> str:
    """A header cell as tidy text: whitespace collapsed, ``2001.0`` shown as ``2001``."""
    if _is_blank(cell):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return " ".join(str(cell).split())


def _is_title_row(row: list[object], following: list[object], width: int) -> bool:
    """A mostly empty first row (a title) above a fuller row of labels."""
    filled = sum(not _is_blank(cell) for cell in row)
    filled_next = sum(not _is_blank(cell) for cell in following)
    return 2 * filled < width and filled_next > filled and not any(map(_looks_numeric, following))


def _is_two_row_header(records: _Records, start: int, width: int) -> bool:
    """Two label rows where the upper one bands the lower one (merged cells)."""
    if start + 1 >= len(records.rows):
        return False
    top, sub = _padded(records.rows[start], width), _padded(records.rows[start + 1], width)
    if any(map(_looks_numeric, top)) or any(map(_looks_numeric, sub)):
        return False
    if sum(not _is_blank(cell) for cell in top) < 2 and not _is_blank(top[0]):
        return False  # a lone label in the first column is a title, not a band
    banded = any(not _is_blank(t) and not _is_blank(s) for t, s in zip(top, sub, strict=True))
    gaps = any(_is_blank(t) and not _is_blank(s) for t, s in zip(top, sub, strict=True))
    has_data_below = start + 2 >= len(records.rows) or any(
        map(_looks_numeric, records.rows[start + 2])
    )
    return banded and gaps and has_data_below


def _combined_names(top: list[object], sub: list[object]) -> list[str]:
    """Names for a two-row header: a band label carries right over its sub-labels."""
    names: list[str] = []
    band = ""
    for upper, lower in zip(top, sub, strict=True):
        upper_text, lower_text = _cell_text(upper), _cell_text(lower)
        if upper_text:
            band = upper_text if lower_text else ""
            names.append(f"{upper_text} {lower_text}".strip())
        elif band and lower_text:
            names.append(f"{band} {lower_text}")
        else:
            band = ""
            names.append(lower_text)
    return names


def _padded(row: list[object], width: int) -> list[object]:
    """``row`` cut or padded with None to ``width`` cells."""
    return list(row[:width]) + [None] * (width - len(row))


def _filled_width(row: list[object]) -> int:
    """Number of cells up to and including the last non-blank one."""
    for position in range(len(row) - 1, -1, -1):
        if not _is_blank(row[position]):
            return position + 1
    return 0


def _locate_header(records: _Records) -> tuple[int, list[str], list[tuple[str, str]]]:
    """Where the data start, the column names, and what was decided on the way."""
    width = max(_filled_width(row) for row in records.rows[:50])
    messages: list[tuple[str, str]] = []
    start = 0
    while (
        start + 1 < min(len(records.rows), _HEADER_SEARCH_ROWS)
        and not _is_two_row_header(records, start, width)
        and _is_title_row(records.rows[start], records.rows[start + 1], width)
    ):
        start += 1
    if start:
        used = records.line_numbers[start]
        messages.append(
            (
                "info",
                f"The first {'row is' if start == 1 else f'{start} rows are'} mostly empty "
                f"(a title?); row {used} was used as the column names.",
            )
        )
    if _is_two_row_header(records, start, width):
        header_rows = records.rows[start : start + 2]
        header_width = max(_filled_width(row) for row in header_rows)
        top, sub = (_padded(row, header_width) for row in header_rows)
        names = _combined_names(top, sub)
        first, second = records.line_numbers[start], records.line_numbers[start + 1]
        examples = ", ".join(f"'{name}'" for name in names if " " in name)[:200]
        messages.append(
            (
                "info",
                f"The column names span two rows ({first} and {second}), probably merged "
                f"cells; they were combined, e.g. {examples}.",
            )
        )
        return start + 2, names, messages
    header = records.rows[start]
    names = [_cell_text(cell) for cell in header[: _filled_width(header)]]
    return start + 1, names, messages


def _unique_names(names: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Fill empty names and make repeated names unique, reporting both."""
    messages: list[tuple[str, str]] = []
    filled = [name or f"column_{position + 1}" for position, name in enumerate(names)]
    unnamed = [f"'{new}'" for old, new in zip(names, filled, strict=True) if not old]
    if unnamed:
        messages.append(("info", f"Columns without a name were called {', '.join(unnamed)}."))
    seen = Counter(filled)
    used = set(filled)
    counts: Counter[str] = Counter()
    unique: list[str] = []
    renamed: list[str] = []
    for name in filled:
        counts[name] += 1
        if seen[name] > 1 and counts[name] > 1:
            suffix = counts[name]
            while f"{name}_{suffix}" in used:
                suffix += 1
            new = f"{name}_{suffix}"
            used.add(new)
            unique.append(new)
            renamed.append(f"'{name}' -> '{new}'")
        else:
            unique.append(name)
    if renamed:
        messages.append(
            ("warning", f"Some column names repeat; repeats were renamed: {', '.join(renamed)}.")
        )
    return unique, messages


def _detect_decimal(rows: list[list[object]], delimiter: str | None) -> str:
    """``","`` when decimal-comma numbers outnumber decimal-point numbers (not for CSV)."""
    if delimiter == ",":
        return "."
    comma = dot = 0
    for row in rows[:_DECIMAL_SAMPLE_ROWS]:
        for cell in row:
            if isinstance(cell, str):
                comma += _COMMA_DECIMAL.fullmatch(cell) is not None
                dot += _DOT_DECIMAL.fullmatch(cell) is not None
    return "," if comma > dot else "."


def _build_result(
    records: _Records,
    messages: list[tuple[str, str]],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet_names: tuple[str, ...] = (),
    sheet: str | None = None,
) -> ReadResult:
    """Turn records into the frame: header, row limit, decimal mark, messages."""
    fields = {
        "encoding": encoding,
        "delimiter": delimiter,
        "sheet_names": sheet_names,
        "sheet": sheet,
    }
    if not records.rows:
        messages.append(("error", "The file is empty."))
        return ReadResult(pd.DataFrame(), tuple(messages), **fields)
    data_start, names, header_messages = _locate_header(records)
    messages.extend(header_messages)
    rows = records.rows[data_start:]
    if records.truncated or len(rows) > MAX_ROWS:
        rows = rows[:MAX_ROWS]
        messages.append(
            (
                "warning",
                f"The file has more than {MAX_ROWS:,} data rows; only the first {MAX_ROWS:,} "
                "were read.",
            )
        )
    width = max([len(names), *(_filled_width(row) for row in rows)])
    if width > len(names):
        extra = width - len(names)
        messages.append(
            (
                "warning",
                f"Some rows have {_plural(extra, 'more value')} than there are column names; "
                "the extra values were kept in unnamed columns.",
            )
        )
        names = names + [""] * extra
    names, name_messages = _unique_names(names)
    messages.extend(name_messages)
    blank = "" if delimiter is not None else None
    cells = [list(row[:width]) + [blank] * (width - len(row)) for row in rows]
    frame = pd.DataFrame(cells, columns=names, dtype=object)
    if frame.empty:
        messages.append(("error", "The file has column names but no data rows."))
    if records.blank_rows:
        skipped = _plural(records.blank_rows, "empty row")
        messages.append(
            (
                "info",
                f"{skipped} in the file {'was' if records.blank_rows == 1 else 'were'} skipped.",
            )
        )
    decimal = _detect_decimal(rows, delimiter)
    if decimal == ",":
        messages.append(
            ("info", "Numbers are written with a decimal comma (e.g. '12,5' is read as 12.5).")
        )
    if not frame.empty:
        place = f" from sheet '{sheet}'" if sheet else ""
        shape = f"{_plural(len(frame), 'row')} and {_plural(width, 'column')}"
        messages.insert(0, ("info", f"Read {shape}{place}."))
    return ReadResult(frame, tuple(messages), decimal=decimal, **fields)


# --------------------------------------------------------------------------- numbers


def _normalise_number_text(text: pd.Series, decimal: str) -> pd.Series:
    """Strip digit grouping and spaces, and turn a decimal comma into a point."""
    text = text.str.replace(r"[\s\u00a0\u2009\u202f]+", "", regex=True)
    text = text.str.replace("\u2212", "-", regex=False)
    if decimal == ",":
        grouped = text.str.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?").fillna(False)
        text = text.where(~grouped, text.str.replace(".", "", regex=False))
        return text.str.replace(",", ".", regex=False)
    grouped = text.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?").fillna(False)
    return text.where(~grouped, text.str.replace(",", "", regex=False))


_REAL_TYPES = (int, float, np.integer, np.floating)


def _real_to_float(value: object) -> float:
    """A real number as float; integers too large for a float become infinity."""
    try:
        return float(value)
    except OverflowError:
        return float("inf")


def _parse_text_cells(
    cells: np.ndarray,
    positions: np.ndarray,
    decimal: str,
    numbers: np.ndarray,
    missing: np.ndarray,
) -> None:
    """Fill ``numbers`` and ``missing`` (in place) for the text cells at ``positions``."""
    text = pd.Series(cells[positions], dtype=object).astype(str).str.strip()
    is_token = text.str.casefold().isin(MISSING_TOKENS).to_numpy(dtype=bool)
    missing[positions[is_token]] = True
    parsed = pd.to_numeric(_normalise_number_text(text[~is_token], decimal), errors="coerce")
    numbers[positions[~is_token]] = parsed.to_numpy(dtype=float)


def parse_numbers(
    values: Sequence[object] | pd.Series | np.ndarray, decimal: str = "."
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read numbers from raw cells, recording missing and non-numeric cells.

    Parameters
    ----------
    values : sequence, Series or ndarray
        Cells as read (text, numbers, None).
    decimal : {".", ","}
        Decimal mark of text cells. With ``","``, ``"1.234,5"`` reads as 1234.5; with
        ``"."``, ``"1,234.5"`` does. Spaces inside numbers and the Unicode minus are allowed.

    Returns
    -------
    numbers : ndarray of float
        The value of each cell; NaN where missing or not a number.
    missing : ndarray of bool
        Blank cells, None/NaN, and texts in :data:`MISSING_TOKENS` (``NA``, ``.``, ...).
    not_numeric : ndarray of bool
        Cells that hold something other than a finite number (text, ``inf``, booleans,
        dates).
    """
    cells = np.asarray(pd.Series(values, dtype=object).to_numpy(), dtype=object)
    size = len(cells)
    numbers = np.full(size, np.nan)
    missing = pd.isna(cells)
    is_real = np.fromiter(
        (isinstance(c, _REAL_TYPES) and not isinstance(c, bool) for c in cells),
        dtype=bool,
        count=size,
    )
    is_real &= ~missing
    numbers[is_real] = [_real_to_float(cell) for cell in cells[is_real]]
    text_positions = np.flatnonzero(~is_real & ~missing)
    if text_positions.size:
        _parse_text_cells(cells, text_positions, decimal, numbers, missing)
    not_numeric = ~missing & ~np.isfinite(numbers)
    numbers[not_numeric] = np.nan
    return numbers, missing, not_numeric


def to_numeric_frame(
    frame: pd.DataFrame, columns: Sequence[object], *, decimal: str = "."
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert the given columns of a raw table to numbers.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table as read by :func:`read_table`.
    columns : sequence
        Columns to convert; columns absent from ``frame`` are skipped.
    decimal : {".", ","}
        Decimal mark, usually :attr:`ReadResult.decimal`.

    Returns
    -------
    numbers : pandas.DataFrame
        The converted columns as float64 (NaN where missing or not a number), same index.
    issues : pandas.DataFrame
        One row per missing or non-numeric cell with columns ``row`` (1-based position),
        ``column``, ``value`` (the cell as typed) and ``problem`` (``"missing"`` or
        ``"not a number"``).
    """
    present = [column for column in dict.fromkeys(columns) if column in frame.columns]
    numbers: dict[object, np.ndarray] = {}
    problems: list[pd.DataFrame] = []
    for column in present:
        series = frame.loc[:, column]
        if isinstance(series, pd.DataFrame):  # repeated column name: the first one counts
            series = series.iloc[:, 0]
        values, missing, not_numeric = parse_numbers(series, decimal)
        numbers[column] = values
        for mask, problem in ((missing, "missing"), (not_numeric, "not a number")):
            positions = np.flatnonzero(mask)
            problems.append(
                pd.DataFrame(
                    {
                        "row": positions + 1,
                        "column": column,
                        "value": series.to_numpy(dtype=object)[positions],
                        "problem": problem,
                    }
                )
            )
    issues = (
        pd.concat(problems, ignore_index=True).sort_values(["row"], kind="stable")
        if problems
        else pd.DataFrame(columns=["row", "column", "value", "problem"])
    )
    return pd.DataFrame(numbers, index=frame.index), issues.reset_index(drop=True)
