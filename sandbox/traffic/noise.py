"""Deterministic noise: uniforms hashed from what a number describes, and draws made from them.

Nothing comes from a shared random stream, so asking for one report never shifts another.
"""

from __future__ import annotations

import hashlib
import math
import struct
from statistics import NormalDist
from typing import Any

_NORMAL = NormalDist()


def noise(*parts: Any) -> tuple[float, ...]:
    """Eight uniforms in (0, 1) fixed by ``parts``."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=32).digest()
    return tuple((v + 0.5) / 4294967296.0 for v in struct.unpack("<8I", digest))


def z(u: float) -> float:
    return _NORMAL.inv_cdf(u)


def draw(n: int, p: float, u: float) -> int:
    """A binomial-ish draw of n trials at rate p from one uniform (normal approximation, clipped)."""
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    mean = n * p
    return min(n, max(0, round(mean + math.sqrt(mean * (1 - p)) * z(u))))


def count(mean: float, u: float) -> int:
    """A Poisson-ish count with this mean from one uniform."""
    if mean <= 0:
        return 0
    return max(0, round(mean + math.sqrt(mean) * z(u)))
