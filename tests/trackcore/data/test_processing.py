"""process_event: the data contract on hand-built events, selections recorded, real events."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.data import Batch

from tests.conftest import shared_data
from trackcore.data.errors import DataError
from trackcore.data.event import Event
from trackcore.data.processing import (
    BENCHMARKS,
    ProcessingConfig,
    TrackEventData,
    get_benchmark,
    process_event,
)


def _full_event() -> Event:
    """Two particles and two noise hits in volumes 8 (pixel) and 13 (strips).

    Particle 1 (pT 2 GeV): hits 1, 2 (vol 8) and 3 (vol 13), written out of order.
    Particle 2 (pT 0.5 GeV): hits 4, 5 (vol 8). Noise: hits 6 (vol 8), 7 (vol 13).
    """
    hits = pd.DataFrame({
        "hit_id": [3, 1, 4, 6, 2, 5, 7],
        "x": [500.0, 30.0, 0.0, -50.0, 70.0, 0.0, 0.0],
        "y": [0.0, 0.0, 40.0, 0.0, 0.0, 80.0, -500.0],
        "z": [10.0, 1.0, -4.0, 3.0, 2.0, -8.0, 0.0],
        "volume_id": [13, 8, 8, 8, 8, 8, 13],
        "layer_id": [2, 2, 2, 4, 4, 4, 2],
        "module_id": [1, 1, 2, 3, 1, 2, 5],
    })
    particles = pd.DataFrame({
        "particle_id": [1, 2, 3], "vx": 0.0, "vy": 0.0, "vz": [0.0, 0.0, 5.0],
        "px": [2.0, 0.0, 0.1], "py": [0.0, 0.5, 0.0], "pz": [0.0, -0.05, 0.0],
        "q": 1, "nhits": [3, 2, 0],
    })
    pid = {3: 1, 1: 1, 2: 1, 4: 2, 5: 2, 6: 0, 7: 0}
    truth = pd.DataFrame({"hit_id": hits["hit_id"], "particle_id": hits["hit_id"].map(pid)})
    truth[["tx", "ty", "tz"]] = hits[["x", "y", "z"]].to_numpy()
    truth[["tpx", "tpy", "tpz"]] = 1.0
    truth["weight"] = truth["particle_id"].map({0: 0.0, 1: 0.1, 2: 0.05})
    cells = pd.DataFrame({"hit_id": [1, 1, 2, 3], "ch0": [0, 1, 0, 0], "ch1": 0,
                          "value": [0.5, 0.5, 1.0, 2.0]})
    return Event(event_id=42, hits=hits, particles=particles, truth=truth, cells=cells,
                 truth_kind="full", source="hand-built")


def _partial_event() -> Event:
    event = _full_event()
    # Hits 6 (noise) and 5 unlabelled; hit 7 belongs to an unrecovered particle -4.
    truth = pd.DataFrame({"hit_id": [1, 2, 3, 4, 7], "particle_id": [1, 1, 1, 2, -4],
                          "in_plus1": [1, 1, 1, 0, 1]})
    return Event(event_id=43, hits=event.hits, particles=event.particles, truth=truth,
                 truth_kind="partial", source="hand-built-partial")


def _by_hit(data: TrackEventData, name: str) -> dict[int, float]:
    return dict(zip(data.hit_id.tolist(), getattr(data, name).tolist(), strict=True))


def test_contract_on_full_event() -> None:
    data = process_event(_full_event(), ProcessingConfig())
    n = 7
    assert isinstance(data, TrackEventData) and data.num_nodes == n
    assert data.x.dtype == torch.float32 and data.x.shape == (n, 4)
    assert data.pos.shape == (n, 3) and data.pos.dtype == torch.float32
    for name in ("hit_id", "particle_id", "volume_id", "layer_id", "module_id"):
        assert getattr(data, name).dtype == torch.int64 and getattr(data, name).shape == (n,)
    assert data.labelled.dtype == torch.bool and bool(data.labelled.all())
    assert data.event_id == 42 and data.truth_kind == "full"
    # Hit features: hit 1 at (30, 0, 1) -> r = 0.03, phi = 0, z = 0.001.
    i = data.hit_id.tolist().index(1)
    np.testing.assert_allclose(data.x[i, :3], [0.03, 0.0, 0.001], atol=1e-7)
    # Per-hit particle kinematics; noise gets 0.
    pt = _by_hit(data, "pt")
    assert pt[1] == pytest.approx(2.0) and pt[4] == pytest.approx(0.5) and pt[6] == 0.0
    eta = _by_hit(data, "eta")
    assert eta[4] == pytest.approx(math.asinh(-0.1), rel=1e-6) and eta[7] == 0.0
    assert _by_hit(data, "weight")[1] == pytest.approx(0.1)
    # Truth graph: 1 -> 2 -> 3 and 4 -> 5, as hit ids.
    hid = data.hit_id
    assert {tuple(e) for e in hid[data.track_edges].T.tolist()} == {(1, 2), (2, 3), (4, 5)}
    # Particle tables: only particles with hits (3 has none), ascending ids.
    assert data.particle_table_id.tolist() == [1, 2]
    assert data.particle_table_nhits.tolist() == [3, 2]
    np.testing.assert_allclose(data.particle_table_pt, [2.0, 0.5], rtol=1e-6)
    assert data.particle_table_vertex.shape == (2, 3)
    assert data.selection["n_hits_after"] == n and data.selection["kept"]["particles"] == 2
    assert data.processing["key"] == ProcessingConfig().key()


def test_selection_is_applied_and_recorded() -> None:
    config = ProcessingConfig(volumes=(8,), min_pt=1.0, remove_noise=True)
    data = process_event(_full_event(), config)
    assert data.hit_id.tolist() == [1, 2]
    assert data.particle_table_id.tolist() == [1]
    # nhits counts hits after the selection, not the particles table's 3.
    assert data.particle_table_nhits.tolist() == [2]
    assert data.track_edges.tolist() == [[0], [1]]
    sel = data.selection
    assert sel["n_hits_before"] == 7 and sel["n_hits_after"] == 2
    assert sel["removed"] == {"volumes": 2, "noise": 1, "pt": 2}
    assert sel["params"]["volumes"] == [8] and sel["params"]["min_pt"] == 1.0


def test_cells() -> None:
    data = process_event(_full_event(), ProcessingConfig(use_cells=True, use_eta=False))
    assert data.x.shape == (7, 5)
    counts = dict(zip(data.hit_id.tolist(), data.x[:, 3].tolist(), strict=True))
    assert counts[1] == pytest.approx(0.2) and counts[4] == 0.0
    event = _full_event()
    event.cells = None
    with pytest.raises(DataError, match="hand-built: use_cells=True"):
        process_event(event, ProcessingConfig(use_cells=True))


def test_partial_truth() -> None:
    data = process_event(_partial_event(), ProcessingConfig())
    labelled = _by_hit(data, "labelled")
    assert labelled == {3: True, 1: True, 4: True, 6: False, 2: True, 5: False, 7: True}
    # Unlabelled hit 5 (of particle 2 in reality) is unknown: particle_id 0, no edge.
    assert _by_hit(data, "particle_id")[5] == 0
    assert data.particle_table_nhits.tolist() == [1, 3, 1]  # ids -4, 1, 2
    assert data.particle_table_id.tolist() == [-4, 1, 2]
    assert math.isnan(data.particle_table_pt[0]) and math.isnan(_by_hit(data, "pt")[7])
    assert data.selection["kept"]["unrecovered_id_particles"] == 1
    assert data.selection["kept"]["unrecovered_id_hits"] == 1
    assert data.track_edges.shape == (2, 2)


def test_benchmark_on_partial_truth() -> None:
    data = process_event(_partial_event(), get_benchmark("pt1_pixel"))
    assert set(data.volume_id.tolist()) <= {7, 8, 9}
    assert bool(data.labelled.all())
    assert bool((data.particle_table_pt > 1.0).all())
    assert data.selection["removed"]["noise"] == 0  # partial truth labels no hit as noise
    assert data.selection["params"]["labelled_only"] and data.selection["params"]["remove_noise"]


def test_no_truth() -> None:
    event = _full_event()
    event = Event(event_id=1, hits=event.hits, truth=None, truth_kind="none")
    data = process_event(event, ProcessingConfig())
    assert data.track_edges.shape == (2, 0) and not bool(data.labelled.any())
    assert data.particle_table_id.numel() == 0 and bool((data.particle_id == 0).all())


def test_batching_shifts_track_edges() -> None:
    a = process_event(_full_event(), ProcessingConfig())
    b = process_event(_full_event(), ProcessingConfig(volumes=(8,)))
    batch = Batch.from_data_list([a, b])
    assert batch.x.shape[0] == 7 + 5
    assert batch.track_edges.shape == (2, 3 + 2)
    np.testing.assert_array_equal(batch.track_edges[:, 3:], b.track_edges + 7)
    assert batch.particle_table_id.shape == (4,)


def test_config_key() -> None:
    a = ProcessingConfig(volumes=(9, 7, 8, 8), min_pt=1)
    b = ProcessingConfig(volumes=[7, 8, 9], min_pt=1.0)  # type: ignore[arg-type]
    assert a == b and a.key() == b.key() and a.volumes == (7, 8, 9)
    assert ProcessingConfig.from_dict(a.to_dict()) == a
    keys = {ProcessingConfig().key(), a.key(), ProcessingConfig(remove_noise=True).key(),
            ProcessingConfig(use_cells=True).key(), BENCHMARKS["pt1_pixel"].key()}
    assert len(keys) == 5 and all(len(k) == 12 for k in keys)
    # Pinned: the key names cache folders, so it must not change between sessions.
    assert ProcessingConfig().key() == "01c80f3fa817"
    with pytest.raises(ValueError, match="unknown ProcessingConfig field"):
        ProcessingConfig.from_dict({"min_pT": 1.0})
    with pytest.raises(ValueError, match="min_pt"):
        ProcessingConfig(min_pt=-1.0)
    with pytest.raises(ValueError, match="unknown benchmark"):
        get_benchmark("pt2")


REAL_EVENT = ("trackml_real_partial", "event000001001")


@pytest.mark.realdata
def test_real_event_full_is_fast() -> None:
    from trackcore.data.trackml_io import read_event

    start = time.perf_counter()
    data = process_event(read_event(shared_data(*REAL_EVENT)), ProcessingConfig())
    elapsed = time.perf_counter() - start
    assert data.num_nodes == 93_680 and data.selection["removed"] == {}
    assert elapsed < 2.0, f"reading and processing took {elapsed:.2f} s"
    # Every true edge joins two hits of one particle, outward from the vertex.
    src, dst = data.track_edges
    assert bool((data.particle_id[src] == data.particle_id[dst]).all())
    assert data.track_edges.shape[1] == int((data.particle_table_nhits - 1).sum())


@pytest.mark.realdata
def test_real_event_pt1_pixel_benchmark() -> None:
    from trackcore.data.trackml_io import read_event

    data = process_event(read_event(shared_data(*REAL_EVENT)), get_benchmark("pt1_pixel"))
    assert set(data.volume_id.unique().tolist()) == {7, 8, 9}
    known = ~torch.isnan(data.particle_table_pt)
    assert bool((data.particle_table_pt[known] > 1.0).all())
    # Unknown pT only for unrecovered (negative) ids, and they are counted.
    assert bool((data.particle_table_id[~known] < 0).all())
    assert data.selection["kept"]["unrecovered_id_particles"] == int((~known).sum())
    assert bool(data.labelled.all()) and data.selection["n_hits_after"] == data.num_nodes
