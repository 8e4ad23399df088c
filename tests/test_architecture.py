"""The shape of the code: import contracts (import-linter), file sizes, no measured numbers in source docstrings."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("trackcore", "ec", "oc", "eggnet", "hgnn")
SOURCES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))
MAX_LINES = 500
PERCENT = re.compile(r"\d+(\.\d+)?\s?%")
# a percentage near one of these words is a benchmark result (a simulation's parameters and
# definitions, e.g. "2.5% X0 per layer", are not)
RESULT_WORDS = re.compile(r"efficien|fake|duplicate|\bDM\b|purity|\bAUC\b|validation|\bval\b|\btest\b|found|scored",
                          re.IGNORECASE)


def _lint_imports(cwd: Path, config: str = ".importlinter") -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "lint-imports (PyPI import-linter) is not installed: `make install` installs it"
    return subprocess.run([exe, "--config", config, "--no-cache"], cwd=cwd, capture_output=True, text=True)


def test_the_import_contracts_hold() -> None:
    """Families never import each other, the core never imports a family, the core's subpackages
    form layers, and no package has an import cycle among its modules (.importlinter)."""
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "4 kept, 0 broken" in done.stdout


def test_a_broken_contract_fails(tmp_path: Path) -> None:
    """The checker does fail: a package whose two modules import each other breaks the cycle contract."""
    package = tmp_path / "cyclic_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic_pkg import b\n")
    (package / "b.py").write_text("from cyclic_pkg import a\n")
    (tmp_path / "contracts.ini").write_text(
        "[importlinter]\nroot_packages =\n    cyclic_pkg\n\n[importlinter:contract:c]\nname = no cycles\n"
        "type = acyclic_siblings\nancestors =\n    cyclic_pkg\n")
    done = _lint_imports(tmp_path, "contracts.ini")
    assert done.returncode != 0 and "BROKEN" in done.stdout


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_source_file_is_over_500_lines(path: Path) -> None:
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)}: {n} lines; split it by concern"


def _docstrings(tree: ast.AST) -> list[str]:
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
    return [doc for n in nodes if (doc := ast.get_docstring(n))]


def test_no_measured_numbers_in_source_docstrings() -> None:
    """Measured tracking results go stale in docstrings; they live in README, docs and reports."""
    found = []
    for path in SOURCES:
        for doc in _docstrings(ast.parse(path.read_text())):
            found += [f"{path.relative_to(ROOT)}: ...{doc[max(m.start() - 60, 0):m.end() + 60]!r}"
                      for m in PERCENT.finditer(doc) if RESULT_WORDS.search(doc[max(m.start() - 60, 0):m.end() + 60])]
    assert not found, "\n".join(found)
