"""Simulated events: deterministic, TrackML tables exactly, consistent truth and weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import shared_data
from tests.trackcore.data.simulation.helpers import clean_preset
from trackcore.data.event import Event
from trackcore.data.geometry import get_layer
from trackcore.data.schema import HITS, PARTICLES, TRUTH, TableSpec
from trackcore.data.simulation import ParticleSet, decode_particle_id, simulate_event, simulate_events
from trackcore.data.trackml_io import list_events, read_event, write_event
from trackcore.data.validation import validate_event


def _assert_same_event(a: Event, b: Event) -> None:
    for name in ("hits", "particles", "truth"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_same_seed_gives_the_identical_event(tiny_event: Event) -> None:
    _assert_same_event(simulate_event("tiny", seed=11, event_id=1000), tiny_event)


@pytest.mark.parametrize(("seed", "event_id"), [(12, 1000), (11, 1001)])
def test_another_seed_or_event_id_gives_another_event(tiny_event: Event, seed: int, event_id: int) -> None:
    other = simulate_event("tiny", seed=seed, event_id=event_id)
    assert len(other.hits) != len(tiny_event.hits) or not np.array_equal(
        other.hits["x"].to_numpy(), tiny_event.hits["x"].to_numpy()
    )


@pytest.mark.parametrize("spec", [HITS, PARTICLES, TRUTH], ids=lambda s: s.name)
def test_tables_have_the_trackml_columns_and_dtypes(small_sim_event: Event, spec: TableSpec) -> None:
    table = getattr(small_sim_event, spec.name)
    assert list(table.columns)[: len(spec.required)] == list(spec.required)
    for col, kind in spec.columns.items():
        if col in table:
            assert table[col].dtype == (np.int64 if kind == "i" else np.float64), col
    for key in spec.unique:
        assert table[key].is_unique


def test_event_passes_validation_and_records_its_provenance(small_sim_event: Event) -> None:
    validate_event(small_sim_event)
    assert small_sim_event.truth_kind == "full"
    assert small_sim_event.meta["preset"] == "small" and small_sim_event.meta["seed"] == 5
    assert small_sim_event.meta["preset_settings"]["pileup_mu"] == 23.0


def test_hits_are_numbered_and_sorted_like_trackml(small_sim_event: Event) -> None:
    hits = small_sim_event.hits
    np.testing.assert_array_equal(hits["hit_id"], np.arange(1, len(hits) + 1))
    key = hits[["volume_id", "layer_id", "module_id"]].to_numpy()
    assert (np.diff(key[:, 0] * 10**8 + key[:, 1] * 10**5 + key[:, 2]) >= 0).all()
    assert set(hits["volume_id"]) == {7, 8, 9}
    # Not grouped by particle: consecutive hits of a module come from different particles.
    assert not small_sim_event.truth["particle_id"].is_monotonic_increasing


def test_particles_table_is_consistent_with_truth(small_sim_event: Event) -> None:
    p, t = small_sim_event.particles, small_sim_event.truth
    assert (p["particle_id"] != 0).all()
    assert set(t["particle_id"][t["particle_id"] != 0]) <= set(p["particle_id"])
    counts = t["particle_id"][t["particle_id"] != 0].value_counts()
    np.testing.assert_array_equal(p.set_index("particle_id")["nhits"].reindex(counts.index), counts)
    assert p["nhits"].sum() == (t["particle_id"] != 0).sum()
    assert set(p["q"]) <= {-1, 1}
    assert (np.abs(p["particle_type"]) > 0).all()


def test_hits_lie_on_their_layer_within_the_module_spread(small_sim_event: Event) -> None:
    hits, truth = small_sim_event.hits, small_sim_event.truth
    signal = truth["particle_id"].to_numpy() != 0
    for (vol, lay), idx in hits.groupby(["volume_id", "layer_id"]).groups.items():
        layer = get_layer(vol, lay)
        h = hits.loc[idx]
        tr = truth.loc[idx][signal[idx]]
        tol = layer.span / 2 + layer.thickness / 2
        if layer.is_barrel:
            assert np.all(np.abs(np.hypot(h["x"], h["y"]) - layer.r) <= tol)
            assert np.all(np.abs(np.hypot(tr["tx"], tr["ty"]) - layer.r) <= tol)
            assert np.all(np.abs(h["z"]) <= layer.z_max)
        else:
            assert np.all(np.abs(h["z"] - layer.z) <= tol)
            assert np.all(np.abs(tr["tz"] - layer.z) <= tol)
            r = np.hypot(h["x"], h["y"])
            # The r-phi smearing (~20 um) may carry an edge hit a hair beyond the edge radius.
            assert np.all((r >= layer.r_min - 0.01) & (r <= layer.r_max + 0.01))


def test_smearing_follows_the_pitch(small_sim_event: Event) -> None:
    hits, truth = small_sim_event.hits, small_sim_event.truth
    pixel_barrel = (hits["volume_id"] == 8).to_numpy() & (truth["particle_id"] != 0).to_numpy()
    dz = (hits["z"] - truth["tz"]).to_numpy()[pixel_barrel]
    phi = np.arctan2(truth["ty"], truth["tx"]).to_numpy()[pixel_barrel]
    du = (-np.sin(phi) * (hits["x"] - truth["tx"]).to_numpy()[pixel_barrel]
          + np.cos(phi) * (hits["y"] - truth["ty"]).to_numpy()[pixel_barrel])
    assert np.std(du) == pytest.approx(0.05 / np.sqrt(12), rel=0.1)
    assert np.std(dz) == pytest.approx(0.05625 / np.sqrt(12), rel=0.1)


def test_weights_sum_to_one_and_vanish_for_noise_and_short_particles(small_sim_event: Event) -> None:
    t, p = small_sim_event.truth, small_sim_event.particles
    assert t["weight"].sum() == pytest.approx(1.0)
    assert (t["weight"] >= 0).all()
    noise = t["particle_id"] == 0
    assert noise.any() and (t["weight"][noise] == 0).all()
    short = t["particle_id"].isin(p["particle_id"][p["nhits"] < 4])
    assert (t["weight"][short] == 0).all()
    assert (t["weight"][~noise & ~short] > 0).all()


def test_first_hits_of_a_particle_weigh_more_than_its_middle_hits() -> None:
    gun = ParticleSet.from_kinematics([5.0], [0.2], [0.4], [1])
    event = simulate_event(clean_preset(volumes=(7, 8, 9, 12, 13, 14, 16, 17, 18)), seed=0, event_id=1,
                           particles=gun)
    t = event.truth.assign(d=np.hypot(event.truth["tx"], event.truth["ty"])).sort_values("d")
    w = t["weight"].to_numpy()
    assert len(w) >= 10 and w[0] > w[len(w) // 2] and w[-1] > w[len(w) // 2]


def test_particle_gun_through_the_whole_chain() -> None:
    gun = ParticleSet.from_kinematics([20.0, 20.0], [0.0, 0.5], [0.0, 2.0], [1, -1])
    event = simulate_event(clean_preset(), seed=0, event_id=7, particles=gun)
    assert (event.particles["nhits"] >= 4).all()
    for pid in gun.particle_id:
        t = event.truth[event.truth["particle_id"] == pid]
        layers = event.hits.set_index("hit_id").loc[t["hit_id"], "layer_id"].to_numpy()
        order = np.argsort(np.hypot(t["tx"], t["ty"]).to_numpy())
        assert set(layers) == {2, 4, 6, 8}
        assert np.all(np.diff(layers[order]) >= 0)


def test_particle_ids_encode_vertex_and_parent(small_sim_event: Event) -> None:
    p = small_sim_event.particles
    vertex_id, primary_id, secondary_id = decode_particle_id(p["particle_id"].to_numpy())
    assert (vertex_id >= 1).all() and (primary_id >= 1).all()
    primaries = secondary_id == 0
    displaced = np.hypot(p["vx"], p["vy"]).to_numpy() > 1.0
    assert (~primaries).any() and not (displaced & primaries).any()


def test_unknown_preset_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="tiny, small, trackml"):
        simulate_event("huge", seed=0, event_id=0)


def test_round_trip_through_trackml_csv_is_exact(tmp_path: Path, small_sim_event: Event) -> None:
    prefix = write_event(small_sim_event, tmp_path)
    _assert_same_event(read_event(prefix), small_sim_event)


def test_simulate_events_writes_deterministic_files(tmp_path: Path, tiny_event: Event) -> None:
    paths = simulate_events("tiny", n_events=2, seed=11, out_dir=tmp_path, first_event_id=1000, progress=False)
    assert [p.name for p in paths] == ["event000001000", "event000001001"]
    assert list_events(tmp_path) == paths
    _assert_same_event(read_event(paths[0]), tiny_event)
    assert (tmp_path / "simulation.json").is_file()


def test_noise_is_flat_per_module() -> None:
    gun = ParticleSet.from_kinematics([5.0], [0.0], [0.0], [1])
    event = simulate_event(clean_preset(noise_per_module=3.0), seed=4, event_id=1, particles=gun)
    noise = event.hits[(event.truth["particle_id"] == 0).to_numpy()]
    per_layer = noise.groupby(["volume_id", "layer_id"]).size()
    modules = np.array([get_layer(v, lay).n_modules for v, lay in per_layer.index])
    expected = 3.0 * modules
    assert np.all(np.abs(per_layer.to_numpy() - expected) < 5 * np.sqrt(expected))
    assert event.truth.loc[noise.index, ["tpx", "tpy", "tpz", "weight"]].eq(0).all().all()


@pytest.mark.realdata
def test_module_ids_from_a_real_detectors_table(small_sim_event: Event) -> None:
    det = pd.read_csv(shared_data("geometry", "detectors.csv"))
    event = simulate_event("small", seed=5, event_id=1001, detectors=det)
    # Module ids change the hit order only: the same points are simulated.
    np.testing.assert_array_equal(np.sort(event.hits["x"]), np.sort(small_sim_event.hits["x"]))
    known = det.set_index(["volume_id", "layer_id", "module_id"]).index
    ids = pd.MultiIndex.from_frame(event.hits[["volume_id", "layer_id", "module_id"]])
    assert ids.isin(known).all()
    # Each hit's module is the real module whose centre is nearest.
    h = event.hits.merge(det, on=["volume_id", "layer_id", "module_id"])
    d_own = np.linalg.norm(h[["x", "y", "z"]].to_numpy() - h[["cx", "cy", "cz"]].to_numpy(), axis=1)
    assert np.median(d_own) < 30.0


@pytest.mark.slow
def test_a_trackml_event_takes_less_than_three_seconds() -> None:
    import time

    start = time.perf_counter()
    event = simulate_event("trackml", seed=0, event_id=1000)
    elapsed = time.perf_counter() - start
    assert 70_000 < len(event.hits) < 140_000
    assert elapsed < 3.0, f"one trackml event took {elapsed:.2f} s"
