"""``trackcore bench``: per-stage inference time and peak memory of every family (see trackcore.bench)."""

from __future__ import annotations

import argparse
from pathlib import Path

CONFIG_FLAGS = {"real_configs": "real_pt1", "acts_configs": "acts", "full_configs": "full_pixel",
                "density_configs": "full_trackml"}
"""Each mutually exclusive ``--*-configs`` flag and the data kind of configs it picks (none: ``small``)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="3 tiny simulated events, random weights (CI-friendly)")
    p.add_argument(
        "--data",
        default="small",
        help="tiny | small | trackml (simulated, pT > 1 GeV pixel) | trackml-full (every hit) | small-full-pixel | "
        "trackml-full-pixel (every pixel hit: the full_pixel benchmark) | "
        "DIR, DIR:pixel or DIR:all (TrackML CSV: pT > 1 GeV pixel, all pixel hits, or pT > 1 GeV on every volume) | "
        "DIR:full (every hit: the families track the pixel hits, their tracks are followed into the strips, "
        "stage 'follow', and scored on every hit: the whole detector, as the ACTS CKF)",
    )
    p.add_argument(
        "--follow",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --data DIR:full: a strip-following setting (trackcore.refinement.follow.StripFollowing, e.g. "
        "max_holes=1); repeat",
    )
    p.add_argument("--events", type=int, default=10, help="timed events (after one warm-up event)")
    p.add_argument("--families", default="ec,oc,eggnet,hgnn")
    configs = p.add_mutually_exclusive_group()
    configs.add_argument("--real-configs", action="store_true", help="model sizes of the real_pt1 configs")
    configs.add_argument("--acts-configs", action="store_true",
                         help="the configs `compare` uses on the ACTS presets (<family>/configs/acts*.yaml)")
    configs.add_argument("--full-configs", action="store_true",
                         help="the configs of full events (<family>/configs/full_pixel*.yaml), as `compare "
                         "--benchmark full_pixel` uses")
    configs.add_argument("--density-configs", action="store_true",
                         help="the configs of the models trained at TrackML density "
                         "(<family>/configs/full_trackml*.yaml; a step without one: its full_pixel config)")
    p.add_argument(
        "--ckpt",
        action="append",
        default=[],
        help="STEP=PATH trained weights (steps: ml, ec, oc, eggnet, hgnn); repeat",
    )
    p.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="STEP=PATH",
        help="a step's config (steps: ml, ec, oc, eggnet, hgnn) in place of the chosen configs' (e.g. a smaller model "
        "trained on other events, as its --ckpt); repeat",
    )
    p.add_argument(
        "--refine",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a helix-refinement setting of every family's model, over its config's (as `trackcore compare --refine`)",
    )
    p.add_argument("--device", default="auto", help="auto (cuda when a GPU exists) | cpu | cuda")
    p.add_argument(
        "--scaling",
        default=None,
        metavar="MU,MU,...",
        help="pile-up study instead: --events simulated events at each pile-up value (e.g. 10,20,50,100,200), "
        "time and peak memory per value and the fitted exponent of time vs hits (scaling_<data>.json/.md/.png)",
    )
    p.add_argument("--out", default="outputs/bench",
                   help="folder of bench_<data>.json and .md (git-ignored outputs/bench by default)")


def _pileup_values(text: str) -> list[float]:
    try:
        mus = sorted({float(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise ValueError(f"--scaling takes comma-separated pile-up values, e.g. 10,50,200 (got {text!r})") from None
    if not mus or min(mus) <= 0:
        raise ValueError(f"--scaling needs pile-up values > 0 (got {text!r})")
    return mus


def _result(data: str, device: str, families: list[str], checkpoints: dict[str, str], **fields: object) -> dict:
    """The JSON of a benchmark run: what ran, where, with which weights, then ``fields``; families fill in."""
    from trackcore.machine import machine_info, machine_line

    machine = machine_info()
    return {
        "data": data,
        "device": device,
        **fields,
        "checkpoints": checkpoints,
        "random_weights": sorted(set(families) - set(checkpoints)),
        "machine": machine,
        "machine_line": machine_line(machine),
        "families": {},
    }


def _saver(result: dict, json_path: Path):
    """A callback that records a family's entry and rewrites the JSON: a stopped run keeps what it measured."""
    import json

    def save(family: str, entry: dict) -> None:
        result["families"][family] = entry
        json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")

    return save


def run(args: argparse.Namespace) -> int:
    from trackcore.bench import bench_events, load_modules, run_bench, write_markdown
    from trackcore.bench.runner import SIMULATED

    families = [f.strip() for f in args.families.split(",") if f.strip()]
    data, n_events = ("tiny", 3) if args.quick else (args.data, args.events)
    for flag, given in (("--ckpt", args.ckpt), ("--config", args.config)):
        bad = [c for c in given if "=" not in c]
        if bad:
            raise ValueError(f"{flag} takes STEP=PATH (got {bad[0]!r})")
    checkpoints = dict(c.split("=", 1) for c in args.ckpt)
    configs = dict(c.split("=", 1) for c in args.config)
    following = data.endswith(":full")
    if args.follow and not following:
        raise ValueError("--follow sets the strip following of --data DIR:full (every hit); "
                         f"--data {data!r} has no strips to follow into")
    if following:
        from trackcore.refinement.follow import StripFollowing

        follower = StripFollowing.from_settings(args.follow)
    else:
        follower = None
    mus = _pileup_values(args.scaling) if args.scaling is not None else None
    if mus is not None and args.quick:
        n_events = 2
    if mus is not None and data not in SIMULATED:
        raise ValueError(f"--scaling simulates its events: --data must be one of {', '.join(SIMULATED)} (got {data!r})")
    # bad checkpoints fail first
    kind = next((k for flag, k in CONFIG_FLAGS.items() if getattr(args, flag)), "small")
    modules = load_modules(families, kind=kind, checkpoints=checkpoints, refine=args.refine, configs=configs)
    import torch

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if mus is not None:
        return _run_scaling(families, modules, data, mus, n_events, device, checkpoints, out)
    print(f"bench: {families} on {n_events} {data} events (+1 warm-up)", flush=True)
    events = bench_events(data, n_events + 1)
    name = (
        Path(data.split(":")[0]).name
        + ("_" + data.rsplit(":", 1)[1] if data.endswith((":pixel", ":all", ":full")) else "")
        + ("_cuda" if device == "cuda" else "")
    )
    json_path = out / f"bench_{name}.json"
    timed = events[1:] if len(events) > 1 else events
    result = _result(
        data, device, families, checkpoints,
        n_events=len(timed), hits_per_event=sorted(int(e.num_nodes) for e in timed)[len(timed) // 2],
        **({"refine": list(args.refine)} if args.refine else {}),
        **({"configs": configs} if configs else {}),
        **({"follow": list(args.follow)} if following else {}),
    )
    save = _saver(result, json_path)
    run_bench(families, timed, modules, warmup=1, progress=lambda f: print(f"  {f}", flush=True), device=device,
              on_family=save, follower=follower)
    md = write_markdown(result, out / f"bench_{name}.md")
    print(md.read_text())
    print(f"wrote {json_path} and {md}")
    return 0


def _run_scaling(families, modules, data, mus, n_events, device, checkpoints, out) -> int:
    from tqdm import tqdm

    from trackcore.bench import bench_events
    from trackcore.bench.scaling import plot_scaling, reset_peak_memory, run_scaling, write_scaling_markdown

    print(f"bench --scaling: {families} on {n_events} {data} events at pile-up {mus}", flush=True)
    events_by_mu = {
        mu: bench_events(data, n_events, pileup_mu=mu, first_event_id=1000 + 100 * i)
        for i, mu in enumerate(tqdm(mus, desc="simulating", unit="mu"))
    }
    name = Path(data.split(":")[0]).name + ("_cuda" if device == "cuda" else "")
    json_path = out / f"scaling_{name}.json"
    memory_kind = (
        "resident high-water mark (VmHWM) reset before each pile-up value"
        if reset_peak_memory()
        else "process peak RSS since start (ru_maxrss; could not be reset)"
    )
    result = _result(data, device, families, checkpoints, mus=mus, events_per_mu=n_events, memory_kind=memory_kind)
    save = _saver(result, json_path)
    run_scaling(families, events_by_mu, modules, device=device, progress=lambda m: print(f"  {m}", flush=True),
                on_family=save)
    md = write_scaling_markdown(result, out / f"scaling_{name}.md")
    png = plot_scaling(result, out / f"scaling_{name}.png")
    print(md.read_text())
    print(f"wrote {json_path}, {md} and {png}")
    return 0
