"""The embedded TrackML layout: layer table, module ids, overlaps (module of trackcore.data.geometry)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import shared_data
from trackcore.data.geometry import LAYERS, ModuleLocator, get_layer, get_layers, synthetic_module_ids
from trackcore.data.schema import ALL_VOLUMES


def test_layer_table_has_the_48_trackml_layers_and_18728_modules() -> None:
    assert len(LAYERS) == 48
    assert sum(layer.n_modules for layer in LAYERS) == 18728
    assert {layer.volume_id for layer in LAYERS} == set(ALL_VOLUMES)
    assert [lay.layer_id for lay in get_layers((8,))] == [2, 4, 6, 8]
    assert get_layer(7, 2).z == -1500.0 and get_layer(9, 2).z == 600.0  # layer 2 of -z is the far one
    for layer in LAYERS:
        if layer.is_barrel:
            assert layer.n_phi * layer.n_z == layer.n_modules
        else:
            assert sum(layer.ring_n) == layer.n_modules


def test_unknown_volume_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown volume"):
        get_layers((8, 10))


@pytest.mark.parametrize("layer", LAYERS, ids=lambda lay: f"v{lay.volume_id}l{lay.layer_id}")
def test_synthetic_ids_cover_every_module_once(layer) -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    phi = rng.uniform(-np.pi, np.pi, n)
    if layer.is_barrel:
        r, z = np.full(n, layer.r), rng.uniform(layer.z_min, layer.z_max, n)
    else:
        r, z = np.sqrt(rng.uniform(layer.r_min**2, layer.r_max**2, n)), np.full(n, layer.z)
    ids = synthetic_module_ids(layer, r * np.cos(phi), r * np.sin(phi), z)
    np.testing.assert_array_equal(np.unique(ids), np.arange(1, layer.n_modules + 1))


def test_disk_overlaps_are_largest_at_the_inner_edge() -> None:
    disk = get_layer(9, 2)
    mult = disk.module_multiplicity(np.array([31.0, 60.0, 101.0, 150.0]))
    assert mult[0] > 3 and np.all(np.diff(mult[:3]) < 0) and mult[-1] >= 1
    assert 0.1 < get_layer(8, 4).overlap_fraction < 0.3


@pytest.mark.realdata
def test_synthetic_barrel_ids_and_nearest_centre_ids_match_detectors_csv() -> None:
    det = pd.read_csv(shared_data("geometry", "detectors.csv"))
    locator = ModuleLocator(det)
    for layer in LAYERS:
        g = det[(det.volume_id == layer.volume_id) & (det.layer_id == layer.layer_id)]
        assert len(g) == layer.n_modules
        x, y, z = (g[c].to_numpy() for c in ("cx", "cy", "cz"))
        np.testing.assert_array_equal(locator.locate(layer, x, y, z), g["module_id"])
        if layer.is_barrel:
            np.testing.assert_array_equal(synthetic_module_ids(layer, x, y, z), g["module_id"])
        # Module centres lie within the layer's envelope (to the 0.01 mm of the file).
        normal = np.hypot(x, y) if layer.is_barrel else z
        low, high = (layer.r_min, layer.r_max) if layer.is_barrel else (layer.z_min, layer.z_max)
        assert normal.min() >= low - 0.01 and normal.max() <= high + 0.01
