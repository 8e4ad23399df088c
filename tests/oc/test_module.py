"""The object-condensation task module: a tiny model condenses a tiny event; validation-time scans."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch_geometric.loader import DataLoader

from oc.module import ObjectCondensation
from oc.model import CondensationGNN
from tests.ec.test_edge_classifier import tiny_graph_event, train_steps
from trackcore.metrics import EventTruth, ParticlesOfInterest, evaluate_tracks


def tiny_module(data, **kwargs) -> ObjectCondensation:
    model = CondensationGNN(node_in=data.x.shape[1], cluster_dim=4, hidden_dim=32, n_iterations=3)
    return ObjectCondensation(model=model, optimizer=lambda p: torch.optim.Adam(p, lr=1e-3), min_pt=0.0, **kwargs)


def test_tiny_model_condenses_a_tiny_event_with_both_builders(single_thread):
    # Robust to the CPU (a different machine's float kernels act like another torch seed): on the
    # better-conditioned event of seed 22 (tiny_graph_event) this passes for torch seeds 0-35;
    # on seed 2's event torch seed 2 let every beta collapse (no condensation point at all).
    torch.manual_seed(0)
    data = tiny_graph_event(seed=22)  # 6 particles x 6 hits + 4 noise hits
    module = tiny_module(data, eps=0.2, min_samples=2, t_beta=0.5, t_d=0.4)
    train_steps(module, data, 600)
    with torch.no_grad():
        out = module.infer(data)
    assert out["beta"].shape == (data.num_nodes,) and out["coords"].shape == (data.num_nodes, 4)
    truth, poi = EventTruth.from_data(data), ParticlesOfInterest(min_pt=0.0)
    for builder in ("dbscan", "condensation"):
        module.builder = builder
        summary = evaluate_tracks(module.build_tracks(data, out), truth, poi).summary()
        assert summary["dm_efficiency"] == 1.0, builder
        assert summary["dm_fake_rate"] == 0.0 and summary["dm_duplicate_rate"] == 0.0, builder
    # noise condenses nowhere: its beta is far below every condensation point's
    noise = data.particle_id == 0
    assert out["beta"][noise].max() < 0.1 < out["beta"][~noise].max()


def test_loss_is_averaged_per_event_of_a_batch(single_thread):
    # particle ids repeat across events: a batch of two copies must equal one event, not merge them
    torch.manual_seed(0)
    data = tiny_graph_event()
    module = tiny_module(data)
    batch = next(iter(DataLoader([data, data.clone()], batch_size=2)))
    one, two = module.training_loss(data), module.training_loss(batch)
    torch.testing.assert_close(two.loss, one.loss)
    assert float(two.terms["objects"]) == float(one.terms["objects"]) == 6.0


def test_validation_scan_chooses_the_builders_parameters_and_the_checkpoint_keeps_them(tmp_path, single_thread):
    # The trained model of the test above, robust to the CPU's float kernels (another torch seed):
    # passes for torch seeds 0-35 (on seed 2's event torch seed 2 failed).
    torch.manual_seed(0)
    data = tiny_graph_event(seed=22)
    grids = dict(scan_eps=[0.01, 0.2, 5.0], scan_min_samples=[2, 50], scan_t_beta=[0.5, 0.99], scan_t_d=[0.4, 9.0])
    module = tiny_module(data, eps=5.0, min_samples=50, t_beta=0.99, t_d=9.0, **grids)
    train_steps(module, data, 600)  # condensed: eps 0.2 / t_d 0.4 separate the particles, 5.0 / 50 / 9.0 cannot
    trainer = L.Trainer(max_epochs=1, limit_train_batches=0, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path)
    metrics = trainer.validate(module, DataLoader([data]), verbose=False)[0]
    # eps 0.01 separates them too where the model condensed each particle that tightly (torch seeds
    # 9, 26, 34, 35 of 0-35); a tie goes to the smaller eps
    assert module.eps in (0.01, 0.2) and module.min_samples == 2
    assert (module.t_beta, module.t_d) == (0.5, 0.4)
    assert metrics["val/dm_efficiency"] == 1.0 and metrics["val/dm_fake_rate"] == 0.0
    assert metrics["val/fom"] == 1.0  # what the configs' checkpoint keeps the best epoch by
    assert metrics["val/condensation/dm_efficiency"] == 1.0 and metrics["val/dbscan/eps"] == pytest.approx(module.eps)

    path = tmp_path / "oc.ckpt"
    trainer.save_checkpoint(path)
    ckpt = torch.load(path, weights_only=False)
    assert ckpt["building"] == {"eps": module.eps, "min_samples": 2, "t_beta": 0.5, "t_d": 0.4}
    restored = tiny_module(data, eps=5.0, min_samples=50, **grids)
    restored.on_load_checkpoint(ckpt)
    assert restored.building_params == module.building_params
    fixed = tiny_module(data, eps=0.3, min_samples=3)  # no scan grids: the configured values stand
    fixed.on_load_checkpoint(ckpt)
    assert (fixed.eps, fixed.min_samples) == (0.3, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"builder": "hdbscan"}, "builder must be one of"),
        ({"loss_implementation": "sparse"}, "loss_implementation"),
        ({"eps": 0.0}, "eps must be > 0"),
        ({"t_beta": 1.0}, r"t_beta must be in \[0, 1\)"),
        ({"scan_eps": [0.1]}, "give both scan_eps and scan_min_samples"),
        ({"scan_t_beta": [], "scan_t_d": []}, "must not be empty"),
        ({"input_keys": ["embedding", "x"]}, "input_keys must be a list starting with 'x'"),
        ({"edge_score_cut": 1.5}, r"edge_score_cut must be in \[0, 1\]"),
    ],
)
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny_module(tiny_graph_event(), **kwargs)


def test_an_event_without_a_graph_is_a_clear_error():
    data = tiny_graph_event()
    del data.edge_index
    with pytest.raises(ValueError, match="no 'edge_index'"):
        tiny_module(tiny_graph_event()).training_loss(data)


def test_an_edge_score_cut_on_a_graph_without_scores_is_named():
    data = tiny_graph_event()  # a graph stage's output: edges but no edge_score
    with pytest.raises(ValueError, match="needs the event's 'edge_score'"):
        tiny_module(data, edge_score_cut=0.1).training_loss(data)


def test_a_missing_input_tensor_is_named():
    data = tiny_graph_event()  # has x, but no metric-learning embedding
    with pytest.raises(ValueError, match="the event has no 'embedding'"):
        tiny_module(data, input_keys=["x", "embedding"]).training_loss(data)
