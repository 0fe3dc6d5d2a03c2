"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(name: str, value: float, target: str, ok: bool, unit: str = "") -> bool:
    print(f"{name}: {value:.3f}{unit}  (target {target})  {'PASS' if ok else 'FAIL'}")
    return ok
