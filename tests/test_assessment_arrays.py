"""The assessment's whole-array helpers give what pandas and Python give: group medians and means as pandas'
groupby, rounding as Python's round, the dispatches found in any order of cases, a kept dispatch table the same
as one computed from the steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geogrid.incidents import assessment
from geogrid.incidents.assessment import _groups, _mean, _median, _positions, _rounded, assess, dispatches, load_formula
from tests.test_assessment import LEVEL3, NOW, history


def test_group_medians_and_means_are_pandas_ones() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    values = rng.lognormal(2, 1, n)
    values[rng.random(n) < 0.2] = np.nan
    values[:50] = 7.0  # ties
    key = pd.Series(rng.integers(0, 300, n)).map(lambda g: f"g{g:03d}").where(rng.random(n) > 0.05)
    codes, labels = _groups(key)
    grouped = pd.Series(values).groupby(key)
    medians = pd.Series(_median(codes, len(labels), values), index=labels)
    means = pd.Series(_mean(codes, len(labels), values), index=labels)
    assert medians.to_dict() == pytest.approx(grouped.median().to_dict(), nan_ok=True, rel=0, abs=0)
    assert means.to_dict() == pytest.approx(grouped.mean().to_dict(), nan_ok=True, rel=1e-15)
    assert list(labels) == sorted(key.dropna().unique())


def test_rounding_is_pythons() -> None:
    rng = np.random.default_rng(4)
    values = np.concatenate([rng.random(100_000), (np.arange(20_000) + 0.5) / 1e4, rng.lognormal(3, 2, 50_000),
                             np.array([0.00005, 0.00015, 2.675, 1.00005, 0.0, np.nan, 1e20, 1e-20, np.inf])])
    expected = [None if v != v else round(v, 4) for v in values.tolist()]
    assert _rounded(values, 4) == expected


def test_dispatches_are_found_whatever_the_order_of_the_cases() -> None:
    cases, events = history()
    ids = events["incident_id"].to_numpy()
    assert (_positions(cases.index, ids) == cases.index.get_indexer(ids)).all()
    shuffled = cases.iloc[[2, 0, 3, 1]]
    assert (_positions(shuffled.index, ids) == shuffled.index.get_indexer(ids)).all()
    assert (_positions(cases.index[:2], ids) == cases.index[:2].get_indexer(ids)).all()
    for level in assessment.LEVELS:
        pd.testing.assert_frame_equal(assess(shuffled, events, level, load_formula(), LEVEL3, NOW),
                                      assess(cases, events, level, load_formula(), LEVEL3, NOW))


@pytest.mark.parametrize("level", assessment.LEVELS)
def test_a_kept_dispatch_table_gives_the_same_figures(level: str) -> None:
    cases, events = history()
    kept = dispatches(events)  # of every step, as the store keeps it; the cases pick their own
    some = cases.iloc[:3]
    pd.testing.assert_frame_equal(assess(some, events, level, load_formula(), LEVEL3, NOW, table=kept),
                                  assess(some, events, level, load_formula(), LEVEL3, NOW))
