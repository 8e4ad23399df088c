"""Losses and training-pair samplers shared by the models: metric learning (Exa.TrkX, EggNet), edge
classification and object condensation (OC, EggNet).

Usage (``x_j``: ``(N, D)`` embedding; ``particle_id_j``: ``(N,)`` with 0 for noise)::

    from trackcore.losses import hinge_embedding_loss, knn_pairs, merge_pairs, pair_labels, random_pairs, true_pairs

    pairs = merge_pairs(true_pairs(particle_id_j), random_pairs(len(x_j), 100_000), knn_pairs(x_j, k=10))
    loss = hinge_embedding_loss(x_j, pairs, pair_labels(pairs, particle_id_j), squared=True)
"""

from trackcore.losses.bipartite import (
    BipartiteTargets,
    bipartite_targets,
    embedding_loss_weight,
    match_particles_to_super_nodes,
)
from trackcore.losses.condensation import (
    CondensationLoss,
    condensation_loss,
    condensation_points,
    objects_of_interest,
)
from trackcore.losses.contrastive import ContrastiveLoss, contrastive_loss
from trackcore.losses.edge_bce import focal_loss_with_logits, weighted_bce_with_logits
from trackcore.losses.hinge import hinge_embedding_loss
from trackcore.losses.pairs import knn_pairs, merge_pairs, pair_labels, radius_pairs, random_pairs, true_pairs
from trackcore.losses.pt_weighting import pt_weight

__all__ = [
    "BipartiteTargets",
    "bipartite_targets",
    "embedding_loss_weight",
    "match_particles_to_super_nodes",
    "CondensationLoss",
    "ContrastiveLoss",
    "condensation_loss",
    "condensation_points",
    "contrastive_loss",
    "focal_loss_with_logits",
    "hinge_embedding_loss",
    "knn_pairs",
    "merge_pairs",
    "objects_of_interest",
    "pair_labels",
    "pt_weight",
    "radius_pairs",
    "random_pairs",
    "true_pairs",
    "weighted_bce_with_logits",
]
