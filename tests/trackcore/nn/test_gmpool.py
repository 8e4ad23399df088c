"""GMPool: the Gaussian-mixture cut, connected components and the pooling into super-nodes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from scipy.sparse.csgraph import connected_components

from tests.trackcore.nn.helpers import param_grads_ok
from trackcore.nn import GMPool, PoolingOutput, TwoGaussians, connected_component_labels, fit_two_gaussians, gmm_cut

TRUTH = {"weight": (0.8, 0.2), "mean": (0.3, 2.5), "std": (0.2, 0.3)}


def _two_modes(seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.cat([0.3 + 0.2 * torch.randn(2000, generator=gen), 2.5 + 0.3 * torch.randn(500, generator=gen)])


def _partition(labels: torch.Tensor) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for node, label in enumerate(labels.tolist()):
        groups.setdefault(label, set()).add(node)
    return {frozenset(g) for g in groups.values()}


def _chain(hits: list[int]) -> list[tuple[int, int]]:
    """Both directions of consecutive pairs."""
    pairs = list(zip(hits[:-1], hits[1:], strict=True))
    return pairs + [(b, a) for a, b in pairs]


def _tracks(
    sizes: list[int], dim: int = 8, noise: float = 0.03, seed: int = 0, cross: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Unit embeddings of tracks near orthogonal directions, chain edges within each track and ``cross``
    random low-similarity edges (both directions) between different tracks. Returns u, edge_index, track."""
    gen = torch.Generator().manual_seed(seed)
    track = torch.cat([torch.full((n,), t) for t, n in enumerate(sizes)])
    u = F.normalize(torch.eye(dim)[track] + noise * torch.randn(len(track), dim, generator=gen), dim=1)
    edges: list[tuple[int, int]] = []
    start = 0
    for n in sizes:
        edges += _chain(list(range(start, start + n)))
        start += n
    while cross > 0:
        a, b = torch.randint(0, len(track), (2,), generator=gen).tolist()
        if track[a] != track[b]:
            edges += [(a, b), (b, a)]
            cross -= 1
    return u, torch.tensor(edges, dtype=torch.long).t().reshape(2, -1), track


# ---------------------------------------------------------------- the Gaussian-mixture cut


def test_two_gaussian_fit_recovers_the_modes() -> None:
    fit = fit_two_gaussians(_two_modes())
    for name, truth in TRUTH.items():
        torch.testing.assert_close(getattr(fit, name), torch.tensor(truth, dtype=torch.float64), atol=0.03, rtol=0.0)
    torch.testing.assert_close(fit.weight.sum(), torch.tensor(1.0, dtype=torch.float64))
    # the same sample in another order gives the same fit: the initialisation is deterministic
    again = fit_two_gaussians(_two_modes().flip(0))
    torch.testing.assert_close(again.mean, fit.mean)


@pytest.mark.parametrize("granularity", [0.0, 2.0, 5.0, 8.0])
def test_cut_lies_between_the_modes_where_the_log_odds_equal_the_granularity(granularity: float) -> None:
    s = _two_modes()
    cut = gmm_cut(s, granularity)
    assert cut.dim() == 0 and cut.dtype == s.dtype
    fit = fit_two_gaussians(s)
    assert fit.mean[0] < cut < fit.mean[1]
    assert abs(float(fit.log_odds(cut.double())) - granularity) < 1e-4


def test_larger_granularity_moves_the_cut_towards_the_high_mode() -> None:
    s = _two_modes()
    cuts = [float(gmm_cut(s, g)) for g in (0.0, 2.0, 5.0, 8.0)]
    assert cuts == sorted(cuts) and cuts[0] < cuts[-1] - 0.1


def test_cut_root_choice_on_hand_built_mixtures() -> None:
    def mix(w: tuple[float, float], m: tuple[float, float], s: tuple[float, float]) -> TwoGaussians:
        return TwoGaussians(*(torch.tensor(v, dtype=torch.float64) for v in (w, m, s)))

    # equal stds and weights: log odds linear, zero at the midpoint
    assert float(mix((0.5, 0.5), (0.0, 2.0), (1.0, 1.0)).cut(0.0)) == pytest.approx(1.0)
    # narrow high component: two roots straddle the high mean, the one between the means is taken
    narrow = mix((0.5, 0.5), (0.0, 3.0), (1.0, 0.2))
    assert 0.0 < float(narrow.cut(2.0)) < 3.0
    assert float(narrow.log_odds(narrow.cut(2.0))) == pytest.approx(2.0, abs=1e-9)
    # a rare, wide high component whose odds never reach e^10: the high mean
    rare = mix((0.999, 0.001), (0.0, 0.5), (1.0, 0.5))
    assert float(rare.log_odds(torch.linspace(-10, 10, 2001, dtype=torch.float64)).max()) < 10
    assert float(rare.cut(10.0)) == 0.5


def test_cut_is_where_the_log_odds_rise_through_the_granularity_on_random_mixtures() -> None:
    gen = torch.Generator().manual_seed(3)

    def uniform(lo: float, hi: float) -> float:
        return lo + (hi - lo) * float(torch.rand((), generator=gen))

    branches = {"between": 0, "outside": 0, "none": 0}
    for _ in range(300):
        m0 = uniform(-2, 2)
        m1 = m0 + uniform(0.1, 4)
        s0 = uniform(0.1, 2)
        s1 = s0 * uniform(1.2, 3) ** (1 if uniform(0, 1) < 0.5 else -1)
        w1 = uniform(0.02, 0.98)
        mix = TwoGaussians(*(torch.tensor(v, dtype=torch.float64) for v in ((1 - w1, w1), (m0, m1), (s0, s1))))
        g = uniform(-3, 10)
        cut = mix.cut(g)

        def odds(x: float, mix: TwoGaussians = mix) -> float:
            return float(mix.log_odds(torch.tensor(x, dtype=torch.float64)))

        if abs(odds(float(cut)) - g) < 1e-6:
            assert odds(float(cut) + 1e-4) > odds(float(cut) - 1e-4), "the falling root was taken"
            if odds(m0) < g < odds(m1):
                assert m0 < float(cut) < m1
                branches["between"] += 1
            else:
                branches["outside"] += 1
        else:
            assert float(cut) == m1
            grid = mix.log_odds(torch.linspace(-1e3, 1e3, 200_001, dtype=torch.float64)) - g
            assert (grid > 0).all() or (grid < 0).all(), "a root exists but was not found"
            branches["none"] += 1
    assert min(branches.values()) > 0, branches


def test_cut_of_a_single_value_is_that_value_and_fit_refuses_it() -> None:
    s = torch.full((10,), 1.5)
    assert float(gmm_cut(s)) == 1.5
    with pytest.raises(ValueError, match="2 distinct values"):
        fit_two_gaussians(s)
    # two distinct values only: the variance floor keeps the fit finite
    fit = fit_two_gaussians(torch.tensor([0.0] * 5 + [1.0] * 5))
    assert torch.isfinite(fit.std).all() and (fit.std > 0).all()
    assert 0.0 < float(gmm_cut(torch.tensor([0.0] * 5 + [1.0] * 5))) < 1.0


@pytest.mark.parametrize(
    ("s", "kwargs", "match"),
    [
        (torch.tensor([]), {}, "at least one value"),
        (torch.tensor([0.1, float("nan")]), {}, "NaN"),
        (torch.zeros(3, 2), {}, "one-dimensional"),
        (torch.arange(4), {}, "floating-point"),
        (torch.rand(5), {"n_iter": 0}, "n_iter"),
        (torch.rand(5), {"tol": -1.0}, "tol"),
    ],
)
def test_fit_rejects_bad_input(s: torch.Tensor, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_two_gaussians(s, **kwargs)


def test_cut_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="granularity"):
        gmm_cut(torch.rand(5), float("inf"))
    with pytest.raises(ValueError, match="at least one value"):
        gmm_cut(torch.tensor([]))
    with pytest.raises(ValueError, match="sorted"):
        TwoGaussians(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.0]), torch.ones(2))


# ---------------------------------------------------------------- connected components


def _scipy_labels(edge_index: torch.Tensor, n: int) -> np.ndarray:
    ei = edge_index.numpy()
    adj = sp.coo_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(n, n))
    return connected_components(adj, directed=False)[1]


@pytest.mark.parametrize(
    ("graph", "seed"),
    [
        ("random_sparse", 0),
        ("random_sparse", 1),
        ("random_with_isolated", 2),
        ("path_in_order", 3),
        ("path_shuffled", 4),
        ("two_long_cycles", 5),
        ("no_edges", 6),
    ],
)
def test_components_match_scipy(graph: str, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    if graph == "random_sparse":
        n, ei = 300, torch.randint(0, 300, (2, 200), generator=gen)
    elif graph == "random_with_isolated":
        n, ei = 400, torch.randint(0, 350, (2, 300), generator=gen)
    elif graph.startswith("path"):
        n = 500
        order = torch.arange(n) if graph == "path_in_order" else torch.randperm(n, generator=gen)
        ei = torch.stack([order[:-1], order[1:]])
    elif graph == "two_long_cycles":
        n, order = 600, torch.randperm(600, generator=gen)
        a, b = order[:300], order[300:]
        ei = torch.cat([torch.stack([a, a.roll(1)]), torch.stack([b.roll(-1), b])], dim=1)
    else:
        n, ei = 7, torch.empty(2, 0, dtype=torch.long)
    labels = connected_component_labels(ei, n)
    assert labels.shape == (n,) and labels.dtype == torch.int64
    expected = _scipy_labels(ei, n)
    assert _partition(labels) == _partition(torch.from_numpy(expected))
    # consecutive labels, ordered by the smallest member of each component
    first_member = [int((labels == c).nonzero()[0]) for c in range(int(labels.max()) + 1)]
    assert first_member == sorted(first_member)
    assert set(labels.tolist()) == set(range(len(first_member)))


def test_components_reject_bad_input() -> None:
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        connected_component_labels(torch.tensor([[0, 3]]).t(), 3)
    with pytest.raises(ValueError, match="int64"):
        connected_component_labels(torch.tensor([[0], [1]], dtype=torch.int32), 3)
    with pytest.raises(ValueError, match="num_nodes"):
        connected_component_labels(torch.empty(2, 0, dtype=torch.long), -1)


# ---------------------------------------------------------------- pooling


def _by_hit(out: PoolingOutput) -> dict[tuple[int, int], float]:
    pairs = zip(out.bipartite_index.t().tolist(), out.bipartite_weight.tolist(), strict=True)
    return {(i, a): w for (i, a), w in pairs}


def _check_invariants(out: PoolingOutput, n_hits: int) -> None:
    out = PoolingOutput(**{k: v.detach() if isinstance(v, torch.Tensor) else v for k, v in vars(out).items()})
    n_super = out.num_super_nodes
    torch.testing.assert_close(out.centres.norm(dim=1), torch.ones(n_super))
    assert out.hit_cluster.shape == (n_hits,) and int(out.hit_cluster.min()) >= -1
    assert int(out.hit_cluster.max()) == n_super - 1
    sup = out.super_edge_index
    pairs = {(int(a), int(b)) for a, b in sup.t()}
    assert len(pairs) == sup.size(1), "duplicate super-edges"
    assert pairs == {(b, a) for a, b in pairs}, "super-graph not symmetric"
    assert all(a != b for a, b in pairs)
    if sup.size(1):
        assert float(out.super_edge_weight.mean()) == pytest.approx(1.0, abs=1e-5)
    k = min(5, n_super)
    assert out.bipartite_index.shape == (2, n_hits * k)
    assert torch.equal(torch.bincount(out.bipartite_index[0], minlength=n_hits), torch.full((n_hits,), k))
    per_hit = torch.zeros(n_hits).index_add(0, out.bipartite_index[0], out.bipartite_weight)
    torch.testing.assert_close(per_hit, torch.ones(n_hits))


def test_two_tracks_give_two_super_nodes() -> None:
    u, edge_index, track = _tracks([8, 8], cross=12)
    out = GMPool(min_clusters=2).train()(u, edge_index)
    assert not out.fallback
    assert out.num_super_nodes == 2
    assert _partition(out.hit_cluster) == _partition(track)
    # the cut separates the two similarity modes: no cross-track edge survives it
    cross = track[edge_index[0]] != track[edge_index[1]]
    assert float(out.edge_similarity[cross].max()) < float(out.cut) < float(out.edge_similarity[~cross].min())
    _check_invariants(out, 16)
    assert out.super_edge_index.tolist() == [[0, 1], [1, 0]]
    # each hit's heaviest super-node is its own track's
    best = torch.full((16,), -1.0)
    best_sn = torch.full((16,), -1)
    for (i, a), w in _by_hit(out).items():
        if w > best[i]:
            best[i], best_sn[i] = w, a
    assert torch.equal(best_sn, out.hit_cluster)


def test_disconnected_tracks_fall_back_to_the_uncut_graph() -> None:
    u, edge_index, track = _tracks([8, 8])  # all edges within tracks: the cut splits the tracks
    out = GMPool().train()(u, edge_index)
    assert out.fallback
    assert _partition(out.hit_cluster) == _partition(track)
    _check_invariants(out, 16)


def test_small_components_are_dropped() -> None:
    u, edge_index, track = _tracks([6, 6, 6, 2, 1], cross=20)
    out = GMPool().train()(u, edge_index)
    assert not out.fallback and out.num_super_nodes == 3
    assert (out.hit_cluster[track >= 3] == -1).all()
    assert _partition(out.hit_cluster[track < 3]) == _partition(track[track < 3])
    _check_invariants(out, 21)
    # with min_cluster_size=1 the pair and the single hit are super-nodes too
    out1 = GMPool(min_cluster_size=1).train()(u, edge_index)
    assert out1.num_super_nodes == 5 and _partition(out1.hit_cluster) == _partition(track)


def test_bridged_tracks_fall_back_to_one_super_node_and_empty_graph_to_all_hits() -> None:
    u, edge_index, _ = _tracks([8, 8])
    bridged = torch.cat([edge_index, torch.tensor([[7, 8], [8, 7]])], dim=1)
    out = GMPool().train()(u, bridged)
    assert out.fallback and out.num_super_nodes == 1 and (out.hit_cluster == 0).all()
    assert out.super_edge_index.shape == (2, 0) and out.super_edge_weight.shape == (0,)
    torch.testing.assert_close(out.bipartite_weight, torch.ones(16))
    # no edges at all: no cut can be fitted, every hit goes into one super-node
    empty = GMPool().train()(u, torch.empty(2, 0, dtype=torch.long))
    assert empty.fallback and empty.num_super_nodes == 1 and (empty.hit_cluster == 0).all()
    assert math.isinf(float(empty.cut))


def test_shapes_and_finite_gradients() -> None:
    torch.manual_seed(0)
    u_raw, edge_index, _ = _tracks([6, 7, 8, 5], cross=20, seed=3)
    u = u_raw.clone().requires_grad_(True)
    pool = GMPool(super_k=2, bipartite_k=3).train()
    out = pool(u, edge_index)
    n_super, n_hits, n_edges = out.num_super_nodes, 26, edge_index.size(1)
    assert n_super == 4 and out.centres.shape == (n_super, 8)
    assert out.edge_similarity.shape == (n_edges,) and out.cut.shape == ()
    assert out.bipartite_index.shape == (2, 3 * n_hits) and out.bipartite_logit.shape == (3 * n_hits,)
    assert out.super_edge_index.size(1) == out.super_edge_weight.numel() >= n_super * 2
    gen = torch.Generator().manual_seed(1)

    def r(t: torch.Tensor) -> torch.Tensor:
        return torch.randn(t.shape, generator=gen)

    # each path alone reaches u: the similarities, and the centres
    (grad_s,) = torch.autograd.grad((out.edge_similarity * r(out.edge_similarity)).sum(), u, retain_graph=True)
    (grad_c,) = torch.autograd.grad((out.centres * r(out.centres)).sum(), u, retain_graph=True)
    for grad in (grad_s, grad_c):
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    # weights normalised per hit / by their mean: random coefficients so the loss is not constant
    super_loss = (out.super_edge_weight * r(out.super_edge_weight)).sum()
    (super_loss + (out.bipartite_weight * r(out.bipartite_weight)).sum()).backward()
    assert param_grads_ok(pool, nonzero=True) == []
    assert torch.isfinite(u.grad).all() and u.grad.abs().sum() > 0


def test_two_super_nodes_and_a_single_hit_do_not_break_batch_norm() -> None:
    # two super-nodes: after symmetrisation 2 super-edges with equal dot products (zero batch variance)
    u, edge_index, _ = _tracks([5, 5], cross=6)
    out = GMPool(min_clusters=2).train()(u, edge_index)
    assert out.super_edge_index.size(1) == 2
    torch.testing.assert_close(out.super_edge_weight.detach(), torch.ones(2))
    # one hit: one bipartite edge, which batch statistics cannot normalise; the running ones are used
    pool = GMPool().train()
    with torch.no_grad():
        single = pool(u[:1], torch.empty(2, 0, dtype=torch.long))
    assert single.bipartite_logit.shape == (1,)
    # centre == u, so the dot product is 1; running mean 0 and variance 1, identity affine
    assert float(single.bipartite_logit) == pytest.approx(1 / math.sqrt(1 + 1e-5), abs=1e-6)
    assert float(single.bipartite_weight) == 1.0
    assert float(pool.bipartite_norm.running_mean) == 0.0 and int(pool.bipartite_norm.num_batches_tracked) == 0


def test_super_graph_is_the_symmetrised_knn_of_the_centres_and_hits_link_their_nearest_centres() -> None:
    angles = torch.deg2rad(torch.tensor([0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 250.0]))
    centres = F.pad(torch.stack([angles.cos(), angles.sin()], dim=1), (0, 6))
    pool = GMPool(super_k=2, bipartite_k=3).eval()
    with torch.no_grad():
        index, weight = pool.connect(centres)
    d = torch.cdist(centres, centres).fill_diagonal_(math.inf)
    directed = {(int(j), i) for i in range(7) for j in d.topk(2, largest=False).indices[i]}
    assert directed != {(b, a) for a, b in directed}, "the example must have an asymmetric kNN graph"
    assert {(int(a), int(b)) for a, b in index.t()} == directed | {(b, a) for a, b in directed}
    # eval-mode BatchNorm with fresh statistics is the identity (up to eps)
    expected = torch.sigmoid((centres[index[0]] * centres[index[1]]).sum(1) / math.sqrt(1 + 1e-5))
    torch.testing.assert_close(weight, expected / expected.mean())

    u = F.normalize(torch.randn(20, 8, generator=torch.Generator().manual_seed(0)), dim=1)
    with torch.no_grad():
        bip, logit, _ = pool.assign(u, centres)
    nearest = torch.cdist(u, centres).topk(3, largest=False).indices
    assert {(int(i), int(a)) for i, a in bip.t()} == {(i, int(a)) for i in range(20) for a in nearest[i]}
    torch.testing.assert_close(logit, (u[bip[0]] * centres[bip[1]]).sum(1) / math.sqrt(1 + 1e-5))


def test_self_loops_do_not_change_the_cut() -> None:
    u, edge_index, _ = _tracks([6, 6, 6], cross=15, seed=1)
    pool = GMPool().eval()
    loops = torch.arange(18).expand(2, -1)
    with torch.no_grad():
        out, out_loops = pool(u, edge_index), pool(u, torch.cat([edge_index, loops], dim=1))
    assert float(out_loops.cut) == float(out.cut)
    assert torch.equal(out_loops.hit_cluster, out.hit_cluster)


def test_permuting_the_hits_permutes_the_pooling() -> None:
    u, edge_index, _ = _tracks([6, 7, 8, 5, 2], cross=25, seed=5)
    n = u.size(0)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(7))  # new hit j is old hit perm[j]
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(n)
    pool = GMPool(bipartite_k=3).eval()
    with torch.no_grad():
        out, out_p = pool(u, edge_index), pool(u[perm], inverse[edge_index])
    assert out.num_super_nodes == out_p.num_super_nodes == 4
    torch.testing.assert_close(out_p.cut, out.cut)
    torch.testing.assert_close(out_p.edge_similarity, out.edge_similarity)
    assert torch.equal(out_p.hit_cluster == -1, out.hit_cluster[perm] == -1)
    assert _partition(out_p.hit_cluster[inverse]) == _partition(out.hit_cluster)
    # super-node a of the permuted event is super-node sn_map[a] of the original
    kept = out_p.hit_cluster >= 0
    sn_map = torch.full((out.num_super_nodes,), -1)
    sn_map[out_p.hit_cluster[kept]] = out.hit_cluster[perm][kept]
    torch.testing.assert_close(out_p.centres, out.centres[sn_map])
    bip = {(int(perm[i]), int(sn_map[a])): w for (i, a), w in _by_hit(out_p).items()}
    ref = _by_hit(out)
    assert bip.keys() == ref.keys()
    assert all(abs(bip[key] - ref[key]) < 1e-5 for key in ref)
    sup = {
        (int(sn_map[a]), int(sn_map[b])): float(w)
        for (a, b), w in zip(out_p.super_edge_index.t(), out_p.super_edge_weight, strict=True)
    }
    sup_ref = {
        (int(a), int(b)): float(w) for (a, b), w in zip(out.super_edge_index.t(), out.super_edge_weight, strict=True)
    }
    assert sup.keys() == sup_ref.keys() and all(abs(sup[key] - sup_ref[key]) < 1e-5 for key in sup_ref)


def test_running_cut_moving_average_eval_and_state_dict() -> None:
    pool = GMPool(momentum=0.9)
    assert torch.isnan(pool.running_cut)
    u1, e1, _ = _tracks([6, 6, 6], cross=15, seed=1)
    u2, e2, _ = _tracks([6, 6, 6], cross=30, noise=0.1, seed=2)
    # eval before any training: the event's own cut, and the running cut stays unset
    own = pool.eval()(u1, e1).cut
    assert torch.isnan(pool.running_cut)
    pool.train()
    cut1 = pool(u1, e1).cut
    torch.testing.assert_close(cut1, own)
    torch.testing.assert_close(pool.running_cut, cut1)
    cut2 = pool(u2, e2).cut
    assert abs(float(cut2) - float(cut1)) > 0.01
    torch.testing.assert_close(pool.running_cut, 0.9 * cut1 + 0.1 * cut2)
    # eval uses the running cut, not the event's, and leaves it alone
    running = pool.running_cut.clone()
    eval_cut = pool.eval()(u2, e2).cut
    assert float(eval_cut) == float(running)
    assert torch.equal(pool.running_cut, running)
    pool.train()(u1, e1)
    assert float(eval_cut) == float(running), "the output must not alias the buffer"
    restored = GMPool(momentum=0.9)
    restored.load_state_dict(pool.state_dict())
    assert "running_cut" in pool.state_dict() and torch.equal(restored.running_cut, pool.running_cut)


@pytest.mark.parametrize(
    ("u", "edge_index", "match"),
    [
        (torch.tensor([[1.0, 0.0], [float("nan"), 1.0]]), torch.tensor([[0], [1]]), "'u' contains NaN"),
        (torch.ones(3), torch.tensor([[0], [1]]), r"shape \(N, D\)"),
        (torch.empty(0, 4), torch.empty(2, 0, dtype=torch.long), "at least one hit"),
        (torch.eye(3), torch.tensor([[0], [3]]), r"\[0, 3\)"),
        (torch.eye(3), torch.tensor([[0], [-1]]), r"\[0, 3\)"),
        (torch.eye(3), torch.tensor([[0, 1, 2]]), r"shape \(2, E\)"),
        (torch.eye(3), torch.tensor([[0.0], [1.0]]), "int64"),
        (torch.eye(3, dtype=torch.long), torch.tensor([[0], [1]]), "floating-point"),
    ],
)
def test_forward_rejects_bad_input(u: torch.Tensor, edge_index: torch.Tensor, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        GMPool()(u, edge_index)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"super_k": 0},
        {"bipartite_k": -1},
        {"min_cluster_size": 0},
        {"min_clusters": 1.5},
        {"momentum": 1.0},
        {"granularity": float("nan")},
        {"backend": "cuml"},
    ],
)
def test_bad_options_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs)) if "backend" not in kwargs else "backend"):
        GMPool(**kwargs)
