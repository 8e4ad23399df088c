"""glibc's mmap/trim thresholds are raised once per process, and can be turned off."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = "import trackcore.allocator as a; print(a.keep_freed_memory(), a.keep_freed_memory())"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_thresholds_are_set_once_and_can_be_turned_off(monkeypatch):
    on = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert on.stdout.split() == ["True", "True"]
    monkeypatch.setenv("TRACKCORE_MALLOC_TUNING", "0")
    off = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert off.stdout.split() == ["False", "False"]
