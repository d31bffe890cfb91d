"""Write the corpus of awkward upload files used by ``tests/test_corpus.py``.

Run ``python tests/corpus/make_corpus.py`` from the repository root; the files are
committed, so this only needs re-running when the corpus changes. What each file must
produce is in ``expected.json`` beside it (written by hand, not by this script).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
LONG_NAME = "A very long study name " + "with many repeated words " * 10 + "2019"
FIXED_TIME = dt.datetime(2024, 1, 1)


def _text(name: str, content: str, encoding: str = "utf-8", newline: str = "\n") -> None:
    """Write ``content`` with the given encoding and line ending."""
    (HERE / name).write_bytes(content.replace("\n", newline).encode(encoding))


def _save(workbook: openpyxl.Workbook, name: str) -> None:
    """Save a workbook with fixed timestamps, so re-running gives identical bytes."""
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(HERE / name, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z", content
                )
            target.writestr(fixed, content)


def text_files() -> None:
    """The CSV/TSV/TXT files."""
    _text(
        "utf8_bom_binary.csv",
        "Study,Events treatment,Total treatment,Events control,Total control\n"
        "Müller 2003,12,40,5,38\n"
        "Øster 2010,7,25,3,26\n"
        "Zhang 张 2015,30,88,18,90\n"
        "Ngô 2018,4,15,1,15\n",
        encoding="utf-8-sig",
    )
    _text(
        "utf16_proportion.txt",
        "Study\tEvents\tTotal\nAbe 2001\t5\t20\nBéla 2004\t9\t31\nÇelik 2012\t14\t40\n",
        encoding="utf-16",
        newline="\r\n",
    )
    _text(
        "latin1_names.csv",
        "author,events_treatment,total_treatment,events_control,total_control\n"
        "Müller 2001,10,50,4,50\n"
        "Sørensen 1999,3,20,2,21\n"
        "Gómez 2005,8,33,8,30\n",
        encoding="latin-1",
    )
    _text(
        "semicolon_decimal_comma.csv",
        "Study;Mean.E;SD.E;N.E;Mean.C;SD.C;N.C\n"
        "Weber 2011;12,5;3,1;20;14,2;3,4;21\n"
        "Keller 2014;11,0;2,8;35;13,9;2,9;33\n"
        "Braun 2016;10,4;0,0;18;12,1;3,0;18\n"
        "Fischer 2019;1.234,5;150,5;40;1.301,0;160,0;41\n",
        newline="\r\n",
    )
    _text(
        "tab_separated.tsv",
        "study\tr\tn\nLee 2010\t0,31\t120\nPark 2012\t1,2\t64\nKim 2015\t0,45\t3\n",
    )
    _text(
        "quoted_fields.csv",
        'study,ai,n1i,ci,n2i,notes\n"Smith, J. and ""Jones""\n2001",12,40,5,38,"a, b; c"\n'
        '"Brown; Green 2004",7,25,3,26,"line one\nline two"\n'
        "Plain 2009,30,88,18,90,\n",
    )
    (HERE / "empty.csv").write_bytes(b"")
    _text("header_only.csv", "study,ai,n1i,ci,n2i\n")
    _text(
        "missing_column.csv",
        "study,events_treatment,events_control,total_control\n"
        "Adams 2002,4,2,20\nBaker 2006,6,3,25\n",
    )
    _text(
        "extra_columns.csv",
        "ID,Study,Country,Events,Total,Dose (mg),Notes\n"
        "1,Ito 2008,Japan,6,30,400,first\n"
        "2,Rossi 2011,Italy,11,42,800,\n"
        "3,Nowak 2017,Poland,9,25,400,open label\n",
    )
    _text(
        "bad_counts.csv",
        "study,ai,n1i,ci,n2i\n"
        "Text 2001,twelve,40,5,38\n"
        "Negative 2002,-3,25,3,26\n"
        "Fraction 2003,2.5,20,1,20\n"
        "Missing 2004,,30,4,30\n"
        "Too many 2005,12,10,3,10\n"
        "Zero 2006,0,0,1,10\n"
        "Single arm 2007,9,30,NA,NA\n"
        "Half arm 2008,5,20,3,\n"
        "Fine 2009,6,24,2,25\n",
    )
    _text(
        "bad_continuous.csv",
        "study,m1i,sd1i,n1i,m2i,sd2i,n2i\n"
        "Zero sd,5.1,0,20,6.0,1.2,20\n"
        "Negative sd,5.1,1.1,20,6.0,-1.2,20\n"
        "One patient,5.1,1.1,1,6.0,1.2,20\n"
        "No mean,,1.1,20,6.0,1.2,20\n"
        "Text sd,5.1,n/a,20,6.0,1.2,20\n"
        "Good,5.1,1.1,20,6.0,1.2,20\n",
    )
    _text(
        "duplicate_names.csv",
        "study,events,total\n"
        "Smith 2001,3,20\nJones 2003,5,22\nSmith 2001,4,25\n smith 2001 ,6,30\n",
    )
    _text(
        "names_edge.csv",
        "study,ai,n1i,ci,n2i\n"
        f"{LONG_NAME},10,40,5,40\n"
        "دراسة القاهرة 2019,8,30,4,31\n"
        "מחקר ירושלים 2020,6,22,2,20\n"
        "<script>alert(1)</script>,5,20,2,20\n"
        '"=HYPERLINK(""http://x"")",4,18,1,17\n'
        ",3,15,1,16\n",
    )
    _text(
        "generic_mixed.csv",
        "study,yi,vi,sei,estimate,lower,upper\n"
        "Variance,0.25,0.04,,,,\n"
        "Standard error,0.10,,0.20,,,\n"
        "Interval,,,,1.8,1.1,2.9\n"
        "Reversed,,,,1.8,2.9,1.1\n"
        "Zero variance,0.3,0,,,,\n"
        "Negative se,0.3,,-0.1,,,\n"
        "Nothing,,,,,,\n"
        "Outside,,,,3.5,1.1,2.9\n",
    )
    _text(
        "crlf_blank_lines.csv",
        "study,events,total\n\nAlpha 2001,3,20\n\nBeta 2002,5,22\nGamma 2003,4,25\n\n\n",
        newline="\r\n",
    )
    _text(
        "include_flags.csv",
        "study,ai,n1i,ci,n2i,include\n"
        "In true,5,20,2,20,TRUE\n"
        "Out false,5,20,2,20,FALSE\n"
        "In yes,5,20,2,20,yes\n"
        "Out zero,5,20,2,20,0\n"
        "Blank,5,20,2,20,\n"
        "Odd,5,20,2,20,maybe\n"
        "Out but broken,50,20,2,20,no\n",
    )
    _text(
        "ragged_rows.csv",
        "study,events,total\nShort 2001,3\nLong 2002,5,22,extra\nFine 2003,4,25\n",
    )


def merged_header_workbook() -> None:
    """Two sheets: an empty one, then data under a merged two-row header."""
    workbook = openpyxl.Workbook()
    workbook.active.title = "Empty"
    sheet = workbook.create_sheet("Trials")
    sheet.append(["Study", "IG", None, "Placebo", None, "Design"])
    sheet.append([None, "Events", "Total", "Events", "Total", None])
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("D1:E1")
    sheet.merge_cells("F1:F2")
    sheet.append(["Jann 2020", 7, 11, 0, 12, "RCT"])
    sheet.append(["Geerts 2021", 12, 30, 9, 30, "RCT"])
    sheet.append(["Open-label 1", 41, 55, None, None, "open-label"])
    sheet.append(["Broken 2022", 14, 12, 2, 20, "RCT"])
    _save(workbook, "two_sheets_merged_header.xlsx")


def title_row_workbook() -> None:
    """A title in A1, a blank row, then the header; numbers as numbers, text and a formula."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Table 2"
    sheet.append(["Table 2. Included trials (responders)"])
    sheet.append([])
    sheet.append(["Trial", "Responders", "N"])
    sheet.append(["Alpha 2001", 5, 20.0])
    sheet.append(["Beta 2004", "9", "31"])
    sheet.append(["Gamma 2009", 7, "=10+15"])
    _save(workbook, "title_row.xlsx")


#: Study names and cells that try to become markup somewhere: HTML, script, links with
#: javascript: URLs, Markdown links and images, Streamlit directives, plotly markup and
#: templates, TeX, spreadsheet formulas, and quotes that try to break out of a string
#: literal in generated R or Python code. Each must be shown exactly as typed.
HOSTILE_NAMES = (
    "<img src=x onerror=alert(1)>",
    '<script>alert("xss")</script> Smith 2001',
    '<a href="javascript:alert(1)">click me</a>',
    "[click](javascript:alert(1))",
    "javascript:alert(document.cookie)",
    "<b>Bold</b> %{y} $x$ 2003",
    "![pixel](http://127.0.0.1:9/pixel.png) :red[red] :material/warning:",
    "=cmd|' /C calc'!A1",
    "+SUM(1,2)",
    "@SUM(A1)",
    "-2+3",
    '<svg onload="alert(1)"></svg> &amp; &lt;',
    'Smith"); system("echo pwned"); x <- c("',
    "Jones'); import os; os.system('echo pwned'); ('",
)
#: A hostile extra column name (offered as a subgroup column) with two hostile values.
HOSTILE_COLUMN = (
    "[grp](javascript:alert(3))<img src=x onerror=alert(3)>![pixel](http://127.0.0.1:9/pixel.png)"
)
HOSTILE_GROUPS = ("<i>RCT</i>", "[open](javascript:alert(2))")


def hostile_files() -> None:
    """Hostile study names, subgroup labels and a hostile column name (binary data)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["study", "ai", "n1i", "ci", "n2i", "design", HOSTILE_COLUMN])
    for number, name in enumerate(HOSTILE_NAMES):
        group = HOSTILE_GROUPS[number % 2]
        writer.writerow([name, 5 + number, 30 + number, 2 + number % 3, 30, group, group])
    _text("hostile_names.csv", out.getvalue())
    _text(
        "extreme_variances.csv",
        "study,yi,vi\n"
        "Tiny 1,0.10,1e-300\n"
        "Tiny 2,0.20,1e-12\n"
        "Huge 1,0.30,1e300\n"
        "Huge 2,-0.40,1e12\n"
        "Zero variance,0.50,0\n"
        "Zero effect,0,0.04\n"
        "Ordinary,0.25,0.02\n",
    )


if __name__ == "__main__":
    text_files()
    merged_header_workbook()
    title_row_workbook()
    hostile_files()
