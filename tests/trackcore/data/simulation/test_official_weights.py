"""Simulated events carry the challenge's own weights: hits ranked by |tz - vz|, nhits from the particles table."""

from __future__ import annotations

import numpy as np

from trackcore.data.event import Event
from trackcore.data.weights import official_trackml_weights


def test_simulated_weights_are_the_official_ones(small_sim_event: Event) -> None:
    truth, particles = small_sim_event.truth, small_sim_event.particles
    # Crossing order and |tz - vz| disagree on a few loopers of this event (5 hits of 6,661):
    # ranking by crossing order gave them other weights.
    np.testing.assert_array_equal(truth["weight"].to_numpy(),
                                  official_trackml_weights(truth.drop(columns="weight"), particles))
    assert abs(truth["weight"].sum() - 1) < 1e-12
    assert (truth.loc[truth["particle_id"] == 0, "weight"] == 0).all()
