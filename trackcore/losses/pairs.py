"""Training pairs for metric learning: true pairs, random pairs, hard pairs from a neighbour search.

Exa.TrkX/acorn and EggNet train their embeddings with a hinge loss over the union of three pair sets:
all pairs of hits of one particle (or its track edges), uniformly random pairs, and the neighbours of
every hit in the current embedding (the hard negatives, and positives not yet pulled in). Every sampler
returns an int64 ``(2, P)`` index tensor on the device of its input, built without Python loops over
hits; :func:`merge_pairs` takes their union and :func:`pair_labels` labels it.

Usage::

    pairs = merge_pairs(
        true_pairs(particle_id_j),
        random_pairs(len(x_j), 100_000, device=x_j.device),
        knn_pairs(x_j, k=10),
    )
    loss = hinge_embedding_loss(x_j, pairs, pair_labels(pairs, particle_id_j))
"""

from __future__ import annotations

import numbers

import torch

from trackcore.losses.inputs import check_pairs, check_particle_id, check_tensor
from trackcore.neighbors import knn_graph, radius_graph
from trackcore.neighbors.inputs import check_positive_int


def _segment_starts(counts: torch.Tensor) -> torch.Tensor:
    return torch.cumsum(counts, 0) - counts


def _canonical(lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Pairs ``(lo, hi)`` with ``lo <= hi``, duplicates removed, sorted by ``(lo, hi)``."""
    if lo.numel() == 0:
        return torch.empty(2, 0, dtype=torch.int64, device=lo.device)
    n = int(hi.max()) + 1
    key = torch.unique(lo * n + hi, sorted=True)
    return torch.stack([key // n, key % n])


def true_pairs(
    particle_id_j: torch.Tensor,
    *,
    max_pairs_per_particle: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Every unordered pair of hits of the same non-zero particle (noise, id 0, pairs with nothing).

    Hits are grouped by particle with one stable sort; a particle with ``c`` hits gives its
    ``c (c - 1) / 2`` pairs by repeating each hit once per later hit of its group (``repeat_interleave``
    and ``cumsum`` offsets), so the cost is linear in the number of pairs.

    Args:
        particle_id_j: particle id of every hit; 0 marks noise.
        max_pairs_per_particle: keep at most this many pairs of each particle, drawn uniformly without
            replacement; None keeps all.
        generator: random source for the subsampling (its device is where the draws happen).

    Returns:
        ``pairs`` with ``pairs[0] < pairs[1]``, sorted by ``(pairs[0], pairs[1])``, on the device of
        ``particle_id_j``.

    Shapes:
        particle_id_j: ``(N,)`` integer; output: ``(2, P)`` int64.
    """
    pid = check_particle_id(particle_id_j)
    cap = max_pairs_per_particle
    if cap is not None:
        cap = check_positive_int("max_pairs_per_particle", cap)
    device = pid.device
    hits = torch.nonzero(pid != 0).squeeze(1)
    # Stable sort: within a particle, hits stay in ascending index order, so every pair has i < j.
    hits = hits[torch.argsort(pid[hits], stable=True)]
    _, counts = torch.unique_consecutive(pid[hits], return_counts=True)
    group = torch.repeat_interleave(torch.arange(counts.numel(), device=device), counts)
    rank = torch.arange(hits.numel(), device=device) - _segment_starts(counts)[group]
    later = counts[group] - 1 - rank
    first = torch.repeat_interleave(torch.arange(hits.numel(), device=device), later)
    offset = torch.arange(first.numel(), device=device) - _segment_starts(later)[first]
    i, j = hits[first], hits[first + 1 + offset]

    if cap is not None:
        pairs_per_group = counts * (counts - 1) // 2
        if first.numel() and int(pairs_per_group.max()) > cap:
            pair_group = group[first]
            draw_device = generator.device if generator is not None else device
            shuffle = torch.argsort(torch.rand(first.numel(), generator=generator, device=draw_device)).to(device)
            # Random order within each particle, particles contiguous: keep the first `cap` of each.
            shuffle = shuffle[torch.argsort(pair_group[shuffle], stable=True)]
            rank_in_group = (
                torch.arange(first.numel(), device=device) - _segment_starts(pairs_per_group)[pair_group[shuffle]]
            )
            keep = shuffle[rank_in_group < cap]
            i, j = i[keep], j[keep]
    return _canonical(i, j)


def random_pairs(
    num_nodes: int,
    n_pairs: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``n_pairs`` uniformly random ordered pairs ``(i, j)`` with ``i != j``, drawn with replacement.

    ``i`` is uniform over the nodes and ``j = (i + s) mod N`` with ``s`` uniform in ``[1, N)``, so ``j`` is
    uniform over the other nodes and a self pair never occurs.

    Args:
        num_nodes: number of nodes ``N`` (>= 2 unless ``n_pairs`` is 0).
        n_pairs: number of pairs to draw (>= 0).
        generator: random source; the draws happen on its device.
        device: device of the result; None for the generator's device (CPU without a generator).

    Shapes:
        output: ``(2, n_pairs)`` int64.
    """
    for name, value in (("num_nodes", num_nodes), ("n_pairs", n_pairs)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"Expected '{name}' to be a non-negative integer (got {value!r})")
    num_nodes, n_pairs = int(num_nodes), int(n_pairs)
    if n_pairs > 0 and num_nodes < 2:
        raise ValueError(f"random pairs with i != j need 'num_nodes' >= 2 (got {num_nodes})")
    draw_device = generator.device if generator is not None else (device if device is not None else "cpu")
    if device is None:
        device = draw_device
    if n_pairs == 0:
        return torch.empty(2, 0, dtype=torch.int64, device=device)
    i = torch.randint(num_nodes, (n_pairs,), generator=generator, device=draw_device)
    shift = torch.randint(1, num_nodes, (n_pairs,), generator=generator, device=draw_device)
    return torch.stack([i, (i + shift) % num_nodes]).to(device)


def knn_pairs(
    embedding: torch.Tensor,
    k: int,
    *,
    backend: str = "auto",
    chunk_size: int | None = None,
) -> torch.Tensor:
    """The ``k`` nearest neighbours of every hit in the (detached) embedding, without self pairs.

    Arguments and order as :func:`trackcore.neighbors.knn_graph` with ``loop=False``: ``pairs[0]`` is
    the neighbour, ``pairs[1]`` the query hit, grouped by query, nearest first.

    Shapes:
        embedding: ``(N, D)``; output: ``(2, E)`` int64 with ``E <= N k``.
    """
    check_tensor("embedding", embedding, dim=2)
    return knn_graph(embedding.detach(), k, loop=False, backend=backend, chunk_size=chunk_size).edge_index


def radius_pairs(
    embedding: torch.Tensor,
    r: float,
    *,
    max_num_neighbors: int | None = None,
    backend: str = "auto",
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Every pair within Euclidean distance ``r`` in the (detached) embedding, without self pairs.

    Arguments and order as :func:`trackcore.neighbors.radius_graph` with ``loop=False``; with
    ``max_num_neighbors`` each hit keeps its nearest ones (set a cap in training: early embeddings
    are dense and an uncapped search can return ``O(N^2)`` pairs).

    Shapes:
        embedding: ``(N, D)``; output: ``(2, E)`` int64.
    """
    check_tensor("embedding", embedding, dim=2)
    graph = radius_graph(
        embedding.detach(), r, max_num_neighbors=max_num_neighbors, loop=False, backend=backend, chunk_size=chunk_size
    )
    return graph.edge_index


def pair_labels(pairs: torch.Tensor, particle_id_j: torch.Tensor) -> torch.Tensor:
    """True where both hits of a pair belong to the same non-zero particle (noise is never a positive).

    Shapes:
        pairs: ``(2, P)``; particle_id_j: ``(N,)``; output: ``(P,)`` bool.
    """
    pid = check_particle_id(particle_id_j)
    pairs = check_pairs(pairs, pid.numel())
    if pairs.device != pid.device:
        raise ValueError(f"Expected 'pairs' and 'particle_id_j' on one device (got {pairs.device} and {pid.device})")
    first = pid[pairs[0]]
    return (first == pid[pairs[1]]) & (first != 0)


def merge_pairs(*pairs: torch.Tensor) -> torch.Tensor:
    """Union of pair sets as unordered pairs: ``(i, j)`` and ``(j, i)``, from one set or two, count once.

    Self pairs ``(i, i)`` are kept (once). The result is ``(min, max)`` per pair, sorted by
    ``(pairs[0], pairs[1])``, so it does not depend on the order of the inputs.

    Shapes:
        each input: ``(2, P_k)`` integer; output: ``(2, P)`` int64 with ``P <= sum_k P_k``.
    """
    if not pairs:
        raise ValueError("merge_pairs needs at least one pair tensor")
    checked = [check_pairs(p, None, name=f"pairs[{n}]") for n, p in enumerate(pairs)]
    devices = {p.device for p in checked}
    if len(devices) > 1:
        raise ValueError(f"Expected all pair tensors on one device (got {sorted(map(str, devices))})")
    both = torch.cat(checked, dim=1)
    return _canonical(torch.minimum(both[0], both[1]), torch.maximum(both[0], both[1]))
