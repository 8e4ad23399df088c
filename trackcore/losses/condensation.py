"""The object-condensation loss (Kieseler, arXiv:2002.03605; as used for tracking by gnn_tracking).

Every hit ``j`` has a condensation strength ``beta_j`` in (0, 1) and cluster coordinates
``x_j``. Its charge is ``q_j = arctanh(beta_j)^2 + q_min``. Each object ``k`` (a particle of
interest) is represented by its condensation point ``alpha_k``, its hit of largest beta. With
``N`` hits, ``K`` objects, ``d_jk = |x_j - x_alpha_k|``:

- attraction ``V_att = 1/N sum_k sum_{j in k} q_j q_alpha_k d_jk^2``;
- repulsion ``V_rep = 1/N sum_k sum_{j not in k} q_j q_alpha_k max(0, 1 - d_jk)`` (every other
  hit, noise and particles not of interest included);
- coward term ``L_beta = 1/K sum_k (1 - beta_alpha_k)`` (0 without objects);
- noise term ``L_noise = mean over noise hits of beta_j`` (0 without noise).

``total = w_att V_att + w_rep V_rep + w_beta L_beta + s_b L_noise``.

``normalization="hits"`` divides both potentials by ``N`` as above (the paper). With
``"pairs"`` (gnn_tracking's choice) each is a mean over its pairs instead: ``V_att`` over the
``N_objects_hits - K`` hit-to-own-condensation-point pairs, ``V_rep`` over the ``(K - 1) N``
hit-to-other-condensation-point pairs. With ``"hits"`` the repulsion outweighs the attraction
about ``K`` times (~100 on a pT > 1 GeV pixel event): the model then lowers the charges
(betas) of the hits rather than gathering them.

Two implementations that agree: ``"dense"`` evaluates the repulsion on the full ``N x K``
matrix; ``"radius"`` only on the pairs within distance 1 of each condensation point found by
:func:`trackcore.neighbors.radius_graph` (the hinge is 0 beyond), capped at
``max_num_neighbors`` per object, so large events fit in memory. With no cap hit, both are
equal up to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from trackcore.losses.inputs import check_particle_id, check_tensor
from trackcore.neighbors import radius_graph

# beta is clipped to [BETA_EPS, 1 - BETA_EPS] so that arctanh stays finite.
BETA_EPS = 1e-4


@dataclass(frozen=True)
class CondensationLoss:
    """The terms of the object-condensation loss (scalars) and their weighted sum ``total``."""

    total: torch.Tensor
    attractive: torch.Tensor
    repulsive: torch.Tensor
    coward: torch.Tensor
    noise: torch.Tensor
    n_objects: int

    def terms(self) -> dict[str, torch.Tensor]:
        """The logged terms by name: the unweighted loss terms and the number of objects."""
        return {"attractive": self.attractive, "repulsive": self.repulsive, "coward": self.coward,
                "noise": self.noise, "objects": torch.tensor(float(self.n_objects))}

    @staticmethod
    def mean(losses: list[CondensationLoss]) -> CondensationLoss:
        """The mean over events of per-event losses (the loss is per event: particle ids repeat
        across the events of a batch); ``n_objects`` is the mean number of objects, rounded."""
        if not losses:
            raise ValueError("no per-event losses to average")
        stacked = {name: torch.stack([getattr(lo, name) for lo in losses]).mean()
                   for name in ("total", "attractive", "repulsive", "coward", "noise")}
        return CondensationLoss(**stacked, n_objects=round(sum(lo.n_objects for lo in losses) / len(losses)))


def objects_of_interest(
    particle_id_j: torch.Tensor,
    pt_j: torch.Tensor | None = None,
    eta_j: torch.Tensor | None = None,
    *,
    min_pt: float = 0.0,
    max_abs_eta: float | None = None,
    min_hits: int = 1,
) -> torch.Tensor:
    """Hits that belong to an object of the loss: a particle (id != 0) with pT > ``min_pt``,
    ``|eta| < max_abs_eta`` and at least ``min_hits`` hits in the event.

    Shapes:
        particle_id_j, pt_j, eta_j: (N,) -> (N,) bool.
    """
    pid = check_particle_id(particle_id_j)
    keep = pid != 0
    if min_pt > 0:
        if pt_j is None:
            raise ValueError(f"min_pt={min_pt} needs the particles' pT per hit (pt_j)")
        keep &= pt_j > min_pt
    if max_abs_eta is not None:
        if eta_j is None:
            raise ValueError(f"max_abs_eta={max_abs_eta} needs the particles' eta per hit (eta_j)")
        keep &= eta_j.abs() < max_abs_eta
    if min_hits > 1:
        _, inverse, counts = torch.unique(pid, return_inverse=True, return_counts=True)
        keep &= counts[inverse] >= min_hits
    return keep


def condensation_points(beta_j: torch.Tensor, object_j: torch.Tensor, n_objects: int) -> torch.Tensor:
    """Index of the hit of largest beta of each object (the first such hit on ties).

    Args:
        beta_j: condensation strength of each hit.
        object_j: object index ``0..K-1`` of each hit, ``-1`` for hits of no object.
        n_objects: ``K``.

    Shapes:
        beta_j, object_j: (N,) -> (K,) int64.
    """
    member = object_j >= 0
    idx = torch.nonzero(member).squeeze(1)
    obj = object_j[idx]
    b = beta_j.detach()[idx]
    best = torch.full((n_objects,), -1.0, dtype=b.dtype, device=b.device).scatter_reduce(
        0, obj, b, reduce="amax", include_self=True)
    is_best = b == best[obj]
    big = torch.iinfo(torch.int64).max
    first = torch.full((n_objects,), big, dtype=torch.int64, device=b.device).scatter_reduce(
        0, obj[is_best], idx[is_best], reduce="amin", include_self=True)
    return first


def condensation_loss(
    beta_j: torch.Tensor,
    x_j: torch.Tensor,
    particle_id_j: torch.Tensor,
    *,
    interest_j: torch.Tensor | None = None,
    q_min: float = 0.01,
    attractive_weight: float = 1.0,
    repulsive_weight: float = 1.0,
    coward_weight: float = 1.0,
    noise_weight: float = 1.0,
    implementation: Literal["dense", "radius"] = "dense",
    max_num_neighbors: int | None = 256,
    normalization: Literal["hits", "pairs"] = "hits",
) -> CondensationLoss:
    """The object-condensation loss of one event (see the module docstring).

    Args:
        beta_j: condensation strength of each hit, in (0, 1) (clipped to ``[1e-4, 1 - 1e-4]``).
        x_j: cluster coordinates of each hit.
        particle_id_j: particle of each hit; 0 is noise.
        interest_j: hits whose particle is an object of the loss (see :func:`objects_of_interest`);
            default every non-noise hit.
        q_min: minimal charge.
        attractive_weight, repulsive_weight, coward_weight, noise_weight: term weights (``s_b``
            is the noise weight).
        implementation: ``"dense"`` (N x K repulsion matrix) or ``"radius"`` (pairs within
            distance 1 of each condensation point).
        max_num_neighbors: with ``"radius"``, the nearest hits kept per condensation point
            (None: all).
        normalization: ``"hits"`` (divide by ``N``) or ``"pairs"`` (mean over pairs); see above.

    Shapes:
        beta_j: (N,); x_j: (N, D); particle_id_j, interest_j: (N,).
    """
    x_j = check_tensor("x_j", x_j, dim=2)
    beta_j = check_tensor("beta_j", beta_j, dim=1)
    pid = check_particle_id(particle_id_j)
    n = x_j.shape[0]
    if beta_j.shape[0] != n or pid.shape[0] != n:
        raise ValueError(f"Expected beta_j and particle_id_j of length {n} (got {beta_j.shape[0]} and {pid.shape[0]})")
    if implementation not in ("dense", "radius"):
        raise ValueError(f"implementation must be 'dense' or 'radius' (got {implementation!r})")
    if normalization not in ("hits", "pairs"):
        raise ValueError(f"normalization must be 'hits' or 'pairs' (got {normalization!r})")
    if interest_j is not None and tuple(interest_j.shape) != (n,):
        raise ValueError(f"Expected 'interest_j' of shape ({n},) (got {tuple(interest_j.shape)})")
    interest = (pid != 0) if interest_j is None else interest_j.to(torch.bool) & (pid != 0)
    zero = x_j.sum() * 0.0  # keeps the graph (and device/dtype) when a term is empty
    if n == 0:
        return CondensationLoss(zero, zero, zero, zero, zero, 0)

    beta = beta_j.clamp(BETA_EPS, 1.0 - BETA_EPS)
    q = torch.atanh(beta) ** 2 + q_min
    obj_ids, inverse = torch.unique(pid[interest], return_inverse=True)
    k = len(obj_ids)
    object_j = torch.full((n,), -1, dtype=torch.int64, device=x_j.device)
    object_j[interest] = inverse
    noise = pid == 0
    noise_term = beta[noise].mean() if bool(noise.any()) else zero
    if k == 0:
        total = noise_weight * noise_term
        return CondensationLoss(total, zero, zero, zero, noise_term, 0)

    alpha = condensation_points(beta, object_j, k)
    x_a, q_a = x_j.index_select(0, alpha), q.index_select(0, alpha)
    members = torch.nonzero(object_j >= 0).squeeze(1)
    mk = object_j[members]
    d2 = ((x_j.index_select(0, members) - x_a.index_select(0, mk)) ** 2).sum(1)
    if normalization == "hits":
        att_norm = rep_norm = float(n)
    else:
        att_norm, rep_norm = float(max(len(members) - k, 1)), float(max((k - 1) * n, 1))
    attractive = (q.index_select(0, members) * q_a.index_select(0, mk) * d2).sum() / att_norm

    if implementation == "dense":
        dist = torch.cdist(x_j, x_a)  # (N, K)
        other = object_j.unsqueeze(1) != torch.arange(k, device=x_j.device).unsqueeze(0)
        hinge = torch.relu(1.0 - dist) * other
        repulsive = (q.unsqueeze(1) * q_a.unsqueeze(0) * hinge).sum() / rep_norm
    else:
        graph = radius_graph(x_j.detach(), 1.0, query=x_a.detach(), max_num_neighbors=max_num_neighbors)
        j, kk = graph.edge_index[0], graph.edge_index[1]
        keep = object_j[j] != kk
        j, kk = j[keep], kk[keep]
        d = torch.linalg.vector_norm(x_j.index_select(0, j) - x_a.index_select(0, kk), dim=1)
        repulsive = (q.index_select(0, j) * q_a.index_select(0, kk) * torch.relu(1.0 - d)).sum() / rep_norm

    coward = (1.0 - beta[alpha]).mean()
    total = (attractive_weight * attractive + repulsive_weight * repulsive + coward_weight * coward
             + noise_weight * noise_term)
    return CondensationLoss(total, attractive, repulsive, coward, noise_term, k)
