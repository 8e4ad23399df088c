"""Fixtures of the simulation tests: simulated events built once per session."""

from __future__ import annotations

import pytest

from trackcore.data.event import Event
from trackcore.data.simulation import simulate_event


@pytest.fixture(scope="session")
def tiny_event() -> Event:
    return simulate_event("tiny", seed=11, event_id=1000)


@pytest.fixture(scope="session")
def small_sim_event() -> Event:
    return simulate_event("small", seed=5, event_id=1001)
