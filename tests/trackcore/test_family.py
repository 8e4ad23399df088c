"""Family declarations (trackcore.family) and the stage record (stage.json): bad input is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackcore.compare.pipeline import FAMILIES, all_steps, family_steps, step_configs
from trackcore.family import Family, Step, load_families
from trackcore.train.writer import read_stage_settings


def test_the_installed_families_and_their_chains() -> None:
    assert FAMILIES == ("ec", "oc", "eggnet", "hgnn")
    assert {name: f.chain for name, f in load_families().items()} == {
        "ec": ("ml", "ec"), "oc": ("ml", "ec", "oc"), "eggnet": ("eggnet",), "hgnn": ("ml", "hgnn")}


def test_a_step_config_is_found_per_data_kind_and_a_missing_one_is_named(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text("{}\n")
    step = Step("x", configs=tmp_path, config="{data}.yaml")
    assert step.config_path("small") == tmp_path / "small.yaml"
    assert step.config_path("acts") == tmp_path / "small.yaml"  # no acts config: the small one
    with pytest.raises(FileNotFoundError, match=r"real_pt1.yaml: the config of step 'x' is missing"):
        step.config_path("real_pt1")
    (tmp_path / "full_pixel.yaml").write_text("{}\n")
    assert step.config_path("full_trackml") == tmp_path / "full_pixel.yaml"  # no density config: full_pixel's
    (tmp_path / "full_trackml.yaml").write_text("{}\n")
    assert step.config_path("full_trackml") == tmp_path / "full_trackml.yaml"
    with pytest.raises(ValueError, match="data kind must be one of"):
        step.config_path("mu200")


def test_a_chain_naming_an_unknown_step_is_named() -> None:
    family = Family(name="new", chain=("ml", "nowhere"))
    with pytest.raises(ValueError, match=r"family 'new': its chain names steps \['nowhere'\]"):
        family_steps(family, step_configs(), all_steps())


def test_a_stage_record_that_is_not_json_is_named(tmp_path: Path) -> None:
    assert read_stage_settings(tmp_path) is None  # a folder written before stages recorded their settings
    (tmp_path / "stage.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"stage.json: not JSON"):
        read_stage_settings(tmp_path)
