"""HGNN's embedding-to-head hand-over and its learning rate follow the run's --trainer.max_epochs."""

from __future__ import annotations

import math
from functools import partial

import lightning as L
import pytest
import torch
from torch_geometric.loader import DataLoader

from hgnn.model import HierarchicalGNN
from hgnn.module import HGNNModule
from tests.ec.test_edge_classifier import tiny_graph_event
from trackcore.builders import SoftAssignment
from trackcore.train import RunCosineAnnealingLR

BUILDER = SoftAssignment(method="threshold", threshold=0.7, min_weight=0.5, k=2, min_hits=3)


class RecordWeights(L.Callback):
    """The embedding term's weight of each training epoch."""

    def __init__(self) -> None:
        self.weights: list[float] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.weights.append(float(trainer.callback_metrics["train/embedding_weight"]))


def _fit(max_epochs: int, **kwargs) -> tuple[L.Trainer, list[float]]:
    torch.manual_seed(0)
    data = tiny_graph_event()
    model = HierarchicalGNN(node_in=data.x.shape[1], hidden_dim=16, emb_dim=8, n_encoder_iterations=1, n_cells=1)
    module = HGNNModule(model=model, optimizer=partial(torch.optim.Adam, lr=1e-3), scheduler=RunCosineAnnealingLR,
                        min_pt=0.0, n_random_pairs=200, min_embedding_weight=0.0, builder=BUILDER, **kwargs)
    record = RecordWeights()
    trainer = L.Trainer(max_epochs=max_epochs, limit_val_batches=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[record])
    trainer.fit(module, DataLoader([data], batch_size=1))
    return trainer, record.weights


@pytest.mark.parametrize(("max_epochs", "expected"), [
    (4, [1.0, 1.0 - math.sin(math.pi / 4), 0.0, 0.0]),  # E = 0.5 * 4 = 2
    (2, [1.0, 0.0]),  # E = 1: a shorter run hands over sooner
])
def test_the_hand_over_spans_a_fraction_of_the_run(max_epochs: int, expected: list[float], single_thread) -> None:
    trainer, weights = _fit(max_epochs, schedule_fraction=0.5)
    assert weights == pytest.approx(expected, abs=1e-6)
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)  # annealed too


def test_schedule_epochs_fixes_the_hand_over_deliberately(single_thread) -> None:
    _, weights = _fit(3, schedule_fraction=0.5, schedule_epochs=1)
    assert weights == pytest.approx([1.0, 0.0, 0.0], abs=1e-6)


def test_a_bad_fraction_is_named() -> None:
    data = tiny_graph_event()
    with pytest.raises(ValueError, match=r"schedule_fraction must be in \[0, 1\] \(got 1.5\)"):
        HGNNModule(model=HierarchicalGNN(node_in=data.x.shape[1]), builder=BUILDER, schedule_fraction=1.5)
