"""Helpers shared by the refinement tests."""

from __future__ import annotations

import pytest


def count_searches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the size of every batch the robust helix search (``HelixCheck.best_helices``) is called on.

    Returns the list the calls append to (one entry per call: the number of point sets searched).
    """
    from trackcore.refinement.helix import HelixCheck

    searched: list[int] = []
    original = HelixCheck.best_helices

    def counting(self, p, triples, valid, **rules):
        searched.append(len(p))
        return original(self, p, triples, valid, **rules)

    monkeypatch.setattr(HelixCheck, "best_helices", counting)
    return searched
