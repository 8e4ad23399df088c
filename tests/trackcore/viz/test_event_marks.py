"""Event-display marks from the event's evaluation: fakes red, missed particles ringed, foreign hits crossed."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_hex, to_rgba

from tests.trackcore.viz.conftest import read_png
from tests.trackcore.viz.test_event_display import RADII, figure, make_display_event
from trackcore.candidates import TrackCandidates
from trackcore.metrics import EventTruth, ParticlesOfInterest, TrackingEvaluation, evaluate_tracks
from trackcore.viz import categorical_colors, plot_event_display
from trackcore.viz.palette import FAKE_COLOR


def marked_event():
    """The 3 particles x 4 hits + 2 noise hits of :func:`make_display_event` (all pT 2 GeV), with
    candidates 10 (particle 1, whole), 11 (particle 2's 3 inner hits + the innermost hits of particles 1
    and 3: matched, 2 foreign hits) and 13 (both noise hits + particle 2's outermost hit: fake).
    Particle 3 has 1 of its 4 hits in a track: missed."""
    pos, hit_id, pid, _ = make_display_event()
    r = np.hypot(pos[:, 0], pos[:, 1])

    def rows(p):
        j = np.flatnonzero(pid == p)
        return j[np.argsort(r[j])]

    tracks = {
        10: rows(1),
        11: np.r_[rows(2)[:3], rows(1)[0], rows(3)[0]],
        13: np.r_[np.flatnonzero(pid == 0), rows(2)[3]],
    }
    hits = np.concatenate([hit_id[j] for j in tracks.values()])
    ids = np.concatenate([[t] * len(j) for t, j in tracks.items()])
    cands = TrackCandidates(hits, ids)
    eta = np.arcsinh(pos[:, 2] / r)
    truth = EventTruth(hit_id, pid, np.array([1, 2, 3]), np.full(3, 2.0), np.zeros(3), hit_eta_j=eta, event_id=7)
    return pos, hit_id, pid, cands, evaluate_tracks(cands, truth, ParticlesOfInterest()), tracks


def _points(ax, **match):
    """xy of every marker-only line whose properties match (e.g. marker='x')."""
    out = []
    for line in ax.get_lines():
        if line.get_linestyle() == "None" and all(
            (to_rgba(getattr(line, f"get_{k}")()) == to_rgba(v)) if "color" in k else getattr(line, f"get_{k}")() == v
            for k, v in match.items()
        ):
            out += [tuple(p) for p in line.get_xydata()]
    return sorted(out)


def test_titles_count_fakes_missed_and_foreign_hits():
    pos, hit_id, pid, cands, evaluation, _ = marked_event()
    fig = figure(pos, candidates=cands, hit_id=hit_id, particle_id=pid, evaluation=evaluation)
    ax_xy, ax_rz = fig.axes[:2]
    assert ax_xy.get_title() == "Track candidates: 3 tracks, 1 fake of 3"
    assert ax_rz.get_title() == (
        "1 shared hits, 3 unassigned of 14\n1 of 3 particles of interest missed, 2 hits of another particle in "
        "matched tracks"
    )
    assert [t.get_text() for t in ax_rz.get_legend().get_texts()] == [
        "unassigned",
        "shared (> 1 track)",
        "fake track: no DM match (1)",
        "missed particle of interest (1)",
        "hit of another particle\nor noise in a matched track (2)",
    ]


def test_marks_sit_on_the_right_hits():
    pos, hit_id, pid, cands, evaluation, tracks = marked_event()
    ax_xy = figure(pos, candidates=cands, hit_id=hit_id, particle_id=pid, evaluation=evaluation).axes[0]
    xy = [tuple(p) for p in pos[:, :2]]
    assert _points(ax_xy, marker="o", color=FAKE_COLOR) == sorted(xy[j] for j in tracks[13])
    assert _points(ax_xy, marker="o", markerfacecolor="none") == sorted(xy[j] for j in np.flatnonzero(pid == 3))
    assert _points(ax_xy, marker="x") == sorted(xy[j] for j in tracks[11][3:])
    # no other track is drawn red
    assert to_rgba(FAKE_COLOR) not in {to_rgba(c) for c in categorical_colors(3, seed=0)}


def test_no_fake_no_fake_entry_and_png_written(tmp_path):
    pos, hit_id, pid, _, _, _ = marked_event()
    real = pid != 0
    cands = TrackCandidates(hit_id[real], pid[real])  # one perfect track per particle
    truth = EventTruth(hit_id, pid, np.array([1, 2, 3]), np.full(3, 2.0), np.zeros(3))
    evaluation = evaluate_tracks(cands, truth)
    fig = figure(pos, candidates=cands, hit_id=hit_id, particle_id=pid, evaluation=evaluation)
    assert fig.axes[0].get_title() == "Track candidates: 3 tracks, 0 fake of 3"
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == ["unassigned", "shared (> 1 track)"]
    path = plot_event_display(pos, tmp_path / "d.png", candidates=cands, hit_id=hit_id, particle_id=pid,
                              evaluation=evaluation, dataset="tiny", title="ec: event7", dpi=20)
    assert read_png(path).ndim == 3


def test_subsampled_display_keeps_the_whole_event_counts():
    pos, hit_id, pid, cands, evaluation, _ = marked_event()
    fig = figure(pos, candidates=cands, hit_id=hit_id, particle_id=pid, evaluation=evaluation, max_hits=5)
    assert fig.axes[0].get_title().endswith("1 fake of 3")
    assert "1 of 3 particles of interest missed, 2 hits" in fig.axes[1].get_title()


def test_dataset_heads_the_title():
    pos, hit_id, pid, cands, evaluation, _ = marked_event()
    fig = figure(pos, candidates=cands, hit_id=hit_id, particle_id=pid, evaluation=evaluation, dataset="tiny",
                 title="ec: event7")
    assert fig.get_suptitle() == r"$\bf{trackcore}$ tiny | ec: event7"


def test_bad_evaluations_are_named():
    pos, hit_id, pid, cands, evaluation, _ = marked_event()
    with pytest.raises(ValueError, match="needs 'candidates' and 'particle_id'"):
        figure(pos, candidates=cands, hit_id=hit_id, evaluation=evaluation)
    with pytest.raises(ValueError, match=r"one event \(got 2 events\)"):
        figure(pos, candidates=cands, hit_id=hit_id, particle_id=pid,
               evaluation=TrackingEvaluation.concat([evaluation, evaluation]))
    other = TrackCandidates(cands.hit_id, cands.track_id + 100)
    with pytest.raises(ValueError, match=r"not of these candidates: 6 track id\(s\)"):
        figure(pos, candidates=other, hit_id=hit_id, particle_id=pid, evaluation=evaluation)
    renamed = np.where(pid == 3, 4, pid)
    with pytest.raises(ValueError, match=r"not of this event: 1 missed particle\(s\) .* \[3\]"):
        figure(pos, candidates=cands, hit_id=hit_id, particle_id=renamed, evaluation=evaluation)
    with pytest.raises(ValueError, match="scheme in"):
        figure(pos, candidates=cands, hit_id=hit_id, particle_id=pid, evaluation=evaluation, scheme="majority")


def test_palette_keeps_red_and_grey_for_their_meanings():
    reserved = {"#d62728", "#ff9896", "#843c39", "#ad494a", "#d6616b", "#e7969c", "#7f7f7f", "#c7c7c7"}
    assert not reserved & {to_hex(c) for c in categorical_colors(32)}
    assert RADII.size == 4  # the event the marks are tested on
