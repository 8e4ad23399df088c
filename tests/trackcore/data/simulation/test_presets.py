"""Presets: names, sizes and checks of the settings."""

from __future__ import annotations

import dataclasses

import pytest

from trackcore.data.simulation import PRESETS, Preset, get_preset, simulate_event


def test_presets_and_their_splits() -> None:
    assert list(PRESETS) == ["tiny", "small", "trackml"]
    assert get_preset("small").split_sizes == (100, 10, 10)
    assert get_preset("tiny").volumes == (7, 8, 9)
    assert len(get_preset("trackml").volumes) == 9
    assert get_preset("trackml").noise_per_module > get_preset("small").noise_per_module > 0
    preset = get_preset("tiny")
    assert get_preset(preset) is preset


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid presets: tiny, small, trackml"):
        get_preset("medium")


@pytest.mark.parametrize(
    "change",
    [dict(volumes=(8, 10)), dict(volumes=()), dict(pileup_mu=0.0), dict(hit_inefficiency=1.0),
     dict(pt_min=0.05), dict(eta_max=5.0), dict(noise_per_module=-1.0)],
)
def test_bad_settings_are_refused(change: dict) -> None:
    with pytest.raises(ValueError, match="preset 'tiny'"):
        dataclasses.replace(get_preset("tiny"), **change)


def test_preset_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_preset("tiny").pileup_mu = 10.0  # type: ignore[misc]


@pytest.mark.parametrize(("name", "low", "high"), [("tiny", 40, 200), ("small", 700, 1400)])
def test_particle_counts_match_the_advertised_size(name: str, low: int, high: int) -> None:
    counts = [len(simulate_event(name, seed=s, event_id=1000).particles) for s in range(4)]
    assert low < sum(counts) / len(counts) < high


def test_cuts_of_a_preset_apply_to_the_particles() -> None:
    preset = dataclasses.replace(get_preset("small"), name="cut", pt_min=0.5, eta_max=2.0)
    assert isinstance(preset, Preset)
    p = simulate_event(preset, seed=0, event_id=1).particles
    pt = (p["px"] ** 2 + p["py"] ** 2) ** 0.5
    assert pt.min() >= 0.5 - 1e-9
