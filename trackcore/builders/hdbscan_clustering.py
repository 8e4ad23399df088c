"""HDBSCAN on a hit embedding (HGNN's embedding variant), via scikit-learn.

Cost: HDBSCAN is far slower than DBSCAN. Measured on 100k 12-dim points (2 CPU cores):
``sklearn.cluster.HDBSCAN`` ~92 s, fast-hdbscan 137 s, hdbscan 423 s, against ~1.7 s for
sklearn's DBSCAN. Budget for it or use :func:`trackcore.builders.dbscan` with a scanned ``eps``.
"""

from __future__ import annotations

from typing import Any

from sklearn.cluster import HDBSCAN

from trackcore.candidates import TrackCandidates
from trackcore.checks import check_count, check_hit_id, check_points


def hdbscan(
    x: Any,
    *,
    min_cluster_size: int = 3,
    min_samples: int | None = None,
    hit_id: Any | None = None,
    min_hits: int = 1,
    **kwargs: Any,
) -> TrackCandidates:
    """One track per HDBSCAN cluster of the embedded hits; noise hits stay unassigned.

    Args:
        x: hit embedding (numpy array or torch tensor on any device).
        min_cluster_size: smallest cluster HDBSCAN reports.
        min_samples: neighbourhood size of the core distance (``min_cluster_size`` when None).
        hit_id: TrackML hit id of each hit; the index when None.
        min_hits: tracks with fewer hits are dropped.
        **kwargs: passed to ``sklearn.cluster.HDBSCAN`` (e.g. ``cluster_selection_epsilon``).

    Shapes:
        x: (N_hits, D); hit_id: (N_hits,).

    Raises:
        ValueError: ``x`` not 2-D or not finite, ``hit_id`` of the wrong length.
    """
    points = check_points("x", x)
    hit_ids = check_hit_id(hit_id, len(points))
    check_count("min_cluster_size", min_cluster_size, minimum=2)
    check_count("min_hits", min_hits)
    if len(points) < max(min_cluster_size, 2):
        return TrackCandidates.empty()
    kwargs.setdefault("copy", True)  # never modify the caller's array (sklearn's default is False before 1.10)
    label_j = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, **kwargs).fit_predict(points)
    return TrackCandidates.from_labels(label_j, hit_ids, min_hits=min_hits)
