"""The published IG results, and how the app's numbers compare with them.

The bundled table reproduces a published meta-analysis (Liampas et al. 2022; full paper
Zis et al., Pain Ther 2022, doi:10.1007/s40122-022-00416-7). Its abstract reports two
numbers: the pooled share of IG-treated patients with pain relief, 65% (95% CI 58-71%),
and pain relief with IG vs placebo, 2.9 times as likely (95% CI 1.6-5.2), p = 0.0003.
:data:`PUBLISHED_RESULTS` holds them with the precision they were printed at and the
settings that reproduce them (see ``igmeta/datasets/PROVENANCE.md``);
:func:`reproduce` reruns those settings on a study table and says, number by number,
whether the app agrees at the paper's precision or by how much it differs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from igmeta.app.pipeline.analysis import (
    PUBLISHED_COMPARISON,
    PUBLISHED_SINGLE_ARM,
    AnalysisBundle,
    AnalysisSettings,
    run_analysis,
)

__all__ = ["PUBLISHED_RESULTS", "PublishedResult", "Reproduction", "reproduce"]


@dataclass(frozen=True, slots=True)
class PublishedResult:
    """One pooled result as the paper printed it.

    Attributes
    ----------
    analysis : str
        ``"comparison"`` or ``"single_arm"`` (as in :class:`AnalysisSettings`).
    quantity : str
        What the number is, in plain words.
    settings : AnalysisSettings
        The settings that reproduce it.
    estimate, ci_lower, ci_upper : float
        The printed values, on the natural scale (a share as a fraction).
    decimals : int
        Decimals printed for the estimate and CI (on the percent scale for a share).
    percent : bool
        Whether the paper printed the values as percentages.
    pval : str or None
        The printed p-value (text, e.g. ``"0.0003"``), None when none was printed.
    """

    analysis: str
    quantity: str
    settings: AnalysisSettings
    estimate: float
    ci_lower: float
    ci_upper: float
    decimals: int
    percent: bool = False
    pval: str | None = None

    def scaled(self, value: float) -> float:
        """``value`` on the scale the paper printed (percent for a share)."""
        return value * 100 if self.percent else value

    def text(self) -> str:
        """The result as the paper printed it, e.g. ``"2.9 (1.6-5.2), p = 0.0003"``."""
        unit = "%" if self.percent else ""
        values = [_fixed(self.scaled(v), self.decimals) for v in self._values()]
        out = f"{values[0]}{unit} ({values[1]}\u2013{values[2]}{unit})"
        return out + (f", p = {self.pval}" if self.pval else "")

    def _values(self) -> tuple[float, float, float]:
        return self.estimate, self.ci_lower, self.ci_upper


#: The two results of the paper's abstract, with the settings that reproduce them.
PUBLISHED_RESULTS: tuple[PublishedResult, ...] = (
    PublishedResult(
        analysis="comparison",
        quantity="Pain relief with IG vs placebo (risk ratio, 3 RCTs)",
        settings=PUBLISHED_COMPARISON,
        estimate=2.9,
        ci_lower=1.6,
        ci_upper=5.2,
        decimals=1,
        pval="0.0003",
    ),
    PublishedResult(
        analysis="single_arm",
        quantity="Share of IG-treated patients with pain relief (5 studies)",
        settings=PUBLISHED_SINGLE_ARM,
        estimate=0.65,
        ci_lower=0.58,
        ci_upper=0.71,
        decimals=0,
        percent=True,
    ),
)


def _fixed(value: float, decimals: int) -> str:
    """``value`` rounded half-up (as journals round) to ``decimals`` decimals, as text."""
    quantum = Decimal(1).scaleb(-decimals)
    return str(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Reproduction:
    """The app's value of one published result, and how it compares.

    Attributes
    ----------
    published : PublishedResult
    estimate, ci_lower, ci_upper, pval : float
        The app's values on the natural scale (NaN when there is no result).
    k : int
        Studies in the app's analysis (0 when there is no result).
    error : str or None
        Why the app has no result.
    """

    published: PublishedResult
    estimate: float
    ci_lower: float
    ci_upper: float
    pval: float
    k: int
    error: str | None = None

    @property
    def differences(self) -> tuple[str, ...]:
        """The printed numbers the app does not reproduce at the paper's precision, as
        ``"estimate 3.8 (paper 2.9)"``; empty when everything agrees."""
        if self.error is not None or not math.isfinite(self.estimate):
            return ("no result",)
        pub = self.published
        out = []
        names = ("estimate", "lower limit", "upper limit")
        mine = (self.estimate, self.ci_lower, self.ci_upper)
        unit = "%" if pub.percent else ""
        for name, app, paper in zip(names, mine, pub._values(), strict=True):
            shown = _fixed(pub.scaled(app), pub.decimals) if math.isfinite(app) else "none"
            printed = _fixed(pub.scaled(paper), pub.decimals)
            if shown != printed:
                out.append(f"{name} {shown}{unit} (paper {printed}{unit})")
        if pub.pval is not None:
            decimals = len(pub.pval.split(".")[1]) if "." in pub.pval else 0
            shown = _fixed(self.pval, decimals) if math.isfinite(self.pval) else "none"
            if shown != pub.pval:
                out.append(f"p {shown} (paper {pub.pval})")
        return tuple(out)

    @property
    def agrees(self) -> bool:
        """True when every printed number is reproduced at the paper's precision."""
        return not self.differences

    def text(self, digits: int = 2) -> str:
        """The app's value with more digits than the paper, e.g. ``"2.90 (1.62-5.19),
        p = 0.00035"``; ``"no result"`` when there is none."""
        if self.error is not None or not math.isfinite(self.estimate):
            return "no result"
        pub = self.published
        unit = "%" if pub.percent else ""
        places = pub.decimals + 1 if pub.percent else digits
        values = [
            f"{pub.scaled(v):.{places}f}" if math.isfinite(v) else "none"
            for v in (self.estimate, self.ci_lower, self.ci_upper)
        ]
        out = f"{values[0]}{unit} ({values[1]}\u2013{values[2]}{unit})"
        if pub.pval is not None and math.isfinite(self.pval):
            out += f", p = {self.pval:.2g}" if self.pval >= 1e-4 else ", p < 0.0001"
        return out


def _from_bundle(published: PublishedResult, bundle: AnalysisBundle) -> Reproduction:
    res = bundle.result
    if res is None:
        nan = float("nan")
        return Reproduction(published, nan, nan, nan, nan, 0, bundle.error or "no result")
    bt = res.back_transformed()
    return Reproduction(
        published,
        float(bt["estimate"]),
        float(bt["ci_lower"]),
        float(bt["ci_upper"]),
        float(res.pval),
        int(res.k),
    )


def reproduce(
    table: pd.DataFrame,
    run: Callable[[pd.DataFrame, AnalysisSettings], AnalysisBundle] = run_analysis,
) -> tuple[Reproduction, ...]:
    """Rerun the published settings on ``table`` and compare with the paper.

    Parameters
    ----------
    table : DataFrame
        A study table with canonical column names (the bundled IG table, possibly edited).
    run : callable, optional
        ``run(table, settings) -> AnalysisBundle``; a cached version in the dashboard.

    Returns
    -------
    tuple of Reproduction
        One per :data:`PUBLISHED_RESULTS` entry, in the same order.
    """
    return tuple(_from_bundle(p, run(table, p.settings)) for p in PUBLISHED_RESULTS)
