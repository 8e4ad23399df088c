"""A config run with a shorter --trainer.max_epochs still ends annealed; a fixed T_max that disagrees is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackcore.cli import main
from trackcore.train.cli import main as train_main

CONFIG = Path(__file__).resolve().parents[2] / "eggnet" / "configs" / "small.yaml"
TINY_RUN = [
    "--data.init_args.preset=tiny", "--data.init_args.progress=false", "--trainer.logger=false",
    "--checkpoint.monitor=null", "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false", "--trainer.limit_train_batches=1", "--trainer.limit_val_batches=0",
    "--model.init_args.model.init_args.hidden_dim=16", "--model.init_args.model.init_args.steps_per_iteration=1",
    "--model.init_args.n_random=500",
]


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
def test_a_three_epoch_run_of_a_config_ends_with_the_learning_rate_annealed(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = f"--data.init_args.data_root={isolated / 'data'}"
    cli = train_main(["fit", "--config", str(CONFIG), "--trainer.max_epochs=3", data, *TINY_RUN])
    assert cli.trainer.current_epoch == 3
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)
    # the same config with a fixed cosine of 60 epochs: refused in one line, not run un-annealed
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(CONFIG), "--trainer.max_epochs=3", data, *TINY_RUN,
              "--model.init_args.scheduler=torch.optim.lr_scheduler.CosineAnnealingLR",
              "--model.init_args.scheduler.init_args.T_max=60"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error: scheduler CosineAnnealingLR has T_max=60 but the run has max_epochs=3" in err
    assert "Traceback" not in err
