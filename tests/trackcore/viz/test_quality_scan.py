"""The learned quality cut's threshold scan plot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trackcore.viz import plot_quality_scan


def test_the_scan_plot_is_written_and_a_missing_column_named(tmp_path: Path) -> None:
    frame = pd.DataFrame({"max_fake_prob": [0.3, 0.5, 1.0], "dm_efficiency": [0.93, 0.94, 0.95],
                          "dm_fake_rate": [0.012, 0.018, 0.08]})
    path = plot_quality_scan(frame, tmp_path / "scan.png", dataset="val")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and not list(tmp_path.glob(".*"))
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['dm_fake_rate'\]"):
        plot_quality_scan(frame.drop(columns="dm_fake_rate"), tmp_path / "bad.png")
