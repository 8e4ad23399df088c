"""The best checkpoint of a stage that builds tracks weighs its fakes: DM efficiency - DM fake rate."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import lightning as L
import pytest
import torch
import yaml
from torch.utils.data import DataLoader

from trackcore.train import LossOutput, TrackingModule
from trackcore.train.checkpoint import BestAndLastCheckpoint, selection_metric

ROOT = Path(__file__).resolve().parents[3]
# HGNN's run on the small preset: DM efficiency alone kept epoch 2 over epoch 11
HISTORY = {2: (0.879, 0.095), 11: (0.869, 0.034)}
OTHER_EPOCHS = (0.80, 0.10)


class HistoryModule(TrackingModule):
    """A module whose validation epochs report the tracking metrics of :data:`HISTORY` (it builds
    no track itself, so it takes no builder; its checkpoints are chosen as a tracking stage's)."""

    @classmethod
    def builds_tracks(cls) -> bool:
        return True

    def training_loss(self, batch: torch.Tensor) -> LossOutput:
        return LossOutput(((self.model.weight - 1.0) ** 2).sum())

    def build_tracks(self, event, outputs):  # noqa: ANN001, ANN201 - only its presence matters here
        raise AssertionError("not called: validation reports HISTORY")

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        pass

    def on_validation_epoch_end(self) -> None:
        efficiency, fake = HISTORY.get(self.current_epoch, OTHER_EPOCHS)
        summary = {"dm_efficiency": efficiency, "dm_fake_rate": fake, "dm_duplicate_rate": 0.0,
                   "lhc_efficiency": efficiency, "perfect_efficiency": efficiency}
        self.log_tracking_summary("val", summary)


def _checkpoint_block(config: str) -> dict:
    return yaml.safe_load((ROOT / config).read_text())["checkpoint"]


@pytest.mark.parametrize("config", ["hgnn/configs/small.yaml", "oc/configs/small.yaml", "eggnet/configs/small.yaml",
                                    "ec/configs/small_edge_classifier.yaml"])
def test_the_best_epoch_is_the_one_with_fewer_fakes(config: str, tmp_path: Path, single_thread) -> None:
    block = _checkpoint_block(config)
    torch.manual_seed(0)
    module = HistoryModule(model=torch.nn.Linear(1, 1, bias=False), optimizer=partial(torch.optim.SGD, lr=0.1))
    checkpoint = BestAndLastCheckpoint(dirpath=tmp_path, monitor=block["monitor"], mode=block["mode"], save_last=True)
    trainer = L.Trainer(max_epochs=12, logger=False, callbacks=[checkpoint], enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0)
    data = DataLoader([torch.zeros(1)], batch_size=1)
    trainer.fit(module, data, data)
    assert Path(checkpoint.best_model_path).name == "epoch=11-step=12.ckpt"
    assert float(checkpoint.best_model_score) == pytest.approx(0.869 - 0.034)
    assert float(trainer.callback_metrics["val/fom"]) == pytest.approx(0.869 - 0.034)  # epoch 11, the last
    assert float(trainer.callback_metrics["val/dm_fake_rate"]) == pytest.approx(0.034)


def test_stages_that_build_tracks_select_on_the_figure_of_merit() -> None:
    from ec.module import EdgeClassifier
    from trackcore.graph.filter import EdgeFilter
    from trackcore.graph.metric_learning import MetricLearning

    assert selection_metric(HistoryModule.builds_tracks()) == ("val/fom", "max")
    assert selection_metric(EdgeClassifier.builds_tracks()) == ("val/fom", "max")
    for stage in (MetricLearning, EdgeFilter):  # no track to count in their validation
        assert selection_metric(stage.builds_tracks()) == ("val/loss", "min")
