"""Every test folder is collected: no folder under tests/ matches a pattern pytest does not recurse into.

pytest's default ``norecursedirs`` includes ``build``, which silently dropped tests/trackcore/builders
(the refinement, holes and clustering tests) from every suite run until pyproject.toml set its own.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_test_folder_is_skipped_by_norecursedirs() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["norecursedirs"]
    folders = [p for p in (ROOT / "tests").rglob("*") if p.is_dir() and p.name != "__pycache__"]
    assert any(f.name == "builders" for f in folders)
    skipped = [str(f.relative_to(ROOT)) for f in folders if any(fnmatch.fnmatch(f.name, pat) for pat in patterns)]
    assert not skipped, f"pytest would not collect {skipped}: adjust norecursedirs in pyproject.toml"
