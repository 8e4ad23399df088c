"""The (hit_id, track_id) candidate table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trackcore.candidates import TrackCandidates


def test_from_labels_drops_unassigned_and_small_tracks():
    c = TrackCandidates.from_labels(torch.tensor([0, 0, 0, -1, 1, 1, 2]), hit_id=np.array([10, 11, 12, 13, 14, 15, 16]))
    assert c.n_tracks == 3 and len(c) == 6 and 13 not in c.hit_id
    small = TrackCandidates.from_labels([0, 0, 0, -1, 1, 1, 2], min_hits=3)
    assert small.n_tracks == 1 and small.hit_id.tolist() == [0, 1, 2]


def test_shared_hits_relabel_and_roundtrip(tmp_path):
    c = TrackCandidates(np.array([1, 2, 3, 3, 4]), np.array([7, 7, 7, 9, 9]))
    assert c.n_shared_hits() == 1
    ids, sizes = c.track_sizes()
    assert ids.tolist() == [7, 9] and sizes.tolist() == [3, 2]
    assert c.relabel().track_id.tolist() == [0, 0, 0, 1, 1]
    back = TrackCandidates.load(c.save(tmp_path / "sub" / "event1.csv"))
    assert back.hit_id.tolist() == c.hit_id.tolist() and back.track_id.tolist() == c.track_id.tolist()


def test_bad_tables_raise(tmp_path):
    with pytest.raises(ValueError, match="listed more than once"):
        TrackCandidates(np.array([1, 1]), np.array([0, 0]))
    with pytest.raises(ValueError, match="'track_id' >= 0"):
        TrackCandidates(np.array([1]), np.array([-1]))
    with pytest.raises(ValueError, match="same length"):
        TrackCandidates(np.array([1, 2]), np.array([0]))
    with pytest.raises(ValueError, match="integers"):
        TrackCandidates(np.array([1.5]), np.array([0]))
    with pytest.raises(FileNotFoundError, match="no such candidate file"):
        TrackCandidates.load(tmp_path / "missing.csv")
    (tmp_path / "bad.csv").write_text("hit,track\n1,2\n")
    with pytest.raises(ValueError, match=r"bad.csv: missing column"):
        TrackCandidates.load(tmp_path / "bad.csv")


def test_append_renumbers_the_other_sets_tracks_after_this_ones() -> None:
    first = TrackCandidates(np.array([1, 2, 3, 4]), np.array([0, 0, 5, 5]))
    second = TrackCandidates(np.array([7, 8]), np.array([0, 0]))
    both = first.append(second)
    assert both.hit_id.tolist() == [1, 2, 3, 4, 7, 8] and both.track_id.tolist() == [0, 0, 5, 5, 6, 6]
    assert TrackCandidates.empty().append(second).track_id.tolist() == [0, 0]


def test_index_lists_give_each_tracks_hits_as_indices_into_the_events_hit_ids() -> None:
    c = TrackCandidates(np.array([30, 10, 20, 40, 10]), np.array([7, 7, 2, 2, 2]))
    ids, lists = c.index_lists(np.array([40, 30, 20, 10]))
    assert ids.tolist() == [2, 7] and [t.tolist() for t in lists] == [[0, 2, 3], [1, 3]]
    assert TrackCandidates.empty().index_lists(np.array([1]))[0].size == 0
    with pytest.raises(ValueError, match=r"1 candidate hit\(s\) are not among the event's hits \(first hit_id 40\)"):
        c.index_lists(np.array([30, 20, 10]))
    with pytest.raises(ValueError, match="it has none"):
        c.index_lists(np.zeros(0, np.int64))
