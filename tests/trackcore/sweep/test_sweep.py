"""Offline sweeps (W&B sweep files through Optuna) and their static dashboard."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.test_configs import TINY
from trackcore.cli import main
from trackcore.sweep import build_dashboard, load_sweep, run_sweep
from trackcore.sweep.runner import TrialReporter

ROOT = Path(__file__).resolve().parents[3]
SWEEPS = sorted((ROOT / "experiments" / "sweeps").glob("*.yaml"))


def _has_path(config: dict, dotted: str) -> bool:
    node = config
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_shipped_sweep_files_are_valid_and_name_real_config_keys(path):
    spec = load_sweep(path)
    assert spec.train_args[:2] == ("fit", "--config")
    config = yaml.safe_load((ROOT / spec.train_args[2]).read_text())
    missing = [p.name for p in spec.parameters if not _has_path(config, p.name)]
    assert missing == [], f"{path.name} sweeps keys its config does not have"


def test_every_family_has_a_sweep():
    names = {p.stem.split("_")[0] for p in SWEEPS}
    assert {"ec", "oc", "eggnet", "hgnn"} <= names


def _write(tmp_path: Path, **changes) -> Path:
    raw = {"program": "trackcore", "method": "grid", "metric": {"name": "val/loss", "goal": "minimize"},
           "command": ["${program}", "fit", "--config",
                       str(ROOT / "trackcore/graph/configs/small_metric_learning.yaml"),
                       "${args}"],
           "parameters": {"model.init_args.margin": {"values": [0.05, 0.1, 0.2]}}}
    raw.update(changes)
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"method": "hyperopt"}, "method must be one of"),
        ({"metrics": {}}, "unknown keys"),
        ({"command": ["trackcore", "fit"]}, r"needs command: .*\$\{args\}"),
        ({"parameters": {"a": {"min": 1.0, "max": 0.5}}}, "needs numbers min < max"),
        ({"parameters": {"a": {"distribution": "normal", "min": 0, "max": 1}}}, "unknown distribution"),
        ({"metric": {"name": "x", "goal": "up"}}, "metric goal must be one of"),
        ({"early_terminate": {"type": "median"}}, "early_terminate must be"),
    ],
)
def test_bad_sweep_files_are_named(tmp_path, changes, message):
    path = _write(tmp_path, **changes)
    with pytest.raises(ValueError, match=message) as err:
        load_sweep(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("method: grid\nmetric: {name: a\nparameters: x\n",
         "is not valid YAML: line 3, column 11: expected ',' or '}', but got ':' (while parsing a flow mapping)"),
        ("method: grid\n\tmetric: 3\n", "is not valid YAML: line 2, column 1: found character '\\t' that cannot"),
        ("- method\n- grid\n", "holds a YAML list, not a mapping of sweep keys"),
        ("just words\n", "holds a YAML str, not a mapping of sweep keys"),
        ("", "is empty; a sweep file is a YAML mapping"),
        ("method: grid\nmetric: {name: a}\nmetod: grid\n", "unknown keys ['metod']"),
    ],
    ids=["syntax", "tab", "list", "scalar", "empty", "unknown-key"],
)
def test_an_unreadable_sweep_file_is_one_line_naming_it(tmp_path, capsys, text, message):
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        load_sweep(path)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
    assert main(["sweep", str(path), "--out", str(tmp_path / "study")]) == 2
    assert capsys.readouterr().err == f"error: {err.value}\n"
    assert not (tmp_path / "study").exists()


def test_a_binary_or_badly_typed_sweep_file_is_named(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_bytes(b"method: grid\n\xff\xfe\n")
    with pytest.raises(ValueError, match=f"^{path}: is not a UTF-8 text file"):
        load_sweep(path)
    with pytest.raises(ValueError, match=f"^{tmp_path}: is a folder, not a sweep file"):
        load_sweep(tmp_path)
    with pytest.raises(ValueError, match=r"early_terminate min_iter must be an integer >= 1 \(got 'three'\)"):
        load_sweep(_write(tmp_path, early_terminate={"type": "hyperband", "min_iter": "three"}))
    with pytest.raises(ValueError, match=r"run_cap must be an integer >= 1 \(got 0\)"):
        load_sweep(_write(tmp_path, run_cap=0))


def test_a_grid_over_a_range_is_refused(tmp_path):
    spec = load_sweep(_write(tmp_path, parameters={"model.init_args.margin": {"min": 0.05, "max": 0.2}}))
    with pytest.raises(ValueError, match="a grid sweep needs 'values'"):
        run_sweep(spec, n_trials=1, out_dir=tmp_path / "out")


def test_a_pruned_trial_stops_its_run():
    class Trial:
        def __init__(self):
            self.reports = []

        def report(self, value, step):
            self.reports.append((step, value))

        def should_prune(self):
            return len(self.reports) >= 2

    class Trainer:
        sanity_checking, current_epoch, should_stop = False, 0, False
        callback_metrics = {"val/x": 0.5}

    trial, trainer = Trial(), Trainer()
    reporter = TrialReporter(trial, "val/x")
    reporter.on_validation_end(trainer, None)
    assert not trainer.should_stop
    trainer.current_epoch = 1
    reporter.on_validation_end(trainer, None)
    assert trainer.should_stop and reporter.pruned and trial.reports == [(0, 0.5), (1, 0.5)]


@pytest.mark.slow
def test_three_trial_offline_sweep_and_its_dashboard(tmp_path, monkeypatch, single_thread):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.chdir(tmp_path)
    extra = [*TINY, f"--data.init_args.data_root={tmp_path / 'data'}", "--trainer.max_epochs=2",
             "--trainer.limit_train_batches=2", "--trainer.enable_progress_bar=false",
             "--trainer.enable_model_summary=false"]
    assert main(["sweep", str(_write(tmp_path)), "--dashboard", "--", *extra]) == 0
    out = tmp_path / "runs" / "sweeps" / "sweep"
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 3 and (trials["state"] == "COMPLETE").all()
    assert sorted(trials["param:model.init_args.margin"]) == [0.05, 0.1, 0.2]
    assert (trials["value"] > 0).all() and trials["value"].nunique() == 3 and (trials["epochs"] == 2).all()
    for run_dir in trials["run_dir"]:  # every trial logged to CSV and to W&B offline
        log = pd.read_csv(tmp_path / run_dir / "version_0" / "metrics.csv")
        assert trials.loc[trials["run_dir"] == run_dir, "value"].item() == pytest.approx(
            log["val/loss"].min())
    assert len(list((tmp_path / "runs" / "wandb").glob("offline-run-*"))) == 3

    page = (out / "dashboard.html").read_text()
    assert "val/loss" in page and "minimize" in page and "margin" in page and page.count("<svg") >= 3
    for _, t in trials.iterrows():  # the best-trials table holds every trial's parameter and value
        assert f"<td>{t['param:model.init_args.margin']:.4g}</td>" in page
        assert f"<td>{t['value']:.4g}</td>" in page

    # a resumed study keeps its trials; the runs-folder dashboard finds it
    assert build_dashboard(tmp_path / "runs").read_text().count("<h2>") == 1

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        # CI installs chromium (.ci/run) and sets TRACKCORE_REQUIRE_CHROMIUM, so there it never skips.
        assert not os.environ.get("TRACKCORE_REQUIRE_CHROMIUM"), "TRACKCORE_REQUIRE_CHROMIUM is set but no chromium"
        pytest.skip("Debian chromium is not installed: the dashboard was not rendered (apt install chromium)")
    png = tmp_path / "dashboard.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--screenshot={png}",
                    "--window-size=1200,1600", (out / "dashboard.html").as_uri()], check=True, timeout=120,
                   capture_output=True)
    assert png.stat().st_size > 20_000  # a rendered page, not a blank one


def test_dashboard_of_a_folder_without_sweeps_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no trials.csv"):
        build_dashboard(tmp_path)
