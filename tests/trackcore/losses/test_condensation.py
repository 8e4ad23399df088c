"""Object-condensation loss: pinned terms on a hand-built event, dense == radius-graph, gradients."""

from __future__ import annotations

import math

import pytest
import torch

from trackcore.losses import condensation_loss, condensation_points, objects_of_interest


def _hand_event():
    # 1-D coordinates: particle 1 (hits 0, 1), particle 2 (hit 2), noise (hit 3)
    beta = torch.tensor([0.9, 0.5, 0.8, 0.1], dtype=torch.float64)
    x = torch.tensor([[0.0], [0.5], [0.8], [0.2]], dtype=torch.float64)
    pid = torch.tensor([1, 1, 2, 0])
    return beta, x, pid


def test_pinned_terms_on_a_hand_built_event():
    beta, x, pid = _hand_event()
    q = [math.atanh(b) ** 2 + 0.01 for b in beta.tolist()]
    # condensation points: hit 0 (particle 1), hit 2 (particle 2)
    att = q[1] * q[0] * 0.5**2 / 4
    rep = (q[2] * q[0] * (1 - 0.8) + q[3] * q[0] * (1 - 0.2)
           + q[0] * q[2] * (1 - 0.8) + q[1] * q[2] * (1 - 0.3) + q[3] * q[2] * (1 - 0.6)) / 4
    for implementation in ("dense", "radius"):
        out = condensation_loss(beta, x, pid, implementation=implementation)
        assert out.n_objects == 2
        assert out.attractive.item() == pytest.approx(att) == pytest.approx(0.04242413057718673)
        assert out.repulsive.item() == pytest.approx(rep) == pytest.approx(0.3425526507130892)
        assert out.coward.item() == pytest.approx(0.15)
        assert out.noise.item() == pytest.approx(0.1)
        assert out.total.item() == pytest.approx(0.6349767812902759)


def test_pairs_normalization_takes_the_mean_over_pairs():
    beta, x, pid = _hand_event()
    hits = condensation_loss(beta, x, pid)
    for implementation in ("dense", "radius"):
        pairs = condensation_loss(beta, x, pid, normalization="pairs", implementation=implementation)
        # 3 object hits - 2 objects = 1 attractive pair; (2 - 1) x 4 hits = 4 repulsive pairs
        assert pairs.attractive.item() == pytest.approx(4 * hits.attractive.item())
        assert pairs.attractive.item() == pytest.approx(0.16969652230874692)
        assert pairs.repulsive.item() == pytest.approx(hits.repulsive.item())
        assert pairs.coward.item() == pytest.approx(hits.coward.item())
    with pytest.raises(ValueError, match="normalization must be"):
        condensation_loss(beta, x, pid, normalization="mean")


def test_weights_and_objects_of_interest():
    beta, x, pid = _hand_event()
    base = condensation_loss(beta, x, pid)
    w = condensation_loss(beta, x, pid, attractive_weight=2, repulsive_weight=0, coward_weight=3, noise_weight=0.5)
    assert w.total.item() == pytest.approx(2 * base.attractive.item() + 3 * base.coward.item() + 0.05)
    pt = torch.tensor([2.0, 2.0, 0.5, 0.0], dtype=torch.float64)
    interest = objects_of_interest(pid, pt, min_pt=1.0)
    assert interest.tolist() == [True, True, False, False]
    only1 = condensation_loss(beta, x, pid, interest_j=interest)
    assert only1.n_objects == 1 and only1.coward.item() == pytest.approx(0.1)
    assert objects_of_interest(pid, min_hits=2).tolist() == [True, True, False, False]
    with pytest.raises(ValueError, match="needs the particles' pT"):
        objects_of_interest(pid, min_pt=1.0)


def test_condensation_points_take_the_largest_beta_first_on_ties():
    beta = torch.tensor([0.3, 0.7, 0.7, 0.2, 0.9])
    obj = torch.tensor([0, 0, 0, -1, 1])
    assert condensation_points(beta, obj, 2).tolist() == [1, 4]


@pytest.mark.parametrize(("seed", "normalization"), [(0, "hits"), (1, "hits"), (2, "pairs")])
def test_dense_and_radius_graph_agree_on_random_events(seed, normalization):
    gen = torch.Generator().manual_seed(seed)
    n, dim = 2000, 4
    pid = torch.randint(0, 300, (n,), generator=gen)  # id 0: noise (~0.3%)
    x = torch.rand(n, dim, generator=gen, dtype=torch.float64) * 4.0
    beta = torch.rand(n, generator=gen, dtype=torch.float64)
    interest = torch.rand(n, generator=gen) < 0.8
    x.requires_grad_(True)
    beta.requires_grad_(True)
    dense = condensation_loss(beta, x, pid, interest_j=interest, implementation="dense", normalization=normalization)
    radius = condensation_loss(beta, x, pid, interest_j=interest, implementation="radius", max_num_neighbors=None,
                               normalization=normalization)
    assert radius.repulsive.item() > 0
    for name in ("total", "attractive", "repulsive", "coward", "noise"):
        assert getattr(radius, name).item() == pytest.approx(getattr(dense, name).item(), abs=1e-5, rel=1e-5), name
    g_dense = torch.autograd.grad(dense.total, (x, beta))
    g_radius = torch.autograd.grad(radius.total, (x, beta))
    for a, b in zip(g_dense, g_radius, strict=True):
        assert torch.isfinite(a).all() and torch.allclose(a, b, atol=1e-5)


def test_empty_inputs_and_no_objects():
    x = torch.zeros(0, 3, requires_grad=True)
    out = condensation_loss(torch.zeros(0), x, torch.zeros(0, dtype=torch.int64))
    assert out.total.item() == 0.0 and out.n_objects == 0
    beta = torch.tensor([0.2, 0.4], requires_grad=True)
    noise_only = condensation_loss(beta, torch.zeros(2, 2), torch.zeros(2, dtype=torch.int64))
    assert noise_only.total.item() == pytest.approx(0.3)
    noise_only.total.backward()
    assert torch.isfinite(beta.grad).all()
    with pytest.raises(ValueError, match=r"Expected 'interest_j' of shape \(2,\) \(got \(3,\)\)"):
        condensation_loss(beta, torch.zeros(2, 2), torch.zeros(2, dtype=torch.int64), interest_j=torch.ones(3))
    with pytest.raises(ValueError, match="implementation must be"):
        condensation_loss(beta, torch.zeros(2, 2), torch.zeros(2, dtype=torch.int64), implementation="sparse")
