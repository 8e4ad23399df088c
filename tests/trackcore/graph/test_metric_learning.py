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
