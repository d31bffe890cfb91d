"""Mantel-Haenszel and Peto pooling: metafor 3.8-1 references and the RevMan convention.

Every reference number below was printed by R 4.2.2 with metafor 3.8-1 (``sprintf("%.17g")``)
from the R call written next to it; R is not needed to run these tests.

RevMan 5's zero-cell convention (0.5 added to every cell of a table with a zero cell
before the MH sums; tables with no events / only events in both groups left out of OR and
RR) is checked against metafor by doing the correction by hand and calling
``rma.mh(..., add=0, to="none")``, so the MH formulas are metafor's and only the zero-cell
handling differs.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from igmeta.effects import EffectSizes
from igmeta.mantel_haenszel import meta_analysis_mh, meta_analysis_peto
from igmeta.results import MetaResult
from igmeta.warnings import (
    DroppedStudiesWarning,
    MetaAnalysisWarning,
    SmallSampleWarning,
    SparseDataWarning,
)

RTOL = 1e-10
NAN = float("nan")

# ---------------------------------------------------------------------------- data
# The published IG-vs-placebo analysis (events/total, IG vs placebo).
IG = {
    "study": ["Jann 2020", "Geerts 2021", "RCT 3"],
    "ai": [7, 12, 13],
    "n1i": [11, 30, 19],
    "ci": [0, 9, 2],
    "n2i": [12, 30, 20],
}
# One arm with every participant having the event (first table: 10/10).
ALL_EVENTS_ARM = {"ai": [10, 8, 6], "n1i": [10, 15, 9], "ci": [4, 5, 2], "n2i": [12, 14, 10]}
# First table has no events in either group.
DOUBLE_ZERO = {
    "study": ["DZ", "B", "C"],
    "ai": [0, 3, 5],
    "n1i": [10, 20, 25],
    "ci": [0, 1, 2],
    "n2i": [12, 18, 30],
}
# First table: every participant had the event in both groups.
ALL_EVENTS_BOTH = {"ai": [10, 3, 5], "n1i": [10, 20, 25], "ci": [12, 1, 2], "n2i": [12, 18, 30]}
ONE_TABLE = {"ai": [12], "bi": [18], "ci": [9], "di": [21]}


def revman_by_hand(data: dict) -> str:
    """The R code used for the RevMan references (documentation only)."""
    return (
        "z <- ai==0 | bi==0 | ci==0 | di==0; "
        "rma.mh(ai=ai+z/2, bi=bi+z/2, ci=ci+z/2, di=di+z/2, measure=m, add=0, to='none')"
    )


# ---------------------------------------------------------------------------- references
# Keys: beta, se, zval, pval, ci.lb, ci.ub, QE, QEp, I2, H2, k.yi, llML, llREML, yi, vi
# (+ CO ... TAp for OR). yi/vi are yi.f/vi.f (NaN = NA).
#
# ai <- c(7,12,13); n1i <- c(11,30,19); ci <- c(0,9,2); n2i <- c(12,30,20)
# bi <- n1i-ai; di <- n2i-ci
# rma.mh(ai=ai, bi=bi, ci=ci, di=di, measure="RR")
#   Model Results (RR scale): estimate 2.9810  ci.lb 1.6415  ci.ub 5.4133
IG_METAFOR_RR = {
    "beta": 1.0922451175633434, "se": 0.30439665476702688, "zval": 3.5882297011420987,
    "pval": 0.00033293091297811043, "ci.lb": 0.49563863720549828, "ci.ub": 1.6888515979211887,
    "QE": 7.9790268903842669, "QEp": 0.018508717434793875, "I2": 74.934286756067308,
    "H2": 3.9895134451921335, "k.yi": 3, "llML": -5.6844282485661557,
    "llREML": -5.3890689613624971,
    "yi": [2.7880929087757464, 0.28768207245178112, 1.9230954712891417],
    "vi": [1.973076923076923, 0.12777777777777777, 0.47429149797570852],
}  # fmt: skip
# RevMan by hand: z <- ai==0|bi==0|ci==0|di==0  (only Jann 2020)
# rma.mh(ai=ai+z/2, bi=bi+z/2, ci=ci+z/2, di=di+z/2, measure="RR", add=0, to="none")
#   estimate 1.0644  se 0.2975  zval 3.5781  pval 0.0003  ci.lb 0.4814  ci.ub 1.6475
#   Model Results (RR scale): estimate 2.8991  ci.lb 1.6183  ci.ub 5.1938
#   Q(df = 2) = 7.7820, p-val = 0.0204; I^2 74.30%; H^2 3.89
IG_REVMAN_RR = {
    "beta": 1.064410518945212, "se": 0.29748169156844684, "zval": 3.5780706817054804,
    "pval": 0.00034613985616173821, "ci.lb": 0.48135711741100362, "ci.ub": 1.6474639204794204,
    "QE": 7.7819579404496659, "QEp": 0.020425340446966804, "I2": 74.299526991732449,
    "H2": 3.890978970224833, "k.yi": 3, "llML": -5.5858937735988548,
    "llREML": -5.2905344863951962, "yi": IG_METAFOR_RR["yi"], "vi": IG_METAFOR_RR["vi"],
}  # fmt: skip
# rma.mh(ai=ai, bi=bi, ci=ci, di=di, measure="OR")
IG_METAFOR_OR = {
    "beta": 1.5272690720170152, "se": 0.403464792441801, "zval": 3.7853837574621108,
    "pval": 0.00015347156051682506, "ci.lb": 0.73649260980115716, "ci.ub": 2.3180455342328732,
    "QE": 8.556400997746298, "QEp": 0.013867594398636661, "I2": 76.625686424388164,
    "H2": 4.278200498873149, "k.yi": 3, "k.pos": 3, "CO": 15.432928340537945,
    "COp": 8.5485669394434969e-05, "MH": 15.055636242388731, "MHp": 0.00010438807089629223,
    "BD": 10.45476102141172, "BDp": 0.0053675671881311662, "TA": 10.334892662527164,
    "TAp": 0.0056991038758542455, "llML": -6.7620268046198504, "llREML": -6.1006883760646771,
    "yi": [3.7297014486341915, 0.44183275227903929, 2.9704144655697009],
    "vi": [2.4355555555555557, 0.29761904761904762, 0.79914529914529919],
}  # fmt: skip
# RevMan by hand, measure="OR"
IG_REVMAN_OR = {
    "beta": 1.5048220908655485, "se": 0.39883077169826353, "zval": 3.7730842192989704,
    "pval": 0.00016124182802976423, "ci.lb": 0.72312814241063539, "ci.ub": 2.2865160393204618,
    "QE": 8.516869255326144, "QEp": 0.014144426383300629, "I2": 76.517192643889985,
    "H2": 4.258434627663072, "k.yi": 3, "k.pos": 3, "CO": 15.144533085499102,
    "COp": 9.9586250123734867e-05, "MH": 14.77883941052508, "MHp": 0.00012088441159403688,
    "BD": 9.4036235551206726, "BDp": 0.0090788134015227506, "TA": 9.3049943630417324,
    "TAp": 0.0095377546627633484, "llML": -6.7422609334097743, "llREML": -6.0809225048546001,
    "yi": IG_METAFOR_OR["yi"], "vi": IG_METAFOR_OR["vi"],
}  # fmt: skip
# rma.mh(ai=ai, bi=bi, ci=ci, di=di, measure="RD")
IG_METAFOR_RD = {
    "beta": 0.3557583293713199, "se": 0.083809188793494277, "zval": 4.2448606709212751,
    "pval": 2.1872928728927218e-05, "ci.lb": 0.19149533776255323, "ci.ub": 0.52002132098008658,
    "QE": 10.029245154178453, "QEp": 0.0066401377044342132, "I2": 80.058319751344925,
    "H2": 5.0146225770892263, "k.yi": 3, "llML": -1.7001014520352835,
    "llREML": -2.8124226545113111,
    "yi": [0.58653846153846156, 0.10000000000000003, 0.58421052631578951],
    "vi": [0.022376038347746929, 0.014999999999999999, 0.015871920104971571],
}  # fmt: skip
# RevMan by hand, measure="RD"
IG_REVMAN_RD = {
    "beta": 0.35025985633420503, "se": 0.083213791294415251, "zval": 4.2091563295675982,
    "pval": 2.5632599960522992e-05, "ci.lb": 0.18716382238011847, "ci.ub": 0.51335589028829154,
    "QE": 10.118716367594264, "QEp": 0.0063496335030573574, "I2": 80.2346470901674,
    "H2": 5.0593581837971318, "k.yi": 3, "llML": -1.744837058743189,
    "llREML": -2.8571582612192166, "yi": IG_METAFOR_RD["yi"], "vi": IG_METAFOR_RD["vi"],
}  # fmt: skip
# rma.peto(ai=ai, bi=bi, ci=ci, di=di)
IG_PETO = {
    "beta": 1.525774830274184, "se": 0.37509461124746513, "zval": 4.0677066119394834,
    "pval": 4.7478106035775966e-05, "ci.lb": 0.79060290143409984, "ci.ub": 2.260946759114268,
    "QE": 8.2921145675354531, "QEp": 0.015826693795828982, "I2": 75.880699865988092,
    "H2": 4.1460572837677265, "k.yi": 3, "k.pos": 3, "llML": -5.3178125265321006,
    "llREML": -4.8401791152344344,
    "yi": [2.5876696832579187, 0.43223443223443225, 2.4049999999999998],
    "vi": [0.70701357466063353, 0.28815628815628819, 0.42249999999999999],
}  # fmt: skip
# rma.mh(ai=ai, bi=bi, ci=ci, di=di, measure="OR", level=90, correct=FALSE)
IG_METAFOR_OR_90 = {
    **IG_METAFOR_OR, "ci.lb": 0.86362854482189577, "ci.ub": 2.1909095992121346,
    "CO": 16.960883423500743, "COp": 3.8157941224778775e-05, "MH": 16.546237080816194,
    "MHp": 4.7478106035775878e-05,
}  # fmt: skip

# k = 1: rma.mh(ai=12, bi=18, ci=9, di=21, measure=m); rma.peto(ai=12, bi=18, ci=9, di=21)
K1 = {
    "OR": {
        "beta": 0.4418327522790394, "se": 0.54554472558998102, "zval": 0.80989281273174807,
        "pval": 0.41800178299156782, "ci.lb": -0.62741526183311003, "ci.ub": 1.5110807663911889,
        "QE": 0, "QEp": 1, "I2": 0, "H2": 1, "k.yi": 1, "k.pos": 1, "CO": 0.29304029304029305,
        "COp": 0.58827879404575489, "MH": 0.28815628815628813, "MHp": 0.5914044537576667,
        "BD": 3.7564805010524378e-30, "BDp": NAN, "TA": 0, "TAp": NAN,
        "llML": -0.31296804621711627, "llREML": 0,
        "yi": [0.44183275227903929], "vi": [0.29761904761904762],
    },
    "RR": {
        "beta": 0.28768207245178085, "se": 0.35746017649212031, "zval": 0.80479474741747181,
        "pval": 0.42093813324066298, "ci.lb": -0.41292699938010619,
        "ci.ub": 0.98829114428366793, "QE": 0, "QEp": 1, "I2": 0, "H2": 1, "k.yi": 1,
        "llML": 0.1097927842758577, "llREML": 0,
        "yi": [0.28768207245178112], "vi": [0.12777777777777777],
    },
    "RD": {
        "beta": 0.10000000000000001, "se": 0.1224744871391589, "zval": 0.81649658092772615,
        "pval": 0.41421617824252505, "ci.lb": -0.14004558381776544,
        "ci.ub": 0.34004558381776545, "QE": 0, "QEp": 1, "I2": 0, "H2": 1, "k.yi": 1,
        "llML": 1.1809140057352909, "llREML": 0,
        "yi": [0.10000000000000003], "vi": [0.014999999999999999],
    },
    "PETO": {
        "beta": 0.43223443223443225, "se": 0.53680190774278014, "zval": 0.80520286161416998,
        "pval": 0.42070262541653314, "ci.lb": -0.61987797377380938,
        "ci.ub": 1.4843468382426739, "QE": 0, "QEp": 1, "I2": 0, "H2": 1, "k.yi": 1,
        "k.pos": 1, "llML": -0.29681239379094304, "llREML": 0,
        "yi": [0.43223443223443225], "vi": [0.28815628815628819],
    },
}  # fmt: skip

# ai <- c(10,8,6); n1i <- c(10,15,9); ci <- c(4,5,2); n2i <- c(12,14,10)
# bi <- n1i-ai; di <- n2i-ci
# rma.mh(ai=ai, bi=bi, ci=ci, di=di, measure=m); RevMan by hand (see IG_REVMAN_RR);
# rma.peto(ai=ai, bi=bi, ci=ci, di=di)
ALL_EVENTS_ARM_REF = {
    ("metafor", "OR"): {
        "beta": 1.7365558910435568, "se": 0.54111131602646712, "zval": 3.2092396510861687,
        "pval": 0.001330865134366307, "ci.lb": 0.67599720000460994,
        "ci.ub": 2.7971145820825036, "QE": 3.4366233113936016, "QEp": 0.17936872858051414,
        "I2": 41.803339534789735, "H2": 1.7183116556968008, "k.yi": 3, "k.pos": 3,
        "CO": 10.423532720639466, "COp": 0.0012441966714557911, "MH": 9.9772507070878955,
        "MHp": 0.0015848614834778304, "BD": 4.8182606609063914, "BDp": 0.089893438173404325,
        "TA": 4.7852466925605919, "TAp": 0.091389622506866053, "llML": -4.7057603834470658,
        "llREML": -3.7912618805873555,
        "yi": [3.6805112044434205, 0.72131805752664158, 2.0794415416798357],
        "vi": [2.4351073762838471, 0.57896825396825391, 1.125],
    },
    ("metafor", "RR"): {
        "beta": 0.84626235114363746, "se": 0.27043667156987949, "zval": 3.1292440711945662,
        "pval": 0.0017525666850183906, "ci.lb": 0.3162162147677865,
        "ci.ub": 1.3763084875194884, "QE": 1.5304047491632009, "QEp": 0.46523976874307049,
        "I2": 0, "H2": 0.76520237458160045, "k.yi": 3, "llML": -1.3405200965485204,
        "llREML": -1.1999050608377733,
        "yi": [1.01435194505037, 0.40101075775878392, 1.2039728043259359],
        "vi": [0.1496281496281496, 0.18690476190476193, 0.4555555555555556],
    },
    ("metafor", "RD"): {
        "beta": 0.40858413780049213, "se": 0.10878431274579616, "zval": 3.7559104570091737,
        "pval": 0.00017271244190743303, "ci.lb": 0.19537080273579013,
        "ci.ub": 0.62179747286519416, "QE": 3.5894092729149802, "QEp": 0.16617652758682794,
        "I2": 44.280525068800848, "H2": 1.7947046364574901, "k.yi": 3,
        "llML": 0.67834069804833685, "llREML": -0.1644977566614263,
        "yi": [0.60839160839160844, 0.17619047619047618, 0.46666666666666662],
        "vi": [0.021354507392944477, 0.032992009502213579, 0.040691358024691364],
    },
    ("revman", "OR"): {
        "beta": 1.6862923889282759, "se": 0.52885077338087594, "zval": 3.1885977553706173,
        "pval": 0.0014296466191695983, "ci.lb": 0.64976391990560534,
        "ci.ub": 2.7228208579509463, "QE": 3.378883552250433, "QEp": 0.18462255595141985,
        "I2": 40.808850939300861, "H2": 1.6894417761252165, "k.yi": 3, "k.pos": 3,
        "CO": 10.066563102044736, "COp": 0.0015098441626035318, "MH": 9.6470368668013755,
        "MHp": 0.0018965727484632551, "BD": 3.7855280674518639, "BDp": 0.15065481781581186,
        "TA": 3.7641988551033188, "TAp": 0.15227008992731372, "llML": -4.676890503875482,
        "llREML": -3.7623920010157712,
    },
    ("revman", "RR"): {
        "beta": 0.82012399804117586, "se": 0.264763210891379, "zval": 3.0975753590540855,
        "pval": 0.0019511078230397359, "ci.lb": 0.30119764026289009,
        "ci.ub": 1.3390503558194617, "QE": 1.5153657584575175, "QEp": 0.46875132303409728,
        "I2": 0, "H2": 0.75768287922875877, "k.yi": 3, "llML": -1.3330006011956788,
        "llREML": -1.1923855654849316,
    },
    ("revman", "RD"): {
        "beta": 0.39647460085247038, "se": 0.10773223902443091, "zval": 3.6801852856929864,
        "pval": 0.00023306454361002313, "ci.lb": 0.18532329239072529,
        "ci.ub": 0.60762590931421545, "QE": 3.6949075191315415, "QEp": 0.1576380400881825,
        "I2": 45.871446317820592, "H2": 1.8474537595657707, "k.yi": 3,
        "llML": 0.62559157494005624, "llREML": -0.21724687976970691,
    },
    ("metafor", "PETO"): {
        "beta": 1.6202488510982744, "se": 0.47694351577855687, "zval": 3.3971503909711398,
        "pval": 0.00068091533789783323, "ci.lb": 0.68545673751239211,
        "ci.ub": 2.5550409646841565, "QE": 3.3460242327796479, "QEp": 0.18768089667846591,
        "I2": 40.227569770511288, "H2": 1.6730121163898239, "k.yi": 3, "k.pos": 3,
        "llML": -3.5380187259711731, "llREML": -2.8252423194379568,
        "yi": [2.4876456876456876, 0.6878205128205126, 1.8136363636363639],
        "vi": [0.6862470862470863, 0.53910256410256407, 0.82045454545454555],
    },
}  # fmt: skip

# ai <- c(0,3,5); n1i <- c(10,20,25); ci <- c(0,1,2); n2i <- c(12,18,30)
# bi <- n1i-ai; di <- n2i-ci
# rma.mh(ai=ai, bi=bi, ci=ci, di=di, measure=m)  ("Some yi/vi values are NA.")
# rma.peto(ai=ai, bi=bi, ci=ci, di=di)
DOUBLE_ZERO_REF = {
    ("metafor", "OR"): {
        "beta": 1.1968189669693172, "se": 0.71467496460224067, "zval": 1.6746339612377754,
        "pval": 0.094006071698105931, "ci.lb": -0.20391822430351225,
        "ci.ub": 2.5975561582421465, "QE": 0.010630215131091499, "QEp": 0.91788127593365676,
        "I2": 0, "H2": 0.010630215131091499, "k.yi": 2, "k.pos": 2, "CO": 2.0345634284152929,
        "COp": 0.15375832718161556, "MH": 1.9914043524134792, "MHp": 0.15819411940041567,
        "BD": 0.01063542407082179, "BDp": 0.91786122999987774, "TA": 0.010619339790189938,
        "TAp": 0.91792314428859156, "llML": -1.908730875806369,
        "llREML": -0.98017964342795971,
        "yi": [NAN, 1.0986122886681098, 1.2527629684953683],
        "vi": [NAN, 1.4509803921568627, 0.7857142857142857],
    },
    ("metafor", "RR"): {
        "beta": 1.0612565021243408, "se": 0.64431832012969192, "zval": 1.6470996849984418,
        "pval": 0.099537557876755306, "ci.lb": -0.20158419990920429,
        "ci.ub": 2.3240972041578858, "QE": 0.0059934672604992894,
        "QEp": 0.93829143008606808, "I2": 0, "H2": 0.0059934672604992894, "k.yi": 2,
        "llML": -1.7098064694402402, "llREML": -0.88415425672371184,
        "yi": [NAN, 0.99325177301028367, 1.0986122886681098],
        "vi": [NAN, 1.2277777777777776, 0.62666666666666671],
    },
    ("metafor", "RD"): {
        "beta": 0.094974874371859294, "se": 0.054798765241907521, "zval": 1.7331571971119337,
        "pval": 0.083067732450338536, "ci.lb": -0.012428731899544784,
        "ci.ub": 0.20237848064326336, "QE": 0.17366239747582049, "QEp": 0.67687722099909198,
        "I2": 0, "H2": 0.17366239747582049, "k.yi": 2, "llML": 2.8000746246916948,
        "llREML": 1.3560937955208412,
        "yi": [NAN, 0.094444444444444442, 0.13333333333333336],
        "vi": [NAN, 0.0092899519890260636, 0.0084740740740740748],
    },
    ("metafor", "PETO"): {
        "beta": 1.1032281196741773, "se": 0.63769685484609773, "zval": 1.7300196971183608,
        "pval": 0.083626756096632809, "ci.lb": -0.14663474887864081,
        "ci.ub": 2.3530909882269953, "QE": 0.023500101550749442, "QEp": 0.87816372855480596,
        "I2": 0, "H2": 0.023500101550749442, "k.yi": 2, "k.pos": 2,
        "llML": -1.6765257999079424, "llREML": -0.86090593412381655,
        "yi": [NAN, 0.97638888888888908, 1.1785714285714288],
        "vi": [NAN, 1.0912581699346406, 0.64821428571428574],
    },
    # RevMan OR/RR: the double-zero table is left out, the others have no zero cell:
    # rma.mh(ai=ai[2:3], bi=bi[2:3], ci=ci[2:3], di=di[2:3], measure=m)  -> same numbers
    # as metafor (a double-zero table adds nothing to the MH OR/RR sums).
    # RevMan RD: every table kept and corrected:
    # rma.mh(ai=ai+z/2, bi=bi+z/2, ci=ci+z/2, di=di+z/2, measure="RD", add=0, to="none",
    #        drop00=FALSE)
    ("revman", "RD", "drop00=FALSE"): {
        "beta": 0.094762254212760702, "se": 0.05638118583921168, "zval": 1.6807424817740524,
        "pval": 0.092812945177295894, "ci.lb": -0.015742839437753883,
        "ci.ub": 0.20526734786327527, "QE": 1.3102357360603865, "QEp": 0.51938084058246092,
        "I2": 0, "H2": 0.65511786803019323, "k.yi": 3, "llML": 3.8090611634860609,
        "llREML": 2.3165928716049233,
        "yi": [0.0069930069930069921, 0.094444444444444442, 0.13333333333333336],
        "vi": [0.0067891910524802111, 0.0092899519890260636, 0.0084740740740740748],
    },
    # Same R call, measure="OR" / "RR" (beta, se, QE): RevMan with drop00=False keeps the
    # double-zero table, corrected.
    ("revman", "OR", "drop00=FALSE"): {
        "beta": 1.0908801679894604, "se": 0.66790113585369915, "QE": 0.23458558934301377,
    },
    ("revman", "RR", "drop00=FALSE"): {
        "beta": 0.9763804833380898, "se": 0.60694768423317125, "QE": 0.19499717820445178,
    },
}  # fmt: skip

# ai <- c(10,3,5); n1i <- c(10,20,25); ci <- c(12,1,2); n2i <- c(12,18,30)
# bi <- n1i-ai; di <- n2i-ci
# rma.mh(ai=ai, bi=bi, ci=ci, di=di, measure="RR")   (the all-events table counts in MH RR)
ALL_EVENTS_BOTH_RR = {
    "beta": 0.33199795622629186, "se": 0.19329282072426293, "zval": 1.71759072573055,
    "pval": 0.085871293140312055, "ci.lb": -0.046849010863420804,
    "ci.ub": 0.71084492331600457, "QE": 1.2939518205571721, "QEp": 0.25532095573733732,
    "I2": 22.717369834573688, "H2": 1.2939518205571721, "k.yi": 2,
    "llML": -2.3537856460885767, "llREML": -1.5281334333720482,
    "yi": [NAN, 0.99325177301028367, 1.0986122886681098],
    "vi": [NAN, 1.2277777777777776, 0.62666666666666671],
}  # fmt: skip
# Same data, measure="RD": beta 0.094974874371859294, se 0.054269565221254729
ALL_EVENTS_BOTH_RD = {"beta": 0.094974874371859294, "se": 0.054269565221254729}


# ---------------------------------------------------------------------------- helpers
_FIELDS = {
    "beta": "estimate",
    "se": "se",
    "zval": "statistic",
    "pval": "pval",
    "ci.lb": "ci_lower",
    "ci.ub": "ci_upper",
    "QE": "q",
    "QEp": "q_pval",
    "I2": "i2",
    "H2": "h2",
    "llML": "loglik_ml",
    "llREML": "loglik_reml",
}
_EXTRA = ("k.yi", "k.pos", "CO", "COp", "MH", "MHp", "BD", "BDp", "TA", "TAp")


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetaAnalysisWarning)
        return func(*args, **kwargs)


def assert_matches(res: MetaResult, ref: dict, rtol: float = RTOL) -> None:
    for key, expected in ref.items():
        if key in _FIELDS:
            actual = getattr(res, _FIELDS[key])
        elif key in _EXTRA:
            actual = res.extra[key]
            if actual is None:
                actual = NAN
        elif key in ("yi", "vi"):
            np.testing.assert_allclose(getattr(res, key), expected, rtol=rtol, atol=1e-12)
            continue
        else:  # pragma: no cover - typo guard
            raise KeyError(key)
        if isinstance(expected, float) and math.isnan(expected):
            assert math.isnan(actual), key
        else:
            assert actual == pytest.approx(expected, rel=rtol, abs=1e-12), key
    if "k.yi" in ref:
        assert res.q_df == max(ref["k.yi"] - 1, 0)


# ---------------------------------------------------------------------------- the IG analysis


def test_ig_revman_rr_reproduces_the_published_result():
    with pytest.warns(SparseDataWarning, match="Jann 2020"):
        res = meta_analysis_mh("RR", **IG, zero_cells="revman")
    nat = res.back_transformed()
    assert f"{nat['estimate']:.2f}" == "2.90"
    assert f"{nat['ci_lower']:.2f}" == "1.62"
    assert f"{nat['ci_upper']:.2f}" == "5.19"
    assert f"{res.pval:.5f}" == "0.00035"
    assert_matches(res, IG_REVMAN_RR)
    assert res.extra["zero_cells"] == "revman"
    assert res.extra["corrected_in_pooling"] == ("Jann 2020",)
    assert res.extra["excluded_from_pooling"] == ()
    assert res.k == 3


def test_ig_metafor_rr():
    with pytest.warns(SparseDataWarning, match="Jann 2020.*uncorrected counts"):
        res = meta_analysis_mh("RR", **IG)
    nat = res.back_transformed()
    assert (f"{nat['estimate']:.2f}", f"{nat['ci_lower']:.2f}", f"{nat['ci_upper']:.2f}") == (
        "2.98",
        "1.64",
        "5.41",
    )
    assert_matches(res, IG_METAFOR_RR)
    assert res.extra["zero_cells"] == "metafor"
    assert res.extra["corrected_in_pooling"] == ()
    assert res.extra["k.pos"] is None and res.extra["CO"] is None


@pytest.mark.parametrize(
    ("measure", "conv", "ref"),
    [
        ("OR", "metafor", IG_METAFOR_OR),
        ("OR", "revman", IG_REVMAN_OR),
        ("RD", "metafor", IG_METAFOR_RD),
        ("RD", "revman", IG_REVMAN_RD),
    ],
)
def test_ig_other_measures(measure, conv, ref):
    res = quiet(meta_analysis_mh, measure, **IG, zero_cells=conv)
    assert_matches(res, ref)


def test_ig_level_and_uncorrected_cmh_test():
    res = quiet(meta_analysis_mh, "OR", **IG, level=90, correct=False)
    assert res.level == 0.9
    assert_matches(res, IG_METAFOR_OR_90)


@pytest.mark.parametrize("conv", ["metafor", "revman"])
def test_ig_peto(conv):
    res = quiet(meta_analysis_peto, **IG, zero_cells=conv)
    # The pooled Peto estimate and Q never use a correction.
    core = {key: IG_PETO[key] for key in ("beta", "se", "zval", "pval", "ci.lb", "ci.ub")}
    assert_matches(res, {**core, "QE": IG_PETO["QE"], "k.pos": 3, "k.yi": 3})
    if conv == "metafor":
        assert_matches(res, IG_PETO)
    else:  # RevMan: per-study Peto log ORs from the raw counts, (O-E)/V and 1/V.
        assert res.yi[0] == pytest.approx((7 - 11 * 7 / 23) / (7 * 16 * 11 * 12 / (23**2 * 22)))
        assert not res.effects.corrected.any()
    assert res.method == "PETO" and res.measure == "PETO" and res.transform == "exp"


# ---------------------------------------------------------------------------- result contract


def test_result_contract_mh():
    res = quiet(meta_analysis_mh, "OR", **IG)
    assert isinstance(res, MetaResult)
    assert (res.method, res.test, res.measure, res.transform) == ("MH", "z", "OR", "exp")
    assert res.tau2 == 0 and res.tau == 0 and not res.is_random_effects
    assert math.isnan(res.se_tau2) and math.isnan(res.vt) and math.isnan(res.ddf)
    assert math.isnan(res.pi_lower) and math.isnan(res.pi_upper)
    assert res.s2w == 1
    assert res.study == tuple(IG["study"])
    assert res.weights.shape == (3,) and res.weights.sum() == pytest.approx(100)
    assert isinstance(res.effects, EffectSizes) and res.effects.measure == "OR"
    assert res.effects.corrected.tolist() == [True, False, False]
    assert set(_EXTRA) <= set(res.extra)
    assert "b*c/N" in res.extra["weights_definition"]
    frame = res.study_frame()
    assert list(frame["study"]) == IG["study"]
    assert quiet(meta_analysis_mh, "RD", **IG).transform == "none"


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_mh_estimate_is_the_weighted_mean_with_the_reported_weights(measure):
    """The documented MH weights reproduce the estimate (tables without zero cells)."""
    data = {"ai": [4, 9, 14, 6], "n1i": [45, 70, 120, 52], "ci": [10, 15, 22, 9],
            "n2i": [44, 68, 118, 55]}  # fmt: skip
    res = meta_analysis_mh(measure, **data)
    a, c = np.array(data["ai"], float), np.array(data["ci"], float)
    n1, n2 = np.array(data["n1i"], float), np.array(data["n2i"], float)
    b, d = n1 - a, n2 - c
    effect = {"OR": a * d / (b * c), "RR": (a / n1) / (c / n2), "RD": a / n1 - c / n2}[measure]
    pooled = np.sum(res.weights * effect) / 100
    natural = pooled if measure == "RD" else math.log(pooled)
    assert natural == pytest.approx(res.estimate, rel=1e-12)


def test_bi_di_input_equals_n_input():
    by_n = quiet(meta_analysis_mh, "OR", **IG)
    by_cells = quiet(
        meta_analysis_mh,
        "OR",
        ai=IG["ai"],
        bi=np.subtract(IG["n1i"], IG["ai"]),
        ci=IG["ci"],
        di=np.subtract(IG["n2i"], IG["ci"]),
        study=IG["study"],
    )
    assert by_cells.estimate == by_n.estimate and by_cells.q == by_n.q


# ---------------------------------------------------------------------------- k = 1


@pytest.mark.parametrize("measure", ["OR", "RR", "RD", "PETO"])
def test_single_table(measure):
    with pytest.warns(SmallSampleWarning, match="heterogeneity"):
        if measure == "PETO":
            res = meta_analysis_peto(**ONE_TABLE)
        else:
            res = meta_analysis_mh(measure, **ONE_TABLE)
    assert_matches(res, K1[measure], rtol=1e-9)
    assert (res.k, res.q, res.i2, res.h2, res.q_df, res.q_pval) == (1, 0, 0, 1, 0, 1)
    assert res.weights.tolist() == [100.0]
    if measure == "OR":
        assert res.extra["BDp"] is None and res.extra["TAp"] is None


# ---------------------------------------------------------------------------- sparse data


@pytest.mark.parametrize("conv", ["metafor", "revman"])
@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_one_arm_with_all_events(conv, measure):
    res = quiet(meta_analysis_mh, measure, **ALL_EVENTS_ARM, zero_cells=conv)
    assert_matches(res, ALL_EVENTS_ARM_REF[(conv, measure)])
    assert res.effects.corrected.tolist() == [True, False, False]
    assert res.extra["corrected_in_pooling"] == (("Study 1",) if conv == "revman" else ())


def test_one_arm_with_all_events_peto():
    res = quiet(meta_analysis_peto, **ALL_EVENTS_ARM)
    assert_matches(res, ALL_EVENTS_ARM_REF[("metafor", "PETO")])


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_double_zero_table_metafor(measure):
    with pytest.warns(SparseDataWarning, match="DZ"):
        res = meta_analysis_mh(measure, **DOUBLE_ZERO)
    assert_matches(res, DOUBLE_ZERO_REF[("metafor", measure)])
    assert res.k == 3  # metafor keeps double-zero tables in the MH sums
    assert res.dropped == ("DZ",)
    assert res.study == ("DZ", "B", "C")
    if measure == "RD":
        assert res.weights[0] > 0  # it enters the MH risk-difference weights
    else:
        assert res.weights[0] == 0


def test_double_zero_table_peto():
    res = quiet(meta_analysis_peto, **DOUBLE_ZERO)
    assert_matches(res, DOUBLE_ZERO_REF[("metafor", "PETO")])
    assert res.weights[0] == 0 and res.dropped == ("DZ",)
    res_rm = quiet(meta_analysis_peto, **DOUBLE_ZERO, zero_cells="revman")
    assert res_rm.k == 2 and res_rm.extra["excluded_from_pooling"] == ("DZ",)
    assert res_rm.estimate == pytest.approx(res.estimate, rel=1e-13)


@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_double_zero_table_revman_ratio_measures_leave_it_out(measure):
    with pytest.warns(SparseDataWarning, match="DZ \\(left out of the pooled"):
        res = meta_analysis_mh(measure, **DOUBLE_ZERO, zero_cells="revman")
    # Left out; the other tables have no zero cell: same numbers as metafor with k = 2.
    assert_matches(res, DOUBLE_ZERO_REF[("metafor", measure)])
    assert res.k == 2
    assert res.extra["excluded_from_pooling"] == ("DZ",)
    assert res.extra["corrected_in_pooling"] == ()
    assert res.weights[0] == 0


def test_double_zero_table_revman_rd_is_kept_and_corrected():
    ref = DOUBLE_ZERO_REF[("revman", "RD", "drop00=FALSE")]
    res = quiet(meta_analysis_mh, "RD", **DOUBLE_ZERO, zero_cells="revman")
    pooled = {key: ref[key] for key in ("beta", "se", "zval", "pval", "ci.lb", "ci.ub")}
    assert_matches(res, pooled)
    assert res.k == 3 and res.extra["corrected_in_pooling"] == ("DZ",)
    assert math.isnan(res.yi[0])  # drop00: no study-level estimate
    full = quiet(meta_analysis_mh, "RD", **DOUBLE_ZERO, zero_cells="revman", drop00=False)
    assert_matches(full, ref)


@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_revman_drop00_false_keeps_corrected_double_zero_tables(measure):
    ref = DOUBLE_ZERO_REF[("revman", measure, "drop00=FALSE")]
    res = quiet(meta_analysis_mh, measure, **DOUBLE_ZERO, zero_cells="revman", drop00=False)
    assert_matches(res, ref)
    assert res.k == 3 and res.extra["k.yi"] == 3


def test_all_events_in_both_groups_counts_in_metafor_mh_rr():
    res = quiet(meta_analysis_mh, "RR", **ALL_EVENTS_BOTH)
    assert_matches(res, ALL_EVENTS_BOTH_RR)
    assert res.weights[0] > 0
    rd = quiet(meta_analysis_mh, "RD", **ALL_EVENTS_BOTH)
    assert_matches(rd, ALL_EVENTS_BOTH_RD)
    revman = quiet(meta_analysis_mh, "RR", **ALL_EVENTS_BOTH, zero_cells="revman")
    assert revman.k == 2 and revman.extra["excluded_from_pooling"] == ("Study 1",)


# ---------------------------------------------------------------------------- awkward tables
# tests/data/mh_peto_awkward_metafor.R prints metafor's answers for tables with no events
# anywhere, every participant with the event, missing counts, no events in one group and
# RD with variance 0; the .txt beside it holds the output (R is not needed here).
_AWKWARD_KEYS = ("beta", "se", "zval", "pval", "ci.lb", "ci.ub", "QE", "QEp", "I2", "H2")


def _read_awkward() -> dict:
    path = Path(__file__).parent / "data" / "mh_peto_awkward_metafor.txt"
    cases: dict = {}
    for line in path.read_text().splitlines():
        name, measure, *rest = line.split()
        entry = cases.setdefault((name, measure), {"warnings": [], "error": None, "values": None})
        if rest[0] == "WARN":
            entry["warnings"].append(" ".join(rest[1:]))
        elif rest[0] == "ERROR":
            entry["error"] = " ".join(rest[1:])
        else:
            numbers = [NAN if tok == "NA" else float(tok) for tok in rest]
            entry["values"] = dict(zip((*_AWKWARD_KEYS, "k", "k.yi"), numbers, strict=True))
    return cases


AWKWARD = _read_awkward()
AWKWARD_DATA = {
    "no_events": {"ai": [0, 0, 0], "n1i": [10, 20, 15], "ci": [0, 0, 0], "n2i": [12, 18, 15]},
    "all_events": {
        "ai": [10, 20, 15], "n1i": [10, 20, 15], "ci": [12, 18, 15], "n2i": [12, 18, 15]
    },
    "missing": {
        "study": ["A", "B", "C", "D"],
        "ai": [7, None, 13, 4], "n1i": [11, 30, 19, 20], "ci": [0, 9, 2, 5],
        "n2i": [12, 30, 20, "n/a"],
    },
    "one_group_no_events": {"ai": [0, 0], "n1i": [10, 12], "ci": [3, 2], "n2i": [10, 11]},
    "rd_zero_variance": {"ai": [10, 12], "n1i": [10, 12], "ci": [0, 0], "n2i": [10, 11]},
    "double_zero_only": {"ai": [0, 12], "n1i": [10, 12], "ci": [0, 11], "n2i": [10, 11]},
    "one_table_no_events": {"ai": [0], "n1i": [10], "ci": [0], "n2i": [12]},
}  # fmt: skip
# With only double-zero tables R's sums leave rounding noise (beta 2e-16 or 8e-17, se 3e-10
# for RD), so z and p are noise too; the estimate and CI are compared with atol 1e-9.
_NOISE = {("double_zero_only", "RR"), ("double_zero_only", "RD")}


def _fit_awkward(name: str, measure: str) -> MetaResult:
    data = AWKWARD_DATA[name]
    if measure == "PETO":
        return meta_analysis_peto(**data)
    return meta_analysis_mh(measure, **data)


@pytest.mark.parametrize(("name", "measure"), sorted(AWKWARD))
def test_awkward_tables_match_metafor(name, measure):
    ref = AWKWARD[(name, measure)]
    if ref["error"] is not None:
        assert "never occurred" in ref["error"]
        with pytest.raises(ValueError, match="nothing to pool"), warnings.catch_warnings():
            warnings.simplefilter("ignore", MetaAnalysisWarning)
            _fit_awkward(name, measure)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = _fit_awkward(name, measure)
    expected = ref["values"]
    skip = ("zval", "pval") if (name, measure) in _NOISE else ()
    for key in _AWKWARD_KEYS:
        if key in skip:
            continue
        actual = getattr(res, _FIELDS[key])
        if math.isnan(expected[key]):
            assert math.isnan(actual), key
        else:
            assert actual == pytest.approx(expected[key], rel=RTOL, abs=1e-9), key
    assert res.k == expected["k"] and res.extra["k.yi"] == expected["k.yi"]
    dropped = [w for w in caught if issubclass(w.category, DroppedStudiesWarning)]
    if "Tables with NAs omitted from model fitting." in ref["warnings"]:
        assert len(dropped) == 1 and "B, D" in str(dropped[0].message)
        assert res.study == ("A", "C")
    else:
        assert not dropped
    if math.isnan(expected["beta"]):
        # metafor says nothing; here the reason is a warning and travels with the result.
        reason = res.extra["not_estimable"]
        assert reason and "metafor gives NA" in reason
        assert reason in res.warnings
    else:
        assert res.extra["not_estimable"] is None
    if expected["se"] == 0:
        assert any("standard error of 0" in text for text in res.warnings)


def test_missing_counts_pool_the_rest_and_keep_other_checks():
    ref = AWKWARD[("missing", "RR")]["values"]
    complete = {key: [v for i, v in enumerate(vals) if i in (0, 2)]
                for key, vals in AWKWARD_DATA["missing"].items()}  # fmt: skip
    with pytest.warns(
        DroppedStudiesWarning, match=r"Left out \(missing or non-numeric counts\): B, D"
    ):
        res = meta_analysis_mh("RR", **AWKWARD_DATA["missing"])
    assert res.estimate == pytest.approx(ref["beta"], rel=RTOL)
    assert res.estimate == quiet(meta_analysis_mh, "RR", **complete).estimate
    with pytest.raises(ValueError, match="Negative counts.*C"):
        meta_analysis_mh("RR", ai=[1, None, -1], n1i=[5, 5, 5], ci=[1, 1, 1], n2i=[5, 5, 5],
                         study=["A", "B", "C"])  # fmt: skip
    with pytest.raises(ValueError, match="Every study has a missing"), warnings.catch_warnings():
        warnings.simplefilter("ignore", MetaAnalysisWarning)
        meta_analysis_peto(ai=[None], n1i=[5], ci=[1], n2i=[5])


@pytest.mark.parametrize("measure", ["OR", "RR", "RD", "PETO"])
def test_revman_with_every_table_left_out_is_a_clear_error(measure):
    data = {"ai": [0, 12], "n1i": [10, 12], "ci": [0, 11], "n2i": [10, 11]}
    if measure == "RD":  # RevMan keeps double-zero tables for risk differences
        res = quiet(meta_analysis_mh, "RD", **data, zero_cells="revman")
        assert res.k == 2 and np.isfinite(res.estimate)
        return
    with pytest.raises(ValueError, match="nothing to pool"), warnings.catch_warnings():
        warnings.simplefilter("ignore", MetaAnalysisWarning)
        if measure == "PETO":
            meta_analysis_peto(**data, zero_cells="revman")
        else:
            meta_analysis_mh(measure, **data, zero_cells="revman")


@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_no_events_in_one_group_revman_gives_an_estimate(measure):
    data = AWKWARD_DATA["one_group_no_events"]
    res = quiet(meta_analysis_mh, measure, **data, zero_cells="revman")
    assert np.isfinite([res.estimate, res.se, res.ci_lower, res.ci_upper]).all()
    assert res.estimate < 0 and res.extra["not_estimable"] is None


def test_degenerate_breslow_day_is_none_not_a_crash():
    """R: rma.mh(ai=32.5, bi=2.5, ci=6.5, di=0.5, measure="OR", add=0, to="none")
    beta 2.2204460492503128e-16, se 1.6076739049370006, CO 0.64615384615384608,
    MH 0.63076923076923075, BD Inf, TA NaN (rounding makes OR_MH = 1 + 2e-16)."""
    res = quiet(
        meta_analysis_mh, "OR", ai=[32, 8], n1i=[34, 8], ci=[6, 16], n2i=[6, 16],
        zero_cells="revman",
    )  # fmt: skip
    assert_matches(
        res,
        {"beta": 2.2204460492503128e-16, "se": 1.6076739049370006,
         "CO": 0.64615384615384608, "MH": 0.63076923076923075},
    )  # fmt: skip
    assert res.extra["BD"] is None and res.extra["TA"] is None
    assert res.extra["excluded_from_pooling"] == ("Study 2",)


# ---------------------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ai": [1, 2], "n1i": [10, 10], "ci": [1, 2], "n2i": [10, 1]}, "Negative counts"),
        ({"ai": [0, 2], "n1i": [0, 10], "ci": [1, 2], "n2i": [10, 10]}, "no participants"),
        ({"ai": [1], "n1i": [10], "bi": [8], "ci": [1], "n2i": [10]}, "do not add up"),
        ({"ai": [1, 2], "n1i": [10], "ci": [1, 2], "n2i": [10, 10]}, "same length"),
        ({"ai": [1], "ci": [1], "n2i": [10]}, "n1i"),
        ({"ai": [], "n1i": [], "ci": [], "n2i": []}, "no tables"),
        ({"ai": [1], "n1i": [5], "ci": [1], "n2i": [5], "study": ["a", "b"]}, "labels"),
    ],
)
def test_invalid_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        meta_analysis_mh("OR", **kwargs)


def test_invalid_options():
    with pytest.raises(ValueError, match="supports"):
        meta_analysis_mh("SMD", **IG)
    with pytest.raises(ValueError, match="zero_cells"):
        meta_analysis_mh("OR", **IG, zero_cells="stata")
    with pytest.raises(ValueError, match="zero_cells"):
        meta_analysis_peto(**IG, zero_cells="stata")
    with pytest.raises(ValueError, match="add"):
        meta_analysis_mh("OR", **IG, add=-1)
    with pytest.raises(ValueError, match="level"):
        meta_analysis_mh("OR", **IG, level=0)


# ---------------------------------------------------------------------------- properties


@st.composite
def tables(draw, min_k: int = 1, max_k: int = 7):
    k = draw(st.integers(min_k, max_k))
    n1 = draw(st.lists(st.integers(1, 60), min_size=k, max_size=k))
    n2 = draw(st.lists(st.integers(1, 60), min_size=k, max_size=k))
    ai = [draw(st.integers(0, n)) for n in n1]
    ci = [draw(st.integers(0, n)) for n in n2]
    perm = draw(st.permutations(range(k)))
    return {"ai": ai, "n1i": n1, "ci": ci, "n2i": n2}, list(perm)


def _run(method: str, conv: str, data: dict):
    try:
        if method == "PETO":
            return quiet(meta_analysis_peto, **data, zero_cells=conv)
        return quiet(meta_analysis_mh, method, **data, zero_cells=conv)
    except ValueError as exc:
        return exc


@settings(max_examples=150, deadline=None)
@given(
    case=tables(),
    method=st.sampled_from(["OR", "RR", "RD", "PETO"]),
    conv=st.sampled_from(["metafor", "revman"]),
)
def test_permutation_invariance(case, method, conv):
    data, perm = case
    shuffled = {key: [values[i] for i in perm] for key, values in data.items()}
    shuffled["study"] = [f"S{i}" for i in perm]
    data = {**data, "study": [f"S{i}" for i in range(len(perm))]}
    first, second = _run(method, conv, data), _run(method, conv, shuffled)
    if isinstance(first, ValueError):
        assert isinstance(second, ValueError)
        return
    for name in ("estimate", "se", "ci_lower", "ci_upper", "q", "i2", "h2", "loglik_ml"):
        a, b = getattr(first, name), getattr(second, name)
        assert a == pytest.approx(b, rel=1e-12, abs=1e-12, nan_ok=True), name
    assert first.k == second.k and first.extra["k.yi"] == second.extra["k.yi"]
    for key in ("k.pos", "CO", "MH", "BD", "TA"):
        a, b = first.extra.get(key), second.extra.get(key)
        assert (a is None) == (b is None)
        if a is not None:
            assert a == pytest.approx(b, rel=1e-9, abs=1e-9), key
    np.testing.assert_allclose(first.yi[perm], second.yi, rtol=1e-13)
    np.testing.assert_allclose(first.weights[perm], second.weights, rtol=1e-12, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    case=tables(),
    method=st.sampled_from(["OR", "RR", "RD", "PETO"]),
    conv=st.sampled_from(["metafor", "revman"]),
    level=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_ci_contains_the_estimate_and_nothing_is_nan(case, method, conv, level):
    data, _ = case
    try:
        if method == "PETO":
            res = quiet(meta_analysis_peto, **data, zero_cells=conv, level=level)
        else:
            res = quiet(meta_analysis_mh, method, **data, zero_cells=conv, level=level)
    except ValueError as exc:
        assert "nothing to pool" in str(exc)  # a clear message, not a crash
        return
    if res.extra["not_estimable"]:  # metafor's NA, explained
        assert math.isnan(res.estimate) and res.extra["not_estimable"] in res.warnings
        return
    if res.se == 0:  # metafor's variance 0 (e.g. RD with no events anywhere): explained
        assert res.ci_lower == res.estimate == res.ci_upper
        assert any("standard error of 0" in text for text in res.warnings)
        return
    shown = [res.estimate, res.se, res.ci_lower, res.ci_upper, res.pval, res.statistic,
             res.q, res.q_pval, res.i2, res.h2]  # fmt: skip
    assert np.isfinite(shown).all()
    assert res.se > 0
    assert res.ci_lower < res.estimate < res.ci_upper
    nat = res.back_transformed()
    assert nat["ci_lower"] <= nat["estimate"] <= nat["ci_upper"]
    assert 0 <= res.i2 < 100 and 0 <= res.pval <= 1
    assert res.weights.sum() == pytest.approx(100)
    assert len(res.study) == len(data["ai"]) == res.yi.shape[0]
