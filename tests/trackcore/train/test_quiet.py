"""In-process runs hold back the expected chatter and nothing else, and restore what they changed."""

from __future__ import annotations

import logging
import os
import sys
import warnings

from trackcore.train.quiet import quiet_stage_runs


def test_expected_chatter_is_held_back_and_real_warnings_stay(monkeypatch):
    monkeypatch.delenv("WANDB_SILENT", raising=False)
    argv = list(sys.argv)
    level = logging.getLogger("lightning.pytorch").level
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_stage_runs():
            assert sys.argv == argv[:1]  # LightningCLI sees no competing command line
            assert os.environ["WANDB_SILENT"] == "true"
            assert not logging.getLogger("lightning.pytorch").isEnabledFor(logging.INFO)
            warnings.warn("The dirpath has changed from 'a' to 'b'", UserWarning, stacklevel=1)
            warnings.warn("validation loss is NaN", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["validation loss is NaN"]
    assert sys.argv == argv and "WANDB_SILENT" not in os.environ
    assert logging.getLogger("lightning.pytorch").level == level
