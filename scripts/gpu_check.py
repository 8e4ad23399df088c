"""The one-command GPU check (``make gpu-check``): run it whenever a session is lent a GPU.

1. the GPU tests (FAISS/torch neighbour search on CUDA tensors): none may be skipped;
2. a timed full-event inference of every family on CUDA: ``trackcore bench --data trackml-full-pixel
   --full-configs --device cuda`` (TrackML density, every pixel hit; random weights unless
   ``--ckpt STEP=PATH`` are given through ``BENCH_ARGS``);
3. a short CUDA training of every family and the comparison on full events: ``trackcore compare
   --data small --benchmark full_pixel --quick`` (the configs' ``accelerator: auto`` takes the GPU).

Each part's wall time, return code and output folder go to ``OUT/gpu_check.md`` and ``.json``
(default ``outputs/gpu_check``). Exits 2 at once, naming the reason, when torch sees no CUDA GPU;
1 when a part failed (the others still run).

    python scripts/gpu_check.py [--out DIR] [--events N] [--skip-compare]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def parts(out: Path, events: int, skip_compare: bool) -> list[tuple[str, list[str]]]:
    """The commands of the check, by name."""
    trackcore = str(BIN / "trackcore")
    commands = [
        ("gpu tests", [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                       str(ROOT / "tests" / "trackcore" / "neighbors" / "test_gpu.py")]),
        ("full-event inference (trackml density, every pixel hit)",
         [trackcore, "bench", "--data", "trackml-full-pixel", "--full-configs", "--device", "cuda",
          "--events", str(events), "--out", str(out / "bench"),
          *shlex.split(os.environ.get("BENCH_ARGS", ""))]),
    ]
    if not skip_compare:
        commands.append(("short CUDA training + comparison (small, full pixel, quick)",
                         [trackcore, "compare", "--data", "small", "--benchmark", "full_pixel", "--quick",
                          "--data-root", str(out / "data_cache"), "--out", str(out / "compare")]))
    return commands


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "gpu_check")
    parser.add_argument("--events", type=int, default=3, help="timed events of the inference part")
    parser.add_argument("--skip-compare", action="store_true", help="leave out the training part")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print(f"gpu-check: torch {torch.__version__} sees no CUDA GPU (torch.version.cuda = {torch.version.cuda}); "
              "nothing to check here (the CPU paths are covered by `make test`)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    device = torch.cuda.get_device_name(0)
    rows = []
    for name, command in parts(args.out, args.events, args.skip_compare):
        print(f"== gpu-check: {name}: {shlex.join(command)}", flush=True)
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=ROOT, text=True, capture_output=True)
        seconds = time.perf_counter() - start
        log = args.out / f"{name.split(' ')[0].replace('-', '_')}.log"
        log.write_text(proc.stdout + proc.stderr)
        skipped = name == "gpu tests" and " skipped" in proc.stdout
        ok = proc.returncode == 0 and not skipped
        print(proc.stdout[-3000:], proc.stderr[-2000:], sep="\n", flush=True)
        rows.append({"part": name, "command": shlex.join(command), "returncode": proc.returncode,
                     "skipped_tests": skipped, "ok": ok, "seconds": round(seconds, 1), "log": str(log)})
    record = {"device": device, "torch": torch.__version__, "cuda": torch.version.cuda, "parts": rows}
    (args.out / "gpu_check.json").write_text(json.dumps(record, indent=1))
    lines = [f"# GPU check on {device} (torch {torch.__version__}, CUDA {torch.version.cuda})", "",
             "| part | ok | wall time | log |", "|---|---|---|---|"]
    lines += [f"| {r['part']} | {'yes' if r['ok'] else 'NO'} | {r['seconds']:.0f} s | {r['log']} |" for r in rows]
    lines += ["", "Inference timings per family: the bench folder's bench_*.md; training and inference of the "
              "short run: compare/report.md."]
    (args.out / "gpu_check.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
