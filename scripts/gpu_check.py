"""The one-command GPU check (``make gpu-check``): run it whenever a session is lent a GPU.

1. the GPU tests (FAISS/torch neighbour search on CUDA tensors): none may be skipped, except those whose
   skip reason holds an ``--allow-skip`` text (named in the report);
2. a timed full-event inference of every family on CUDA: ``trackcore bench --data small-full-pixel
   --full-configs --device cuda`` (every pixel hit of the ``small`` events; random weights unless ``--ckpt
   STEP=PATH`` are given through ``BENCH_ARGS``). Not at TrackML density by default: there an untrained
   embedding is one blob, and OC's DBSCAN of 60k hits within one eps of each other filled this 24 GB machine
   (killed at 24 GB, stop 47); ``--inference-data trackml-full-pixel`` with trained checkpoints does it;
2b. with ``--density-ckpt STEP=PATH`` (e.g. ``ml=`` and ``ec=``, the density-trained graph and EC): the
   density configs' inference of those families, trained, at TrackML density (``bench --density-configs``);
3. a short CUDA training of every family and the comparison on full events: ``trackcore compare
   --data small --benchmark full_pixel --quick`` (``--compare-data tiny`` for a shorter one; the configs'
   ``accelerator: auto`` takes the GPU).

Each part's wall time, return code and output folder go to ``OUT/gpu_check.md`` and ``.json``
(default ``outputs/gpu_check``), rewritten after every part, so a check stopped at a time limit keeps what
it finished. Exits 2 at once, naming the reason, when torch sees no CUDA GPU; 1 when a part failed or ran
past ``--part-timeout`` (the others still run). On the lent device machine (no package index there):
``scripts/gpu_check_device.sh``.

    python scripts/gpu_check.py [--out DIR] [--events N] [--skip-compare] [--compare-data tiny]
                                [--allow-skip TEXT] [--part-timeout SECONDS]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACKCORE = [sys.executable, "-m", "trackcore"]
"""The command line, through this interpreter: where the package is installed with ``pip --target`` (the
device machine) no ``trackcore`` script lies beside it."""


def parts(out: Path, events: int, skip_compare: bool, compare_data: str = "small",
          inference_data: str = "small-full-pixel",
          density_ckpt: list[str] | None = None) -> list[tuple[str, list[str]]]:
    """The commands of the check, by name."""
    commands = [
        ("gpu tests", [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                       str(ROOT / "tests" / "trackcore" / "neighbors" / "test_gpu.py")]),
        (f"full-event inference ({inference_data}, every family)",
         [*TRACKCORE, "bench", "--data", inference_data, "--full-configs", "--device", "cuda",
          "--events", str(events), "--out", str(out / "bench"),
          *shlex.split(os.environ.get("BENCH_ARGS", ""))]),
    ]
    if density_ckpt:
        families = density_families(density_ckpt)
        commands.append(("density inference (trackml-full-pixel, trained " + ", ".join(families) + ")",
                         [*TRACKCORE, "bench", "--data", "trackml-full-pixel", "--density-configs", "--device", "cuda",
                          "--families", ",".join(families), "--events", str(events),
                          "--out", str(out / "bench_density"),
                          *[a for c in density_ckpt for a in ("--ckpt", c)]]))
    if not skip_compare:
        commands.append((f"short CUDA training + comparison ({compare_data}, full pixel, quick)",
                         [*TRACKCORE, "compare", "--data", compare_data, "--benchmark", "full_pixel", "--quick",
                          "--data-root", str(out / "data_cache"), "--out", str(out / "compare")]))
    return commands


def density_families(density_ckpt: list[str]) -> list[str]:
    """The families of ``--density-ckpt STEP=PATH`` settings (every step but ``ml``), each step checked by the
    shared ``KEY=VALUE`` parser against the installed chains' steps.

    Raises:
        ValueError: a setting that is not STEP=PATH of a known step; SystemExit: no family's step among them.
    """
    from trackcore.checks import setting_pairs
    from trackcore.compare.pipeline import all_steps

    steps = [step for step, _ in setting_pairs(density_ckpt, all_steps(), "--density-ckpt", "bench step")]
    families = [s for s in steps if s != "ml"]
    if not families:
        raise SystemExit(f"gpu-check: --density-ckpt takes STEP=PATH with a family's step (ec, oc, eggnet, "
                         f"hgnn) beside ml: got {density_ckpt}")
    return families


def skip_reasons(pytest_output: str) -> list[str]:
    """The reasons of the skipped tests in ``pytest -rs`` output (one per ``SKIPPED [n] where: reason`` line)."""
    return [m.group(1).strip() for m in re.finditer(r"^SKIPPED \[\d+\] [^:]+:\d+: (.*)$", pytest_output, re.M)]


def unallowed_skips(pytest_output: str, allowed: list[str]) -> tuple[list[str], list[str]]:
    """``(not allowed, allowed)`` skip reasons: a reason is allowed when it holds one of the ``allowed`` texts.
    A summary that counts skips with no reason line (``-rs`` missing) counts as one not allowed."""
    reasons = skip_reasons(pytest_output)
    if not reasons and re.search(r"\b\d+ skipped\b", pytest_output):
        reasons = ["skipped tests whose reasons were not printed"]
    ok = [r for r in reasons if any(a in r for a in allowed)]
    return [r for r in reasons if r not in ok], ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "gpu_check")
    parser.add_argument("--events", type=int, default=3, help="timed events of the inference part")
    parser.add_argument("--skip-compare", action="store_true", help="leave out the training part")
    parser.add_argument("--compare-data", default="small", choices=("tiny", "small"),
                        help="the preset of the short training (tiny: a few minutes less)")
    parser.add_argument("--allow-skip", action="append", default=[], metavar="TEXT",
                        help="a GPU test skipped for a reason holding TEXT still passes (named in the report); repeat")
    parser.add_argument("--inference-data", default="small-full-pixel",
                        choices=("small-full-pixel", "trackml-full-pixel"),
                        help="the every-family inference part's events (random weights unless BENCH_ARGS has --ckpt)")
    parser.add_argument("--density-ckpt", action="append", default=[], metavar="STEP=PATH",
                        help="trained weights for a TrackML-density inference part (e.g. ml=... and ec=...); repeat")
    parser.add_argument("--part-timeout", type=float, default=None, metavar="SECONDS",
                        help="stop a part after this long (it counts as failed; the next part runs)")
    args = parser.parse_args(argv)
    if args.density_ckpt:  # here, not after reaching a GPU
        try:
            density_families(args.density_ckpt)
        except ValueError as error:
            parser.error(str(error))
    return args


def _run(command: list[str], timeout: float | None) -> tuple[int | None, str]:
    """Return code (None past the timeout) and the output, stdout then stderr."""
    try:
        proc = subprocess.run(command, cwd=ROOT, text=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as stopped:
        text = [t.decode(errors="replace") if isinstance(t, bytes) else (t or "")
                for t in (stopped.stdout, stopped.stderr)]
        return None, "".join(text) + f"\n[gpu-check: stopped after {timeout:.0f} s]\n"
    return proc.returncode, proc.stdout + proc.stderr


def _write(out: Path, record: dict) -> None:
    """The record as JSON and a Markdown table, each written whole (``trackcore.data.atomic``)."""
    rows = record["parts"]
    lines = [f"# GPU check on {record['device']} (torch {record['torch']}, CUDA {record['cuda']})", "",
             "| part | ok | wall time | note | log |", "|---|---|---|---|---|"]
    for r in rows:
        note = "stopped at the part timeout" if r["returncode"] is None else f"exit {r['returncode']}"
        if r["skipped_tests"]:
            note += "; skipped: " + "; ".join(r["skipped_tests"])
        if r["allowed_skips"]:
            note += "; allowed skips: " + "; ".join(r["allowed_skips"])
        lines.append(f"| {r['part']} | {'yes' if r['ok'] else 'NO'} | {r['seconds']:.0f} s | {note} | {r['log']} |")
    lines += ["", "Inference timings per family: bench/bench_*.md (and bench_density/ with --density-ckpt); "
              "training and inference of the short run: compare/report.md."]
    from trackcore.data.atomic import atomic_write_text

    atomic_write_text(out / "gpu_check.json", json.dumps(record, indent=1))
    atomic_write_text(out / "gpu_check.md", "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print(f"gpu-check: torch {torch.__version__} sees no CUDA GPU (torch.version.cuda = {torch.version.cuda}); "
              "nothing to check here (the CPU paths are covered by `make test`)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    record = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "cuda": torch.version.cuda,
              "parts": []}
    for name, command in parts(args.out, args.events, args.skip_compare, args.compare_data, args.inference_data,
                               args.density_ckpt):
        print(f"== gpu-check: {name}: {shlex.join(command)}", flush=True)
        start = time.perf_counter()
        returncode, output = _run(command, args.part_timeout)
        seconds = time.perf_counter() - start
        log = args.out / f"{name.split(' ')[0].replace('-', '_')}.log"
        log.write_text(output)
        skipped, allowed = unallowed_skips(output, args.allow_skip) if name == "gpu tests" else ([], [])
        print(output[-5000:], flush=True)
        record["parts"].append({"part": name, "command": shlex.join(command), "returncode": returncode,
                                "skipped_tests": skipped, "allowed_skips": allowed,
                                "ok": returncode == 0 and not skipped, "seconds": round(seconds, 1),
                                "log": str(log)})
        _write(args.out, record)
    print((args.out / "gpu_check.md").read_text())
    return 0 if all(r["ok"] for r in record["parts"]) else 1


if __name__ == "__main__":
    sys.exit(main())
