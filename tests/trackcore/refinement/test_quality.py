"""The learned quality cut: candidate features, the fake classifier's file, the refinement's last step and
``trackcore quality fit|scan``, on hand-built helices through the TrackML pixel barrel (mm, 2 T)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from tests.trackcore.builders.helpers import track_sets
from tests.trackcore.refinement.test_holes import BARREL
from tests.trackcore.refinement.test_refine import candidates, helix
from trackcore.cli import main
from trackcore.refinement import quality, steps
from trackcore.refinement.quality import FEATURES, QualityModel, candidate_features, crowding
from trackcore.refinement.refine import HelixRefinement

LAYERS = np.array([2, 4, 6, 8])


class ShortIsFake:
    """A stand-in classifier (picklable): candidates of fewer than 4 hits are fakes."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        fake = (x[:, FEATURES.index("hits")] < 4).astype(np.float64)
        return np.stack([1 - fake, fake], 1)


def particles(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` prompt particles on the 4 barrel layers: positions (4 n, 3) and particle ids (1..n, 4 hits each)."""
    rng = np.random.default_rng(seed)
    pos = np.concatenate([helix(rng.uniform(1, 5), rng.uniform(-3, 3), rng.uniform(-0.8, 0.8), rng.uniform(-50, 50),
                                charge=int(rng.choice([-1, 1])), radii=BARREL) for _ in range(n)])
    return pos, np.repeat(np.arange(1, n + 1), 4)


def fake_triples(n_particles: int, n: int, seed: int = 1) -> list[list[int]]:
    """``n`` candidates of 3 hits of 3 different particles on layers 2, 4 and 6."""
    rng = np.random.default_rng(seed)
    return [[4 * a, 4 * b + 1, 4 * c + 2] for a, b, c in (rng.choice(n_particles, 3, replace=False) for _ in range(n))]


def layer_of(n: int) -> tuple:
    return steps.hit_layers(4 * n, np.full(4 * n, 8), np.tile(LAYERS, n), (7, 8, 9))


def test_features_of_a_particle_and_of_hits_of_three_particles() -> None:
    pos, _ = particles(3)
    tracks = [np.arange(4), np.array([0, 5, 10])]
    x = candidate_features(pos, tracks, layer_of(3), hole_margin=1.0, span_from=5, crowd=crowding(pos, (0.01, 0.02)))
    assert x.shape == (2, len(FEATURES)) and np.isfinite(x).all()
    row = dict(zip(FEATURES, x[0], strict=True))
    assert (row["hits"], row["layers"], row["holes"]) == (4, 4, 0)
    assert row["max_dxy"] < 1e-6 and row["max_drz"] < 0.01 and row["log10_d0"] < -2  # on its helix, through the beam
    assert row["radial_span"] == pytest.approx(172 - 32, abs=1e-6) and row["inner_radius"] == pytest.approx(32)
    assert x[1, FEATURES.index("max_drz")] > 1.0  # three particles' hits lie on no (r, z) line
    assert candidate_features(pos, [], layer_of(3), hole_margin=1.0, span_from=5, crowd=np.ones(12)).shape == (0, 15)


def test_a_fitted_model_separates_fakes_and_survives_its_file(tmp_path: Path) -> None:
    n = 60
    pos, _ = particles(n)
    tracks = [np.arange(4 * i, 4 * i + 4) for i in range(n)] + [np.array(t) for t in fake_triples(n, 60)]
    fake = np.r_[np.zeros(n, bool), np.ones(60, bool)]
    x = candidate_features(pos, tracks, layer_of(n), hole_margin=1.0, span_from=5, crowd=crowding(pos, (0.01, 0.02)))
    model = QualityModel.fit(x[::2], fake[::2], info={"events": 1})
    path = model.save(tmp_path / "q.pkl")
    loaded = QualityModel.load(path)
    prob = loaded.fake_probability(pos, tracks[1::2], layer_of(n))
    assert prob.shape == (60,) and ((prob > 0.5) == fake[1::2]).mean() > 0.9  # held-out candidates
    assert loaded.info == {"events": 1} and not list(tmp_path.glob(".*"))  # no temporary file left


def test_bad_model_files_and_settings_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.pkl: no quality model there"):
        QualityModel.load(tmp_path / "nope.pkl")
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="junk.pkl: not a saved quality model"):
        QualityModel.load(tmp_path / "junk.pkl")
    (tmp_path / "dict.pkl").write_bytes(pickle.dumps({"format": 1, "model": "x"}))
    with pytest.raises(ValueError, match="dict.pkl: not a saved quality model"):
        QualityModel.load(tmp_path / "dict.pkl")
    (tmp_path / "old.pkl").write_bytes(pickle.dumps({"format": 0, "model": QualityModel(ShortIsFake())}))
    with pytest.raises(ValueError, match="old.pkl: quality model format 0"):
        QualityModel.load(tmp_path / "old.pkl")
    with pytest.raises(ValueError, match="both kinds are needed"):
        QualityModel.fit(np.zeros((5, len(FEATURES))), np.zeros(5, bool))
    with pytest.raises(ValueError, match="Expected features"):
        QualityModel.fit(np.zeros((5, 3)), np.r_[True, False, False, False, False])
    with pytest.raises(FileNotFoundError, match="nope.pkl"):
        HelixRefinement(quality_model=str(tmp_path / "nope.pkl"))
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="max_fake_prob must lie in"):
            HelixRefinement(max_fake_prob=bad)


def test_the_refinement_judges_its_candidates_and_the_searches_helices(tmp_path: Path) -> None:
    n = 4
    pos, _ = particles(n)
    path = str(QualityModel(ShortIsFake()).save(tmp_path / "short.pkl"))
    tracks = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]  # the third lost its outer hit: 3 hits, one hole
    volume, layer = np.full(4 * n, 8), np.tile(LAYERS, n)

    def refined(max_fake_prob: float, points: np.ndarray, **settings) -> set[frozenset[int]]:
        refine = HelixRefinement(extend=False, quality_model=path, max_fake_prob=max_fake_prob, **settings)
        return track_sets(refine(candidates(tracks), points, None, volume, layer_id=layer))

    whole = {frozenset(range(4)), frozenset(range(4, 8))}
    assert refined(0.5, pos) == whole  # the 3-hit candidate is dropped
    assert refined(1.0, pos) == whole | {frozenset(range(8, 11))}  # probability 1 passes a threshold of 1
    # its hits are searched (with particle 4's, in no candidate): with hit 11 the search finds the whole
    # particle, which the model keeps
    search = {"recover": True, "recover_window": (0.3, 2.0)}
    fourth = frozenset(range(12, 16))
    assert refined(0.5, pos, **search) == whole | {frozenset(range(8, 12)), fourth}
    far = pos.copy()
    far[11] += 300.0  # without hit 11 the search's helix has 3 hits: the model rejects it before it takes them
    assert refined(0.5, far, **search) == whole | {fourth}
    assert refined(1.0, far, **search) == whole | {frozenset(range(8, 11)), fourth}
    with pytest.raises(ValueError, match="need the hits' volume_id and layer_id"):
        HelixRefinement(quality_model=path)(candidates(tracks), pos)


def test_an_events_refinements_with_one_memo_compute_its_crowding_once(tmp_path: Path, monkeypatch) -> None:
    n = 4
    pos, _ = particles(n)
    path = str(QualityModel(ShortIsFake()).save(tmp_path / "short.pkl"))
    tracks, volume, layer = [[0, 1, 2, 3], [8, 9, 10]], np.full(4 * n, 8), np.tile(LAYERS, n)
    refine = HelixRefinement(extend=False, quality_model=path, recover=True, recover_window=(0.3, 2.0))
    calls = []
    original = quality.crowding
    monkeypatch.setattr(quality, "crowding", lambda *a: calls.append(1) or original(*a))
    alone = [track_sets(refine(candidates(tracks), pos, None, volume, layer_id=layer)) for _ in range(2)]
    assert len(calls) == 2  # without a memo: once per call
    memo: dict = {}
    shared = [track_sets(refine(candidates(tracks), pos, None, volume, layer_id=layer, memo=memo)) for _ in range(2)]
    assert len(calls) == 3 and shared == alone  # with one: once for the event, the same candidates


def test_null_on_the_command_line_switches_the_learned_cuts_off(tmp_path: Path) -> None:
    from trackcore.train.cli import main as train_main

    path = str(QualityModel(ShortIsFake()).save(tmp_path / "short.pkl"))
    config = Path(__file__).resolve().parents[3] / "ec" / "configs" / "full_trackml_edge_classifier.yaml"
    base = ["--config", str(config), "--trainer.logger=false"]
    on = f'--model.init_args.refine.triplets={{quality_model: {path}}}'
    refine = train_main([*base, f"--model.init_args.refine.quality_model={path}", on], run=False).model.refine
    assert refine.quality_model == path and refine.triplets.quality_model == path
    off = ["--model.init_args.refine.quality_model=null", "--model.init_args.refine.triplets={quality_model: null}"]
    refine = train_main([*base, f"--model.init_args.refine.quality_model={path}", *off], run=False).model.refine
    assert refine.quality_model is None and refine.triplets.quality_model is None  # not the file "None"
    assert HelixRefinement(quality_model="None").quality_model is None
    with pytest.raises(FileNotFoundError, match="nonull.pkl: no quality model there"):
        HelixRefinement(quality_model=str(tmp_path / "nonull.pkl"))


def write_stage(folder: Path, split: str, n_events: int) -> None:
    """Stage events of 40 particles each, with their particles' candidates and 30 fakes of three particles."""
    (folder / split).mkdir(parents=True)
    n = 40
    for e in range(n_events):
        pos, pid = particles(n, seed=10 + e)
        tracks = [list(range(4 * i, 4 * i + 4)) for i in range(n)] + fake_triples(n, 30, seed=100 + e)
        c = candidates(tracks)
        data = Data(hit_id=torch.arange(4 * n) + 1, pos=torch.tensor(pos, dtype=torch.float32),
                    particle_id=torch.tensor(pid), particle_table_id=torch.arange(1, n + 1),
                    particle_table_pt=torch.full((n,), 2.0), particle_table_eta=torch.zeros(n),
                    volume_id=torch.full((4 * n,), 8), layer_id=torch.tensor(np.tile(LAYERS, n)),
                    track_hit_id=torch.tensor(c.hit_id + 1), track_id=torch.tensor(c.track_id), num_nodes=4 * n)
        torch.save(data, folder / split / f"event{1000 + e:09d}.pt")


def test_quality_fit_and_scan_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stage = tmp_path / "stage"
    write_stage(stage, "train", 3)
    write_stage(stage, "val", 2)
    model = tmp_path / "q.pkl"
    assert main(["quality", "fit", str(stage), "--model", str(model)]) == 0
    assert "fitted on 210 candidates (90 fakes) of 3 events" in capsys.readouterr().out
    assert main(["quality", "scan", str(stage), "--model", str(model), "--thresholds", "0.5,1"]) == 0
    out = capsys.readouterr().out
    assert "max_fake_prob 1.00: efficiency 100.00% (pT > 0.5: 100.00%), fake rate 42.86%" in out  # 60 of 140
    assert "max_fake_prob 0.50: efficiency 100.00%" in out
    rows = (stage / "quality" / "val" / "quality_scan.csv").read_text().splitlines()
    assert len(rows) == 3 and float(rows[1].split(",")[2]) < 0.05  # the cut keeps fakes below 5%
    assert (stage / "quality" / "val" / "quality_scan.png").stat().st_size > 0
    assert main(["quality", "scan", str(tmp_path / "none"), "--model", str(model)]) == 2
    assert main(["quality", "scan", str(stage), "--model", str(tmp_path / "nope.pkl")]) == 2
    assert "nope.pkl: no quality model there" in capsys.readouterr().err


def test_crowding_counts_the_hits_within_the_window_capped() -> None:
    rng = np.random.default_rng(0)
    # a dense bunch (more than the cap within the window) and a sparse spread, at several radii
    phi = np.r_[rng.normal(0.3, 0.004, 120), rng.uniform(-np.pi, np.pi, 400)]
    eta = np.r_[rng.normal(0.5, 0.008, 120), rng.uniform(-3, 3, 400)]
    r = rng.uniform(30, 1000, len(phi))
    pos = np.stack([r * np.cos(phi), r * np.sin(phi), r * np.sinh(eta)], 1)
    window = (0.01, 0.02)
    seen_phi = np.arctan2(pos[:, 1], pos[:, 0])
    seen_eta = np.arcsinh(pos[:, 2] / np.hypot(pos[:, 0], pos[:, 1]))
    d = np.stack([np.cos(seen_phi) / window[0], np.sin(seen_phi) / window[0], seen_eta / window[1]], 1)
    brute = (np.linalg.norm(d[:, None] - d[None], axis=2) <= 1.0).sum(1)
    assert brute.max() > 64 and brute.min() == 1  # the cap binds somewhere, and some hits are alone
    np.testing.assert_array_equal(crowding(pos, window), np.minimum(brute, 64))
    assert crowding(pos[:0], window).shape == (0,)
