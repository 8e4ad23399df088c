"""`trackcore simulate --engine acts`: one ttbar + mu=20 event through Pythia 8, Fatras, digitisation and the
ACTS CKF, read back by our TrackML reader and evaluated with our metrics (the CI test of the `acts` extra)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trackcore.cli import main


@pytest.fixture(scope="module")
def acts_run(tmp_path_factory):
    pytest.importorskip("acts", reason="pyacts (optional extra `acts`) is not installed")
    pytest.importorskip("pythia8mc", reason="pythia8mc (optional extra `acts`) is not installed")
    out = tmp_path_factory.mktemp("acts_mu20")
    args = ["simulate", "--engine", "acts", "--preset", "acts-ttbar-mu20", "--events", "1", "--out", str(out)]
    assert main(args) == 0
    return out


@pytest.mark.slow
def test_one_mu20_event_is_simulated_read_and_tracked_by_the_ckf(acts_run):
    from trackcore.candidates import TrackCandidates
    from trackcore.compare.acts_ckf import attach_ckf_candidates
    from trackcore.data import ProcessingConfig, process_event
    from trackcore.data.trackml_io import list_events, read_event
    from trackcore.metrics import ParticlesOfInterest
    from trackcore.metrics.stage_report import evaluate_stage_events

    [prefix] = list_events(acts_run)
    event = read_event(prefix)  # validates the tables
    assert prefix.name == "event000001000" and event.truth_kind == "full"
    assert 4_000 < event.n_hits < 40_000  # ~9-13k at mu = 20
    assert set(event.hits["volume_id"]) == {7, 8, 9, 12, 13, 14, 16, 17, 18}  # the Generic detector = TrackML's
    assert event.truth["weight"].sum() == pytest.approx(1.0)  # official TrackML weights
    # a ttbar event has top decay products: some particles with pT > 10 GeV and many hits
    pt = np.hypot(event.particles["px"], event.particles["py"])
    assert ((pt > 10) & (event.particles["nhits"] >= 8)).sum() >= 2
    candidates = TrackCandidates.load(acts_run / "acts-ckf" / "event000001000-candidates.csv")
    assert np.isin(candidates.hit_id, event.hits["hit_id"]).all() and candidates.n_tracks > 50
    timing = json.loads((acts_run / "acts-ckf" / "timing.json").read_text())
    assert 0 < timing["ckf_seconds_per_event"] < timing["full_chain_seconds_per_event"]
    processed = attach_ckf_candidates(process_event(event, ProcessingConfig()), candidates)
    report = evaluate_stage_events([(str(prefix), processed)], poi=ParticlesOfInterest(min_pt=1.0))
    summary = report.tracking.summary()
    # the production tracker on its own simulation: measured 85% DM efficiency (pT > 1 GeV, |eta| < 4), no fakes
    assert summary["dm_efficiency"] > 0.7 and summary["dm_fake_rate"] < 0.02
    settings = json.loads((acts_run / "simulation.json").read_text())["settings"]
    assert settings["mu"] == 20 and settings["digitization"] == "smearing"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--preset", "tiny", "--mu", "20"], "--mu is an option of --engine acts"),
     (["--engine", "acts", "--detectors", "detectors.csv"], "--detectors is an option of the built-in engine"),
     (["--engine", "acts", "--preset", "ttbar"], "unknown ACTS preset 'ttbar'")],
)
def test_engine_specific_options_are_named(tmp_path, capsys, args, message):
    assert main(["simulate", *args, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_geometric_digitisation_clusters_cells_into_measurements(tmp_path):
    pytest.importorskip("acts", reason="pyacts (optional extra `acts`) is not installed")
    pytest.importorskip("pythia8mc", reason="pythia8mc (optional extra `acts`) is not installed")
    import pandas as pd

    from trackcore.data.trackml_io import list_events, read_event

    args = ["simulate", "--engine", "acts", "--preset", "acts-ttbar-mu20", "--events", "1",
            "--digitization", "geometric", "--out", str(tmp_path)]
    assert main(args) == 0
    [prefix] = list_events(tmp_path)
    event = read_event(prefix)  # validates the tables
    cells = pd.read_csv(tmp_path / "acts_csv" / "event000000000-cells.csv")
    measurements = pd.read_csv(tmp_path / "acts_csv" / "event000000000-measurements.csv")
    assert len(measurements) == event.n_hits
    # a particle crossing a 150-350 um sensor fires several cells, clustered into one measurement
    assert 2.0 < len(cells) / len(measurements) < 8.0 and cells["measurement_id"].nunique() == len(measurements)
    assert json.loads((tmp_path / "simulation.json").read_text())["settings"]["digitization"] == "geometric"
