"""The ACTS engine's pieces that need no ACTS run: configs, barcodes, CKF tables, timing, presets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from trackcore.data.acts_io import BARCODE_BITS, pack_barcode
from trackcore.data.acts_sim import ACTS_PRESETS, ActsSettings, get_acts_preset
from trackcore.data.acts_sim.configs import PITCH_MM, digitization_config, seeding_selection
from trackcore.data.acts_sim.engine import ckf_candidates, reco_seconds_per_event
from trackcore.data.errors import DataError


def test_smearing_config_has_pitch_over_sqrt12_for_every_volume():
    config = digitization_config("smearing")
    assert config["acts-geometry-hierarchy-map"]["value-identifier"] == "digitization-configuration"
    by_volume = {e["volume"]: e["value"]["smearing"] for e in config["entries"]}
    assert sorted(by_volume) == [7, 8, 9, 12, 13, 14, 16, 17, 18]
    for volumes, pitches in PITCH_MM.items():
        for volume in volumes:
            sigmas = [axis["stddev"] for axis in by_volume[volume]]
            assert sigmas == pytest.approx([p / math.sqrt(12) for p in pitches])
    assert by_volume[7][0]["stddev"] == pytest.approx(0.0144338, rel=1e-5)  # pinned: 50 um pixels
    with pytest.raises(ValueError, match="unknown digitization mode"):
        digitization_config("exact")


def test_geometric_config_has_the_module_cells_of_every_volume_and_acts_reads_it(tmp_path):
    from trackcore.data.acts_sim.configs import GEOMETRIC_SEGMENTATION, write_json

    config = digitization_config("geometric")
    by_volume = {e["volume"]: e["value"]["geometric"] for e in config["entries"]}
    assert sorted(by_volume) == [7, 8, 9, 12, 13, 14, 16, 17, 18]
    pixel = by_volume[8]["segmentation"]["binningdata"]
    # pinned: 50 um x 50 um pixels on a 16.8 mm x 72 mm module
    assert [(b["value"], b["bins"], b["max"] - b["min"]) for b in pixel] == [("binX", 336, 16.8), ("binY", 1440, 72.0)]
    for volumes, (h0, n0, h1, n1, _) in GEOMETRIC_SEGMENTATION.items():
        cells = [b for b in by_volume[volumes[0]]["segmentation"]["binningdata"]]
        assert [b["bins"] for b in cells] == [n0, n1] and [b["max"] for b in cells] == [h0, h1]
    assert 2 * 72.0 / 1200 == pytest.approx(PITCH_MM[(16, 17, 18)][0])  # long strips: the smearing pitch too
    acts_json = pytest.importorskip("acts.examples.json", reason="pyacts (optional extra `acts`) is not installed")
    assert acts_json.readDigiConfigFromJson(str(write_json(config, tmp_path / "digi.json"))) is not None


def test_seeding_uses_four_pixel_layers_per_volume():
    selection = seeding_selection()
    assert len(selection) == 12 and {s["volume"] for s in selection} == {7, 8, 9}
    assert [s["layer"] for s in selection if s["volume"] == 7] == [14, 12, 10, 8]


def test_barcode_packing_is_pinned_and_checked():
    table = pd.DataFrame(
        {"particle_id_pv": [1, 2], "particle_id_sv": [0, 3], "particle_id_part": [16, 1],
         "particle_id_gen": [0, 1], "particle_id_subpart": [0, 7]}
    )
    packed = pack_barcode(table)
    assert packed.tolist() == [(1 << 52) | (16 << 24), (2 << 52) | (3 << 40) | (1 << 24) | (1 << 16) | 7]
    assert (packed > 0).all() and len(set(packed)) == 2
    assert [name for name, _ in BARCODE_BITS][0] == "particle_id_pv" and sum(b for _, b in BARCODE_BITS) == 64
    with pytest.raises(DataError, match="particle_id_part outside 0..65535"):
        pack_barcode(table.assign(particle_id_part=[70000, 1]), "x.csv")


def test_ckf_candidates_parse_the_measurement_lists(tmp_path):
    path = tmp_path / "tracks.csv"
    path.write_text(
        "track_id,seed_id,nMeasurements,Measurements_ID\n"
        '4,1,3,"[11,29,53,]"\n'
        '7,2,2,"[29,80]"\n'
    )
    table = ckf_candidates(path)
    assert table.hit_id.tolist() == [11, 29, 53, 29, 80] and table.track_id.tolist() == [4, 4, 4, 7, 7]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not an ACTS CsvTrackWriter file"):
        ckf_candidates(bad)
    garbled = tmp_path / "garbled.csv"
    garbled.write_text('track_id,Measurements_ID\n3,"[1,x,2]"\n')
    with pytest.raises(ValueError, match=r"garbled.csv: track 3: Measurements_ID .* is not a list of ids"):
        ckf_candidates(garbled)


def test_reco_timing_sums_tracker_algorithms_only(tmp_path):
    path = tmp_path / "timing.csv"
    path.write_text(
        "identifier,time_total_s,time_perevent_s\n"
        "Reader:EventGenerator,1,0.5\n"
        "Algorithm:FatrasSimulation,2,1.0\n"
        "Algorithm:GridTripletSeedingAlgorithm,1,0.25\n"
        "Algorithm:TrackFindingAlgorithm,4,2.0\n"
        "Algorithm:TrackTruthMatcher,1,0.125\n"
        "Algorithm:GreedyAmbiguityResolutionAlgorithm,1,0.0625\n"
        "Writer:CsvTrackWriter,1,3.0\n"
    )
    reco, chain = reco_seconds_per_event(path)
    assert reco == pytest.approx(0.25 + 2.0 + 0.0625)
    assert chain == pytest.approx(0.5 + 1.0 + 0.25 + 2.0 + 0.125 + 0.0625)  # writers excluded


def test_presets_and_settings_are_checked():
    assert get_acts_preset("acts-ttbar-mu20").settings.mu == 20 and ACTS_PRESETS["acts-ttbar-mu200"].settings.mu == 200
    with pytest.raises(ValueError, match="valid presets: acts-ttbar-mu20, acts-ttbar-mu200"):
        get_acts_preset("ttbar")
    with pytest.raises(ValueError, match="mu must be in 0..1000"):
        ActsSettings(mu=-1)
    with pytest.raises(ValueError, match="unknown digitization"):
        ActsSettings(digitization="exact")
    assert np.isclose(math.sinh(ActsSettings().eta_max), 27.29, atol=0.01)  # the seeding's cot(theta) reach
