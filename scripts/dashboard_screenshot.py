"""Render a sweep dashboard in headless Chromium and save a screenshot (proof that the page renders).

    python scripts/dashboard_screenshot.py runs/sweeps --out docs/figures/dashboard.png

Builds ``RUNS_DIR/dashboard.html`` (``trackcore dashboard``) and opens it with Debian's
``chromium`` (``apt install chromium``) in headless mode.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from trackcore.sweep import build_dashboard

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "outputs" / "dashboard_screenshot" / "dashboard.png"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` when ``argv`` is None)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs_dir", help="a folder holding sweeps (their trials.csv)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the PNG to write (default: outputs/, ignored by git)")
    p.add_argument("--size", default="1200,1600", help="window width,height in pixels")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("error: no chromium on PATH (Debian: apt install chromium)", file=sys.stderr)
        return 2
    page = build_dashboard(args.runs_dir)
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={out}",
                    f"--window-size={args.size}", page.resolve().as_uri()], check=True, capture_output=True,
                   timeout=120)
    print(f"wrote {page} and {out} ({out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
