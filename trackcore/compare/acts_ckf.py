"""The ACTS CKF as a comparison "family": its tracks on the very events the GNNs are tested on.

``trackcore simulate --engine acts`` runs the CKF in the same ACTS sequencer as the simulation
and writes its tracks as ``acts-ckf/event<id>-candidates.csv`` beside the TrackML tables. This
module turns them into a stage folder like the GNN families' (``<split>/event<id>.pt``: the
processed event, with the same hit selection, carrying ``track_hit_id``/``track_id``), so the
comparison evaluates every tracker with the same code. A CKF track is restricted to the hits the
selection keeps (e.g. pT > 1 GeV pixel hits), as the GNNs only ever see those.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from trackcore.candidates import TrackCandidates
from trackcore.data.acts_sim.engine import CKF_DIR
from trackcore.train.writer import save_stage_event

CKF_FAMILY = "acts-ckf"


def ckf_timing(data_dir: str | Path) -> dict:
    """The CKF's ``timing.json`` written by the ACTS engine (seconds per event)."""
    path = Path(data_dir) / CKF_DIR / "timing.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no ACTS CKF timing (simulate the events with `trackcore simulate --engine acts`)"
        )
    return json.loads(path.read_text())


def attach_ckf_candidates(event, candidates: TrackCandidates):
    """``event`` (a processed event) with the CKF candidates on its hits attached.

    Shapes:
        candidates: M rows (hit_id, track_id); event.hit_id: (N,). Adds track_hit_id, track_id: (M',), M' <= M.
    """
    keep = np.isin(candidates.hit_id, event.hit_id.numpy())
    event = event.clone()
    event.track_hit_id = torch.from_numpy(candidates.hit_id[keep].astype(np.int64))
    event.track_id = torch.from_numpy(candidates.track_id[keep].astype(np.int64))
    return event


def write_ckf_stage(events: Iterable, data_dir: str | Path, stage_dir: str | Path, split: str = "test") -> int:
    """Write ``stage_dir/split/event<id>.pt`` for each processed event with its CKF candidates
    (replacing an earlier CKF stage: it is derived from the data, nothing is trained).

    Raises:
        FileNotFoundError: an event has no CKF candidate file in ``data_dir/acts-ckf``.
    """
    n = 0
    for event in events:
        path = Path(data_dir) / CKF_DIR / f"event{int(event.event_id):09d}-candidates.csv"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no ACTS CKF candidates for this event")
        save_stage_event(attach_ckf_candidates(event, TrackCandidates.load(path)), Path(stage_dir) / split,
                         overwrite=True)
        n += 1
    return n
