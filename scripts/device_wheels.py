"""The wheels the lent GPU machine lacks, for ``scripts/gpu_check_device.sh`` (``make gpu-wheels``).

The lent machine reaches no package index: its image holds PyTorch and much else
(``scripts/device_image_packages.txt``: the names its image held when read), and whatever else trackcore
needs travels with the working tree as wheels (at most 64 MiB with the tree). This script works out that
set from this environment's installed metadata: the closure of trackcore's requirements (no extras), less
the image's packages; downloads each at the version installed here (so the versions tested here travel)
for the device's Python, CPython 3.12 on x86-64 Linux; and builds trackcore's own wheel (its entry points
register the families). Everything lands in ``--out`` (git-ignored ``outputs/device_wheels`` by default),
which the device call carries. ``--model STEP=PATH`` copies trained weights beside them (``models/STEP.ckpt``),
for which the device script adds the GPU check's TrackML-density part (``--density-ckpt``).

    python scripts/device_wheels.py [--out DIR] [--python-version 3.12] [--max-mib 48] [--model ml=PATH ...]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "scripts" / "device_image_packages.txt"
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64")


def canonical(name: str) -> str:
    """A distribution name as indexes compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def image_packages(path: Path = IMAGE) -> set[str]:
    """The image's package names (one per line; ``#`` comments)."""
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return {canonical(line) for line in lines if line}


def closure(roots: Iterable[str], requires: Callable[[str], list[str]], python_version: str,
            provided: set[str] = frozenset()) -> set[str]:
    """Every distribution ``roots`` need, themselves included: ``requires(name)`` gives a distribution's
    requirement strings; those whose markers exclude the device's Python or that only an extra asks for are
    left out. A ``provided`` distribution is in the result but not expanded (the image brings its own needs).

    Shapes: names in, canonical names out.
    """
    environment = {"python_version": python_version, "python_full_version": f"{python_version}.0",
                   "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                   "os_name": "posix", "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    seen: set[tuple[str, str]] = set()  # (name, extra asked for; "" for the distribution itself)
    todo = [(canonical(r), "") for r in roots]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        if name in provided:
            continue
        for text in requires(name):
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate({**environment, "extra": extra}):
                continue
            if requirement.marker is None and extra:
                continue  # asked for by the distribution itself, without the extra
            todo += [(canonical(requirement.name), e) for e in ("", *sorted(requirement.extras))]
    return {name for name, _ in seen}


def installed_requires(name: str) -> list[str]:
    """A distribution's requirement strings, from this environment's metadata."""
    try:
        return metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        raise SystemExit(f"device-wheels: {name} is needed but not installed here (its version to carry is "
                         "unknown): install the project (`make install`) and run this with its interpreter") from None


def missing_from_image(python_version: str = "3.12", image: set[str] | None = None) -> dict[str, str]:
    """Name -> version installed here of every distribution trackcore needs that the image lacks (trackcore
    itself excluded: its wheel is built from the tree)."""
    image = image_packages() if image is None else image
    needed = closure(["trackcore"], installed_requires, python_version, image) - image - {"trackcore"}
    return {name: metadata.version(name) for name in sorted(needed)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "device_wheels")
    parser.add_argument("--python-version", default="3.12", help="the device's Python (3.12 in its image)")
    parser.add_argument("--max-mib", type=float, default=48.0,
                        help="fail above this many MiB of wheels (the tree and the wheels travel within 64 MiB)")
    parser.add_argument("--model", action="append", default=[], metavar="STEP=PATH",
                        help="trained weights to carry (models/STEP.ckpt), e.g. ml= and ec= of the density chain")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from trackcore.checks import setting_pairs
    from trackcore.compare.pipeline import all_steps

    try:
        models = {step: Path(path) for step, path in setting_pairs(args.model, all_steps(), "--model", "bench step")}
    except ValueError as error:
        print(f"device-wheels: {error}", file=sys.stderr)
        return 2
    for step, path in models.items():
        if not path.is_file():
            print(f"device-wheels: --model {step}={path}: no such checkpoint file", file=sys.stderr)
            return 2
    needed = missing_from_image(args.python_version)
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.whl"):
        old.unlink()
    pins = [f"{name}=={version}" for name, version in needed.items()]
    print(f"device-wheels: the image lacks {', '.join(pins)}", flush=True)
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version",
                    args.python_version, "--implementation", "cp", *platforms, "-d", str(args.out), *pins],
                   check=True)
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(args.out), str(ROOT)], check=True)
    shutil.rmtree(args.out / "models", ignore_errors=True)
    for step, path in models.items():
        (args.out / "models").mkdir(exist_ok=True)
        shutil.copyfile(path, args.out / "models" / f"{step}.ckpt")
    wheels = sorted(args.out.glob("*.whl")) + sorted(args.out.glob("models/*.ckpt"))
    mib = sum(w.stat().st_size for w in wheels) / 2**20
    for wheel in wheels:
        print(f"  {wheel.relative_to(args.out)}  {wheel.stat().st_size / 2**20:.1f} MiB")
    print(f"device-wheels: {len(wheels)} files, {mib:.1f} MiB in {args.out}")
    if mib > args.max_mib:
        print(f"device-wheels: {mib:.1f} MiB is over --max-mib {args.max_mib:g}: the device call carries at most "
              "64 MiB with the working tree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
