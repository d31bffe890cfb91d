"""The canonical study-table vocabulary and the mapping of user columns onto it.

Column names follow metafor (``ai, n1i, ci, n2i`` for 2x2 tables, ``xi, ni`` for
proportions, ``m1i, sd1i, n1i, m2i, sd2i, n2i`` for means, ``ri, ni`` for correlations,
``yi, vi, sei`` for generic effects), so a table mapped here feeds
:func:`igmeta.effects.effect_sizes` directly and R users recognise every name.

Besides the numeric columns of its data type, a canonical table has a ``study`` label,
an ``include`` flag, an optional grouping column ``design``, an optional ``year`` and any
number of extra columns, which are always kept. Optional risk-of-bias text columns
(``rob_d1`` .. ``rob_overall`` for RoB 2, ``robins_d1`` .. ``robins_overall`` for
ROBINS-I; see :mod:`igmeta.risk_of_bias`) are recognised under their common headers.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3). doi:10.18637/jss.v036.i03
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from itertools import product

import pandas as pd

from igmeta.risk_of_bias import ROB2, ROB_SYNONYMS, TOOLS

__all__ = [
    "CANONICAL_COLUMNS",
    "COLUMN_DESCRIPTIONS",
    "COMMON_COLUMNS",
    "DATA_TYPES",
    "DATA_TYPE_LABELS",
    "GROUP_COLUMN",
    "INCLUDE_COLUMN",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMN_SETS",
    "STUDY_COLUMN",
    "SYNONYMS",
    "YEAR_COLUMN",
    "CLUSTER_COLUMN",
    "apply_mapping",
    "detect_data_type",
    "guess_mapping",
    "missing_required_columns",
    "normalise_name",
    "synonym_table",
    "template_csv_bytes",
    "template_frame",
]

STUDY_COLUMN = "study"
INCLUDE_COLUMN = "include"
GROUP_COLUMN = "design"
YEAR_COLUMN = "year"
#: Optional cluster of each row (e.g. a research group or a trial with several outcomes):
#: its presence offers the three-level model (igmeta.multilevel).
CLUSTER_COLUMN = "cluster"
#: Columns every data type shares (label, include flag, grouping, year).
COMMON_COLUMNS = (STUDY_COLUMN, INCLUDE_COLUMN, GROUP_COLUMN, YEAR_COLUMN)

DATA_TYPES = ("binary", "proportion", "continuous", "correlation", "generic")
DATA_TYPE_LABELS = {
    "binary": "Two groups, events and totals (2x2 tables)",
    "proportion": "One group, events and total (single proportions)",
    "continuous": "Two groups, means and standard deviations",
    "correlation": "Correlation coefficients",
    "generic": "Effect sizes already computed (estimate with variance, SE or CI)",
}

#: Numeric canonical columns of each data type (``bi``/``di`` are alternative binary input).
CANONICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "binary": ("ai", "n1i", "ci", "n2i", "bi", "di"),
    "proportion": ("xi", "ni"),
    "continuous": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
    "correlation": ("ri", "ni"),
    "generic": ("yi", "vi", "sei", "estimate", "ci_lower", "ci_upper"),
}

#: Alternative sets of columns a table must have; any one complete set suffices.
REQUIRED_COLUMN_SETS: dict[str, tuple[tuple[str, ...], ...]] = {
    "binary": (("ai", "n1i"), ("ai", "bi")),
    "proportion": (("xi", "ni"),),
    "continuous": (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),),
    "correlation": (("ri", "ni"),),
    "generic": (("yi", "vi"), ("yi", "sei"), ("estimate", "ci_lower", "ci_upper")),
}

#: Numeric columns a table may have beyond its preferred (first) required set.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "binary": ("ci", "n2i", "bi", "di"),
    "proportion": (),
    "continuous": (),
    "correlation": (),
    "generic": ("sei", "estimate", "ci_lower", "ci_upper"),
}

COLUMN_DESCRIPTIONS: dict[str, str] = {
    "study": "Study label shown in tables and plots, e.g. 'Smith 2001'.",
    "include": "TRUE to use the study, FALSE to set it aside; blank means TRUE.",
    "design": "Optional grouping for subgroup analysis, e.g. 'RCT' or 'open-label'.",
    "year": "Optional publication year; it orders the cumulative analysis.",
    "cluster": (
        "Optional cluster of the row (e.g. the research group or the trial when it "
        "reports several estimates); offers the three-level model."
    ),
    "ai": "Number of events in group 1, the treatment group.",
    "bi": "Number of non-events in group 1; an alternative to n1i.",
    "n1i": "Number of participants in group 1, the treatment group.",
    "ci": "Number of events in group 2, the control group; leave empty for a single-arm study.",
    "di": "Number of non-events in group 2; an alternative to n2i.",
    "n2i": (
        "Number of participants in group 2, the control group; leave empty for a single-arm study."
    ),
    "xi": "Number of events, i.e. participants with the outcome.",
    "ni": "Number of participants.",
    "m1i": "Mean in group 1, the treatment group.",
    "sd1i": "Standard deviation in group 1, the treatment group.",
    "m2i": "Mean in group 2, the control group.",
    "sd2i": "Standard deviation in group 2, the control group.",
    "ri": "Correlation coefficient, between -1 and 1.",
    "yi": "Effect size on the analysis scale, e.g. a log risk ratio or a mean difference.",
    "vi": "Sampling variance of yi.",
    "sei": "Standard error of yi; an alternative to vi.",
    "estimate": "Point estimate with a confidence interval; ratios on their natural scale.",
    "ci_lower": "Lower limit of the confidence interval of the estimate.",
    "ci_upper": "Upper limit of the confidence interval of the estimate.",
    **{
        column: (
            f"Optional {tool.name} judgement, {name[:1].lower() + name[1:]}: "
            + ", ".join(tool.judgements)
            + "; empty means not assessed."
        )
        for tool in TOOLS
        for column, name in zip(tool.columns, tool.long_names, strict=True)
    },
}

_GROUP_ONE_WORDS = (
    "treatment",
    "treat",
    "trt",
    "tx",
    "intervention",
    "experimental",
    "exp",
    "active",
    "ig",
    "ivig",
    "e",
    "1",
)
_GROUP_TWO_WORDS = ("control", "ctrl", "placebo", "pbo", "comparator", "usualcare", "c", "2")
_EVENT_WORDS = ("events", "event", "responders", "cases", "e", "x")
_NON_EVENT_WORDS = ("nonevents", "noevents", "nonevent", "nonresponders")
_TOTAL_WORDS = ("total", "n", "sample", "samplesize", "participants", "patients", "size")
_MEAN_WORDS = ("mean", "m", "avg", "average")
_SD_WORDS = ("sd", "std", "stdev", "standarddeviation")


def normalise_name(name: object) -> str:
    """Reduce a column name to lower-case letters and digits for matching.

    Parameters
    ----------
    name : object
        A column label (converted with ``str``).

    Returns
    -------
    str
        The name without case, spaces, underscores, dots or other punctuation, so that
        ``"Events_Treatment"``, ``"events treatment"`` and ``"events.treatment"`` agree.
    """
    return re.sub(r"[^0-9a-z]+", "", str(name).casefold())


def _arm_names(measures: Iterable[str], arms: Iterable[str]) -> tuple[str, ...]:
    """All ``measure+arm`` and ``arm+measure`` spellings, e.g. ``eventse``, ``igevents``."""
    pairs = list(product(tuple(measures), tuple(arms)))
    return tuple(dict.fromkeys([m + a for m, a in pairs] + [a + m for m, a in pairs]))


_COMMON_SYNONYMS: dict[str, tuple[str, ...]] = {
    "study": (
        "study",
        "studies",
        "studlab",
        "studyid",
        "studyname",
        "studylabel",
        "author",
        "authors",
        "firstauthor",
        "authoryear",
        "name",
        "trial",
        "trialname",
        "label",
        "reference",
    ),
    "include": ("include", "included", "use", "selected", "keep"),
    "design": ("design", "subgroup", "group", "studydesign", "byvar", "category", "type"),
    "year": ("year", "yr", "pubyear", "publicationyear", "yearofpublication"),
    "cluster": ("cluster", "clusterid", "clusterlabel", "clustername"),
    # Risk of bias (optional text columns, igmeta.risk_of_bias): "D1", "Overall", ...
    **ROB_SYNONYMS,
}

#: Per data type, canonical column -> accepted spellings (already normalised).
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "binary": {
        # tpos/tneg/cpos/cneg: metafor's dat.bcg (events and non-events per arm).
        "ai": ("ai", "tpos", *_arm_names(_EVENT_WORDS, _GROUP_ONE_WORDS)),
        "bi": ("bi", "tneg", *_arm_names(_NON_EVENT_WORDS, _GROUP_ONE_WORDS)),
        "n1i": ("n1i", *_arm_names(_TOTAL_WORDS, _GROUP_ONE_WORDS)),
        "ci": ("ci", "cpos", *_arm_names(_EVENT_WORDS, _GROUP_TWO_WORDS)),
        "di": ("di", "cneg", *_arm_names(_NON_EVENT_WORDS, _GROUP_TWO_WORDS)),
        "n2i": ("n2i", *_arm_names(_TOTAL_WORDS, _GROUP_TWO_WORDS)),
    },
    "proportion": {
        "xi": ("xi", *_EVENT_WORDS, *_arm_names(_EVENT_WORDS, _GROUP_ONE_WORDS)),
        "ni": ("ni", *_TOTAL_WORDS, *_arm_names(_TOTAL_WORDS, _GROUP_ONE_WORDS)),
    },
    "continuous": {
        "m1i": ("m1i", *_arm_names(_MEAN_WORDS, _GROUP_ONE_WORDS)),
        "sd1i": ("sd1i", *_arm_names(_SD_WORDS, _GROUP_ONE_WORDS)),
        "n1i": ("n1i", *_arm_names(_TOTAL_WORDS, _GROUP_ONE_WORDS)),
        "m2i": ("m2i", *_arm_names(_MEAN_WORDS, _GROUP_TWO_WORDS)),
        "sd2i": ("sd2i", *_arm_names(_SD_WORDS, _GROUP_TWO_WORDS)),
        "n2i": ("n2i", *_arm_names(_TOTAL_WORDS, _GROUP_TWO_WORDS)),
    },
    "correlation": {
        "ri": ("ri", "r", "cor", "corr", "correlation", "pearsonr", "rho"),
        "ni": ("ni", *_TOTAL_WORDS),
    },
    "generic": {
        "yi": ("yi", "y", "effect", "effectsize", "es", "te", "logrr", "logor", "loghr", "lnor"),
        "vi": ("vi", "v", "var", "variance", "vartes"),
        "sei": ("sei", "se", "sete", "stderr", "standarderror", "ses"),
        "estimate": ("estimate", "est", "pointestimate", "or", "rr", "hr", "ratio"),
        "ci_lower": ("cilower", "lower", "lcl", "cilb", "lowerci", "lci", "ll", "lower95", "cilow"),
        "ci_upper": (
            "ciupper",
            "upper",
            "ucl",
            "ciub",
            "upperci",
            "uci",
            "ul",
            "upper95",
            "cihigh",
        ),
    },
}


def synonym_table(data_type: str) -> dict[str, tuple[str, ...]]:
    """All accepted spellings of the columns of one data type.

    Parameters
    ----------
    data_type : str
        One of :data:`DATA_TYPES`; an unknown type gives the common columns only.

    Returns
    -------
    dict of str to tuple of str
        Canonical column -> normalised spellings (see :func:`normalise_name`), the
        common columns (study, include, design, year) first.
    """
    return {**_COMMON_SYNONYMS, **SYNONYMS.get(data_type, {})}


def guess_mapping(columns: Iterable[object], data_type: str) -> dict[object, str]:
    """Guess which user column holds which canonical column.

    Parameters
    ----------
    columns : iterable of object
        The user's column labels, in table order.
    data_type : str
        One of :data:`DATA_TYPES`. An unknown type maps only the common columns.

    Returns
    -------
    dict
        ``{source column: canonical column}`` for every recognised column (a column
        already named canonically maps to itself). Each canonical column is used at most
        once; an exact canonical name wins over a synonym, then table order decides.
    """
    table = synonym_table(data_type)
    sources = list(dict.fromkeys(columns))
    keys = {source: normalise_name(source) for source in sources}
    mapping: dict[object, str] = {}
    for exact_pass in (True, False):
        for canonical, spellings in table.items():
            if canonical in mapping.values():
                continue
            wanted = {normalise_name(canonical)} if exact_pass else set(spellings)
            for source in sources:
                if source not in mapping and keys[source] in wanted:
                    mapping[source] = canonical
                    break
    return {source: mapping[source] for source in sources if source in mapping}


def missing_required_columns(columns: Iterable[object], data_type: str) -> tuple[str, ...]:
    """Canonical columns still needed for the closest complete required set.

    Parameters
    ----------
    columns : iterable of object
        Column labels of a table already in canonical names.
    data_type : str
        One of :data:`DATA_TYPES`.

    Returns
    -------
    tuple of str
        Empty when some required set is complete; otherwise the missing columns of the
        set that lacks the fewest (the first such set on ties).
    """
    present = set(columns)
    shortfalls = [
        tuple(column for column in required if column not in present)
        for required in REQUIRED_COLUMN_SETS.get(data_type, ())
    ]
    return min(shortfalls, key=len, default=())


def detect_data_type(columns: Iterable[object]) -> str | None:
    """Guess the data type of a table from its column names.

    Parameters
    ----------
    columns : iterable of object
        The user's column labels.

    Returns
    -------
    str or None
        The data type whose required columns are all recognised and which recognises the
        most numeric columns (ties: proportion, binary, continuous, correlation, generic);
        None when no type fits.
    """
    labels = list(columns)
    best: tuple[int, str] | None = None
    for data_type in ("proportion", "binary", "continuous", "correlation", "generic"):
        mapped = set(guess_mapping(labels, data_type).values())
        if missing_required_columns(mapped, data_type):
            continue
        score = len(mapped & set(CANONICAL_COLUMNS[data_type]))
        if best is None or score > best[0]:
            best = (score, data_type)
    return None if best is None else best[1]


def apply_mapping(frame: pd.DataFrame, mapping: Mapping[object, str]) -> pd.DataFrame:
    """Rename user columns to canonical names, keeping everything else.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as read.
    mapping : mapping
        ``{source column: canonical column}``, e.g. from :func:`guess_mapping` after the
        user's corrections. Sources absent from ``frame`` are ignored; when two sources name
        the same target, the first wins and the other keeps its name.

    Returns
    -------
    pandas.DataFrame
        A copy in the original row and column order with mapped columns renamed and an
        ``include`` column (all True) appended if there was none. An unmapped column that
        already carries a target name is renamed ``<name> (original)`` so names stay unique.
    """
    renames: dict[object, str] = {}
    for source, target in mapping.items():
        if source in frame.columns and target not in renames.values():
            renames[source] = target
    targets = set(renames.values())
    taken = set(frame.columns) | targets
    for column in frame.columns:
        if column in targets and column not in renames:
            replacement = f"{column} (original)"
            while replacement in taken:
                replacement += "'"
            renames[column] = replacement
            taken.add(replacement)
    result = frame.rename(columns=renames) if renames else frame.copy()
    if INCLUDE_COLUMN not in result.columns:
        result[INCLUDE_COLUMN] = True
    return result


_TEMPLATE_ROWS: dict[str, dict[str, tuple[object, object, object]]] = {
    "binary": {
        "ai": (12, 7, 30),
        "n1i": (40, 25, 88),
        "ci": (5, 3, 18),
        "n2i": (38, 26, 90),
    },
    "proportion": {"xi": (12, 7, 30), "ni": (40, 25, 88)},
    "continuous": {
        "m1i": (4.2, 3.9, 5.1),
        "sd1i": (1.8, 2.1, 1.6),
        "n1i": (40, 25, 88),
        "m2i": (5.0, 4.4, 5.8),
        "sd2i": (1.9, 2.0, 1.7),
        "n2i": (38, 26, 90),
    },
    "correlation": {"ri": (0.31, 0.12, 0.45), "ni": (120, 64, 210)},
    "generic": {
        "yi": (0.45, -0.12, None),
        "vi": (0.04, None, None),
        "sei": (None, 0.25, None),
        "estimate": (None, None, 1.8),
        "ci_lower": (None, None, 1.1),
        "ci_upper": (None, None, 2.9),
    },
}


#: Illustrative RoB 2 judgements of the template rows (D1..D5, overall; made up).
_TEMPLATE_ROB2 = (
    ("Low", "Low", "Some concerns"),
    ("Low", "Some concerns", "High"),
    ("Low", "Low", "Low"),
    ("Low", "Low", "Some concerns"),
    ("Low", "Some concerns", "Low"),
    ("Low", "Some concerns", "High"),
)


def template_frame(data_type: str) -> pd.DataFrame:
    """An example table with three rows and every documented column of a data type.

    Parameters
    ----------
    data_type : str
        One of :data:`DATA_TYPES`.

    Returns
    -------
    pandas.DataFrame
        Columns ``study, year, design``, the numeric columns, the optional RoB 2 columns
        (``rob_d1`` .. ``rob_d5``, ``rob_overall``, illustrative judgements of the made-up
        studies), then ``include``. The generic
        template shows each accepted input in turn: yi with vi, yi with sei, and an
        estimate with its confidence interval. An unknown type gives an empty frame.
    """
    if data_type not in _TEMPLATE_ROWS:
        return pd.DataFrame()
    columns: dict[str, object] = {
        STUDY_COLUMN: ["Study A 2001", "Study B 2005", "Study C 2012"],
        YEAR_COLUMN: [2001, 2005, 2012],
        GROUP_COLUMN: ["RCT", "RCT", "open-label"],
    }
    for column, values in _TEMPLATE_ROWS[data_type].items():
        columns[column] = pd.array(values, dtype="Int64" if _is_whole(values) else "Float64")
    for column, values in zip(ROB2.columns, _TEMPLATE_ROB2, strict=True):
        columns[column] = pd.array(values, dtype="str")
    columns[INCLUDE_COLUMN] = [True, True, True]
    return pd.DataFrame(columns)


def _is_whole(values: tuple[object, ...]) -> bool:
    """True when every given value is an integer (None allowed)."""
    return all(value is None or isinstance(value, int) for value in values)


def template_csv_bytes(data_type: str) -> bytes:
    """The example table of :func:`template_frame` as UTF-8 CSV bytes.

    Parameters
    ----------
    data_type : str
        One of :data:`DATA_TYPES`.

    Returns
    -------
    bytes
        Comma-separated, header first, empty cells for absent values.
    """
    return template_frame(data_type).to_csv(index=False).encode("utf-8")
