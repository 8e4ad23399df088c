"""EggNet's contrastive loss: squared hinge over true track edges, kNN pairs and random pairs."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from trackcore.losses.hinge import hinge_embedding_loss
from trackcore.losses.pairs import knn_pairs, merge_pairs, pair_labels, random_pairs


@dataclass(frozen=True)
class ContrastiveLoss:
    """The contrastive loss of one event and what it was made of.

    ``positive``/``negative`` are the mean terms of the same-particle and other pairs (0 for an
    empty class); ``total`` is the mean over all pairs, or ``positive + negative`` when balanced.
    """

    total: torch.Tensor
    positive: torch.Tensor
    negative: torch.Tensor
    n_pairs: int
    positive_fraction: float

    def terms(self) -> dict[str, torch.Tensor]:
        """The logged terms by name."""
        return {"positive": self.positive, "negative": self.negative,
                "n_pairs": torch.tensor(float(self.n_pairs)), "pos_fraction": torch.tensor(self.positive_fraction)}

    @staticmethod
    def mean(losses: list[ContrastiveLoss]) -> ContrastiveLoss:
        """The mean over events of per-event losses."""
        if not losses:
            raise ValueError("no per-event losses to average")
        n = len(losses)
        return ContrastiveLoss(
            total=torch.stack([lo.total for lo in losses]).mean(),
            positive=torch.stack([lo.positive for lo in losses]).mean(),
            negative=torch.stack([lo.negative for lo in losses]).mean(),
            n_pairs=round(sum(lo.n_pairs for lo in losses) / n),
            positive_fraction=sum(lo.positive_fraction for lo in losses) / n,
        )


def contrastive_loss(
    embedding_j: torch.Tensor,
    particle_id_j: torch.Tensor,
    true_edges: torch.Tensor,
    *,
    k: int = 10,
    n_random: int = 100_000,
    margin: float = 1.0,
    balance: bool = False,
    generator: torch.Generator | None = None,
    knn_backend: str = "auto",
) -> ContrastiveLoss:
    """Squared hinge (EggNet) over the union of three pair sets of one event.

    The pairs are: every true track edge (``true_edges``, consecutive hits of a particle), the
    ``k`` nearest neighbours of every hit in the (detached) embedding (the hard pairs) and
    ``n_random`` uniformly random pairs; the union counts a pair once. A pair of one non-zero
    particle costs ``d^2``, any other ``max(0, margin - d)^2``
    (:func:`trackcore.losses.hinge_embedding_loss`).

    Args:
        embedding_j: the embedding of every hit.
        particle_id_j: particle id of every hit, 0 for noise.
        true_edges: the event's true track edges (``track_edges``).
        k: neighbours per hit of the kNN pairs (0: none).
        n_random: random pairs (0: none).
        margin: hinge margin.
        balance: mean over positives plus mean over negatives instead of the mean over all pairs.
        generator: random source of the random pairs (seed it for reproducible steps).
        knn_backend: see :func:`trackcore.neighbors.knn_graph`.

    Shapes:
        embedding_j: (N, D); particle_id_j: (N,); true_edges: (2, T).
    """
    n = embedding_j.size(0)
    if n < 2:
        raise ValueError(f"a contrastive loss needs at least 2 hits (got {n})")
    sets = [true_edges.to(embedding_j.device)]
    if k > 0:
        sets.append(knn_pairs(embedding_j, min(k, n - 1), backend=knn_backend))
    if n_random > 0:
        sets.append(random_pairs(n, n_random, generator=generator, device=embedding_j.device))
    pairs = merge_pairs(*sets)
    pairs = pairs[:, pairs[0] != pairs[1]]
    y = pair_labels(pairs, particle_id_j)
    terms = hinge_embedding_loss(embedding_j, pairs, y, margin=margin, squared=True, reduction="none")
    zero = terms.sum() * 0.0
    positive = terms[y].mean() if bool(y.any()) else zero
    negative = terms[~y].mean() if bool((~y).any()) else zero
    total = positive + negative if balance else (terms.mean() if terms.numel() else zero)
    return ContrastiveLoss(total=total, positive=positive, negative=negative, n_pairs=int(pairs.size(1)),
                           positive_fraction=float(y.float().mean()) if y.numel() else 0.0)
