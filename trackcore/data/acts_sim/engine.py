"""``trackcore simulate --engine acts``: Pythia 8 ttbar + pile-up through ACTS Fatras, and the ACTS CKF.

One ACTS sequencer run does both, on the very same measurements (ACTS cannot restart
reconstruction from its own measurement CSVs, ../shared/ACTS.md):

1. Pythia 8 events (:mod:`trackcore.data.acts_sim.pythia_hepmc`) are written as HepMC3: one
   ``ttbar`` hard scatter per event and a pool of ``minbias`` events that ACTS's HepMC3 reader
   mixes in with a Poisson(mu) multiplicity, each at a vertex drawn from a Gaussian beam spot;
2. Fatras propagates the charged particles through the Generic detector (TrackML's ancestor:
   the same volume ids) in a solenoid field, with material interactions;
3. digitisation (:func:`~trackcore.data.acts_sim.configs.digitization_config`);
4. the production reconstruction: pixel space points, grid-triplet seeding (cot(theta) up to
   sinh(eta_max), so |eta| < 4 is covered), the Combinatorial Kalman Filter and greedy ambiguity
   resolution;
5. CSV writers: particles, simulated hits, measurements and the resolved tracks.

The ACTS tables are then converted to TrackML tables (``trackcore.data.acts_io``: hit_id =
measurement_id, packed particle barcodes, official TrackML weights) and written to ``out``,
with the CKF's tracks as ``(hit_id, track_id)`` candidate tables in ``out/acts-ckf/`` and its
reconstruction time per event (seeding + CKF + ambiguity resolution, from ACTS's own timing) in
``out/acts-ckf/timing.json``.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trackcore.candidates import TrackCandidates
from trackcore.data.acts_sim.configs import DIGITIZATION_MODES, digitization_config, seeding_selection, write_json
from trackcore.data.acts_sim.pythia_hepmc import MISSING_EXTRA_MESSAGE

ACTS_EXTRA = MISSING_EXTRA_MESSAGE
CKF_DIR = "acts-ckf"
RECO_ALGORITHMS = (
    "SpacePointMaker",
    "GridTripletSeedingAlgorithm",
    "TrackParamsEstimationAlgorithm",
    "SeedsToProtoTracks",
    "SeedsToTracks",
    "TrackFindingAlgorithm",
    "GreedyAmbiguityResolutionAlgorithm",
)
"""ACTS algorithms that make up the tracker's time (truth matching and I/O excluded)."""


@dataclass(frozen=True)
class ActsSettings:
    """Settings of one ACTS simulation + reconstruction run.

    Args:
        mu: mean number of pile-up (minimum-bias) interactions per event (Poisson), 0 for none.
        hard_process: the Pythia process of the hard scatter (``ttbar``).
        digitization: ``smearing`` or ``geometric`` (clusters; see ``configs.DIGITIZATION_MODES``).
        eta_max: generated particles and seeding cover ``|eta| < eta_max``.
        field_t: solenoid field along z (tesla).
        beam_sigma_xy_mm, beam_sigma_z_mm: Gaussian beam spot of the vertices.
        gen_min_pt_gev: charged particles below this transverse momentum are not simulated.
        seed_min_pt_gev: lowest pT the seed finder looks for.
        track_min_pt_gev: CKF tracks below this pT are dropped.
        min_measurements: fewest measurements of a CKF track (after ambiguity resolution).
        max_shared_hits: the greedy ambiguity resolution's limit of measurements shared per track.
    """

    mu: float = 200.0
    hard_process: str = "ttbar"
    digitization: str = "smearing"
    eta_max: float = 4.0
    field_t: float = 2.0
    beam_sigma_xy_mm: float = 0.0125
    beam_sigma_z_mm: float = 55.5
    gen_min_pt_gev: float = 0.1
    seed_min_pt_gev: float = 0.5
    track_min_pt_gev: float = 0.5
    min_measurements: int = 7
    max_shared_hits: int = 3

    def __post_init__(self) -> None:
        if not (0 <= self.mu <= 1000 and math.isfinite(self.mu)):
            raise ValueError(f"mu must be in 0..1000 (got {self.mu})")
        if self.digitization not in DIGITIZATION_MODES:
            raise ValueError(f"unknown digitization {self.digitization!r}; choose one of {DIGITIZATION_MODES}")
        if not 0 < self.eta_max <= 5:
            raise ValueError(f"eta_max must be in (0, 5] (got {self.eta_max})")
        if self.min_measurements < 3:
            raise ValueError(f"min_measurements must be >= 3 (got {self.min_measurements})")


@dataclass(frozen=True)
class ActsRun:
    """What :func:`simulate_acts` wrote: TrackML event prefixes, CKF candidate files, CKF timing."""

    events: list[Path]
    candidates: list[Path]
    ckf_seconds_per_event: float
    full_chain_seconds_per_event: float


def require_acts() -> None:
    """Raise ImportError with the install line when pyacts or pythia8mc is missing."""
    import importlib.util

    missing = [m for m in ("acts", "pythia8mc") if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"{ACTS_EXTRA} (missing: {', '.join(missing)})")


def _minbias_pool(n_events: int, mu: float) -> int:
    """Minimum-bias events to generate so that Poisson(mu) draws for ``n_events`` never run out."""
    mean = n_events * mu
    return int(math.ceil(mean + 6 * math.sqrt(mean) + 10)) if mu > 0 else 0


def build_sequencer(
    work: Path,
    n_events: int,
    settings: ActsSettings,
    *,
    seed: int,
    hard_scatter: Path,
    minbias: Path | None,
    log_level: str = "WARNING",
):
    """The ACTS sequencer of the whole chain, writing its CSV files to ``work`` (see the module docstring),
    and the objects it borrows (detector, geometry, field, random numbers): keep them alive while it runs,
    ACTS does not own them (the sequencer segfaults once the detector is collected)."""
    import acts
    import acts.examples
    import acts.examples.hepmc3 as hepmc3
    from acts.examples.reconstruction import (
        AmbiguityResolutionConfig,
        CkfConfig,
        SeedFinderConfigArg,
        SeedFinderOptionsArg,
        TrackSelectorConfig,
        addAmbiguityResolution,
        addCKFTracks,
        addSeeding,
    )
    from acts.examples.simulation import (
        ParticleSelectorConfig,
        addDigiParticleSelection,
        addDigitization,
        addFatras,
        addGenParticleSelection,
    )

    u = acts.UnitConstants
    level = getattr(acts.logging, log_level)
    work.mkdir(parents=True, exist_ok=True)
    detector = acts.examples.GenericDetector()
    geometry = detector.trackingGeometry()
    field = acts.ConstantBField(acts.Vector3(0, 0, settings.field_t * u.T))
    rnd = acts.examples.RandomNumbers(seed=seed)
    digi_file = write_json(digitization_config(settings.digitization), work / "digitization.json")
    seeding_file = write_json(seeding_selection(), work / "seeding_selection.json")

    s = acts.examples.Sequencer(events=n_events, numThreads=1, trackFpes=False, outputDir=str(work), logLevel=level)
    inputs = [hepmc3.HepMC3Reader.Input.Fixed(str(hard_scatter), 1)]
    if minbias is not None and settings.mu > 0:
        inputs.append(hepmc3.HepMC3Reader.Input.Poisson(str(minbias), float(settings.mu)))
    vertex = acts.examples.GaussianVertexGenerator(
        stddev=acts.Vector4(
            settings.beam_sigma_xy_mm * u.mm, settings.beam_sigma_xy_mm * u.mm, settings.beam_sigma_z_mm * u.mm, 0
        ),
        mean=acts.Vector4(0, 0, 0, 0),
    )
    s.addReader(
        hepmc3.HepMC3Reader(
            inputs=inputs, level=level, outputEvent="hepmc3_event", vertexGenerator=vertex, randomNumbers=rnd
        )
    )
    s.addAlgorithm(
        hepmc3.HepMC3InputConverter(
            level=level,
            inputEvent="hepmc3_event",
            outputParticles="particles_generated",
            outputVertices="vertices_generated",
        )
    )
    addGenParticleSelection(
        s,
        ParticleSelectorConfig(
            rho=(0.0, 24 * u.mm),
            absZ=(0.0, 1.0 * u.m),
            eta=(-settings.eta_max, settings.eta_max),
            pt=(settings.gen_min_pt_gev * u.GeV, None),
            removeNeutral=True,
        ),
        logLevel=level,
    )
    addFatras(s, geometry, field, rnd=rnd, outputDirCsv=str(work), logLevel=level)
    addDigitization(s, geometry, field, digiConfigFile=digi_file, outputDirCsv=str(work), rnd=rnd, logLevel=level)
    addDigiParticleSelection(
        s,
        ParticleSelectorConfig(
            pt=(settings.track_min_pt_gev * u.GeV, None), measurements=(3, None), removeNeutral=True
        ),
        logLevel=level,
    )
    addSeeding(
        s,
        geometry,
        field,
        geoSelectionConfigFile=seeding_file,
        # ACTS's Generic-detector full-chain settings, with cot(theta) up to sinh(eta_max) (|eta| < 4)
        seedFinderConfigArg=SeedFinderConfigArg(
            r=(33 * u.mm, 200 * u.mm),
            deltaR=(1 * u.mm, 300 * u.mm),
            collisionRegion=(-250 * u.mm, 250 * u.mm),
            z=(-2000 * u.mm, 2000 * u.mm),
            maxSeedsPerSpM=1,
            sigmaScattering=5,
            radLengthPerSeed=0.1,
            minPt=settings.seed_min_pt_gev * u.GeV,
            impactMax=3 * u.mm,
            cotThetaMax=math.sinh(settings.eta_max),
        ),
        seedFinderOptionsArg=SeedFinderOptionsArg(bFieldInZ=settings.field_t * u.T, beamPos=(0.0, 0.0)),
        logLevel=level,
    )
    addCKFTracks(
        s,
        geometry,
        field,
        TrackSelectorConfig(
            pt=(settings.track_min_pt_gev * u.GeV, None),
            loc0=(-4.0 * u.mm, 4.0 * u.mm),
            nMeasurementsMin=settings.min_measurements,
            maxHoles=2,
            maxOutliers=2,
        ),
        CkfConfig(
            chi2CutOffMeasurement=15.0,
            chi2CutOffOutlier=25.0,
            numMeasurementsCutOff=10,
            seedDeduplication=True,
            stayOnSeed=True,
        ),
        writePerformance=False,
        writeTrackSummary=False,
        logLevel=level,
    )
    addAmbiguityResolution(
        s,
        AmbiguityResolutionConfig(
            maximumSharedHits=settings.max_shared_hits,
            nMeasurementsMin=settings.min_measurements,
            maximumIterations=1_000_000,
        ),
        writePerformance=False,
        writeTrackSummary=False,
        logLevel=level,
    )
    s.addWriter(
        acts.examples.CsvTrackWriter(
            level=level,
            inputTracks="tracks",
            inputMeasurementParticlesMap="measurement_particles_map",
            outputDir=str(work),
            fileName="tracks_ckf.csv",
            ptMin=0.0,  # the default (1 GeV) silently drops lower-pT tracks
        )
    )
    return s, (detector, geometry, field, rnd)


def ckf_candidates(tracks_csv: Path) -> TrackCandidates:
    """The CKF's tracks as candidates (hit_id = ACTS measurement_id, track_id = ACTS track_id).

    A measurement on several tracks appears once per track (shared hits are kept).

    Raises:
        ValueError: the file lacks the CsvTrackWriter columns or a measurement list is not a list
            of integers (the file and the track are named).
    """
    tracks = pd.read_csv(tracks_csv)
    if "Measurements_ID" not in tracks.columns or "track_id" not in tracks.columns:
        raise ValueError(f"{tracks_csv}: no 'track_id'/'Measurements_ID' columns (not an ACTS CsvTrackWriter file)")
    hit_ids, track_ids = [], []
    for track_id, ids in zip(tracks["track_id"].to_numpy(), tracks["Measurements_ID"].astype(str), strict=True):
        try:
            values = [int(v) for v in ids.strip("[] \n").split(",") if v.strip()]
        except ValueError:
            raise ValueError(f"{tracks_csv}: track {track_id}: Measurements_ID {ids!r} is not a list of ids") from None
        hit_ids.extend(values)
        track_ids.extend([int(track_id)] * len(values))
    return TrackCandidates(np.asarray(hit_ids, dtype=np.int64), np.asarray(track_ids, dtype=np.int64))


def reco_seconds_per_event(timing_csv: Path) -> tuple[float, float]:
    """(tracker, whole chain) seconds per event from ACTS's ``timing.csv`` (writers and truth excluded
    from the first; the second is every reader and algorithm)."""
    timing = pd.read_csv(timing_csv)
    kind, _, name = timing["identifier"].str.partition(":").iloc[:, [0, 1, 2]].T.to_numpy()
    per_event = timing["time_perevent_s"].to_numpy()
    reco = float(per_event[np.isin(name, RECO_ALGORITHMS)].sum())
    chain = float(per_event[kind != "Writer"].sum())
    return reco, chain


def simulate_acts(
    out: str | Path,
    *,
    n_events: int,
    settings: ActsSettings | None = None,
    seed: int = 0,
    first_event_id: int = 1000,
    keep_acts_csv: bool = True,
    progress: bool = True,
) -> ActsRun:
    """Simulate and reconstruct ``n_events`` events with Pythia 8 + ACTS (module docstring).

    Writes ``out/event<id>-{hits,particles,truth}.csv`` (validated by the TrackML reader),
    ``out/acts-ckf/event<id>-candidates.csv`` and ``timing.json``, ``out/simulation.json``;
    the ACTS CSV files stay in ``out/acts_csv`` unless ``keep_acts_csv`` is False.

    Raises:
        ImportError: pyacts or pythia8mc missing (the message says how to install them).
        ValueError: ``n_events < 1`` or bad settings.
    """
    require_acts()
    from trackcore.data.acts_io import read_acts_event
    from trackcore.data.acts_sim.pythia_hepmc import write_hepmc3
    from trackcore.data.atomic import atomic_write_text
    from trackcore.data.trackml_io import write_event

    settings = settings or ActsSettings()
    if n_events < 1:
        raise ValueError(f"n_events must be >= 1 (got {n_events})")
    out = Path(out)
    work = out / "acts_csv"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    start = time.perf_counter()
    hepmc_dir = out / "hepmc"
    hard = write_hepmc3(
        settings.hard_process, n_events, hepmc_dir / f"{settings.hard_process}.hepmc3", seed=seed + 1, progress=progress
    )
    n_minbias = _minbias_pool(n_events, settings.mu)
    minbias = (
        write_hepmc3("minbias", n_minbias, hepmc_dir / "minbias.hepmc3", seed=seed + 2, progress=progress)
        if n_minbias
        else None
    )
    generation_seconds = time.perf_counter() - start
    sequencer, borrowed = build_sequencer(work, n_events, settings, seed=seed, hard_scatter=hard, minbias=minbias)
    sequencer.run()
    del sequencer, borrowed
    ckf_seconds, chain_seconds = reco_seconds_per_event(work / "timing.csv")

    ckf_dir = out / CKF_DIR
    ckf_dir.mkdir(parents=True, exist_ok=True)
    events, candidates = [], []
    for k in range(n_events):
        acts_prefix = work / f"event{k:09d}"
        event = read_acts_event(acts_prefix)
        event.event_id = first_event_id + k
        events.append(write_event(event, out))
        candidates.append(
            ckf_candidates(Path(f"{acts_prefix}-tracks_ckf.csv")).save(ckf_dir / f"{event.name}-candidates.csv")
        )
    timing = {
        "ckf_seconds_per_event": ckf_seconds,
        "full_chain_seconds_per_event": chain_seconds,
        "pythia_seconds_per_event": generation_seconds / n_events,
        "algorithms": list(RECO_ALGORITHMS),
        "threads": 1,
        "source": "ACTS Sequencer timing.csv (time_perevent_s)",
    }
    atomic_write_text(ckf_dir / "timing.json", json.dumps(timing, indent=2) + "\n")
    atomic_write_text(
        out / "simulation.json",
        json.dumps(
            {
                "engine": "acts",
                "n_events": n_events,
                "seed": seed,
                "first_event_id": first_event_id,
                "settings": asdict(settings),
                "minbias_pool": n_minbias,
            },
            indent=2,
        )
        + "\n"
    )
    if not keep_acts_csv:
        shutil.rmtree(work)
    return ActsRun(events, candidates, ckf_seconds, chain_seconds)
