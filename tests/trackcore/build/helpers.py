"""Comparing candidate sets in build tests."""

from __future__ import annotations

from trackcore.build.candidates import TrackCandidates


def track_sets(candidates: TrackCandidates) -> set[frozenset[int]]:
    """Each track as the frozenset of its hit ids (track ids and row order ignored)."""
    frame = candidates.to_frame()
    return {frozenset(hits) for hits in frame.groupby("track_id")["hit_id"].apply(list)}


def tracks_by_id(candidates: TrackCandidates) -> dict[int, set[int]]:
    """Track id -> set of hit ids."""
    frame = candidates.to_frame()
    return {int(t): set(h) for t, h in frame.groupby("track_id")["hit_id"].apply(list).items()}
