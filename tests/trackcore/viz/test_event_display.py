"""Event display: colouring by track and by particle, shared / unassigned hits, hit-id mapping, validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba

from tests.trackcore.viz.conftest import read_png
from trackcore.candidates import TrackCandidates
from trackcore.viz import categorical_colors, plot_event_display
from trackcore.viz.event_display import _event_display_figure

RADII = np.array([30.0, 70.0, 120.0, 170.0])


def make_display_event():
    """3 radial particles x 4 hits + 2 noise hits, shuffled rows with hit ids 100 + k.

    Candidates (ids 10, 11, 12): one per particle, but particle 1 loses its outermost hit
    (unassigned) and track 11 also takes the innermost hits of particles 0 and 2 (2 shared hits).
    """
    rows, pid = [], []
    for p, phi in enumerate([0.0, 2.0, 4.0]):
        rows.append(np.c_[RADII * np.cos(phi), RADII * np.sin(phi), RADII * (p - 1.0)])
        pid += [p + 1] * len(RADII)
    rows.append(np.array([[50.0, 50.0, 10.0], [-80.0, 20.0, -40.0]]))
    pid += [0, 0]
    pos, pid = np.concatenate(rows), np.array(pid)
    perm = np.random.default_rng(0).permutation(len(pos))
    pos, pid = pos[perm], pid[perm]
    hit_id = 100 + np.arange(len(pos))
    memberships = []
    for p, track in enumerate([10, 11, 12]):
        rows_p = np.flatnonzero(pid == p + 1)
        rows_p = rows_p[np.argsort(np.hypot(pos[rows_p, 0], pos[rows_p, 1]))]
        if p == 1:
            rows_p = rows_p[:-1]
        memberships += [(hit_id[j], track) for j in rows_p]
        if p != 1:
            memberships.append((hit_id[rows_p[0]], 11))
    hits, tracks = np.array(memberships).T
    return pos, hit_id, pid, TrackCandidates(hits, tracks)


def figure(pos, **kw):
    args = {
        "candidates": None,
        "hit_id": None,
        "particle_id": None,
        "title": None,
        "max_hits": None,
        "seed": 0,
        "lines": True,
        "figsize": (6.0, 5.0),
    }
    return _event_display_figure(pos, **(args | kw))


def test_writes_png_with_both_rows(tmp_path):
    pos, hit_id, pid, cands = make_display_event()
    path = plot_event_display(
        pos, tmp_path / "ev" / "display.png", candidates=cands, hit_id=hit_id, particle_id=pid, title="t", dpi=20
    )
    assert path == tmp_path / "ev" / "display.png"
    assert read_png(path).shape == (208, 240, 4)  # default figsize (12, 2 x 5.2) at 20 dpi


def test_rows_titles_and_axes():
    pos, hit_id, pid, cands = make_display_event()
    fig = figure(pos, candidates=cands, hit_id=hit_id, particle_id=pid)
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "Track candidates: 3 tracks",
        "2 shared hits, 3 unassigned of 14",
        "Truth: 3 particles",
        "2 noise hits of 14",
    ]
    for ax_xy, ax_rz in (fig.axes[:2], fig.axes[2:]):
        assert (ax_xy.get_xlabel(), ax_xy.get_ylabel()) == ("x [mm]", "y [mm]")
        assert (ax_rz.get_xlabel(), ax_rz.get_ylabel()) == ("z [mm]", "r [mm]")
        assert ax_xy.get_aspect() == 1.0
        assert ax_rz.get_ylim()[0] == 0.0
    # the legends sit right of the r-z panels, off the hits
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == ["unassigned", "shared (> 1 track)"]
    assert [t.get_text() for t in fig.axes[3].get_legend().get_texts()] == ["noise"]


@pytest.mark.parametrize(
    ("with_cands", "with_pid", "first_title"),
    [(True, False, "Track candidates: 3 tracks"), (False, True, "Truth: 3 particles"), (False, False, "14 hits")],
)
def test_single_row(with_cands, with_pid, first_title):
    pos, hit_id, pid, cands = make_display_event()
    fig = figure(pos, hit_id=hit_id, candidates=cands if with_cands else None, particle_id=pid if with_pid else None)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title() == first_title


def _marker_lines(ax, marker):
    return [line for line in ax.get_lines() if line.get_marker() == marker and line.get_linestyle() == "None"]


def test_hits_take_their_track_colour_and_shared_hits_are_marked():
    pos, hit_id, pid, cands = make_display_event()
    ax_xy = figure(pos, candidates=cands, hit_id=hit_id, seed=3).axes[0]
    tracks = np.unique(cands.track_id)
    colors = categorical_colors(len(tracks), seed=3)
    row_of = {int(h): j for j, h in enumerate(hit_id)}
    colours_of_row: dict[int, set] = {}
    for h, t in zip(cands.hit_id, cands.track_id, strict=True):
        colours_of_row.setdefault(row_of[int(h)], set()).add(tuple(colors[np.searchsorted(tracks, t)]))
    drawn: dict[int, set] = {}
    for line in _marker_lines(ax_xy, "o"):
        colour = to_rgba(line.get_color())
        for x, y in line.get_xydata():
            (row,) = np.flatnonzero((pos[:, 0] == x) & (pos[:, 1] == y))
            drawn.setdefault(int(row), set()).add(colour)
    unassigned = set(range(len(pos))) - set(colours_of_row)
    assert len(unassigned) == 3
    assert all(drawn[j] == {to_rgba("0.7")} for j in unassigned)
    assert {j: drawn[j] for j in colours_of_row} == colours_of_row
    (shared,) = _marker_lines(ax_xy, "D")
    expected = sorted(map(tuple, pos[[j for j, c in colours_of_row.items() if len(c) > 1]][:, :2]))
    assert sorted(map(tuple, shared.get_xydata())) == expected and len(expected) == 2


def test_hit_id_maps_candidates_to_rows(tmp_path):
    pos, hit_id, pid, cands = make_display_event()
    by_id = plot_event_display(pos, tmp_path / "by_id.png", candidates=cands, hit_id=hit_id, dpi=20)
    rows = TrackCandidates(cands.hit_id - 100, cands.track_id)  # default hit ids are the rows
    by_row = plot_event_display(pos, tmp_path / "by_row.png", candidates=rows, dpi=20)
    assert by_id.read_bytes() == by_row.read_bytes()


def test_torch_inputs_match_numpy(tmp_path):
    pos, hit_id, pid, cands = make_display_event()
    a = plot_event_display(pos, tmp_path / "np.png", candidates=cands, hit_id=hit_id, particle_id=pid, dpi=20)
    b = plot_event_display(
        torch.from_numpy(pos),
        tmp_path / "torch.png",
        candidates=cands,
        hit_id=torch.from_numpy(hit_id),
        particle_id=torch.from_numpy(pid),
        dpi=20,
    )
    assert a.read_bytes() == b.read_bytes()


def test_max_hits_subsamples_deterministically(tmp_path):
    pos, hit_id, pid, cands = make_display_event()
    kw = {"candidates": cands, "hit_id": hit_id, "particle_id": pid, "max_hits": 6, "dpi": 20}
    a = plot_event_display(pos, tmp_path / "a.png", **kw).read_bytes()
    b = plot_event_display(pos, tmp_path / "b.png", **kw).read_bytes()
    c = plot_event_display(pos, tmp_path / "c.png", **kw | {"seed": 1}).read_bytes()
    assert a == b
    assert a != c
    fig = figure(pos, candidates=cands, hit_id=hit_id, particle_id=pid, max_hits=6)
    assert fig.get_suptitle() == "(showing 6 of 14 hits, sampled with seed 0)"
    assert fig.axes[1].get_title().endswith("unassigned of 6")
    assert figure(pos, max_hits=14).get_suptitle() == ""


def test_empty_event(tmp_path):
    path = plot_event_display(
        np.zeros((0, 3)),
        tmp_path / "empty.png",
        candidates=TrackCandidates.empty(),
        particle_id=np.zeros(0, np.int64),
        dpi=20,
    )
    assert read_png(path).ndim == 3


def test_categorical_colors():
    colors = categorical_colors(100, seed=0)
    assert colors.shape == (100, 4)
    assert (np.abs(np.diff(colors, axis=0)).sum(axis=1) > 0).all(), "neighbouring categories share a colour"
    assert not (np.ptp(colors[:, :3], axis=1) < 1e-6).any(), "a category is grey"
    assert len({tuple(c) for c in colors}) == 32
    np.testing.assert_array_equal(colors, categorical_colors(100, seed=0))
    assert not np.array_equal(colors, categorical_colors(100, seed=1))
    assert categorical_colors(0).shape == (0, 4)
    with pytest.raises(ValueError, match="n >= 0"):
        categorical_colors(-1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pos": np.zeros((4, 2))}, r"'pos' of shape \(N, 3\).*got \(4, 2\)"),
        ({"pos": np.zeros(12)}, r"'pos' of shape \(N, 3\)"),
        ({"pos": np.full((4, 3), np.nan)}, "4 of 4 rows of 'pos' are not finite"),
        ({"hit_id": np.arange(3)}, r"'hit_id' of shape \(14,\)"),
        ({"hit_id": np.linspace(0, 1, 14)}, "'hit_id' to hold integers"),
        ({"hit_id": np.zeros(14, np.int64)}, "unique 'hit_id' \\(got 13 repeated\\)"),
        ({"particle_id": np.zeros(13, np.int64)}, r"'particle_id' of shape \(14,\)"),
        ({"max_hits": 0}, "max_hits >= 1"),
    ],
)
def test_bad_inputs_raise(tmp_path, kwargs, match):
    pos, _, _, _ = make_display_event()
    with pytest.raises(ValueError, match=match):
        plot_event_display(kwargs.pop("pos", pos), tmp_path / "x.png", **kwargs)
    assert not (tmp_path / "x.png").exists()


def test_candidate_hits_missing_from_hit_id_raise():
    pos, hit_id, _, cands = make_display_event()
    ids, counts = np.unique(cands.hit_id, return_counts=True)
    shared = ids[counts > 1]  # 2 hits, 4 memberships
    renamed = np.where(np.isin(hit_id, shared), hit_id + 1000, hit_id)
    with pytest.raises(ValueError, match=r"^2 candidate hit id\(s\) in 4 of 13 memberships are not in 'hit_id'"):
        figure(pos, candidates=cands, hit_id=renamed)
    with pytest.raises(ValueError, match=r"^11 candidate hit id\(s\) in 13 of 13 memberships"):
        figure(pos, candidates=TrackCandidates(cands.hit_id + 1000, cands.track_id), hit_id=hit_id)
