"""The metric-learning stage: embedding shapes, finite gradients, the positive-pair weight, the inference graph."""

from __future__ import annotations

import torch

from tests.conftest import make_event
from tests.trackcore.nn.helpers import param_grads_ok
from trackcore.data import ProcessingConfig, process_event
from trackcore.graph.metric_learning import EmbeddingNet, MetricLearning


def _module(positive_weight: float = 1.0) -> MetricLearning:
    torch.manual_seed(0)
    net = EmbeddingNet(in_dim=4, emb_dim=6, hidden_dim=16, n_layers=2)
    return MetricLearning(model=net, n_random=200, positive_weight=positive_weight, min_pt=0.0)


def test_embedding_shapes_norm_and_finite_gradients(single_thread):
    data = process_event(make_event(n_particles=5, hits_per_particle=5), ProcessingConfig())
    module = _module()
    emb = module.model(data.x)
    assert emb.shape == (data.num_nodes, 6)
    assert torch.allclose(emb.norm(dim=1), torch.ones(data.num_nodes), atol=1e-5)
    module.training_loss(data).loss.backward()
    assert param_grads_ok(module, nonzero=False) == []
    out = module.infer(data)
    assert out["edge_index"].shape[0] == 2 and out["edge_distance"].le(module.r_infer).all()


def test_positive_weight_scales_the_positive_term(single_thread):
    data = process_event(make_event(n_particles=5, hits_per_particle=5), ProcessingConfig())
    # Same initial weights and the same (step-seeded) pairs: only the positive term's weight differs.
    loss1 = _module(1.0).training_loss(data).loss
    loss2 = _module(2.0).training_loss(data).loss
    loss3 = _module(3.0).training_loss(data).loss
    positive_term = loss2 - loss1
    assert positive_term > 0
    assert torch.isclose(loss3 - loss2, positive_term, rtol=1e-4)


def test_max_true_pairs_caps_each_particles_pairs(single_thread):
    import pytest

    from trackcore.losses.pairs import true_pairs

    data = process_event(make_event(n_particles=5, hits_per_particle=5), ProcessingConfig())
    per_particle = int(true_pairs(data.particle_id).shape[1]) // 5
    assert per_particle == 10  # 5 hits: 10 pairs each
    torch.manual_seed(0)
    net = EmbeddingNet(in_dim=4, emb_dim=6, hidden_dim=16, n_layers=2)
    # no random and no radius pairs: the pairs are the true ones alone
    full = MetricLearning(model=net, n_random=1, r_train=1e-9, min_pt=0.0).training_loss(data).terms["n_pairs"]
    capped = MetricLearning(model=net, n_random=1, r_train=1e-9, min_pt=0.0, max_true_pairs=3).training_loss(data)
    assert capped.terms["n_pairs"] <= full - 5 * (10 - 3) + 1e-6
    assert torch.isfinite(capped.loss)
    with pytest.raises(ValueError, match="max_true_pairs"):
        MetricLearning(model=net, max_true_pairs=0)


def test_one_edge_per_pair_keeps_each_pair_once_from_the_inner_hit(single_thread):
    torch.manual_seed(0)
    data = process_event(make_event(n_particles=20, seed=3), ProcessingConfig())
    module = MetricLearning(model=EmbeddingNet(in_dim=data.x.shape[1], emb_dim=4, hidden_dim=16, n_layers=2),
                            r_infer=1.0, knn_infer=6).eval()
    with torch.no_grad():
        both = module.infer(data)
        module.one_edge_per_pair = True
        once = module.infer(data)
    ei, n = both["edge_index"], data.num_nodes
    pairs = {(min(a, b), max(a, b)) for a, b in ei.t().tolist()}
    assert ei.shape[1] > len(pairs)  # mutual neighbours: some pairs twice
    got = once["edge_index"].t().tolist()
    assert len(got) == len(pairs) and {(min(a, b), max(a, b)) for a, b in got} == pairs
    r = data.x[:, 0]
    src, dst = once["edge_index"]
    assert ((r[src] < r[dst]) | ((r[src] == r[dst]) & (src < dst))).all()  # outward
    dist = {(a, b): d for (a, b), d in zip(ei.t().tolist(), both["edge_distance"].tolist(), strict=True)}
    assert all(abs(dist.get((a, b), dist.get((b, a))) - d) < 1e-6
               for (a, b), d in zip(got, once["edge_distance"].tolist(), strict=True))
    assert torch.equal(once["embedding"], both["embedding"]) and n == data.x.shape[0]
