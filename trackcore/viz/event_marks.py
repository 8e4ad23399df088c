"""What an event display marks from the event's evaluation: fake candidates, missed particles of
interest, and the hits a matched candidate took from another particle (or from noise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from trackcore.viz.palette import FAKE_COLOR

if TYPE_CHECKING:
    from trackcore.metrics import TrackingEvaluation

#: Edge colour of the rings around the hits of missed particles of interest.
MISSED_COLOR = "0.15"

#: Colour of the crosses on hits a matched candidate took from another particle or from noise.
FOREIGN_COLOR = "black"


@dataclass(frozen=True)
class EventMarks:
    """The marks of one event's candidates row and their counts over the whole event.

    Attributes:
        fake_m: the membership's candidate is fake (no ``scheme`` match, mostly known hits, at least
            ``min_candidate_hits`` hits: the metrics' definition).
        foreign_m: the membership's candidate is matched and the hit is of another particle or noise.
        missed_j: the hit belongs to a particle of interest that no candidate matches.
        n_fake, n_considered: fake candidates and candidates counted by the fake rate.
        n_missed, n_poi: missed particles of interest and particles of interest.
        n_foreign: memberships of ``foreign_m``.
        scheme: the matching scheme (``dm``, ``lhc`` or ``perfect``).

    Shapes:
        fake_m, foreign_m: (M,) per candidate membership; missed_j: (N,) per hit.
    """

    fake_m: np.ndarray
    foreign_m: np.ndarray
    missed_j: np.ndarray
    n_fake: int
    n_considered: int
    n_missed: int
    n_poi: int
    n_foreign: int
    scheme: str

    def subset(self, keep_m: np.ndarray, keep_j: np.ndarray | None) -> EventMarks:
        """The marks of the memberships ``keep_m`` (bool) and hit rows ``keep_j`` (indices, None: all),
        the counts unchanged (they describe the whole event)."""
        missed = self.missed_j if keep_j is None else self.missed_j[keep_j]
        return EventMarks(self.fake_m[keep_m], self.foreign_m[keep_m], missed, self.n_fake, self.n_considered,
                          self.n_missed, self.n_poi, self.n_foreign, self.scheme)


def event_marks(
    evaluation: TrackingEvaluation,
    track_m: np.ndarray,
    row_m: np.ndarray,
    particle_id_j: np.ndarray,
    *,
    scheme: str = "dm",
) -> EventMarks:
    """Mark the candidates of one event (memberships ``row_m -> track_m``) from its evaluation.

    Args:
        evaluation: :func:`~trackcore.metrics.evaluate_tracks` of exactly these candidates on this event.
        track_m: candidate id of each membership.
        row_m: hit row of each membership.
        particle_id_j: true particle of each hit row, 0 for noise.
        scheme: the matching that decides fake, missed and matched.

    Shapes:
        track_m, row_m: (M,); particle_id_j: (N,).

    Raises:
        ValueError: an evaluation of several events, of other candidates (track ids differ) or of
            another event (a particle of interest without hits here), or an unknown scheme.
    """
    from trackcore.metrics import SCHEMES

    if scheme not in SCHEMES:
        raise ValueError(f"Expected scheme in {SCHEMES} (got {scheme!r})")
    if len(evaluation.events) != 1:
        raise ValueError(f"Expected the evaluation of one event (got {len(evaluation.events)} events)")
    c, p = evaluation.candidates, evaluation.particles
    tracks = np.unique(track_m)
    evaluated = c["track_id"].to_numpy(np.int64)
    differ = np.setxor1d(tracks, evaluated)
    if differ.size:
        raise ValueError(f"'evaluation' is not of these candidates: {differ.size} track id(s) are in only one of "
                         f"them (e.g. {differ[:5].tolist()})")
    considered = c["considered"].to_numpy(bool)
    fake_t = evaluation.fake_and_unknown(scheme)[0] & considered  # the metrics' own definition
    fake_m = np.isin(track_m, evaluated[fake_t])

    matched = c[scheme].to_numpy(bool)
    order = np.argsort(evaluated)
    rank_m = order[np.searchsorted(evaluated, track_m, sorter=order)]
    majority_m = c["majority_particle_id"].to_numpy(np.int64)[rank_m]
    foreign_m = matched[rank_m] & (particle_id_j[row_m] != majority_m)

    poi = p["of_interest"].to_numpy(bool)
    missed_ids = p["particle_id"].to_numpy(np.int64)[poi & ~p[scheme].to_numpy(bool)]
    absent = np.setdiff1d(missed_ids, particle_id_j)
    if absent.size:
        raise ValueError(f"'evaluation' is not of this event: {absent.size} missed particle(s) of interest have no "
                         f"hit in 'particle_id' (e.g. {absent[:5].tolist()})")
    return EventMarks(
        fake_m=fake_m,
        foreign_m=foreign_m,
        missed_j=np.isin(particle_id_j, missed_ids) & (particle_id_j != 0),
        n_fake=int(fake_t.sum()),
        n_considered=int(considered.sum()),
        n_missed=len(missed_ids),
        n_poi=int(poi.sum()),
        n_foreign=int(foreign_m.sum()),
        scheme=scheme,
    )


def draw_marks(
    ax_xy: Axes, ax_rz: Axes, xyzr: np.ndarray, row_m: np.ndarray, particle_id_j: np.ndarray, marks: EventMarks,
    *, size: float,
) -> list[Line2D]:
    """Ring the hits of missed particles (joined by a dotted line per particle) and cross the foreign
    hits of matched candidates, in both panels; returns the legend handles of what was drawn.

    Shapes:
        xyzr: (N, 4) x, y, z, r; row_m: (M,); particle_id_j: (N,).
    """
    missed = np.flatnonzero(marks.missed_j)
    foreign = np.unique(row_m[marks.foreign_m])
    # each missed particle's hits in order of distance from the origin, one polyline per particle
    order = missed[np.lexsort((np.linalg.norm(xyzr[missed, :3], axis=1), particle_id_j[missed]))]
    breaks = np.flatnonzero(np.diff(particle_id_j[order])) + 1
    ring = {"linestyle": "", "marker": "o", "markersize": np.sqrt(4.0 * size), "markerfacecolor": "none",
            "markeredgecolor": MISSED_COLOR, "markeredgewidth": 0.8, "zorder": 5}
    cross = {"linestyle": "", "marker": "x", "markersize": np.sqrt(4.0 * size), "color": FOREIGN_COLOR,
             "markeredgewidth": 1.0, "zorder": 6}
    for ax, i, k in ((ax_xy, 0, 1), (ax_rz, 2, 3)):
        if missed.size:
            for part in np.split(order, breaks):
                ax.plot(xyzr[part, i], xyzr[part, k], color=MISSED_COLOR, linestyle=":", linewidth=0.8, zorder=5)
            ax.plot(xyzr[missed, i], xyzr[missed, k], **ring)
        if foreign.size:
            ax.plot(xyzr[foreign, i], xyzr[foreign, k], **cross)
    handles = []
    s = marks.scheme.upper() if marks.scheme != "perfect" else "perfect"
    if marks.fake_m.any():
        handles.append(Line2D([], [], color=FAKE_COLOR, linestyle="--", marker="o", markersize=4,
                              label=f"fake track: no {s} match ({marks.n_fake})"))
    if missed.size:
        handles.append(Line2D([], [], color=MISSED_COLOR, linestyle=":", marker="o", markersize=6,
                              markerfacecolor="none", label=f"missed particle of interest ({marks.n_missed})"))
    if foreign.size:
        handles.append(Line2D([], [], color=FOREIGN_COLOR, linestyle="", marker="x", markersize=6,
                              label=f"hit of another particle\nor noise in a matched track ({marks.n_foreign})"))
    return handles
