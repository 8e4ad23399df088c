"""The LightningDataModule of every family: simulated presets or folders of TrackML events.

Events come either from a named simulator preset (``tiny``, ``small``, ``trackml``),
simulated once into ``<data_root>/sim/<preset>-seed<seed>/``, or from a folder of
TrackML CSV events (e.g. the real events of ``../shared/data``). Either way they are
processed once by :func:`prepare_dataset` into
``<data_root>/processed/<source>/<config.key()>/`` and split deterministically:
events sorted by id, the first ``n_train`` for training, the next ``n_val`` for
validation, the next ``n_test`` for testing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import lightning as L

from trackcore.data.atomic import atomic_write_bytes
from trackcore.data.dataset import PreparedFiles, ProcessedEventDataset, prepare_dataset, processed_dir
from trackcore.data.errors import DataError
from trackcore.data.processing import ProcessingConfig, get_benchmark
from trackcore.data.sectors import PhiSectors
from trackcore.data.split_loaders import SplitLoadersMixin
from trackcore.data.trackml_io import list_events

# Simulated events are numbered from here (simulate_events' default).
FIRST_SIM_EVENT_ID = 1000
# The settings file simulate_events writes beside the events.
SIMULATION_RECORD = "simulation.json"


def _merge_simulation_record(new: Path, existing: Path) -> None:
    """Keep one settings file per simulated folder, listing the ids of every top-up."""
    if not new.is_file():
        return
    record = json.loads(new.read_text())
    if existing.is_file():
        old = json.loads(existing.read_text())
        if "event_ids" in old and "event_ids" in record:
            record["event_ids"] = sorted(set(old["event_ids"]) | set(record["event_ids"]))
    atomic_write_bytes(existing, json.dumps(record, indent=2).encode())


class TrackMLDataModule(SplitLoadersMixin, L.LightningDataModule):
    """Train/val/test loaders of processed TrackML-style events.

    Args:
        preset: simulator preset (``"tiny"``, ``"small"``, ``"trackml"``); exclusive
            with ``input_dir``.
        input_dir: folder of TrackML CSV events; exclusive with ``preset``.
        benchmark: named processing (``"pt1_pixel"``: labelled pixel hits of particles
            with pT > 1 GeV); exclusive with ``processing``.
        processing: selections and features; default :class:`ProcessingConfig()`
            (all hits, features ``r, phi, z, eta``).
        n_train: training events; default the preset's, required with ``input_dir``.
        n_val: validation events; default the preset's, required with ``input_dir``.
        n_test: test events; default the preset's, required with ``input_dir``.
        data_root: where simulated and processed events are cached.
        seed: simulation seed and seed of the training-loader shuffle.
        workers: processes that process events in :meth:`prepare_data`.
        batch_size: events per batch.
        loader_workers: DataLoader worker processes (0 loads in the main process).
        progress: show progress bars while simulating and processing.
        train_sectors: cut each training event to one of this many azimuthal sectors, drawn anew at
            every step (:class:`~trackcore.data.sectors.PhiSectors`); 1 trains on whole events.
            Validation, test and predict events stay whole.
        sector_overlap: azimuth (rad) added on each side of a sector.
        test_only: prepare, load and predict only the test events (models trained elsewhere tested
            on these events: the training and validation events are neither simulated into the
            split's place nor processed, and the test split stays the events it is in a full run).
    """

    def __init__(
        self,
        *,
        preset: str | None = None,
        input_dir: str | None = None,
        benchmark: str | None = None,
        processing: ProcessingConfig | None = None,
        n_train: int | None = None,
        n_val: int | None = None,
        n_test: int | None = None,
        data_root: str = "data_cache",
        seed: int = 0,
        workers: int = 2,
        batch_size: int = 1,
        loader_workers: int = 0,
        progress: bool = True,
        test_only: bool = False,
        train_sectors: int = 1,
        sector_overlap: float = 0.1,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        if (preset is None) == (input_dir is None):
            raise ValueError("give exactly one of preset (simulated events) and input_dir "
                             f"(a folder of TrackML events); got preset={preset!r}, "
                             f"input_dir={input_dir!r}")
        if benchmark is not None and processing is not None:
            raise ValueError(f"give benchmark ({benchmark!r}) or processing, not both: "
                             "a benchmark is a fixed processing config")
        sizes = {"n_train": n_train, "n_val": n_val, "n_test": n_test}
        if preset is not None:
            from trackcore.data.simulation import get_preset

            p = get_preset(preset)
            defaults = {"n_train": p.n_train, "n_val": p.n_val, "n_test": p.n_test}
            sizes = {k: defaults[k] if v is None else v for k, v in sizes.items()}
        missing = [k for k, v in sizes.items() if v is None]
        if missing:
            raise ValueError(f"input_dir needs the split sizes {missing} (a folder has no defaults)")
        negative = {k: v for k, v in sizes.items() if v < 0}
        if negative:
            raise ValueError(f"split sizes must be >= 0 (got {negative})")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1 (got {batch_size})")

        self.preset = preset
        self.input_dir = None if input_dir is None else Path(input_dir)
        self.benchmark = benchmark
        self.processing = get_benchmark(benchmark) if benchmark is not None else (
            processing if processing is not None else ProcessingConfig())
        self.n_train, self.n_val, self.n_test = sizes["n_train"], sizes["n_val"], sizes["n_test"]
        self.data_root = Path(data_root)
        self.seed = seed
        self.workers = workers
        self.batch_size = batch_size
        self.loader_workers = loader_workers
        self.progress = progress
        self.test_only = test_only
        self.sectors = PhiSectors(train_sectors, sector_overlap, seed) if train_sectors != 1 else None
        self.datasets: dict[str, ProcessedEventDataset] = {}
        # What the last prepare_data found in the cache (new, cached, reprocessed and why).
        self.prepared: PreparedFiles | None = None

    @property
    def n_events(self) -> int:
        return self.n_train + self.n_val + self.n_test

    @property
    def source_dir(self) -> Path:
        """The folder of the CSV events (simulated or given)."""
        if self.input_dir is not None:
            return self.input_dir
        return self.data_root / "sim" / f"{self.preset}-seed{self.seed}"

    @property
    def processed_root(self) -> Path:
        """``<data_root>/processed/<source>``; the config key folder lies below."""
        if self.preset is not None:
            tag = f"{self.preset}-seed{self.seed}"
        else:
            # Two input folders may share a name: the hash of the full path tells them apart.
            digest = hashlib.sha256(str(self.input_dir.resolve()).encode()).hexdigest()[:8]
            tag = f"{self.input_dir.name}-{digest}"
        return self.data_root / "processed" / tag

    def _sources(self) -> list[Path]:
        """The first ``n_events`` event prefixes of :attr:`source_dir`, sorted by id."""
        events = list_events(self.source_dir)
        if len(events) < self.n_events:
            raise DataError(
                self.source_dir,
                f"holds {len(events)} events, fewer than n_train + n_val + n_test = "
                f"{self.n_train} + {self.n_val} + {self.n_test}",
            )
        return events[: self.n_events]

    def _simulate(self) -> None:
        """Simulate the events of the preset that are not on disk yet.

        Events are simulated into a scratch folder and moved into place with their hits
        file last: since an event is listed by its hits file, an interrupted run never
        leaves an event that looks complete but lacks its truth.
        """
        from trackcore.data.simulation import get_preset, simulate_events

        sim_dir = self.source_dir
        have = list_events(sim_dir) if any(sim_dir.glob("event*-hits.csv*")) else []
        if len(have) >= self.n_events:
            return
        scratch = sim_dir / f".simulating-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        # Each simulated event depends only on (preset, seed, event_id), so topping up a
        # cache with the missing ids gives the same events as simulating all at once.
        try:
            prefixes = simulate_events(
                get_preset(self.preset),
                n_events=self.n_events - len(have),
                seed=self.seed,
                out_dir=scratch,
                first_event_id=FIRST_SIM_EVENT_ID + len(have),
                progress=self.progress,
            )
            for prefix in prefixes:
                files = sorted(scratch.glob(f"{prefix.name}-*"), key=lambda f: "-hits." in f.name)
                for f in files:
                    os.replace(f, sim_dir / f.name)
            _merge_simulation_record(scratch / SIMULATION_RECORD, sim_dir / SIMULATION_RECORD)
        finally:  # also after a failure (e.g. disk full): events moved into place are complete
            shutil.rmtree(scratch, ignore_errors=True)

    def prepare_data(self) -> None:
        """Simulate (presets) and process the events; cached, so cheap when done before.

        An event whose input files changed, or whose cached file is damaged, is processed
        again (:func:`prepare_dataset`); :attr:`prepared` says how many and why.
        """
        if self.preset is not None:
            self._simulate()
        sources = self._sources()[self.n_train + self.n_val:] if self.test_only else self._sources()
        self.prepared = prepare_dataset(sources, self.processed_root, self.processing,
                                        workers=self.workers, progress=self.progress)

    def setup(self, stage: str | None = None) -> None:
        """Split the processed events: sorted by id, train first, then val, then test."""
        names = [f"{p.name}.pt" for p in self._sources()]
        root = processed_dir(self.processed_root, self.processing)
        bounds = {"train": (0, self.n_train),
                  "val": (self.n_train, self.n_train + self.n_val),
                  "test": (self.n_train + self.n_val, self.n_events)}
        self.datasets = {}
        for split, (lo, hi) in bounds.items():
            if hi > lo and (split == "test" or not self.test_only):
                # a stage's predict writes whole events: the sectors are a training view only
                transform = self.sectors if split == "train" and stage != "predict" else None
                self.datasets[split] = ProcessedEventDataset(root, files=names[lo:hi], transform=transform)

    def _missing_split(self, split: str) -> Exception:
        return ValueError(f"the {split} split is empty (n_{split} = 0)")
