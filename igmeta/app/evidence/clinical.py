"""Clinical framing of a pooled binary effect: the number needed to treat (NNT).

For a pooled risk ratio, odds ratio or risk difference and a baseline (control-group)
risk ``p0`` chosen by the user, the absolute risk difference is

* RR: ``RD = p0 (RR - 1)`` (the treated risk is ``p1 = RR p0``);
* OR: ``p1 = OR p0 / (1 - p0 + OR p0)`` and ``RD = p1 - p0``;
* RD: the pooled risk difference itself (``p0`` only gives ``p1 = p0 + RD``).

The confidence interval of ``RD`` comes from transforming the bounds of the pooled
effect's confidence interval (the map is increasing in RR and in OR for a fixed ``p0``).
With ``B = RD`` when the event is desirable (e.g. "responder") and ``B = -RD`` when it is
harmful (e.g. "death"), the number needed to treat is ``1/|B|``: an NNT to benefit (NNTB)
when ``B > 0`` and an NNT to harm (NNTH) when ``B < 0``. When the interval of ``B``
includes 0, the NNT interval goes through infinity and is reported with Altman's
convention, e.g. "NNTH 21 to \u221e to NNTB 5" (Altman 1998). NNTs are shown rounded up to
whole patients (Cochrane Handbook, section 15.4.4).

References
----------
Altman DG (1998). Confidence intervals for the number needed to treat. BMJ 317:1309-1312.
doi:10.1136/bmj.317.7168.1309
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from igmeta.app.pipeline.analysis import AnalysisBundle

__all__ = [
    "NNTResult",
    "nnt_from_bundle",
    "number_needed_to_treat",
    "pooled_control_risk",
    "treated_risk",
]

#: Measures for which an NNT can be derived (PETO is a Peto odds ratio).
NNT_MEASURES = ("RR", "OR", "RD", "PETO")
INFINITY = "\u221e"


def treated_risk(measure: str, effect: float, p0: float) -> float:
    """Treatment-group risk implied by ``effect`` (RR, OR/PETO or RD) at control risk ``p0``."""
    if measure == "RR":
        return effect * p0
    if measure in ("OR", "PETO"):
        return effect * p0 / (1.0 - p0 + effect * p0)
    return p0 + effect


def _whole(value: float) -> str:
    """An NNT rounded up to whole patients ("\u221e" for infinity)."""
    if not math.isfinite(value):
        return INFINITY
    return f"{math.ceil(value - 1e-9):d}"


@dataclass(frozen=True, slots=True)
class NNTResult:
    """The number needed to treat at one baseline risk.

    Attributes
    ----------
    measure : str
        The pooled measure (``"RR"``, ``"OR"``, ``"RD"`` or ``"PETO"``).
    baseline_risk : float
        Control-group risk ``p0``.
    treated_risk, treated_lower, treated_upper : float
        Implied treatment-group risk at the estimate and at the CI bounds.
    risk_difference, rd_lower, rd_upper : float
        ``p1 - p0`` and its confidence interval.
    benefit, benefit_lower, benefit_upper : float
        The absolute benefit ``B`` (``RD``, or ``-RD`` for a harmful event) and its CI.
    nnt : float
        ``1/|B|`` (infinite when ``B = 0``).
    kind : str
        ``"NNTB"``, ``"NNTH"`` or ``"NNT"`` (no difference at the estimate).
    level : float
        Confidence level of the interval.
    event_is_good : bool
        Whether the event counted is desirable.
    warnings : tuple of str
    """

    measure: str
    baseline_risk: float
    treated_risk: float
    treated_lower: float
    treated_upper: float
    risk_difference: float
    rd_lower: float
    rd_upper: float
    benefit: float
    benefit_lower: float
    benefit_upper: float
    nnt: float
    kind: str
    level: float
    event_is_good: bool
    warnings: tuple[str, ...] = ()

    @property
    def ci_includes_no_effect(self) -> bool:
        """Whether the CI of the risk difference includes 0 (NNT interval through infinity)."""
        return self.benefit_lower <= 0.0 <= self.benefit_upper

    def interval_text(self) -> str:
        """The NNT confidence interval in Altman's words."""
        lo, hi = self.benefit_lower, self.benefit_upper
        if lo > 0:
            return f"NNTB {_whole(1 / hi)} to {_whole(1 / lo)}"
        if hi < 0:
            return f"NNTH {_whole(1 / -lo)} to {_whole(1 / -hi)}"
        harm = _whole(1 / -lo) if lo < 0 else INFINITY
        good = _whole(1 / hi) if hi > 0 else INFINITY
        return f"NNTH {harm} to {INFINITY} to NNTB {good}"

    def text(self) -> str:
        """E.g. ``"NNTB 4 (95% CI NNTB 3 to 9)"``."""
        point = f"{self.kind} {_whole(self.nnt)}"
        return f"{point} ({self.level:.0%} CI {self.interval_text()})"

    def sentence(self) -> str:
        """A plain-English reading for slides."""
        p0, p1 = self.baseline_risk, self.treated_risk
        if self.kind == "NNT":
            return (
                f"At a control-group risk of {p0:.1%}, the pooled effect implies no "
                "difference in risk."
            )
        verb = "benefit" if self.kind == "NNTB" else "be harmed"
        extra = "; the confidence interval includes no effect" if self.ci_includes_no_effect else ""
        return (
            f"At a control-group risk of {p0:.1%} the treated risk is {p1:.1%} "
            f"(difference {self.risk_difference:+.1%}): treating {_whole(self.nnt)} "
            f"patients lets one more patient {verb}{extra}."
        )


def number_needed_to_treat(
    measure: str,
    estimate: float,
    ci_lower: float,
    ci_upper: float,
    baseline_risk: float,
    *,
    level: float = 0.95,
    event_is_good: bool = True,
) -> NNTResult:
    """NNT from a pooled effect on the natural scale (RR, OR or RD) and a baseline risk.

    Parameters
    ----------
    measure : {"RR", "OR", "RD", "PETO"}
    estimate, ci_lower, ci_upper : float
        Pooled effect and CI on the natural scale (ratios, not log ratios).
    baseline_risk : float
        Control-group risk, strictly between 0 and 1.
    level : float
        Confidence level of the interval (for the text).
    event_is_good : bool
        True when the event is desirable (responders): more events is a benefit.

    Raises
    ------
    ValueError
        For another measure, a baseline risk outside (0, 1) or a non-finite effect.
    """
    code = str(measure).upper()
    if code not in NNT_MEASURES:
        raise ValueError(
            f"An NNT needs a risk ratio, odds ratio or risk difference, not {measure!r}."
        )
    p0 = float(baseline_risk)
    if not (0.0 < p0 < 1.0):
        raise ValueError("The baseline (control-group) risk must be between 0 and 1.")
    values = np.array([estimate, ci_lower, ci_upper], dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError("The pooled effect or its confidence interval is not finite.")
    est, lo, hi = (float(v) for v in values)
    lo, hi = min(lo, hi), max(lo, hi)
    warnings: list[str] = []
    p1, p1_lo, p1_hi = (treated_risk(code, v, p0) for v in (est, lo, hi))
    if max(p1, p1_lo, p1_hi) > 1.0 or min(p1, p1_lo, p1_hi) < 0.0:
        warnings.append(
            "At this baseline risk the effect implies a treated risk outside "
            "0-100%; those risks were capped, so the NNT is only indicative."
        )
        p1, p1_lo, p1_hi = (min(max(v, 0.0), 1.0) for v in (p1, p1_lo, p1_hi))
    rd, rd_lo, rd_hi = p1 - p0, p1_lo - p0, p1_hi - p0
    sign = 1.0 if event_is_good else -1.0
    b, b_lo, b_hi = sign * rd, *sorted((sign * rd_lo, sign * rd_hi))
    nnt = math.inf if b == 0 else 1.0 / abs(b)
    kind = "NNT" if b == 0 else ("NNTB" if b > 0 else "NNTH")
    return NNTResult(
        code,
        p0,
        p1,
        p1_lo,
        p1_hi,
        rd,
        rd_lo,
        rd_hi,
        b,
        b_lo,
        b_hi,
        nnt,
        kind,
        float(level),
        bool(event_is_good),
        tuple(warnings),
    )


def pooled_control_risk(bundle: AnalysisBundle) -> float:
    """Pooled control-arm risk of the analysed studies: ``sum(ci) / sum(n2i)``.

    NaN when the analysis is not a two-group comparison of binary data or has no
    control participants.
    """
    if bundle.settings.analysis != "comparison" or bundle.effects is None:
        return float("nan")
    numeric = bundle.validation.numeric
    if "ci" not in numeric or "n2i" not in numeric:
        return float("nan")
    rows = numeric.iloc[bundle.used_rows]
    ci = rows["ci"].to_numpy(dtype=float)
    n2i = rows["n2i"].to_numpy(dtype=float)
    ok = np.isfinite(ci) & np.isfinite(n2i)
    total = float(n2i[ok].sum())
    return float(ci[ok].sum()) / total if total > 0 else float("nan")


def nnt_from_bundle(
    bundle: AnalysisBundle, baseline_risk: float | None = None, *, event_is_good: bool = True
) -> NNTResult | None:
    """The NNT of an analysis, at ``baseline_risk`` (default: :func:`pooled_control_risk`).

    Returns None when the analysis has no pooled RR, OR or RD, or no usable baseline risk.
    """
    res = bundle.result
    if res is None or bundle.settings.analysis != "comparison":
        return None
    if str(res.measure).upper() not in NNT_MEASURES:
        return None
    p0 = pooled_control_risk(bundle) if baseline_risk is None else float(baseline_risk)
    if not (0.0 < p0 < 1.0):
        return None
    bt = res.back_transformed()
    try:
        return number_needed_to_treat(
            res.measure,
            bt["estimate"],
            bt["ci_lower"],
            bt["ci_upper"],
            p0,
            level=res.level,
            event_is_good=event_is_good,
        )
    except ValueError:
        return None
