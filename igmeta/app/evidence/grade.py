"""GRADE certainty of evidence and the summary-of-findings row of one analysis.

The user rates five downgrading domains (risk of bias, inconsistency, indirectness,
imprecision, publication bias); for four of them this module computes a *suggestion* from
the data, always with its number and a plain-words reason, never a silent judgement.
Certainty starts at High for randomised trials (Low for observational studies), drops one
level per "serious" and two per "very serious" (one for "strongly suspected" publication
bias) and stops at Very low. Upgrading domains are not implemented.

Rules of the suggestions (each is a rule of thumb from the cited guidance, shown as such):

* **Inconsistency**: I² < 50% not serious, 50-75% serious, >= 75% very serious (GRADE
  handbook 5.2.3 / Cochrane Handbook 10.10.2 bands); a prediction interval that includes
  the null while the CI does not raises "not serious" to "serious".
* **Imprecision**: the CI includes the decision threshold (default: the null); the
  participants fall short of the optimal information size (OIS, the sample size of one
  adequately powered trial); "very serious" when the CI includes both appreciable benefit
  and appreciable harm (ratio 1 -/+ the relative change, GRADE's 0.75/1.25; GRADE
  guidelines 6), or when both other criteria fail -- our rule of thumb for GRADE's
  "rate down twice" for very wide intervals or a sample far below the OIS (Core GRADE 2).
* **Publication bias**: Egger's test p < 0.10 suggests "strongly suspected", with the
  trim-and-fill estimate beside it; with k < 10 "too few studies to test".
* **Risk of bias**: "serious" when studies judged at high risk (``high``, ``serious``,
  ``critical``) carry >= 50% of the weight ("most of the information", GRADE guidelines 4).

References
----------
Guyatt GH et al. (2011). GRADE guidelines 4: rating the quality of evidence - study
limitations (risk of bias). J Clin Epidemiol 64:407-415. doi:10.1016/j.jclinepi.2010.07.017
Guyatt GH et al. (2011). GRADE guidelines 6: rating the quality of evidence - imprecision.
J Clin Epidemiol 64:1283-1293. doi:10.1016/j.jclinepi.2011.01.012
Guyatt GH et al. (2011). GRADE guidelines 7: inconsistency. J Clin Epidemiol
64:1294-1302. doi:10.1016/j.jclinepi.2011.03.017
Guyatt GH et al. (2013). GRADE guidelines 12: preparing summary of findings tables -
binary outcomes. J Clin Epidemiol 66:158-172. doi:10.1016/j.jclinepi.2012.01.012
Guyatt GH et al. (2025). Core GRADE 2: choosing the target of certainty rating and
assessing imprecision. BMJ 389:e081904. doi:10.1136/bmj-2024-081904
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from igmeta.app.evidence.clinical import NNT_MEASURES, number_needed_to_treat, pooled_control_risk
from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.bias import egger_test, trim_and_fill
from igmeta.effects import measure_info
from igmeta.formatting import format_ci, format_number, format_percent

__all__ = [
    "DOMAINS",
    "DOMAIN_LABELS",
    "LEVELS",
    "PUBLICATION_LEVELS",
    "STARTS",
    "AbsoluteEffect",
    "Certainty",
    "InformationSize",
    "Suggestion",
    "absolute_effect",
    "certainty",
    "domain_levels",
    "grade_suggestions",
    "optimal_information_size",
    "participants",
    "sof_table",
    "suggest_imprecision",
    "suggest_inconsistency",
    "suggest_publication_bias",
    "suggest_risk_of_bias",
    "summary_of_findings",
]

DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOMAIN_LABELS = {
    "risk_of_bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication_bias": "Publication bias",
}
#: Levels of the four "serious" domains and the downgrade each costs.
LEVELS = {"not serious": 0, "serious": 1, "very serious": 2}
#: Levels of publication bias (GRADEpro's wording).
PUBLICATION_LEVELS = {"undetected": 0, "strongly suspected": 1}
#: Starting certainty by study design: (code, label, level 1-4).
STARTS = {"randomised": ("Randomised trials", 4), "observational": ("Observational studies", 2)}
_CERTAINTY = {
    4: ("High", "\u2295\u2295\u2295\u2295"),
    3: ("Moderate", "\u2295\u2295\u2295\u25ef"),
    2: ("Low", "\u2295\u2295\u25ef\u25ef"),
    1: ("Very low", "\u2295\u25ef\u25ef\u25ef"),
}
#: Overall risk-of-bias judgements that count as high risk (case-insensitive).
HIGH_RISK = ("high", "serious", "critical")
_KNOWN_ROB = (*HIGH_RISK, "low", "some concerns", "moderate", "unclear", "no information")
EGGER_ALPHA = 0.10
MIN_STUDIES_BIAS = 10
I2_SERIOUS, I2_VERY_SERIOUS = 50.0, 75.0
ROB_SHARE_SERIOUS = 50.0
GE = "\u2265"
CAPPED = (
    "At this control risk a bound of the relative effect implies a risk outside 0-100%; "
    "it was capped at 0 or 1,000 per 1,000."
)


def domain_levels(domain: str) -> dict[str, int]:
    """The allowed levels of ``domain`` and the downgrade of each."""
    return PUBLICATION_LEVELS if domain == "publication_bias" else LEVELS


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A data-driven suggestion for one domain.

    Attributes
    ----------
    domain : str
    level : str or None
        Suggested level (a key of :func:`domain_levels`), None when the data cannot say.
    reason : str
        The numbers and the rule, in plain words.
    value : float
        The main number behind the suggestion (I², weight share, Egger p, ...; NaN if none).
    """

    domain: str
    level: str | None
    reason: str
    value: float = float("nan")


@dataclass(frozen=True, slots=True)
class Certainty:
    """The certainty rating after downgrading.

    Attributes
    ----------
    start : str
        ``"randomised"`` or ``"observational"``.
    downgrades : int
        Levels removed (before flooring at Very low).
    level : int
        4 High, 3 Moderate, 2 Low, 1 Very low.
    label, symbols : str
        E.g. ``"Low"`` and ``"⊕⊕◯◯"``.
    problems : tuple of str
        Values outside the GRADE vocabularies: kept by the caller, flagged here, not counted.
    """

    start: str
    downgrades: int
    level: int
    label: str
    symbols: str
    problems: tuple[str, ...] = ()

    def text(self) -> str:
        """E.g. ``"⊕⊕◯◯ Low"``."""
        return f"{self.symbols} {self.label}"


def certainty(judgements: Mapping[str, object], start: str = "randomised") -> Certainty:
    """Certainty of evidence from the five domain judgements.

    Parameters
    ----------
    judgements : mapping
        Domain code -> level (see :data:`LEVELS`, :data:`PUBLICATION_LEVELS`); matched
        case-insensitively. Missing domains count as no downgrade. A value outside the
        vocabulary is not counted and is named in ``problems`` (the caller keeps it).
    start : {"randomised", "observational"}
        High (4) for randomised trials, Low (2) for observational studies.

    Returns
    -------
    Certainty
    """
    problems = []
    code = str(start).strip().lower()
    if code not in STARTS:
        problems.append(
            f"Study design {start!r} is not one of {', '.join(STARTS)}: started at High."
        )
        code = "randomised"
    steps = 0
    for domain in DOMAINS:
        value = judgements.get(domain)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        allowed = domain_levels(domain)
        level = str(value).strip().lower()
        if level not in allowed:
            problems.append(
                f"{DOMAIN_LABELS[domain]}: {str(value)!r} is not a GRADE level "
                f"({' / '.join(allowed)}); kept as typed, not counted."
            )
            continue
        steps += allowed[level]
    for domain in judgements:
        if domain not in DOMAINS:
            problems.append(f"Unknown GRADE domain {str(domain)!r}: kept, not counted.")
    level = max(1, STARTS[code][1] - steps)
    return Certainty(code, steps, level, *_CERTAINTY[level], tuple(problems))


# --------------------------------------------------------------------------- OIS


@dataclass(frozen=True, slots=True)
class InformationSize:
    """Optimal information size of a two-arm trial with a binary outcome.

    Attributes
    ----------
    control_risk, treated_risk : float
    relative_change : float
        E.g. 0.25 for a relative risk reduction (or increase) of 25%.
    alpha, power : float
    per_group : float
        Unrounded participants per arm (what R's ``power.prop.test`` returns as ``n``).
    total : int
        ``2 * ceil(per_group)``.
    """

    control_risk: float
    treated_risk: float
    relative_change: float
    alpha: float
    power: float
    per_group: float
    total: int


def optimal_information_size(
    control_risk: float,
    relative_change: float = 0.25,
    *,
    increase: bool = False,
    alpha: float = 0.05,
    power: float = 0.80,
) -> InformationSize:
    """Sample size of a single adequately powered trial (two-sided test of two proportions).

    Parameters
    ----------
    control_risk : float
        Control-group risk ``p0`` in (0, 1).
    relative_change : float
        Relative risk reduction (or increase) to detect, e.g. 0.25.
    increase : bool
        True: the treated risk is ``p0 (1 + change)`` (a desirable event made more
        frequent); False: ``p0 (1 - change)``.
    alpha, power : float
        Two-sided type I error and power.

    Returns
    -------
    InformationSize

    Raises
    ------
    ValueError
        When a risk is outside (0, 1) or the change is not positive.

    Notes
    -----
    With ``p1`` the treated risk, ``z_a = Phi^-1(1 - alpha/2)`` and ``z_b = Phi^-1(power)``,
    the per-arm size is ``n = [z_a sqrt((p0+p1)(q0+q1)/2) + z_b sqrt(p0 q0 + p1 q1)]^2 /
    (p0 - p1)^2``, the closed form of R's ``power.prop.test(p1 = p0, p2 = p1, power =
    power)`` (``strict = FALSE``), checked against it in the tests. GRADE guidelines 6
    uses this calculation for the OIS.
    """
    p0 = float(control_risk)
    change = float(relative_change)
    if not (0.0 < p0 < 1.0):
        raise ValueError("The control-group risk must be between 0 and 1.")
    if not (change > 0.0):
        raise ValueError("The relative risk change must be positive.")
    p1 = p0 * (1.0 + change) if increase else p0 * (1.0 - change)
    if not (0.0 < p1 < 1.0):
        raise ValueError(
            f"A {change:.0%} relative change of a {p0:.1%} risk gives a risk of {p1:.1%}, "
            "outside 0-100%."
        )
    z_a = stats.norm.isf(alpha / 2.0)
    z_b = stats.norm.ppf(power)
    q0, q1 = 1.0 - p0, 1.0 - p1
    top = z_a * math.sqrt((p0 + p1) * (q0 + q1) / 2.0) + z_b * math.sqrt(p0 * q0 + p1 * q1)
    per_group = (top / (p0 - p1)) ** 2
    return InformationSize(
        p0,
        p1,
        change,
        float(alpha),
        float(power),
        float(per_group),
        2 * math.ceil(per_group - 1e-9),
    )


# --------------------------------------------------------------------------- suggestions


def participants(bundle: AnalysisBundle) -> int | None:
    """Participants of the analysed studies (both arms; ``ni`` for one-group data); None
    when the table has no sample sizes (generic effects)."""
    numeric = bundle.validation.numeric.iloc[bundle.used_rows]
    if bundle.settings.analysis == "single_arm":
        columns = ("ni",) if "ni" in numeric else ("n1i",)
    else:
        columns = tuple(c for c in ("n1i", "n2i", "ni") if c in numeric)
    if not columns:
        return None
    total = sum(float(np.nansum(numeric[c].to_numpy(dtype=float))) for c in columns)
    return int(round(total))


def _people(n: int | None) -> str:
    return "participants not given" if n is None else f"{n} participants"


def _natural(bundle: AnalysisBundle) -> dict[str, float]:
    return bundle.result.back_transformed()


def suggest_inconsistency(bundle: AnalysisBundle) -> Suggestion:
    """Inconsistency from I² (50%/75% bands) and the prediction interval.

    Notes
    -----
    GRADE does not fix cut-offs; the bands follow the GRADE/Cochrane handbooks'
    "substantial" (50-90%) and "considerable" (75-100%) heterogeneity. A prediction
    interval that includes the null while the CI does not means the effect may vanish in
    some settings: "serious" at least.
    """
    res = bundle.result
    domain = "inconsistency"
    if res.k < 2:
        return Suggestion(domain, None, "One study: inconsistency cannot be assessed.")
    i2 = float(res.i2)
    if not math.isfinite(i2):
        return Suggestion(domain, None, "I² is not available for this model.")
    nat = _natural(bundle)
    null = measure_info(bundle.settings.measure).null_value
    if i2 >= I2_VERY_SERIOUS:
        level, why = "very serious", f"I² = {i2:.1f}% ({GE} {I2_VERY_SERIOUS:.0f}%)"
    elif i2 >= I2_SERIOUS:
        level, why = "serious", f"I² = {i2:.1f}% ({I2_SERIOUS:.0f}-{I2_VERY_SERIOUS:.0f}%)"
    else:
        level, why = "not serious", f"I² = {i2:.1f}% (< {I2_SERIOUS:.0f}%)"
    why += f", Q p = {format_number(res.q_pval, 3)}"
    pi_lo, pi_hi = nat["pi_lower"], nat["pi_upper"]
    if math.isfinite(pi_lo) and math.isfinite(pi_hi):
        pi_text = f"prediction interval {format_number(pi_lo)} to {format_number(pi_hi)}"
        if math.isfinite(null) and pi_lo <= null <= pi_hi:
            ci_has_null = nat["ci_lower"] <= null <= nat["ci_upper"]
            pi_text += f" includes the null ({format_number(null)})"
            if not ci_has_null and level == "not serious":
                level = "serious"
                pi_text += " although the CI does not"
        why += f"; {pi_text}"
    else:
        why += "; no prediction interval (common-effect model or too few studies)"
    return Suggestion(domain, level, why + ".", i2)


def _appreciable(measure: str, change: float, p0: float) -> tuple[float, float]:
    """Bounds of appreciable benefit/harm around the null (low, high), NaN if undefined."""
    if measure_info(measure).log_scale:
        return 1.0 - change, 1.0 + change
    if measure == "RD" and math.isfinite(p0):
        return -change * p0, change * p0
    return float("nan"), float("nan")


def suggest_imprecision(
    bundle: AnalysisBundle,
    *,
    threshold: float | None = None,
    control_risk: float | None = None,
    relative_change: float = 0.25,
    alpha: float = 0.05,
    power: float = 0.80,
) -> Suggestion:
    """Imprecision from the CI and the decision threshold, and from the OIS.

    Parameters
    ----------
    bundle : AnalysisBundle
        An analysis with a pooled result.
    threshold : float, optional
        Decision threshold on the natural scale (e.g. RR 1.25); default: the null.
    control_risk : float, optional
        Control risk for the OIS; default: the pooled control-arm risk of the studies.
    relative_change, alpha, power : float
        OIS inputs: the relative risk reduction (increase when the pooled ratio is above
        1) to detect, two-sided alpha and power.

    Returns
    -------
    Suggestion
        ``value`` is the OIS (total participants), NaN when not available.
    """
    domain = "imprecision"
    s = bundle.settings
    measure = str(bundle.result.measure).upper()
    nat = _natural(bundle)
    lo, hi, est = nat["ci_lower"], nat["ci_upper"], nat["estimate"]
    null = measure_info(measure).null_value
    target = null if threshold is None else float(threshold)
    reasons = []
    crosses = False
    if math.isfinite(target):
        crosses = lo <= target <= hi
        name = "the null" if threshold is None else "the decision threshold"
        reasons.append(
            f"The {s.level:.0%} CI {format_number(lo)} to {format_number(hi)} "
            f"{'includes' if crosses else 'excludes'} {name} ({format_number(target)})"
        )
    else:
        reasons.append("No null value for this measure: set a decision threshold")
    n_total = participants(bundle)
    p0 = pooled_control_risk(bundle) if control_risk is None else float(control_risk)
    ois_value = float("nan")
    short = False
    if s.analysis == "comparison" and measure in NNT_MEASURES and 0.0 < p0 < 1.0:
        try:
            ois = optimal_information_size(
                p0, relative_change, increase=est > null, alpha=alpha, power=power
            )
        except ValueError as exc:
            reasons.append(f"OIS not available: {exc}")
        else:
            ois_value = float(ois.total)
            short = n_total < ois.total
            direction = "increase" if est > null else "reduction"
            relation = "<" if short else GE
            reasons.append(
                f"{n_total} participants {relation} OIS {ois.total} "
                f"(control risk {p0:.1%}, relative risk {direction} "
                f"{relative_change:.0%}, alpha {alpha:g}, power {power:.0%})"
            )
    else:
        reasons.append(
            f"{_people(n_total)}; OIS not available (needs a control-group risk "
            "of a binary comparison)"
        )
    app_lo, app_hi = _appreciable(measure, relative_change, p0)
    both = math.isfinite(app_lo) and lo <= app_lo and hi >= app_hi
    if both:
        reasons.append(
            f"the CI includes appreciable benefit and harm ({format_number(app_lo)} and "
            f"{format_number(app_hi)})"
        )
    if not math.isfinite(target) and not math.isfinite(ois_value):
        return Suggestion(domain, None, "; ".join(reasons) + ".", ois_value)
    if both or (crosses and short):
        level = "very serious"
    elif crosses or short:
        level = "serious"
    else:
        level = "not serious"
    return Suggestion(domain, level, "; ".join(reasons) + ".", ois_value)


def suggest_publication_bias(bundle: AnalysisBundle) -> Suggestion:
    """Publication bias from Egger's test (p < 0.10) and trim-and-fill, for k >= 10."""
    domain = "publication_bias"
    res = bundle.result
    k = len(res.yi)
    if k < MIN_STUDIES_BIAS:
        return Suggestion(
            domain,
            None,
            f"Too few studies to test (k = {k} < {MIN_STUDIES_BIAS}): judge from the search "
            "(unpublished trials, industry funding, only small positive trials).",
        )
    counts = bundle.settings.pools_counts
    try:
        egger = egger_test(res, model="lm" if counts else "rma")
    except (ValueError, TypeError) as exc:
        return Suggestion(domain, None, f"Egger's test not available: {exc}")
    p = float(egger.pval)
    level = "strongly suspected" if p < EGGER_ALPHA else "undetected"
    relation = "<" if p < EGGER_ALPHA else GE
    why = f"Egger's test p = {format_number(p, 3)} ({relation} {EGGER_ALPHA:g})"
    if counts:
        why += "; trim-and-fill needs an inverse-variance model"
    else:
        try:
            filled = trim_and_fill(res)
        except (ValueError, TypeError) as exc:
            why += f"; trim-and-fill not available: {exc}"
        else:
            adjusted = filled.model.back_transformed()
            filled_ci = format_ci(adjusted["estimate"], adjusted["ci_lower"], adjusted["ci_upper"])
            why += (
                f"; trim-and-fill adds {filled.k0} stud{'y' if filled.k0 == 1 else 'ies'}, "
                f"estimate {filled_ci}"
            )
    return Suggestion(domain, level, why + ".", p)


def _rob_level(value: object) -> str:
    """An overall judgement in lower case without "risk (of bias)": "High risk" -> "high"."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = " ".join(str(value).split()).lower()
    return text.removesuffix(" risk of bias").removesuffix(" risk").strip()


def suggest_risk_of_bias(bundle: AnalysisBundle, rob_overall: Sequence | None) -> Suggestion:
    """Risk of bias from the weight share of studies judged at high risk overall.

    Parameters
    ----------
    bundle : AnalysisBundle
    rob_overall : sequence or Series, optional
        Overall judgement per row of the *whole* study table (the ``rob_overall``
        column); "high", "serious" and "critical" (any case, "High risk" too) count as
        high risk; other values are kept and named when unknown.
    """
    domain = "risk_of_bias"
    if rob_overall is None:
        return Suggestion(domain, None, "No risk-of-bias judgements in the table: rate it.")
    values = pd.Series(list(rob_overall), dtype="object").iloc[bundle.used_rows]
    text = values.map(_rob_level)
    weights = np.asarray(bundle.result.weights, dtype=float)
    equal = weights.size != len(text) or not np.isfinite(weights).all() or weights.sum() <= 0
    if equal:
        weights = np.ones(len(text))
    share = 100.0 * float(weights[text.isin(HIGH_RISK).to_numpy()].sum()) / float(weights.sum())
    missing = int((text == "").sum())
    unknown = sorted({v for v in text if v and v not in _KNOWN_ROB})
    level = "serious" if share >= ROB_SHARE_SERIOUS else "not serious"
    relation = GE if share >= ROB_SHARE_SERIOUS else "<"
    why = (
        f"Studies at high risk of bias carry {format_percent(share)} of the weight "
        f"({relation} {ROB_SHARE_SERIOUS:.0f}%)"
    )
    if equal:
        why += " (per-study weights not available: studies counted equally)"
    if missing:
        why += f"; {missing} analysed stud{'y has' if missing == 1 else 'ies have'} no judgement"
    if unknown:
        why += f"; not recognised (counted as not high): {', '.join(map(repr, unknown))}"
    return Suggestion(domain, level, why + ".", share)


def grade_suggestions(
    bundle: AnalysisBundle,
    *,
    rob_overall: Sequence | None = None,
    threshold: float | None = None,
    control_risk: float | None = None,
    relative_change: float = 0.25,
) -> dict[str, Suggestion]:
    """The suggestion of every domain (indirectness: user input only)."""
    if bundle.result is None:
        raise ValueError("GRADE needs a pooled result.")
    return {
        "risk_of_bias": suggest_risk_of_bias(bundle, rob_overall),
        "inconsistency": suggest_inconsistency(bundle),
        "indirectness": Suggestion(
            "indirectness",
            None,
            "Judged by you: population, intervention, comparator and "
            "outcome of the studies vs the question.",
        ),
        "imprecision": suggest_imprecision(
            bundle, threshold=threshold, control_risk=control_risk, relative_change=relative_change
        ),
        "publication_bias": suggest_publication_bias(bundle),
    }


# --------------------------------------------------------------------------- absolute effects


@dataclass(frozen=True, slots=True)
class AbsoluteEffect:
    """Risks per 1,000 at an assumed control risk (GRADEpro's conventions).

    Attributes
    ----------
    assumed : float
        Control risk per 1,000.
    corresponding, corresponding_lower, corresponding_upper : float
        Intervention risk per 1,000 and its CI.
    difference, difference_lower, difference_upper : float
        Intervention minus control, per 1,000, and its CI.
    warnings : tuple of str
    """

    assumed: float
    corresponding: float
    corresponding_lower: float
    corresponding_upper: float
    difference: float
    difference_lower: float
    difference_upper: float
    warnings: tuple[str, ...] = ()

    def difference_text(self) -> str:
        """E.g. ``"68 fewer per 1,000 (from 88 fewer to 44 fewer)"``."""

        def words(x: float) -> str:
            n = round(x)
            return f"{abs(n)} {'more' if n > 0 else 'fewer'}" if n else "0 fewer"

        return (
            f"{words(self.difference)} per 1,000 (from {words(self.difference_lower)} "
            f"to {words(self.difference_upper)})"
        )


def absolute_effect(
    measure: str, estimate: float, ci_lower: float, ci_upper: float, baseline_risk: float
) -> AbsoluteEffect:
    """Corresponding risk and risk difference per 1,000 from a relative effect.

    Parameters
    ----------
    measure : {"RR", "OR", "PETO", "RD"}
    estimate, ci_lower, ci_upper : float
        The pooled effect on the natural scale.
    baseline_risk : float
        Assumed control risk ``p0`` in (0, 1).

    Notes
    -----
    GRADEpro and GRADE guidelines 12: RR: ``p1 = p0 RR``; OR: the odds ratio is turned
    into ``RR = OR / (1 - p0 (1 - OR))``, i.e. ``p1 = OR p0 / (1 - p0 + OR p0)``; RD:
    ``p1 = p0 + RD``. The CI maps the CI bounds (increasing maps at fixed ``p0``). The
    arithmetic is :func:`igmeta.app.evidence.clinical.number_needed_to_treat`'s (risks outside 0-1
    are capped, with a warning).
    """
    nnt = number_needed_to_treat(measure, estimate, ci_lower, ci_upper, baseline_risk)
    k = 1000.0
    return AbsoluteEffect(
        k * nnt.baseline_risk,
        k * nnt.treated_risk,
        k * nnt.treated_lower,
        k * nnt.treated_upper,
        k * nnt.risk_difference,
        k * nnt.rd_lower,
        k * nnt.rd_upper,
        (CAPPED,) if nnt.warnings else (),
    )


# --------------------------------------------------------------------------- SoF


def summary_of_findings(
    bundle: AnalysisBundle,
    judgements: Mapping[str, object],
    *,
    outcome: str = "Outcome",
    start: str = "randomised",
    baseline_risk: float | None = None,
    suggestions: Mapping[str, Suggestion] | None = None,
    comments: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """The summary-of-findings row of the analysis and its footnotes.

    Parameters
    ----------
    bundle : AnalysisBundle
        An analysis with a pooled result.
    judgements : mapping
        Domain -> level chosen by the user (values outside the vocabularies are flagged
        in the footnotes and not counted).
    outcome : str
        Outcome name (user text: shown as typed, never as markup by the callers).
    start : {"randomised", "observational"}
    baseline_risk : float, optional
        Assumed control risk; default: the pooled control-arm risk of the studies.
    suggestions : mapping, optional
        :func:`grade_suggestions` output, quoted in the footnotes of downgraded domains.
    comments : mapping, optional
        Domain -> the user's explanation (added to the footnote).

    Returns
    -------
    (DataFrame, list of str)
        One row with columns ``Outcome``, ``Participants (studies)``, ``Relative effect
        (95% CI)``, ``Assumed risk with control``, ``Corresponding risk with intervention
        (95% CI)``, ``Difference per 1,000 (95% CI)``, ``Certainty``, ``Comments``; and
        the footnotes (numbered in ``Comments``).
    """
    res = bundle.result
    if res is None:
        raise ValueError("A summary of findings needs a pooled result.")
    s = bundle.settings
    measure = str(res.measure).upper()
    info = measure_info(measure)
    nat = _natural(bundle)
    level_text = f"{s.level:.0%} CI"
    relative = f"{info.code} {format_ci(nat['estimate'], nat['ci_lower'], nat['ci_upper'])}"
    grade = certainty(judgements, start)
    p0 = pooled_control_risk(bundle) if baseline_risk is None else float(baseline_risk)
    assumed = corresponding = difference = "not available"
    notes: list[str] = []
    if s.analysis == "comparison" and measure in NNT_MEASURES and 0.0 < p0 < 1.0:
        absolute = absolute_effect(measure, nat["estimate"], nat["ci_lower"], nat["ci_upper"], p0)
        assumed = f"{absolute.assumed:.0f} per 1,000"
        corresponding = (
            f"{absolute.corresponding:.0f} per 1,000 ({absolute.corresponding_lower:.0f} "
            f"to {absolute.corresponding_upper:.0f})"
        )
        difference = absolute.difference_text()
        where = "pooled control-arm risk of the studies" if baseline_risk is None else "chosen"
        notes.append(
            f"Assumed control risk {p0:.1%} ({where}); intervention risk from the relative "
            f"effect and its {level_text} (GRADEpro convention)."
        )
        notes += list(absolute.warnings)
    else:
        notes.append(
            "Absolute effects need a risk ratio, odds ratio or risk difference of a "
            "two-group binary comparison: not available for this analysis."
        )
    for domain in DOMAINS:
        value = judgements.get(domain)
        level = str(value).strip().lower() if value is not None else ""
        if domain_levels(domain).get(level, 0) > 0:
            text = f"Downgraded for {DOMAIN_LABELS[domain].lower()} ({level})"
            if suggestions and suggestions.get(domain) is not None:
                text += f": {suggestions[domain].reason}"
            else:
                text += "."
            if comments and comments.get(domain):
                text += f" {comments[domain]}"
            notes.append(text)
    notes += list(grade.problems)
    if s.analysis == "comparison" and s.subgroup_column and bundle.subgroups is not None:
        notes.append(f"Overall estimate across subgroups of {s.subgroup_column!r}.")
    marks = ", ".join(str(i + 1) for i in range(len(notes)))
    frame = pd.DataFrame(
        {
            "Outcome": [str(outcome)],
            "Participants (studies)": [
                f"{_people(participants(bundle)).removesuffix(' participants')} "
                f"({len(bundle.used_rows)})"
            ],
            f"Relative effect ({level_text})": [relative],
            "Assumed risk with control": [assumed],
            f"Corresponding risk with intervention ({level_text})": [corresponding],
            f"Difference per 1,000 ({level_text})": [difference],
            "Certainty": [grade.text()],
            "Comments": [f"See notes {marks}" if notes else ""],
        }
    )
    return frame, notes


def sof_table(frame: pd.DataFrame, notes: Sequence[str]) -> pd.DataFrame:
    """The summary of findings with its numbered footnotes in a ``Footnotes`` column
    (one table for CSV/Excel export; pass it through :mod:`igmeta.app.outputs.safe_export`)."""
    text = " | ".join(f"{i}. {note}" for i, note in enumerate(notes, 1))
    return frame.assign(Footnotes=text)
