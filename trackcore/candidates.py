"""The track-candidate table every track builder returns and every metric reads.

A candidate set is a two-column table ``(hit_id, track_id)``: one row per (hit, track)
membership. A hit may appear in several tracks (shared hits, e.g. HGNN's bipartite
assignment above a threshold) or in none (unassigned); a track is the set of rows with its
``track_id``. Track ids are arbitrary non-negative integers; metrics never depend on their
values or on the row order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trackcore.arrays import unique_ints


def as_numpy(values: Any, dtype: Any | None = None) -> np.ndarray:
    """A numpy array from a numpy array, list or (any-device) torch tensor."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values) if dtype is None else np.asarray(values, dtype=dtype)


def _int_column(name: str, values: Any) -> np.ndarray:
    a = as_numpy(values)
    if a.ndim != 1:
        raise ValueError(f"Expected '{name}' to be one-dimensional (got {a.ndim} dimensions)")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"Expected '{name}' to hold integers (got dtype {a.dtype})")
    return a.astype(np.int64, copy=False)


def _pair_key(hit_id: np.ndarray, track_id: np.ndarray) -> np.ndarray:
    """One int64 per (hit, track) pair, equal exactly when both ids are equal (for any int64 ids).

    ``np.unique`` on one key is ~10x faster than on the pairs with ``axis=1``. The key is
    ``track * span + hit`` when that cannot overflow int64 (the ids of every builder); otherwise
    both columns are first replaced by their rank among the distinct ids (``np.unique``), which
    makes the key exact for any ids, e.g. track ids near 2**62.

    Shapes:
        hit_id, track_id: (M,) int64, ``M >= 1``; returns (M,) int64.
    """
    span = int(hit_id.max()) - int(hit_id.min()) + 1
    if (int(track_id.max()) + 1) * span <= np.iinfo(np.int64).max:
        return track_id * span + (hit_id - hit_id.min())
    _, hit_rank = np.unique(hit_id, return_inverse=True)
    _, track_rank = np.unique(track_id, return_inverse=True)
    n_hits = int(hit_rank.max()) + 1  # track_rank * n_hits + hit_rank < M**2: no overflow for M < 3e9
    return track_rank.astype(np.int64) * n_hits + hit_rank.astype(np.int64)


@dataclass(frozen=True)
class TrackCandidates:
    """Track candidates of one event as a ``(hit_id, track_id)`` membership table.

    Args:
        hit_id: TrackML ``hit_id`` of each membership row.
        track_id: track of each row, ``>= 0``.

    Shapes:
        hit_id, track_id: (M,) int64, ``M`` memberships (``M >= number of assigned hits``
        when hits are shared).

    Raises:
        ValueError: columns of different lengths, not 1-D integers, negative track ids, or a
            (hit, track) pair listed twice.
    """

    hit_id: np.ndarray
    track_id: np.ndarray

    def __post_init__(self) -> None:
        hit_id = _int_column("hit_id", self.hit_id)
        track_id = _int_column("track_id", self.track_id)
        if hit_id.shape != track_id.shape:
            raise ValueError(
                f"Expected 'hit_id' and 'track_id' of the same length (got {len(hit_id)} and {len(track_id)})"
            )
        if track_id.size and track_id.min() < 0:
            raise ValueError(f"Expected 'track_id' >= 0 (got {track_id.min()}); leave unassigned hits out instead")
        if hit_id.size:
            n_dup = hit_id.size - unique_ints(_pair_key(hit_id, track_id)).size
            if n_dup:
                raise ValueError(f"{n_dup} (hit_id, track_id) pairs are listed more than once")
        object.__setattr__(self, "hit_id", hit_id)
        object.__setattr__(self, "track_id", track_id)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def empty(cls) -> TrackCandidates:
        """No track at all."""
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64))

    @classmethod
    def from_labels(cls, label_j: Any, hit_id: Any | None = None, *, min_hits: int = 1) -> TrackCandidates:
        """One track per distinct non-negative label (a hard clustering: each hit in <= 1 track).

        Args:
            label_j: track label of each hit; negative means unassigned (DBSCAN noise is -1).
            hit_id: TrackML hit ids; the hit index ``0..N-1`` when None.
            min_hits: tracks with fewer hits are dropped (their hits become unassigned).

        Shapes:
            label_j, hit_id: (N_hits,).
        """
        label_j = _int_column("label_j", label_j)
        hit_id = np.arange(len(label_j), dtype=np.int64) if hit_id is None else _int_column("hit_id", hit_id)
        if len(hit_id) != len(label_j):
            raise ValueError(f"Expected one label per hit (got {len(label_j)} labels for {len(hit_id)} hits)")
        keep = label_j >= 0
        return cls(hit_id[keep], label_j[keep]).filter_small(min_hits)

    @classmethod
    def from_pairs(cls, hit_index: Any, track_index: Any, hit_id: Any | None = None) -> TrackCandidates:
        """From (hit index, track index) pairs, e.g. the kept edges of a bipartite hit-to-track graph.

        Shapes:
            hit_index, track_index: (M,); hit_id: (N_hits,) or None (ids are the indices).
        """
        hit_index = _int_column("hit_index", hit_index)
        ids = hit_index if hit_id is None else _int_column("hit_id", hit_id)[hit_index]
        return cls(ids, _int_column("track_index", track_index))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, source: str = "frame") -> TrackCandidates:
        """From a table with ``hit_id`` and ``track_id`` columns."""
        missing = {"hit_id", "track_id"} - set(frame.columns)
        if missing:
            raise ValueError(f"{source}: missing column(s) {sorted(missing)} (need hit_id, track_id)")
        return cls(frame["hit_id"].to_numpy(), frame["track_id"].to_numpy())

    @classmethod
    def load(cls, path: str | Path) -> TrackCandidates:
        """Read a CSV written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such candidate file")
        return cls.from_frame(pd.read_csv(path), source=str(path))

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return int(self.hit_id.size)

    @property
    def n_tracks(self) -> int:
        return int(unique_ints(self.track_id).size)

    def track_sizes(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct track ids (ascending) and the number of hits of each."""
        return np.unique(self.track_id, return_counts=True)

    def index_lists(self, hit_id: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Distinct track ids (ascending) and each track's hits as sorted indices into ``hit_id``.

        Shapes: hit_id: (N_hits,) int64; returns (T,) and T index arrays.

        Raises:
            ValueError: a candidate hit that is not in ``hit_id``.
        """
        if not len(self):
            return np.zeros(0, np.int64), []
        if not len(hit_id):
            raise ValueError(f"{len(self)} candidate hit(s) are not among the event's hits (it has none)")
        order = np.argsort(hit_id, kind="stable")
        index = order[np.minimum(np.searchsorted(hit_id, self.hit_id, sorter=order), len(hit_id) - 1)]
        missing = hit_id[index] != self.hit_id
        if missing.any():
            raise ValueError(f"{int(missing.sum())} candidate hit(s) are not among the event's hits "
                             f"(first hit_id {int(self.hit_id[missing][0])})")
        by_track = np.argsort(self.track_id, kind="stable")
        ids, starts = np.unique(self.track_id[by_track], return_index=True)
        return ids, [np.sort(part) for part in np.split(index[by_track], starts[1:])]

    def n_shared_hits(self) -> int:
        """Hits that belong to more than one track."""
        _, counts = np.unique(self.hit_id, return_counts=True)
        return int((counts > 1).sum())

    def filter_small(self, min_hits: int) -> TrackCandidates:
        """Drop tracks with fewer than ``min_hits`` hits."""
        if min_hits <= 1 or not len(self):
            return self
        ids, inverse, counts = np.unique(self.track_id, return_inverse=True, return_counts=True)
        keep = counts[inverse] >= min_hits
        return TrackCandidates(self.hit_id[keep], self.track_id[keep])

    def append(self, other: TrackCandidates) -> TrackCandidates:
        """Both sets' tracks: ``other``'s renumbered after this set's largest track id."""
        offset = int(self.track_id.max()) + 1 if len(self) else 0
        return TrackCandidates(np.concatenate([self.hit_id, other.hit_id]),
                               np.concatenate([self.track_id, other.track_id + offset]))

    def relabel(self) -> TrackCandidates:
        """Same tracks with consecutive ids ``0..T-1`` in order of their old ids."""
        _, inverse = np.unique(self.track_id, return_inverse=True)
        return TrackCandidates(self.hit_id, inverse.astype(np.int64))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"hit_id": self.hit_id, "track_id": self.track_id})

    def save(self, path: str | Path) -> Path:
        """Write ``hit_id,track_id`` CSV (parents created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.to_frame().to_csv(path, index=False)
        return path
