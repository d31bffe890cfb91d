"""The exported R script draws the dashboard's forest and funnel plots (metafor's forest()
and funnel()) into PDF files, runs headless under Rscript and still prints the
dashboard's numbers.

Rscript is required (as in tests/test_codegen.py): a missing Rscript is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from igmeta.app.outputs.codegen import (
    FOREST_PDF,
    FUNNEL_PDF,
    parse_results,
    r_script,
    result_values,
)
from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from tests.test_codegen import _check, _continuous

#: Smallest plausible size of a drawn plot (an empty cairo PDF page is about 1 KB).
MIN_PDF_BYTES = 8_000
IG = load_ig_pnp_canonical()


def _bcg() -> pd.DataFrame:
    """metadat's dat.bcg (BCG vaccine trials) as arm counts, with the allocation method."""
    tpos = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
    tneg = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
    cpos = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
    cneg = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
    author = ["Aronson", "Ferguson & Simes", "Rosenthal et al", "Hart & Sutherland",
              "Frimodt-Moller et al", "Stein & Aronson", "Vandiviere et al", "TPT Madras",
              "Coetzee & Berjak", "Rosenthal et al", "Comstock et al", "Comstock & Webster",
              "Comstock et al"]  # fmt: skip
    year = [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976]
    alloc = ["random"] * 4 + ["alternate"] * 2 + ["random"] * 3 + ["systematic"] * 4
    return pd.DataFrame(
        {
            "study": author,
            "year": year,
            "alloc": alloc,
            "ai": tpos,
            "n1i": [a + b for a, b in zip(tpos, tneg, strict=True)],
            "ci": cpos,
            "n2i": [c + d for c, d in zip(cpos, cneg, strict=True)],
        }
    )


CASES = {
    "ig_published_mh": (IG, PUBLISHED_COMPARISON),
    "ig_metafor_defaults": (IG, AnalysisSettings(subgroup_column=None)),
    "bcg_subgroups": (_bcg(), AnalysisSettings(subgroup_column="alloc")),
    "ig_proportion_pft": (
        IG,
        AnalysisSettings(analysis="single_arm", proportion_measure="PFT", subgroup_column=None),
    ),
    "continuous_smd": (
        _continuous(),
        AnalysisSettings(data_type="continuous", analysis="continuous", subgroup_column=None),
    ),
}


@pytest.fixture(scope="module")
def rscript() -> str:
    path = shutil.which("Rscript")
    if path is None:
        pytest.fail("Rscript is not installed: run scripts/test.sh (installs R and metafor)")
    return path


def _run(rscript: str, script: str, cwd: Path) -> subprocess.CompletedProcess:
    path = cwd / "analysis.R"
    path.write_text(script, encoding="utf-8")
    proc = subprocess.run(
        [rscript, "--vanilla", str(path)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _pages(pdf: bytes) -> int:
    """Number of page objects of a PDF (R's pdf and cairo_pdf write them uncompressed)."""
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


@pytest.mark.parametrize("name", list(CASES))
def test_r_script_draws_forest_and_funnel(name, rscript, tmp_path):
    table, settings = CASES[name]
    bundle = run_analysis(table, settings)
    assert bundle.result is not None, bundle.error
    plain = tmp_path / "plain"
    plain.mkdir()
    without = _run(rscript, r_script(table, settings, bundle, plots=False), plain)
    assert not list(plain.glob("*.pdf"))
    proc = _run(rscript, r_script(table, settings, bundle), tmp_path)
    # The plot calls add no warning or message to what the analysis itself prints.
    assert proc.stderr == without.stderr
    for file in (FOREST_PDF, FUNNEL_PDF):
        data = (tmp_path / file).read_bytes()
        assert len(data) > MIN_PDF_BYTES, (file, len(data))
        assert _pages(data) == 1
    _check(result_values(bundle), parse_results(proc.stdout))  # the numbers still match


def test_forest_arguments_follow_the_dashboard():
    mh = r_script(*CASES["ig_published_mh"])
    assert "forest(res, slab = " in mh and "dat$study" in mh
    assert "atransf = exp" in mh and "level = 95" in mh and "showweights = TRUE" in mh
    assert 'header = c("Study", "Risk ratio [95% CI]")' in mh
    assert "arm_cols <- cbind(arms$ai, arms$n1i, arms$ci, arms$n2i)" in mh  # counts as typed
    assert "ilab = arm_cols, ilab.xpos = arm_x" in mh
    assert 'c("Events", "Total", "Events", "Total")' in mh
    assert '"Overall: Mantel-Haenszel (RevMan zeros)"' in mh
    assert "addpred" not in mh  # no prediction interval for a Mantel-Haenszel fit
    assert "ticks <- log(c(0.001, 0.01, 0.1, 0.2, 0.5, 1, 2, 5, 10, 100, 1000))" in mh
    assert "draw_forest(xlim = xlim, ilab = arm_cols, ilab.xpos = arm_x, at = at)" in mh
    assert f'open_pdf("{FOREST_PDF}", width = ' in mh and "dev.off()" in mh
    reml = r_script(*CASES["ig_metafor_defaults"])
    assert "addpred = TRUE" in reml and "cbind(dat$ai, dat$n1i, dat$ci, dat$n2i)" in reml
    hidden = r_script(IG, AnalysisSettings(subgroup_column=None, show_prediction=False))
    assert "addpred" not in hidden
    level90 = r_script(IG, AnalysisSettings(subgroup_column=None, level=0.9))
    assert "level = 90" in level90 and "Risk ratio [90% CI]" in level90
    pft = r_script(*CASES["ig_proportion_pft"])
    assert "transf = transf.ipft.hm, targs = list(ni = dat$ni)" in pft
    assert "refline = NA" in pft and "cbind(dat$xi, dat$ni)" in pft
    plo = r_script(IG, AnalysisSettings(analysis="single_arm", proportion_measure="PLO"))
    assert "transf = transf.ilogit" in plo
    smd = r_script(*CASES["continuous_smd"])
    assert "atransf" not in smd.split("draw_forest")[1] and "transf =" not in smd
    assert "cbind(dat$m1i, dat$sd1i, dat$n1i, dat$m2i, dat$sd2i, dat$n2i)" in smd
    assert "forest" in smd.splitlines()[3]  # the header names the files
    assert "forest" not in r_script(*CASES["continuous_smd"], plots=False)


def _forest_inches(script: str) -> tuple[float, float]:
    """(width, height) of the forest plot's device, in inches."""
    found = re.search(rf'open_pdf\("{FOREST_PDF}", width = ([\d.]+), height = ([\d.]+)\)', script)
    return float(found[1]), float(found[2])


@pytest.mark.parametrize(
    ("table", "settings"),
    [
        CASES["bcg_subgroups"],
        # RevMan's convention drops the double-zero table F before the layout is made
        (
            pd.DataFrame(
                {
                    "study": list("ABCDEF"),
                    "design": ["RCT"] * 3 + ["cohort"] * 3,
                    "ai": [7, 12, 1, 20, 5, 0],
                    "n1i": [11, 30, 19, 50, 40, 10],
                    "ci": [1, 9, 2, 10, 3, 0],
                    "n2i": [12, 30, 20, 50, 41, 12],
                }
            ),
            AnalysisSettings(pooling="MH", zero_cells="revman"),
        ),
    ],
)
def test_subgroup_forest_follows_metafors_layout(table, settings, rscript, tmp_path):
    bundle = run_analysis(table, settings)
    script = r_script(table, settings, bundle)
    assert "rows = rows, ylim = c(-1.5, max(subgroup_rows) + 3)" in script
    assert "text(fp$xlim[1], subgroup_rows, lv, pos = 4, font = 4)" in script
    assert 'addpoly(sub[[i]], row = subtotal_rows[i], mlab = paste("Subtotal:", lv[i])' in script
    probe = 'cat("\\nLAYOUT", dat$group, "|", rows, "|", subgroup_rows, "|", subtotal_rows, "\\n")'
    out = _run(rscript, script + probe + "\n", tmp_path).stdout
    layout = out.split("LAYOUT ")[1].splitlines()[0].split(" | ")
    groups = layout[0].split()
    rows, headers, totals = ([int(float(v)) for v in part.split()] for part in layout[1:])
    levels = list(bundle.subgroups.levels)
    assert len(rows) == len(groups) == len(set(rows))
    for b, level in enumerate(levels):
        members = [r for r, g in zip(rows, groups, strict=True) if g == level]
        # each block: label above its studies (in table order, top down), subtotal below
        assert members == sorted(members, reverse=True)
        assert headers[b] == max(members) + 1 and totals[b] == min(members) - 1
        assert max(members) - min(members) == len(members) - 1
    assert headers == sorted(headers, reverse=True)  # first level at the top
    assert min(totals) >= 1  # above the overall summary at row -1
    small = r_script(IG, AnalysisSettings(subgroup_column=None))
    if len(table) > 6:
        assert _forest_inches(script)[1] > _forest_inches(small)[1]  # grows with the rows


def test_funnel_is_contour_enhanced_like_the_dashboard():
    reml = r_script(*CASES["ig_metafor_defaults"])
    assert (
        'funnel(res, level = c(90, 95, 99), shade = c("white", "gray55", "gray75"), '
        "refline = 0, legend = TRUE, atransf = exp)" in reml
    )
    assert f'open_pdf("{FUNNEL_PDF}", width = 7, height = 6)' in reml
    smd = r_script(*CASES["continuous_smd"])
    assert "refline = 0, legend = TRUE)" in smd
    pft = r_script(*CASES["ig_proportion_pft"])
    assert "funnel(res)" in pft and "level = c(90" not in pft  # no null value: no contours


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_forest_as_png_for_a_look(rscript, tmp_path):
    """No pdftoppm on the machine: the same script with R's png() device instead of the
    PDF device, so the drawing can be opened and looked at (IGMETA_KEEP_PNG=dir keeps it)."""
    table, settings = CASES["bcg_subgroups"]
    script = r_script(table, settings)
    definition = re.search(r"^open_pdf <- function.*\n.*\n", script, re.M)[0]
    png = (
        "open_pdf <- function(file, width, height)\n"
        '  png(sub("pdf$", "png", file), width = width, height = height, units = "in", '
        'res = 72, type = "cairo")\n'
    )
    _run(rscript, script.replace(definition, png), tmp_path)
    forest = (tmp_path / FOREST_PDF.replace(".pdf", ".png")).read_bytes()
    width, height = _png_size(forest)
    inches = _forest_inches(script)
    assert abs(width - 72 * inches[0]) <= 1 and abs(height - 72 * inches[1]) <= 1
    assert len(forest) > 20_000  # text and 13 study rows, not a blank page
    keep = os.environ.get("IGMETA_KEEP_PNG")
    if keep:
        shutil.copy(tmp_path / FOREST_PDF.replace(".pdf", ".png"), keep)
