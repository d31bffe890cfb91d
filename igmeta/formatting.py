"""Number formatting shared by the dashboard, the report and the exports.

Nothing here computes statistics; it only turns finite numbers into text and says
"not estimable" instead of ever showing NaN or inf.
"""

from __future__ import annotations

import math

__all__ = [
    "NOT_ESTIMABLE",
    "format_ci",
    "format_ci_column",
    "format_number",
    "format_pvalue",
    "format_percent",
]

NOT_ESTIMABLE = "not estimable"


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def format_number(value, digits: int = 2) -> str:
    """Fixed-point text with ``digits`` decimals, or "not estimable" for NaN/inf/None."""
    if not _finite(value):
        return NOT_ESTIMABLE
    value = float(value)
    if value != 0 and abs(value) < 10 ** (-digits):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}"


def format_ci(estimate, lower, upper, digits: int = 2) -> str:
    """``"2.90 [1.62, 5.19]"``; bounds that are undefined are written as such."""
    if not _finite(estimate):
        return NOT_ESTIMABLE
    if not (_finite(lower) and _finite(upper)):
        return f"{format_number(estimate, digits)} [CI {NOT_ESTIMABLE}]"
    return (
        f"{format_number(estimate, digits)} [{format_number(lower, digits)}, "
        f"{format_number(upper, digits)}]"
    )


def format_ci_column(frame, digits: int = 2) -> list[str]:
    """:func:`format_ci` of every row of a table with columns ``estimate``, ``ci_lower``
    and ``ci_upper``."""
    return [
        format_ci(e, lo, hi, digits)
        for e, lo, hi in zip(frame["estimate"], frame["ci_lower"], frame["ci_upper"], strict=True)
    ]


def format_pvalue(value) -> str:
    """p-values as journals print them: ``"p = 0.032"``, ``"p < 0.0001"``."""
    if not _finite(value):
        return f"p {NOT_ESTIMABLE}"
    value = float(value)
    if value < 0.0001:
        return "p < 0.0001"
    if value < 0.001:
        return f"p = {value:.4f}"
    return f"p = {value:.3f}"


def format_percent(value, digits: int = 1) -> str:
    """``"35.2%"`` or "not estimable"."""
    if not _finite(value):
        return NOT_ESTIMABLE
    return f"{float(value):.{digits}f}%"
