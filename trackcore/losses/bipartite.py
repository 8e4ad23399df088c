"""Targets and loss of HGNN's bipartite hit-to-super-node classifier (Liu et al. 2023).

Super-nodes carry no truth of their own: which particle a super-node "is" comes from a
maximum-weight matching of particles to super-nodes, the weight of a (particle, super-node) pair
being the summed weights of the bipartite edges from the particle's hits to the super-node (no
gradient). HGNN's paper sums the predicted scores; early in training those are uninformative
(all near the base rate), the matching is then arbitrary and the classifier chases targets that
change every step, so :class:`hgnn.module.HGNNModule` can also use the soft assignment of the
pooling, or the product of the two. A bipartite edge is then true when its hit belongs to the particle
its super-node is matched to. The loss is a (pT-weighted) BCE on those targets, blended with the
intermediate-embedding loss by :func:`embedding_loss_weight`'s sine schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from trackcore.linear_assignment import max_weight_matching
from trackcore.losses.inputs import check_particle_id, check_tensor


@dataclass(frozen=True)
class BipartiteTargets:
    """Truth of a bipartite hit-to-super-node graph.

    Shapes:
        label_e: (B,) float 0/1; super_particle: (S,) int64, the particle id matched to each
        super-node (0: none).
    """

    label_e: torch.Tensor
    super_particle: torch.Tensor


def match_particles_to_super_nodes(
    bipartite_index: torch.Tensor,
    weight_e: torch.Tensor,
    particle_id_j: torch.Tensor,
    num_super_nodes: int,
) -> torch.Tensor:
    """The particle matched to each super-node by a maximum-weight bipartite matching.

    Each particle (id != 0) gets at most one super-node and each super-node at most one
    particle, maximising the summed weight ``W[p, a] = sum of weight_e over the edges from p's
    hits to a``. Solved with scipy's LAPJVsp (:func:`trackcore.linear_assignment.max_weight_matching`).

    Args:
        bipartite_index: ``[0]`` hit, ``[1]`` super-node of each edge.
        weight_e: matching weight of each edge (e.g. the predicted score), >= 0 (detached here).
        particle_id_j: particle of each hit, 0 for noise.
        num_super_nodes: ``S``.

    Shapes:
        bipartite_index: (2, B); weight_e: (B,); particle_id_j: (N,) -> (S,) int64 particle ids.
    """
    particle_id_j = check_particle_id(particle_id_j)
    check_tensor("weight_e", weight_e, dim=1)
    if bipartite_index.dim() != 2 or bipartite_index.size(0) != 2 or bipartite_index.size(1) != weight_e.numel():
        raise ValueError(f"Expected 'bipartite_index' of shape (2, {weight_e.numel()}) (got "
                         f"{tuple(bipartite_index.shape)})")
    if torch.isnan(weight_e).any() or (weight_e < 0).any():
        raise ValueError("Expected finite, non-negative matching weights 'weight_e'")
    out = torch.zeros(num_super_nodes, dtype=torch.int64)
    hit = bipartite_index[0].cpu().numpy()
    sup = bipartite_index[1].cpu().numpy()
    if hit.size and (hit.max() >= particle_id_j.numel() or sup.max() >= num_super_nodes):
        raise ValueError("bipartite_index points past the hits or the super-nodes")
    pid = particle_id_j.cpu().numpy()[hit]
    real = pid != 0
    if real.any():
        pid, sup, w = pid[real], sup[real], weight_e.detach().double().cpu().numpy()[real]
        key = np.stack([pid, sup])
        (pairs, inverse) = np.unique(key, axis=1, return_inverse=True)
        weight = np.bincount(inverse.reshape(-1), weights=w, minlength=pairs.shape[1])
        # strictly positive weights: a pair with zero summed score is still a valid match
        chosen = max_weight_matching(pairs[0], pairs[1], weight + 1e-9)
        out[torch.from_numpy(pairs[1][chosen])] = torch.from_numpy(pairs[0][chosen])
    return out.to(particle_id_j.device)


def bipartite_targets(
    bipartite_index: torch.Tensor, weight_e: torch.Tensor, particle_id_j: torch.Tensor, num_super_nodes: int
) -> BipartiteTargets:
    """Labels of the bipartite edges from :func:`match_particles_to_super_nodes`.

    Shapes:
        bipartite_index: (2, B); weight_e: (B,); particle_id_j: (N,) -> :class:`BipartiteTargets`.
    """
    super_particle = match_particles_to_super_nodes(bipartite_index, weight_e, particle_id_j, num_super_nodes)
    pid = particle_id_j[bipartite_index[0]]
    label = (pid != 0) & (pid == super_particle[bipartite_index[1]])
    return BipartiteTargets(label_e=label.to(weight_e.dtype), super_particle=super_particle)


def embedding_loss_weight(epoch: int, schedule_epochs: int) -> float:
    """HGNN's weight of the embedding term: ``1 - sin(pi * epoch / (2 E))`` for ``epoch < E``, then 0.

    The bipartite term gets ``1 -`` this, so training starts on the embedding (GMPool needs it
    to pool) and hands over smoothly to the assignment. ``E = 0`` switches the schedule off
    (weight 0 from the start).
    """
    if schedule_epochs < 0 or epoch < 0:
        raise ValueError(f"Expected non-negative epoch and schedule_epochs (got {epoch}, {schedule_epochs})")
    if epoch >= schedule_epochs:
        return 0.0
    return 1.0 - math.sin(math.pi * epoch / (2 * schedule_epochs))
