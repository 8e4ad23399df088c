"""Helpers of the simulation tests."""

from __future__ import annotations

import dataclasses

from trackcore.data.simulation import Preset, get_preset


def clean_preset(**changes: object) -> Preset:
    """The ``tiny`` detector without noise, inefficiency, interactions, decays or scattering."""
    settings = dict(noise_per_module=0.0, hit_inefficiency=0.0, interaction_rate=0.0,
                    decay_fraction=0.0, multiple_scattering=False)
    settings.update(changes)
    return dataclasses.replace(get_preset("tiny"), name="clean", **settings)
