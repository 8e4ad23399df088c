"""``trackcore compare --benchmark pt1_all|full --follow-strips PIXEL_WORK_DIR``: a family's pixel tracks,
followed into the strips, as a row of the full-detector comparison.

The pixel tracks are the test-split stage a pixel comparison of the same data wrote
(``PIXEL_WORK_DIR/stages/<family>``); the full events are the test events of this comparison's
stages. :class:`trackcore.refinement.follow.StripFollowing` extends each pixel track with the strip hits
on its helix, as the ACTS CKF follows its pixel seeds, and the result is scored like any family.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from pathlib import Path

from trackcore.compare.pipeline import ComparisonPlan, FamilyResult, StepRecord, _best_checkpoint, count_parameters
from trackcore.refinement.follow import StripFollowing


def follow_family(
    family: str, pixel_work: str | Path, full_stage: Path, plan: ComparisonPlan,
    follower: StripFollowing | None = None,
) -> FamilyResult:
    """The row ``<family>+follow``: ``family``'s pixel test tracks of ``pixel_work`` followed into the
    strips of the test events of ``full_stage``, written to this comparison's stage ``<family>+follow``.

    Raises:
        FileNotFoundError: ``pixel_work`` has no test stage of ``family``, or lacks one of the test events.
        ValueError: the full events hold no strip hits (not a ``pt1_all`` or ``full`` comparison).
    """
    import torch
    import yaml

    from trackcore.candidates import TrackCandidates

    follower = follower or StripFollowing()
    pixel_test = Path(pixel_work) / "stages" / family / "test"
    if not pixel_test.is_dir():
        raise FileNotFoundError(f"{pixel_test}: no {family} pixel tracks; run `trackcore compare` on the pixels of the "
                                f"same data with --work-dir {pixel_work} first")
    name = f"{family}+follow"
    out = plan.stage_dir(name) / "test"
    out.mkdir(parents=True, exist_ok=True)
    seconds, n = 0.0, 0
    for path in sorted((full_stage / "test").glob("event*.pt")):
        pixel_path = pixel_test / path.name
        if not pixel_path.is_file():
            raise FileNotFoundError(
                f"{pixel_path}: the {family} pixel stage lacks test event {path.name} of {full_stage}"
            )
        event = torch.load(path, weights_only=False, map_location="cpu")
        if not (~torch.isin(event.volume_id, torch.tensor(follower.pixel_volumes))).any():
            raise ValueError(f"{path}: no strip hits to follow into; "
                             "--follow-strips needs --benchmark pt1_all or full")
        pixel = torch.load(pixel_path, weights_only=False, map_location="cpu")
        start = time.perf_counter()
        tracks = follower(TrackCandidates(pixel.track_hit_id.numpy(), pixel.track_id.numpy()),
                          event.pos, event.hit_id, event.volume_id, event.layer_id)
        seconds += time.perf_counter() - start
        event.track_hit_id, event.track_id = torch.from_numpy(tracks.hit_id), torch.from_numpy(tracks.track_id)
        torch.save(event, out / path.name)
        n += 1
    settings = plan.stage_dir(name) / "strip_following.yaml"
    settings.write_text(yaml.safe_dump({"StripFollowing": {k: list(v) if isinstance(v, tuple) else v
                                                           for k, v in asdict(follower).items()},
                                        "pixel_tracks": str(pixel_test)}))
    from trackcore.compare.pipeline import plan_comparison

    def best(step: str) -> Path | None:
        runs = Path(pixel_work) / "runs" / step
        return _best_checkpoint(runs) if any(runs.glob("version_*/checkpoints/*.ckpt")) else None

    steps = [step.name for step in plan_comparison([family], data=plan.data, work_dir=pixel_work).steps[family]]
    checkpoint = best(family)
    runs = Path(pixel_work) / "runs" / family
    configs = sorted(runs.glob("version_*/config.yaml"), key=lambda p: p.stat().st_mtime)
    result = FamilyResult(family=name, stage_dir=plan.stage_dir(name))
    result.steps[f"{family} pixel tracks"] = StepRecord(
        train_seconds=math.nan, predict_seconds=math.nan, n_events=n, checkpoint=checkpoint,
        config=configs[-1] if configs else settings, trained_elsewhere=True,
    )
    result.steps["follow"] = StepRecord(train_seconds=0.0, predict_seconds=seconds, n_events=n, checkpoint=None,
                                        config=settings, trained_elsewhere=True)
    result.n_parameters = count_parameters(best(step) for step in steps)
    return result
