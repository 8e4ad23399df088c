"""``trackcore quality fit|scan``: the learned quality cut's classifier, fitted and its threshold chosen.

- ``fit STAGE_DIR [STAGE_DIR ...] --model FILE [--split train]``: the candidates of a family's predicted
  events (``trackcore predict`` with the refinement the family will use, without ``quality_model``), each
  labelled fake or not by the truth (a candidate that matches no particle of any pT, double majority),
  fit :class:`~trackcore.refinement.quality.QualityModel` and write it. With ``--triplets JSON``: instead of
  the stage's candidates, those of the triplet-seeded search off the beam line
  (:class:`~trackcore.refinement.triplets.TripletSearch` with these settings, judged by the stage's quality cut
  alone) on the hits each event's candidates leave free: the model for ``refine.triplets.quality_model``.
- ``scan STAGE_DIR --model FILE [--split val]``: the DM efficiency and fake rate of those candidates after
  the cut at each ``--thresholds`` fake probability; writes ``quality_scan.csv``, ``.json`` and ``.png`` to
  ``--out`` (default ``STAGE_DIR/quality/<split>``). An estimate of what ``refine.quality_model`` +
  ``refine.max_fake_prob`` give: the refinement judges earlier (the model's candidates before the searches,
  each helix a search finds), so the searches and a second building pass may use the hits of the candidates
  it drops; ``trackcore predict`` with the cut finds more (measure the chosen threshold so).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from trackcore.commands.scan import floats

if TYPE_CHECKING:
    from trackcore.candidates import TrackCandidates

DEFAULT_THRESHOLDS = "0.2,0.3,0.4,0.5,0.6,0.7,0.8,1.0"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``trackcore quality``."""
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    f = sub.add_parser("fit", help="fit the fake classifier on predicted events' candidates")
    f.add_argument("stage_dirs", nargs="+", metavar="STAGE_DIR", help="stage folders with track candidates")
    f.add_argument("--model", required=True, help="the file to write")
    f.add_argument("--split", default="train", help="which split's events (default: train)")
    f.add_argument("--max-events", type=int, default=None, help="at most this many events per folder")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--triplets", type=json.loads, default=None, metavar="JSON",
                   help="fit on the helices the triplet-seeded search (these TripletSearch settings, e.g. '{}') finds "
                        "on the hits each event's candidates leave free, for refine.triplets.quality_model")
    s = sub.add_parser("scan", help="efficiency and fakes after the cut at each threshold")
    s.add_argument("stage_dir", help="a stage folder with track candidates (predicted without quality_model)")
    s.add_argument("--model", required=True, help="a file written by `trackcore quality fit`")
    s.add_argument("--split", default="val", help="which split's events (default: val)")
    s.add_argument("--thresholds", type=floats, default=floats(DEFAULT_THRESHOLDS),
                   help=f"largest fake probabilities kept (default {DEFAULT_THRESHOLDS}; 1.0: no cut)")
    s.add_argument("--min-pt", type=float, default=1.0, help="particles of interest: pT > this (GeV)")
    s.add_argument("--out", default=None, help="output folder (default: STAGE_DIR/quality/SPLIT)")


def candidate_lists(event: Any, path: Path) -> tuple[TrackCandidates, np.ndarray, list[np.ndarray]]:
    """A stage event's candidates: the table, its track ids (sorted) and each one's hit indices.

    Raises:
        ValueError: no candidates in the event, or a candidate hit that is not among its hits (naming ``path``).
    """
    from trackcore.metrics.stage_report import stage_candidates

    candidates = stage_candidates(event, path)
    try:
        ids, groups = candidates.index_lists(event.hit_id.numpy())
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return candidates, ids, groups


@dataclass(frozen=True)
class EventCandidates:
    """One stage event's candidates as the quality commands read them.

    Args:
        candidates: the table; ids: its track ids, ascending; truth: the event's truth (for evaluation).
        inside: which candidates the model judges (every hit in its ``hole_volumes``); considered: which the
            metrics count (>= 3 hits); fake: which DM-match no particle (of any pT).
        x: the judged candidates' features (``fit``); prob: every candidate's fake probability (``scan``; 0
            for those not judged).

    Shapes:
        ids, inside, considered, fake, prob: (T,); x: (judged, len(FEATURES)).
    """

    candidates: TrackCandidates
    ids: np.ndarray
    truth: Any
    inside: np.ndarray
    considered: np.ndarray
    fake: np.ndarray
    x: np.ndarray | None = None
    prob: np.ndarray | None = None

    @classmethod
    def read(cls, path: Path, model: Any | None = None, search: TripletSearcher | None = None) -> EventCandidates:
        """Read a stage event: with ``model``, its candidates' fake probabilities; without, their features.
        With ``search``: the candidates it finds on the hits the event's candidates leave free, not theirs.

        Raises:
            ValueError: an unreadable event, no candidates, or no volume and layer ids (all naming ``path``).
        """
        from trackcore.metrics import EventTruth, ParticlesOfInterest, evaluate_tracks
        from trackcore.metrics.stage_report import load_stage_event
        from trackcore.refinement import steps
        from trackcore.refinement.quality import QualityModel, candidate_features, crowding

        event = load_stage_event(path)
        candidates, ids, groups = candidate_lists(event, path)
        if search is not None:
            candidates, ids, groups = search(event, groups, path)
        truth = EventTruth.from_data(event)
        table = evaluate_tracks(candidates, truth, ParticlesOfInterest()).candidates.set_index("track_id").loc[ids]
        pos = event.pos.numpy().astype(np.float64)
        settings = model or QualityModel(classifier=None)
        try:
            layer = steps.hit_layers(len(pos), getattr(event, "volume_id", None), getattr(event, "layer_id", None),
                                     settings.hole_volumes)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        inside = steps.on_layers(groups, layer)
        x = prob = None
        if model is None:
            x = candidate_features(pos, [g for g, i in zip(groups, inside, strict=True) if i], layer,
                                   hole_margin=settings.hole_margin, span_from=settings.span_from,
                                   crowd=crowding(pos, settings.crowd_window))
        else:
            prob = model.fake_probability(pos, groups, layer)
        return cls(candidates, ids, truth, inside, table["considered"].to_numpy(bool), ~table["dm"].to_numpy(bool),
                   x, prob)

    def training_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The features and fake labels of the judged candidates that the metrics count.

        Shapes: returns (G, len(FEATURES)) and (G,) bool.
        """
        assert self.x is not None, "read without a model: the features"
        use = self.considered[self.inside]
        return self.x[use], self.fake[self.inside][use]

    def kept(self, max_fake_prob: float) -> TrackCandidates:
        """The candidates whose fake probability is at most ``max_fake_prob``."""
        from trackcore.candidates import TrackCandidates

        assert self.prob is not None, "read with a model: the probabilities"
        c = self.candidates
        keep = np.isin(c.track_id, self.ids[self.prob <= max_fake_prob])
        return TrackCandidates(c.hit_id[keep], c.track_id[keep])


@dataclass(frozen=True)
class TripletSearcher:
    """The triplet-seeded search of a stage's refinement (its tolerances and quality cut, no learned cut) on
    the hits an event's candidates leave free (``quality fit --triplets``)."""

    refine: Any
    search: Any

    @classmethod
    def of_stage(cls, stage_dir: str | Path, settings: dict[str, Any]) -> TripletSearcher:
        """The stage's refinement (its ``stage.json``) with the search of ``settings``.

        Raises:
            ValueError: no refinement recorded, or settings it does not take (naming the stage's record).
        """
        from trackcore.refinement import HelixRefinement
        from trackcore.refinement.triplets import TripletSearch
        from trackcore.train.writer import STAGE_RECORD, read_stage_settings

        record = (read_stage_settings(stage_dir) or {}).get("refine")
        if not isinstance(record, dict):
            raise ValueError(f"{Path(stage_dir) / STAGE_RECORD}: no refinement recorded (predict with `refine`)")
        kept = {k: v for k, v in record.items() if k not in ("displaced", "triplets", "quality_model")}
        try:
            return cls(HelixRefinement(**kept), TripletSearch.of(settings))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{Path(stage_dir) / STAGE_RECORD}: {err}") from None

    def __call__(self, event: Any, groups: list[np.ndarray], path: Path
                 ) -> tuple[TrackCandidates, np.ndarray, list[np.ndarray]]:
        """The helices found on the event's free hits: the table, its track ids and each one's hit indices."""
        from trackcore.candidates import TrackCandidates
        from trackcore.refinement import steps
        from trackcore.refinement.helix import flatten

        pos, ref = event.pos.numpy().astype(np.float64), self.refine
        try:
            layer = steps.hit_layers(len(pos), getattr(event, "volume_id", None), getattr(event, "layer_id", None),
                                     ref.hole_volumes)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        free = steps.free_hits(groups, ref.judged_hits(getattr(event, "volume_id", None), len(pos)))
        found = self.search.find(pos, free, layer, ref.check, ref.min_hits, ref.max_clean_hits,
                                 ref.accept_rule(pos, layer, None, short_d0=False))
        if not found:
            return TrackCandidates.empty(), np.zeros(0, np.int64), []
        rows, label = flatten(found)
        return TrackCandidates(event.hit_id.numpy()[rows], label), np.arange(len(found)), found


def run_fit(args: argparse.Namespace) -> int:
    """``trackcore quality fit``."""
    from trackcore.metrics.stage_report import stage_event_files
    from trackcore.refinement.quality import QualityModel

    files, searches = [], []
    for stage in args.stage_dirs:
        found = stage_event_files(stage, args.split)
        found = found[: args.max_events] if args.max_events else found
        files += found
        search = None if args.triplets is None else TripletSearcher.of_stage(stage, args.triplets)
        searches += [search] * len(found)
    xs, ys = [], []
    for path, search in tqdm(list(zip(files, searches, strict=True)), desc="candidates", unit="event"):
        x, fake = EventCandidates.read(path, search=search).training_rows()
        xs.append(x)
        ys.append(fake)
    x, fake = np.concatenate(xs), np.concatenate(ys)
    info = {"stage_dirs": [str(s) for s in args.stage_dirs], "split": args.split, "events": len(files),
            "candidates": int(len(fake)), "fakes": int(fake.sum()), "triplets": args.triplets}
    model = QualityModel.fit(x, fake, seed=args.seed, info=info)
    model.save(args.model)
    print(f"fitted on {info['candidates']:,} candidates ({info['fakes']:,} fakes) of {len(files)} events; "
          f"wrote {args.model}")
    return 0


def run_scan(args: argparse.Namespace) -> int:
    """``trackcore quality scan``."""
    import pandas as pd

    from trackcore.data.atomic import atomic_write_text
    from trackcore.metrics import ParticlesOfInterest, TrackingEvaluation, evaluate_tracks
    from trackcore.metrics.stage_report import stage_event_files
    from trackcore.refinement.quality import QualityModel
    from trackcore.viz import plot_quality_scan

    model = QualityModel.load(args.model)
    tables = [EventCandidates.read(p, model) for p in tqdm(stage_event_files(args.stage_dir, args.split),
                                                          desc="events", unit="event")]
    rows = []
    for threshold in sorted(args.thresholds):
        per_pt = {}
        for min_pt in sorted({args.min_pt, 0.5}):
            evals = []
            for t in tables:
                evals.append(evaluate_tracks(t.kept(threshold), t.truth, ParticlesOfInterest(min_pt=min_pt)))
            per_pt[min_pt] = TrackingEvaluation.concat(evals).summary()
        s = per_pt[args.min_pt]
        rows.append({"max_fake_prob": threshold, "dm_efficiency": s["dm_efficiency"],
                     "dm_fake_rate": s["dm_fake_rate"], "dm_efficiency_pt0.5": per_pt[0.5]["dm_efficiency"]})
    frame = pd.DataFrame(rows)
    out = Path(args.out or Path(args.stage_dir) / "quality" / args.split)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "quality_scan.csv", frame.to_csv(index=False))
    atomic_write_text(out / "quality_scan.json", json.dumps({"model": str(args.model), "split": args.split,
                                                             "events": len(tables), "rows": rows}, indent=2))
    plot_quality_scan(frame, out / "quality_scan.png", min_pt=args.min_pt,
                      dataset=f"{Path(args.stage_dir).name} ({args.split}), learned quality cut")
    print(f"{len(tables)} events of {args.stage_dir} ({args.split}), DM pT > {args.min_pt:g} GeV:")
    for r in rows:
        print(f"  max_fake_prob {r['max_fake_prob']:.2f}: efficiency {100 * r['dm_efficiency']:.2f}% "
              f"(pT > 0.5: {100 * r['dm_efficiency_pt0.5']:.2f}%), fake rate {100 * r['dm_fake_rate']:.2f}%")
    print(f"wrote {out}/quality_scan.csv, .json, .png")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``trackcore quality fit`` or ``scan``."""
    return run_fit(args) if args.action == "fit" else run_scan(args)
