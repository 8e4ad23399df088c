"""Hand-built truth for metric tests: particles as lists of hit ids."""

from __future__ import annotations

import numpy as np

from trackcore.candidates import TrackCandidates
from trackcore.metrics import EventTruth


def truth_from_tracks(
    particles: dict[int, list[int]],
    noise: list[int] = (),
    pt: dict[int, float] | None = None,
    weights: dict[int, float] | None = None,
    unlabelled: list[int] = (),
    event_id: int = 1,
) -> EventTruth:
    """Truth where particle ``pid`` owns the listed hit ids; ``noise`` hits have pid 0.

    pT defaults to 2 GeV, eta to 0.5; ``unlabelled`` hits are unknown (pid 0, labelled False).
    """
    hit_ids, pids = [], []
    for pid, hits in particles.items():
        hit_ids += list(hits)
        pids += [pid] * len(hits)
    for h in list(noise) + list(unlabelled):
        hit_ids.append(h)
        pids.append(0)
    hit_ids = np.array(hit_ids, dtype=np.int64)
    ids = np.array(sorted(particles), dtype=np.int64)
    pt = pt or {}
    weight = None if weights is None else np.array([weights.get(h, 0.0) for h in hit_ids])
    return EventTruth(
        hit_id_j=hit_ids,
        particle_id_j=np.array(pids, dtype=np.int64),
        particle_id_p=ids,
        pt_p=np.array([pt.get(int(i), 2.0) for i in ids]),
        eta_p=np.full(len(ids), 0.5),
        labelled_j=~np.isin(hit_ids, np.array(list(unlabelled), dtype=np.int64)),
        weight_j=weight,
        event_id=event_id,
        truth_kind="partial" if unlabelled else "full",
    )


def tracks(*members: list[int]) -> TrackCandidates:
    """Candidates: track ``t`` holds ``members[t]``."""
    hit = [h for m in members for h in m]
    tid = [t for t, m in enumerate(members) for _ in m]
    return TrackCandidates(np.array(hit, dtype=np.int64), np.array(tid, dtype=np.int64))
