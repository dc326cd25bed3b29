"""Numeric limits of one kind of grid, and how many grids a set of households needs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geogrid.partition.rules import Rules

NEAR_SHARE = 0.1  # a count inside its window but within this share of a bound of it is near the edge (pages: amber)


@dataclass(frozen=True)
class Limits:
    """Inclusive windows for the households and the residents of one grid."""

    min_households: float
    max_households: float
    min_population: float
    max_population: float

    @classmethod
    def urban(cls, rules: Rules) -> "Limits":
        return cls(rules.min_households, rules.max_households, 0, rules.max_population)

    @classmethod
    def rural(cls, rules: Rules) -> "Limits":
        return cls(0, math.inf, rules.rural_min_population, rules.rural_max_population)

    @classmethod
    def of_kind(cls, kind: str, rules: Rules) -> "Limits":
        """The windows of a community of this kind ("rural": villages; any other: towns)."""
        return cls.rural(rules) if kind == "rural" else cls.urban(rules)

    def to_json(self) -> dict[str, object]:
        """The windows as pages draw them: [low, high] per count (high None: no upper limit), and the share of a
        bound within which a count inside its window is near its edge."""
        def bound(value: float) -> float | None:
            return None if math.isinf(value) else value

        return {"households": [self.min_households, bound(self.max_households)],
                "population": [self.min_population, bound(self.max_population)], "near_share": NEAR_SHARE}

    def caps_only(self) -> "Limits":
        """The same upper limits with no floors."""
        return Limits(0, self.max_households, 0, self.max_population)

    def breaks_max(self, households: np.ndarray, population: np.ndarray) -> np.ndarray:
        """Which entries alone exceed an upper limit."""
        return (households > self.max_households) | (population > self.max_population)

    def within(self, households, population):
        """Which entries meet every limit (works on scalars and arrays)."""
        return (
            (households >= self.min_households)
            & (households <= self.max_households)
            & (population >= self.min_population)
            & (population <= self.max_population)
        )

    def grid_range(self, households: float, population: float) -> tuple[int, int]:
        """The fewest and the most grids whose averages fit the windows (lo > hi: none fit)."""
        lo = max(1, _ceil_div(households, self.max_households), _ceil_div(population, self.max_population))
        hi = min(_floor_div(households, self.min_households), _floor_div(population, self.min_population))
        return lo, hi

    def grid_count(self, households: float, population: float) -> tuple[int, bool]:
        """How many grids to make, and whether that count can meet every limit.

        Among the feasible counts, the one whose average grid sits furthest inside the
        windows (most slack for whole buildings); with none, the fewest grids that keep
        both upper limits, so that no grid is overloaded.
        """
        lo, hi = self.grid_range(households, population)
        if lo > hi:
            return lo, False
        candidates = np.arange(lo, min(hi, lo + 1000) + 1)
        slack = self.slack(households / candidates, population / candidates)
        return int(candidates[np.argmax(slack)]), True

    def slack(self, households, population):
        """Relative room of an average grid inside both windows (negative: outside)."""
        return np.minimum(
            _slack(households, self.min_households, self.max_households),
            _slack(population, self.min_population, self.max_population),
        )


def _slack(mean: np.ndarray, low: float, high: float) -> np.ndarray:
    """Relative distance of a mean from the nearer end of its window."""
    scale = np.maximum(mean, 1e-9)
    return np.minimum(mean - low, high - mean) / scale  # inf - mean stays inf


def _ceil_div(total: float, limit: float) -> int:
    return 0 if math.isinf(limit) else math.ceil(total / limit)


def _floor_div(total: float, limit: float) -> int:
    return 10**9 if limit <= 0 else math.floor(total / limit)
