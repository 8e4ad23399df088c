"""Truth graph: chains of consecutive hits per particle, directed outward from the vertex."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trackcore.data.event import Event
from trackcore.data.truth_graph import build_track_edges, event_track_edges, vertex_distance


def _edge_set(edges: np.ndarray) -> set[tuple[int, int]]:
    return set(map(tuple, edges.T.tolist()))


def test_hand_built_known_edges() -> None:
    # rows:          0   1   2   3   4   5   6   7
    pid = np.array([5, 0, 5, 9, 5, 9, 0, -3])
    dist = np.array([30., 1., 10., 7., 20., 3., 2., 4.])
    edges = build_track_edges(pid, dist)
    assert edges.dtype == np.int64 and edges.shape == (2, 3)
    # particle 5: rows 2 (10) -> 4 (20) -> 0 (30); particle 9: 5 (3) -> 3 (7); -3 has one hit.
    assert _edge_set(edges) == {(2, 4), (4, 0), (5, 3)}


def test_ties_are_broken_by_row() -> None:
    edges = build_track_edges(np.array([1, 1, 1]), np.array([5.0, 5.0, 1.0]))
    np.testing.assert_array_equal(edges, [[2, 0], [0, 1]])


def test_empty_and_all_noise() -> None:
    assert build_track_edges(np.zeros(0, np.int64), np.zeros(0)).shape == (2, 0)
    assert build_track_edges(np.zeros(4, np.int64), np.arange(4.0)).shape == (2, 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_event_properties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_hits, n_particles = 2000, 150
    pid = rng.integers(-5, n_particles, n_hits)
    pid[rng.random(n_hits) < 0.2] = 0  # noise
    vertex = rng.normal(0, [0.1, 0.1, 50.0], (n_particles + 6, 3))[pid + 5]
    pos = rng.uniform(-1000, 1000, (n_hits, 3))
    dist = vertex_distance(pos, vertex)
    edges = build_track_edges(pid, dist)
    src, dst = edges
    # Every edge joins two hits of one (non-noise) particle, outward.
    assert np.all(pid[src] == pid[dst]) and np.all(pid[src] != 0)
    assert np.all(dist[src] <= dist[dst])
    # A particle with n hits gets n - 1 edges, and they form one chain (each hit is
    # left at most once and entered at most once).
    ids, counts = np.unique(pid[pid != 0], return_counts=True)
    n_edges = pd.Series(pid[src]).value_counts().reindex(ids, fill_value=0).to_numpy()
    np.testing.assert_array_equal(n_edges, counts - 1)
    assert len(np.unique(src)) == len(src) and len(np.unique(dst)) == len(dst)
    # Noise gets no edge.
    assert not np.isin(np.flatnonzero(pid == 0), edges).any()
    # Independent of the order of the hits (as a set of hit pairs).
    perm = rng.permutation(n_hits)
    permuted = build_track_edges(pid[perm], dist[perm])
    assert _edge_set(perm[permuted]) == _edge_set(edges)


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        build_track_edges(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"\(N_hits, 3\)"):
        vertex_distance(np.zeros((3, 2)), np.zeros((3, 2)))


def _event(truth_kind: str) -> Event:
    # Particle 1 starts at z = -100 and flies to +z; measured z is given in the wrong
    # order relative to the origin on purpose: from the origin hit 11 (z=-50) would be
    # farther than hit 12 (z=+20), from the vertex (z=-100) it is closer.
    hits = pd.DataFrame({
        "hit_id": [10, 11, 12, 13, 14],
        "x": [0.0, 30.0, 60.0, 32.0, 100.0],
        "y": [0.0, 0.0, 0.0, 0.0, 0.0],
        "z": [0.0, -50.0, 20.0, -40.0, 0.0],
        "volume_id": 8, "layer_id": 2, "module_id": 1,
    })
    particles = pd.DataFrame({
        "particle_id": [1], "vx": [0.0], "vy": [0.0], "vz": [-100.0],
        "px": [1.0], "py": [0.0], "pz": [1.0], "q": [1], "nhits": [3],
    })
    if truth_kind == "full":
        truth = pd.DataFrame({
            "hit_id": [10, 11, 12, 13, 14], "particle_id": [0, 1, 1, 1, 0],
            "tx": hits.x, "ty": hits.y, "tz": hits.z, "tpx": 1.0, "tpy": 0.0, "tpz": 1.0,
            "weight": [0.0, 0.3, 0.3, 0.4, 0.0],
        })
    else:
        # hit 14 unknown; a negative id has no particle row: ordered from the origin.
        truth = pd.DataFrame({"hit_id": [11, 12, 13, 10, 14], "particle_id": [1, 1, 1, -7, -7]})
    return Event(event_id=1, hits=hits, particles=particles, truth=truth, truth_kind=truth_kind)


def test_event_track_edges_uses_particle_vertex() -> None:
    edges = event_track_edges(_event("full"))
    # from the vertex (0,0,-100): hit 11 (dist ~58), hit 13 (~67), hit 12 (~134).
    np.testing.assert_array_equal(edges, [[1, 3], [3, 2]])


def test_event_track_edges_unknown_particle_from_origin() -> None:
    edges = event_track_edges(_event("partial"))
    assert _edge_set(edges) == {(1, 3), (3, 2), (0, 4)}


def test_event_track_edges_prefers_truth_positions() -> None:
    event = _event("full")
    # The true position of hit 12 is now the closest to the vertex.
    event.truth.loc[event.truth.hit_id == 12, ["tx", "tz"]] = [5.0, -90.0]
    np.testing.assert_array_equal(event_track_edges(event), [[2, 1], [1, 3]])
    np.testing.assert_array_equal(event_track_edges(event, use_truth_positions=False),
                                  [[1, 3], [3, 2]])
