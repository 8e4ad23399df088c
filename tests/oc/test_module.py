"""The object-condensation task module: a tiny model condenses a tiny event; validation-time scans."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch_geometric.loader import DataLoader

from oc.model import CondensationGNN
from oc.module import ObjectCondensation
from tests.ec.test_edge_classifier import tiny_graph_event, train_steps
from trackcore.builders import CondensationPoints, DBSCANBuilder
from trackcore.metrics import EventTruth, ParticlesOfInterest, evaluate_tracks

DBSCAN_PATH = "trackcore.builders.clustering.DBSCANBuilder"
CONDENSATION_PATH = "trackcore.builders.clustering.CondensationPoints"


def tiny_module(data, *, model: torch.nn.Module | None = None, **kwargs) -> ObjectCondensation:
    model = model or CondensationGNN(node_in=data.x.shape[1], cluster_dim=4, hidden_dim=32, n_iterations=3)
    kwargs.setdefault("builder", DBSCANBuilder(eps=0.2, min_samples=2))
    return ObjectCondensation(model=model, optimizer=lambda p: torch.optim.Adam(p, lr=1e-3), min_pt=0.0, **kwargs)


def test_tiny_model_condenses_a_tiny_event_with_both_builders(single_thread):
    # Robust to the CPU (a different machine's float kernels act like another torch seed): on the
    # better-conditioned event of seed 22 (tiny_graph_event) this passes for torch seeds 0-35;
    # on seed 2's event torch seed 2 let every beta collapse (no condensation point at all).
    torch.manual_seed(0)
    data = tiny_graph_event(seed=22)  # 6 particles x 6 hits + 4 noise hits
    module = tiny_module(data, builder=DBSCANBuilder(eps=0.2, min_samples=2))
    train_steps(module, data, 600)
    with torch.no_grad():
        out = module.infer(data)
    assert out["beta"].shape == (data.num_nodes,) and out["coords"].shape == (data.num_nodes, 4)
    truth, poi = EventTruth.from_data(data), ParticlesOfInterest(min_pt=0.0)
    for builder in (DBSCANBuilder(eps=0.2, min_samples=2), CondensationPoints(t_beta=0.5, t_d=0.4)):
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


def _validate(module: ObjectCondensation, data, tmp_path, name: str) -> tuple[dict[str, float], dict]:
    """One validation epoch of ``module`` on ``data``: its metrics and the checkpoint it then writes."""
    trainer = L.Trainer(max_epochs=1, limit_train_batches=0, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path / name)
    metrics = trainer.validate(module, DataLoader([data]), verbose=False)[0]
    path = tmp_path / f"{name}.ckpt"
    trainer.save_checkpoint(path)
    return metrics, torch.load(path, weights_only=False)


def test_validation_scan_chooses_the_builders_settings_and_the_checkpoint_keeps_them(tmp_path, single_thread):
    # The trained model of the test above, robust to the CPU's float kernels (another torch seed):
    # passes for torch seeds 0-35 (on seed 2's event torch seed 2 failed).
    torch.manual_seed(0)
    data = tiny_graph_event(seed=22)
    dbscan_grid = {"eps": [0.01, 0.2, 5.0], "min_samples": [2, 50]}
    module = tiny_module(data, builder=DBSCANBuilder(eps=5.0, min_samples=50), scan=dbscan_grid)
    train_steps(module, data, 600)  # condensed: eps 0.2 / t_d 0.4 separate the particles, 5.0 / 50 / 9.0 cannot

    # DBSCAN: its eps and min_samples scanned
    metrics, ckpt = _validate(module, data, tmp_path, "dbscan")
    # eps 0.01 separates them too where the model condensed each particle that tightly (torch seeds
    # 9, 26, 34, 35 of 0-35); a tie goes to the smaller eps
    assert isinstance(module.builder, DBSCANBuilder)
    assert module.builder.eps in (0.01, 0.2) and module.builder.min_samples == 2 and module.builder.min_hits == 3
    assert metrics["val/dm_efficiency"] == 1.0 and metrics["val/dm_fake_rate"] == 0.0
    assert metrics["val/fom"] == 1.0  # what the configs' checkpoint keeps the best epoch by
    assert metrics["val/builder/eps"] == pytest.approx(module.builder.eps)
    assert metrics["val/builder/min_samples"] == 2.0
    assert not any(key.startswith(("val/condensation/", "val/dbscan/")) for key in metrics)  # only the builder's scan
    assert ckpt["builder"] == {"class_path": DBSCAN_PATH,
                               "settings": {"eps": module.builder.eps, "min_samples": 2, "min_hits": 3}}
    restored = tiny_module(data, builder=DBSCANBuilder(eps=5.0, min_samples=50), scan=dbscan_grid)
    restored.on_load_checkpoint(ckpt)
    assert restored.builder == module.builder
    fixed = tiny_module(data, builder=DBSCANBuilder(eps=0.3, min_samples=3))  # no scan: the configured values stand
    fixed.on_load_checkpoint(ckpt)
    assert fixed.builder == DBSCANBuilder(eps=0.3, min_samples=3)

    # Condensation points on the same trained model: their t_beta and t_d scanned
    condensation_grid = {"t_beta": [0.5, 0.99], "t_d": [0.4, 9.0]}
    points = tiny_module(data, model=module.model, builder=CondensationPoints(t_beta=0.99, t_d=9.0),
                         scan=condensation_grid)
    metrics, ckpt = _validate(points, data, tmp_path, "condensation")
    assert points.builder == CondensationPoints(t_beta=0.5, t_d=0.4)
    assert metrics["val/dm_efficiency"] == 1.0 and metrics["val/dm_fake_rate"] == 0.0 and metrics["val/fom"] == 1.0
    assert metrics["val/builder/t_beta"] == pytest.approx(0.5) and metrics["val/builder/t_d"] == pytest.approx(0.4)
    assert "val/builder/eps" not in metrics
    assert ckpt["builder"] == {"class_path": CONDENSATION_PATH, "settings": {"t_beta": 0.5, "t_d": 0.4, "min_hits": 3}}
    restored = tiny_module(data, builder=CondensationPoints(t_beta=0.99, t_d=9.0), scan=condensation_grid)
    restored.on_load_checkpoint(ckpt)
    assert restored.builder == points.builder


def test_an_old_checkpoints_building_settings_are_restored_where_the_builder_is_scanned():
    # checkpoints written before builders were objects keep the chosen settings under "building"
    data = tiny_graph_event()
    old = {"building": {"eps": 0.2, "min_samples": 1, "t_beta": 0.5, "t_d": 0.4}}
    scanned = tiny_module(data, builder=DBSCANBuilder(eps=0.3, min_samples=2, min_hits=4),
                          scan={"eps": [0.1, 0.2, 0.3], "min_samples": [1, 2]})
    scanned.on_load_checkpoint(old)
    assert scanned.builder == DBSCANBuilder(eps=0.2, min_samples=1, min_hits=4)  # t_beta/t_d: not DBSCAN's
    assert scanned.builder.eps == 0.2 and isinstance(scanned.builder.min_samples, int)
    points = tiny_module(data, builder=CondensationPoints(t_beta=0.9, t_d=1.0), scan={"t_d": [0.4, 1.0]})
    points.on_load_checkpoint(old)
    assert points.builder == CondensationPoints(t_beta=0.5, t_d=0.4)
    fixed = tiny_module(data, builder=DBSCANBuilder(eps=0.3, min_samples=2))  # no scan: the configured builder
    fixed.on_load_checkpoint(old)
    assert fixed.builder == DBSCANBuilder(eps=0.3, min_samples=2)


@pytest.mark.parametrize(
    ("options", "message"),
    [  # each a function giving the module's options, so that a builder's own check runs inside the test
        (lambda: {"builder": None}, "builds tracks: give it a builder"),
        (lambda: {"builder": "hdbscan"}, "builder must be a trackcore.builders.TrackBuilder"),
        (lambda: {"loss_implementation": "sparse"}, "loss_implementation"),
        (lambda: {"builder": DBSCANBuilder(eps=0.0)}, "Expected 'eps' to be a finite number > 0"),
        (lambda: {"builder": CondensationPoints(t_beta=1.0)}, r"t_beta must be in \[0, 1\)"),
        (lambda: {"scan": {"eps": [0.1], "t_d": [0.4]}}, r"DBSCANBuilder has no settings \['t_d'\]"),
        (lambda: {"builder": CondensationPoints(), "scan": {"eps": [0.1]}},
         r"CondensationPoints has no settings \['eps'\]"),
        (lambda: {"scan": {"eps": [0.1, 0.0]}}, "Expected 'eps' to be a finite number > 0"),
        (lambda: {"builder": CondensationPoints(), "scan": {"t_beta": [], "t_d": []}},
         "give a non-empty list of values"),
        (lambda: {"scan": {}}, "a scan grid is"),
        (lambda: {"input_keys": ["embedding", "x"]}, "input_keys must be a list starting with 'x'"),
        (lambda: {"edge_score_cut": 1.5}, r"edge_score_cut must be in \[0, 1\]"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        tiny_module(tiny_graph_event(), **options())


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
