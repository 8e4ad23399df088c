"""The evolving-graph attention block (EggNet) and its attention step."""

from __future__ import annotations

import pytest
import torch

from tests.trackcore.nn.helpers import param_grads_ok
from trackcore.nn import EvolvingGraphAttention, GraphAttentionStep


def _block(**kwargs) -> EvolvingGraphAttention:
    options = dict(hidden_dim=16, emb_dim=6, n_iterations=3, steps_per_iteration=2, k=5)
    return EvolvingGraphAttention(**{**options, **kwargs})


def _exact_knn(embedding: torch.Tensor, k: int) -> set[tuple[int, int]]:
    d = torch.cdist(embedding.double(), embedding.double())
    d.fill_diagonal_(float("inf"))
    nearest = d.topk(k, largest=False).indices
    return {(int(j), i) for i in range(len(embedding)) for j in nearest[i]}


def test_shapes_graphs_and_finite_gradients() -> None:
    torch.manual_seed(0)
    block = _block()
    h0 = torch.randn(40, 16, requires_grad=True)
    out = block(h0)
    assert out.embedding.shape == (40, 6) and out.node.shape == (40, 16)
    torch.testing.assert_close(out.embedding.norm(dim=1), torch.ones(40))
    assert len(out.graphs) == len(out.graph_embeddings) == 3
    assert all(g.shape == (2, 40 * 5) for g in out.graphs)
    out.embedding.pow(2).sum(dim=0)[0].backward()
    assert param_grads_ok(block, nonzero=False) == []
    assert torch.isfinite(h0.grad).all()


@pytest.mark.parametrize("restart", [True, False])
def test_each_iterations_graph_is_the_exact_knn_of_its_embedding(restart: bool) -> None:
    torch.manual_seed(1)
    block = _block(restart=restart, share_weights=False)
    with torch.no_grad():
        out = block(torch.randn(60, 16))
    for graph, embedding in zip(out.graphs, out.graph_embeddings, strict=True):
        assert {(int(a), int(b)) for a, b in graph.t()} == _exact_knn(embedding, 5)
        assert not bool((graph[0] == graph[1]).any())
    # the graph evolves: the iterations do not all search the same space
    assert not torch.equal(out.graph_embeddings[0], out.graph_embeddings[-1])


def test_permuting_the_hits_permutes_the_output() -> None:
    torch.manual_seed(2)
    block = _block()
    h0 = torch.randn(50, 16)
    perm = torch.randperm(50)
    with torch.no_grad():
        out, out_p = block(h0), block(h0[perm])
    torch.testing.assert_close(out_p.embedding, out.embedding[perm], atol=1e-5, rtol=1e-5)


def test_options_change_the_parameters_and_iterations() -> None:
    shared, separate = _block(share_weights=True), _block(share_weights=False)
    n_shared = sum(p.numel() for p in shared.parameters())
    n_separate = sum(p.numel() for p in separate.parameters())
    decoder = sum(p.numel() for p in shared.decoder.parameters())
    assert n_separate - decoder == 3 * (n_shared - decoder)
    with torch.no_grad():
        assert len(_block(n_iterations=1)(torch.randn(10, 16)).graphs) == 1
    torch.manual_seed(3)
    h0 = torch.randn(30, 16)
    restarted, kept = _block(restart=True), _block(restart=False)
    kept.load_state_dict(restarted.state_dict())
    with torch.no_grad():
        assert not torch.allclose(restarted(h0).embedding, kept(h0).embedding)


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="shape \\(N, 16\\)"):
        _block()(torch.randn(10, 8))
    with pytest.raises(ValueError, match="at least 2 hits"):
        _block()(torch.randn(1, 16))
    with pytest.raises(ValueError, match="k must be a positive int"):
        _block(k=0)


def test_chunked_inference_equals_the_whole_edge_update() -> None:
    torch.manual_seed(4)
    whole, chunked = GraphAttentionStep(hidden_dim=8), GraphAttentionStep(hidden_dim=8, edge_chunk_size=7)
    chunked.load_state_dict(whole.state_dict())
    h, e = torch.randn(20, 8), torch.randn(50, 8)
    edge_index = torch.randint(20, (2, 50))
    with_grad = whole(h, e, edge_index)  # the unchunked path
    with torch.no_grad():
        for a, b, c in zip(whole(h, e, edge_index), chunked(h, e, edge_index), with_grad, strict=True):
            torch.testing.assert_close(a, b)
            torch.testing.assert_close(a, c.detach())


def test_attention_is_a_softmax_over_incoming_edges() -> None:
    # a node's message is a convex combination of its incoming edge states: with one incoming
    # edge it is that edge's new state, without any it is zero
    torch.manual_seed(5)
    step = GraphAttentionStep(hidden_dim=4)
    h, e = torch.randn(3, 4), torch.randn(2, 4)
    edge_index = torch.tensor([[0, 0], [1, 1]])  # two edges into node 1, none into 0 and 2
    with torch.no_grad():
        e_new = e + step.edge_mlp(torch.cat([h[edge_index[0]], h[edge_index[1]], e], dim=1))
        alpha = torch.softmax(step.attention(e_new).squeeze(-1), 0)
        h_new, _ = step(h, e, edge_index)
        expected_1 = h[1] + step.node_mlp(torch.cat([h[1], alpha @ e_new]).unsqueeze(0))[0]
        expected_0 = h[0] + step.node_mlp(torch.cat([h[0], torch.zeros(4)]).unsqueeze(0))[0]
    torch.testing.assert_close(h_new[1], expected_1)
    torch.testing.assert_close(h_new[0], expected_0)
