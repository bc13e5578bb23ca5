"""Tiny shared helpers for the benchmarks: time a callable, print rows and ratios.

Timings are never asserted (the machines are noisy): each benchmark prints the median and the
minimum of a few repeats, and the ratios between them, all measured in the same run. Every
printed ratio is also collected in ``RATIOS`` so that ``run_all.py`` can print a summary.
"""

from __future__ import annotations

import atexit
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# runnable as `python bench/bench_x.py` from anywhere: make the bench folder importable
sys.path.insert(0, str(Path(__file__).resolve().parent))

RATIOS: list[tuple[str, float, str]] = []  # (name, value, note), in print order


@dataclass
class Timing:
    """Wall times (s) of the repeats of one measurement."""

    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)


def measure(fn, repeats: int = 3, warmup: int = 0) -> Timing:
    """Call ``fn()`` ``warmup`` times untimed, then ``repeats`` times timed."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return Timing(times)


def measure_interleaved(fns: dict, repeats: int = 3, warmup: int = 0) -> dict[str, Timing]:
    """Time several callables in turn, round-robin, so that slow drifts of the machine's
    speed hit them alike; returns a Timing per key."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)
    return {k: Timing(v) for k, v in times.items()}


def header(title: str) -> None:
    print(f"\n== {title}")


def note(text: str) -> None:
    print(f"   {text}")


def row(name: str, value, unit: str = "") -> None:
    """One result line; a Timing prints as median (min) in ms or s."""
    if isinstance(value, Timing):
        scale, unit = (1e3, "ms") if value.median < 1 else (1.0, "s")
        text = f"{value.median * scale:10.3f} {unit:<3} (min {value.min * scale:.3f}, " \
               f"n={len(value.times)})"
    elif isinstance(value, float):
        text = f"{value:10.4g} {unit}"
    else:
        text = f"{value!s:>10} {unit}"
    print(f"   {name:<44} {text}")


def ratio(name: str, numerator, denominator, note_: str = "") -> float:
    """Print and record numerator/denominator (medians of Timings, or plain numbers)."""
    num = numerator.median if isinstance(numerator, Timing) else numerator
    den = denominator.median if isinstance(denominator, Timing) else denominator
    value = num / den if den else float("inf")
    print(f"   {name:<44} {value:10.3g} x" + (f"   {note_}" if note_ else ""))
    RATIOS.append((name, value, note_))
    return value


def overhead(name: str, wrapped, bare) -> float:
    """Print and record the overhead of ``wrapped`` over ``bare`` in percent (medians)."""
    pct = 100.0 * (wrapped.median / bare.median - 1.0)
    pct_min = 100.0 * (wrapped.min / bare.min - 1.0)
    print(f"   {name:<44} {pct:+10.1f} %   (on minima {pct_min:+.1f} %)")
    RATIOS.append((name, pct, "%"))
    return pct


def _dump_ratios() -> None:
    """When run by run_all.py, hand the recorded ratios over in a JSON file."""
    target = os.environ.get("NEUROSPICE_BENCH_SUMMARY")
    if target:
        Path(target).write_text(json.dumps(RATIOS))


atexit.register(_dump_ratios)
