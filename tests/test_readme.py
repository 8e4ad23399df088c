"""The README's snippets run as written: its Python blocks are executed, and every
``trackcore`` command line of its shell blocks names a real command and real options."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from trackcore.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
README = (ROOT / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
BASH_BLOCKS = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
LIGHTNING = {"fit", "validate", "test", "predict"}


def test_the_readme_has_snippets():
    assert len(PYTHON_BLOCKS) >= 2 and len(BASH_BLOCKS) >= 5


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_snippet_runs_as_written(index, tmp_path):
    code = PYTHON_BLOCKS[index]
    if "../shared/data" in code and not (SHARED / "data").is_dir():
        pytest.skip(f"README python snippet {index} reads ../shared/data, which is absent")
    # Run where the README's relative paths hold: a project folder with ../shared beside it.
    work = tmp_path / "main"
    work.mkdir()
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED)
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, f"README python snippet {index} failed:\n{code}\n{run.stderr[-3000:]}"


def _subcommand_parsers() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _command_lines() -> list[str]:
    lines, joined = [], ""
    for block in BASH_BLOCKS:
        for raw in block.splitlines():
            joined += raw.rstrip().removesuffix("\\") + " " if raw.rstrip().endswith("\\") else raw
            if raw.rstrip().endswith("\\"):
                continue
            line = joined.split("#")[0].strip()
            joined = ""
            for part in re.split(r"&&|\|", line):
                part = part.strip()
                if part.startswith("trackcore "):
                    lines.append(part)
    return lines


def test_every_trackcore_command_line_names_a_real_command_and_real_options():
    parsers = _subcommand_parsers()
    lines = _command_lines()
    assert len(lines) >= 20
    for line in lines:
        words = line.split()
        command = words[1]
        assert command in parsers, f"README: `{line}` names no trackcore command {command!r}"
        if command in LIGHTNING:
            continue  # LightningCLI options (--config, --trainer.*, ...) are checked by the config tests
        parser, words = parsers[command], words[2:]
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if actions:  # a command with actions (`trackcore quality fit ...`): the action's options
            assert words and words[0] in actions[0].choices, f"README: `{line}` names no {command} action"
            parser, words = actions[0].choices[words[0]], words[1:]
        known = {s for a in parser._actions for s in a.option_strings}
        words = [w.lstrip("[{") for w in words]
        words = words[: words.index("--")] if "--" in words else words  # after `--`: fit arguments
        options = {re.split(r"[=\]]", w)[0] for w in words if w.startswith("--")}
        unknown = sorted(options - known)
        assert not unknown, f"README: `{line}` uses options {unknown} that `trackcore {command}` does not have"
