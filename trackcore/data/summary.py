"""Summary statistics of an event, as printed by ``trackcore inspect``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from trackcore.data.event import Event

PT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class EventSummary:
    """Counts and spectra of one event.

    Attributes:
        hits_per_volume: volume_id -> number of hits.
        n_particles: rows of the particles table (None without one); TrackML tables list
            particles with no hits too.
        n_particles_with_hits: particles owning at least one hit (truth needed).
        pt_quantiles: quantile -> pT (GeV) over the particles table.
        frac_pt_above_1: fraction of particles with pT > 1 GeV.
        noise_fraction: fraction of hits with ``particle_id == 0`` (full truth), estimated as
            ``1 - sum(nhits) / n_hits`` from the particles table otherwise (marked by
            ``noise_estimated``); None when neither is possible.
        labelled_fraction: fraction of hits with a truth label.
    """

    event_id: int
    source: str
    truth_kind: str
    n_hits: int
    hits_per_volume: dict[int, int]
    n_particles: int | None
    n_particles_with_hits: int | None
    pt_quantiles: dict[float, float] | None
    frac_pt_above_1: float | None
    noise_fraction: float | None
    noise_estimated: bool
    labelled_fraction: float
    n_cells: int | None

    def to_dict(self) -> dict:
        return asdict(self)

    def format(self) -> str:
        lines = [f"{self.source or f'event {self.event_id}'}  (event_id {self.event_id}, truth: {self.truth_kind})",
                 f"  hits: {self.n_hits}" + (f", cells: {self.n_cells}" if self.n_cells is not None else "")]
        vol = "  ".join(f"{v}: {n}" for v, n in sorted(self.hits_per_volume.items()))
        lines.append(f"  hits per volume: {vol}")
        if self.n_particles is not None:
            with_hits = "" if self.n_particles_with_hits is None else f" ({self.n_particles_with_hits} with hits)"
            lines.append(f"  particles: {self.n_particles}{with_hits}, pT > 1 GeV: {self.frac_pt_above_1:.1%}")
            q = "  ".join(f"q{int(k * 100)}={v:.3g}" for k, v in self.pt_quantiles.items())
            lines.append(f"  pT quantiles (GeV): {q}")
        if self.noise_fraction is not None:
            how = " (estimated from particles.nhits)" if self.noise_estimated else ""
            lines.append(f"  noise fraction: {self.noise_fraction:.1%}{how}")
        else:
            lines.append("  noise fraction: unknown")
        if self.truth_kind == "partial":
            lines.append(f"  labelled hits: {self.labelled_fraction:.1%} (partial truth: unlabelled hits are unknown)")
        return "\n".join(lines)


def summarize(event: Event) -> EventSummary:
    """Summary of one event (see :class:`EventSummary`)."""
    vols = event.hits["volume_id"].value_counts()
    pt_q = frac1 = None
    n_particles = n_with_hits = None
    noise, estimated = None, False
    if event.particles is not None:
        pt = event.particle_pt().to_numpy()
        n_particles = len(pt)
        if n_particles:
            pt_q = {q: float(v) for q, v in zip(PT_QUANTILES, np.quantile(pt, PT_QUANTILES), strict=True)}
            frac1 = float((pt > 1.0).mean())
    if event.truth_kind == "full":
        pid = event.hit_particle_id()
        noise = float((pid == 0).mean())
        n_with_hits = int(np.unique(pid[pid != 0]).size)
    elif event.particles is not None and "nhits" in event.particles.columns and event.n_hits:
        noise, estimated = float(1.0 - event.particles["nhits"].sum() / event.n_hits), True
        n_with_hits = int((event.particles["nhits"] > 0).sum())
    return EventSummary(
        event_id=event.event_id, source=event.source, truth_kind=event.truth_kind,
        n_hits=event.n_hits, hits_per_volume={int(k): int(v) for k, v in vols.items()},
        n_particles=n_particles, n_particles_with_hits=n_with_hits, pt_quantiles=pt_q,
        frac_pt_above_1=frac1, noise_fraction=noise, noise_estimated=estimated,
        labelled_fraction=float(event.labelled_mask().mean()) if event.n_hits else 0.0,
        n_cells=None if event.cells is None else len(event.cells),
    )
