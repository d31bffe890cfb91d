"""Time the checks on uploaded tables: validating 100,000 rows, refusing an oversized file.

Usage::

    python benchmarks/input_checks.py          # medians of 5 runs each

Targets (moved here from the tests, which assert no wall-clock times): validating a
100,000-row binary table with bad cells takes under 2 s; an upload over the size limit is
refused, without being parsed, in under 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from igmeta.app.intake.io import MAX_UPLOAD_BYTES, read_table  # noqa: E402
from igmeta.app.intake.schema import apply_mapping  # noqa: E402
from igmeta.app.intake.validation import validate_table  # noqa: E402


def binary_table(n: int, seed: int = 1) -> pd.DataFrame:
    """A binary table of ``n`` rows as typed text, every 7th ``ai`` and 11th ``n2i`` bad."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "study": [f"Study {i}" for i in range(n)],
            "ai": rng.integers(0, 30, n).astype(str),
            "n1i": np.full(n, "30"),
            "ci": rng.integers(0, 30, n).astype(str),
            "n2i": np.full(n, "30"),
        },
        dtype=object,
    )
    frame.loc[::7, "ai"] = "bad"
    frame.loc[::11, "n2i"] = ""
    return apply_mapping(frame, {})


def median_seconds(func: Callable[[], object], repeats: int) -> float:
    """Median wall-clock time of ``repeats`` calls (after one warm-up call)."""
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    table = binary_table(args.rows)
    oversized = b"study,ai\n" + b"A,1\n" * (MAX_UPLOAD_BYTES // 4 + 1)
    rows = [
        (f"validate {args.rows:,} binary rows", 2.0, lambda: validate_table(table, "binary")),
        ("refuse an upload over the size limit", 0.5, lambda: read_table(oversized, "big.csv")),
    ]
    print("| check | median | target |\n|---|---:|---|")
    for name, target, func in rows:
        seconds = median_seconds(func, args.repeats)
        mark = "✔" if seconds < target else "✘"
        print(f"| {name} | {seconds * 1000:.0f} ms | < {target:g} s {mark} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
