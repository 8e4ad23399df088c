"""The ``trackml`` preset against 40 real TrackML events: every statistic within 25% of the real mean.

Real events: ``<repo>/../shared/data/trackml_real_partial`` (Amrouche et al., arXiv:1904.06778);
the test is skipped, saying so, when that folder is absent.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import shared_data
from trackcore.data.simulation import simulate_event
from trackcore.data.simulation.realism import compare_statistics
from trackcore.data.trackml_io import read_events

TOLERANCE = 0.25


@pytest.fixture(scope="module")
def comparison() -> pd.DataFrame:
    real_dir = shared_data("trackml_real_partial")
    simulated = [simulate_event("trackml", seed=2024, event_id=i) for i in (1000, 1001)]
    return compare_statistics(simulated, read_events(real_dir, validate=False))


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize(
    "statistic",
    ["hits", "particles", "noise_fraction", "frac_pt_above_1", "median_pt",
     *(f"hits_volume_{v}" for v in (7, 8, 9, 12, 13, 14, 16, 17, 18))],
)
def test_simulated_trackml_statistic_matches_real_events(comparison: pd.DataFrame, statistic: str) -> None:
    row = comparison.loc[statistic]
    assert abs(row["ratio"] - 1.0) <= TOLERANCE, (
        f"{statistic}: simulated {row['sim']:.4g} vs real {row['real']:.4g} (ratio {row['ratio']:.3f})"
    )
