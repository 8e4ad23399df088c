"""Pythia 8 events written as HepMC3 ASCII files for ACTS's ``HepMC3Reader``.

The ``pythia8mc`` wheel has no HepMC writer and the ``pyacts`` wheel has no Pythia 8 binding
(``acts.examples.simulation.addPythia8`` needs ``acts.examples.pythia8``, which is absent), so
events are generated with ``pythia8mc`` and written here as HepMC3 ASCII ("HepMC::Asciiv3") text.
ACTS then reads them with ``acts.examples.hepmc3.HepMC3Reader`` (which also mixes a hard-scatter
file with a pile-up file and smears the vertices) and turns them into ACTS particles and vertices
with ``acts.examples.hepmc3.HepMC3InputConverter``.

Pythia settings (:data:`PROCESSES`) follow ACTS's own ``Pythia8Generator``: proton beams
(``Beams:idA = Beams:idB = 2212``, ``Beams:frameType = 1``), the centre-of-mass energy (13 TeV
here), quiet output and the process switches, and nothing else. In particular no decay settings:
Pythia's defaults decay every particle with c*tau0 < 1000 mm at its (displaced) decay point
(K0S at c*tau = 27 mm, Lambda, Sigma, Xi, Omega, charm and bottom hadrons, tau leptons), and leaves
pi+-, K+-, K0L, mu, n and p to the detector simulation. The seed is ``Random:seed`` with
``Random:setSeed = on``, so a file is reproducible byte for byte from (process, n_events, seed).

- ``"ttbar"``: ``Top:qqbar2ttbar`` and ``Top:gg2ttbar`` (ACTS's ODD full chain switches on only
  ``Top:qqbar2ttbar``; gg -> ttbar is ~90% of the LHC cross section, so both are on here).
- ``"minbias"``: ``SoftQCD:inelastic`` (non-diffractive + single, double and central diffractive).
  ACTS's default pile-up process is ``SoftQCD:all``, which adds elastic scattering: ~18% of its
  events are then two protons at |eta| > 10 that never reach a tracker, so a pile-up mean mu would
  count fewer inelastic interactions than the experiments' mu (which counts inelastic ones).

The event record written per event (units GeV and mm, time as c*t in mm):

- the two beam protons (status 4) into the primary vertex at the collision point (0, 0, 0, 0);
- every final-state particle (status 1; neutrinos included: the ACTS converter drops
  non-interacting particles itself) with its Pythia 4-momentum and generated mass;
- the decayed hadrons and tau leptons (status 2) between the primary vertex and the final-state
  particles they decay into, each ending in a vertex at its true decay point (Pythia's ``vDec``,
  equal to its daughters' ``vProd``).

Particles from the hard process, showers, hadronisation and resonance decays (top, W, Z: c*tau0
~1e-13 mm) hang from the primary vertex; Pythia places them within ~1e-11 mm of it, and any
further than :data:`PRIMARY_TOLERANCE_MM` is an error. The parton-level history is dropped: the
graph is the decay tree of the hadron-level event, connected through the beams, which is what
``HepMC3InputConverter`` walks (from the vertices whose incoming particles are all beams).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

MISSING_EXTRA_MESSAGE = (
    "the ACTS engine needs the optional extra: pip install 'trackcore[acts]' (pyacts, pythia8mc==8.317.2)"
)

#: Version written in the file header (the Asciiv3 layout of HepMC3 3.02).
HEPMC3_VERSION = "3.02.06"

#: How far (mm, on each of x, y, z, c*t) a non-decay particle may be produced from the collision point:
#: ACTS's ``HepMC3InputConverter`` clusters primary vertices with this threshold (its default).
PRIMARY_TOLERANCE_MM = 1e-6

#: Valid range of Pythia's ``Random:seed`` (with ``Random:setSeed = on``).
SEED_RANGE = (1, 900_000_000)

#: Settings shared by every process: 13 TeV pp collisions, no printout.
COMMON_SETTINGS: tuple[str, ...] = (
    "Beams:idA = 2212",
    "Beams:idB = 2212",
    "Beams:frameType = 1",
    "Beams:eCM = 13000",
    "Print:quiet = on",
    "Next:numberCount = 0",
)

#: Named Pythia 8 processes: the full list of settings (common + process), without the seed.
PROCESSES: dict[str, tuple[str, ...]] = {
    "ttbar": (*COMMON_SETTINGS, "Top:qqbar2ttbar = on", "Top:gg2ttbar = on"),
    "minbias": (*COMMON_SETTINGS, "SoftQCD:inelastic = on"),
}

_MAX_NEXT_TRIES = 10
_COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".lzma", ".zst", ".zstd")
_HEADER = f"HepMC::Version {HEPMC3_VERSION}\nHepMC::Asciiv3-START_EVENT_LISTING\n"
_FOOTER = "HepMC::Asciiv3-END_EVENT_LISTING\n"
_BEAM_STATUS = -12  # Pythia's status code of the two incoming beam particles (event[1], event[2])


def _import_pythia8mc() -> Any:
    try:
        import pythia8mc
    except ImportError as err:
        raise ImportError(MISSING_EXTRA_MESSAGE) from err
    return pythia8mc


def _check_process(process: str) -> tuple[str, ...]:
    if process not in PROCESSES:
        raise ValueError(f"unknown process {process!r}; valid processes: {', '.join(sorted(PROCESSES))}")
    return PROCESSES[process]


def _check_seed(seed: int) -> int:
    lo, hi = SEED_RANGE
    if isinstance(seed, bool) or not isinstance(seed, int) or not lo <= seed <= hi:
        raise ValueError(f"seed must be an int in {lo}..{hi} (Pythia's Random:seed), got {seed!r}")
    return seed


def pythia_settings(process: str, seed: int) -> list[str]:
    """The complete list of Pythia ``readString`` settings for ``process`` with random seed ``seed``.

    Raises ``ValueError`` for an unknown process (naming the valid ones) or a seed outside
    :data:`SEED_RANGE`.
    """
    settings = _check_process(process)
    _check_seed(seed)
    return [*settings, "Random:setSeed = on", f"Random:seed = {seed}"]


def _make_pythia(settings: Sequence[str]) -> Any:
    pythia8mc = _import_pythia8mc()
    pythia = pythia8mc.Pythia("", False)  # no banner
    for setting in settings:
        if not pythia.readString(setting):
            raise RuntimeError(f"Pythia rejected the setting {setting!r}")
    if not pythia.init():
        raise RuntimeError(f"Pythia initialisation failed with settings {list(settings)}")
    return pythia


def _num(x: float) -> str:
    return f"{x:.10e}"


def _particle_line(pid: int, parent: int, particle: Any, status: int) -> str:
    p = particle
    return (
        f"P {pid} {parent} {p.id()} {_num(p.px())} {_num(p.py())} {_num(p.pz())} {_num(p.e())} {_num(p.m())} {status}"
    )


def _is_decay_product(status: int) -> bool:
    """Pythia status codes 91-99: produced in a particle decay (mother1 is the decayed particle)."""
    return 91 <= abs(status) <= 99


def hepmc3_event_text(event: Any, number: int) -> str:
    """One Pythia ``event`` record as a HepMC3 Asciiv3 event block (``E``, ``U``, ``P``/``V`` lines).

    ``event`` is ``pythia.event`` after a successful ``pythia.next()``; ``number`` goes on the ``E``
    line (write 0, 1, ... so that the numbers match ACTS's sequencer event numbers). The selection
    of particles and vertices is described in the module docstring. Particle ids are 1..N and vertex
    ids -1..-M in order of appearance; every particle and vertex is written after its parents.
    """
    n = event.size()
    particles = [event[i] for i in range(n)]
    status = [p.status() for p in particles]
    mother = [p.mother1() for p in particles]
    if n < 3 or status[1] != _BEAM_STATUS or status[2] != _BEAM_STATUS:
        raise RuntimeError("unexpected Pythia event record: event[1] and event[2] are not the beam particles")

    # Keep the final-state particles and, for decay products, their chain of decayed ancestors.
    keep = [False] * n
    keep[1] = keep[2] = True
    for i in range(3, n):
        if status[i] <= 0:
            continue
        keep[i] = True
        j = i
        while _is_decay_product(status[j]):
            m = mother[j]
            if not 3 <= m < j:
                raise RuntimeError(f"unexpected Pythia event record: decay product {j} has mother {m}")
            if keep[m]:
                break
            keep[m] = True
            j = m

    body: list[str] = []
    pid = [0] * n
    body.append(_particle_line(1, 0, particles[1], 4))
    body.append(_particle_line(2, 0, particles[2], 4))
    pid[1], pid[2] = 1, 2
    body.append(f"V -1 0 [1,2] @ {_num(0.0)} {_num(0.0)} {_num(0.0)} {_num(0.0)}")
    n_particles, n_vertices = 2, 1
    decay_vertex: dict[int, int] = {}  # Pythia index of a decayed particle -> its end vertex id
    for i in range(3, n):
        if not keep[i]:
            continue
        p = particles[i]
        if _is_decay_product(status[i]):
            m = mother[i]
            parent = decay_vertex.get(m, 0)
            if parent == 0:
                n_vertices += 1
                parent = decay_vertex[m] = -n_vertices
                position = (p.xProd(), p.yProd(), p.zProd(), p.tProd())
                body.append(f"V {parent} 0 [{pid[m]}] @ {' '.join(_num(x) for x in position)}")
        else:
            offset = max(abs(p.xProd()), abs(p.yProd()), abs(p.zProd()), abs(p.tProd()))
            if not offset <= PRIMARY_TOLERANCE_MM:
                raise RuntimeError(
                    f"particle {i} (pdg {p.id()}, status {status[i]}) is not a decay product but is produced "
                    f"{offset:.3g} mm from the collision point"
                )
            parent = -1
        n_particles += 1
        pid[i] = n_particles
        body.append(_particle_line(n_particles, parent, p, 1 if status[i] > 0 else 2))

    head = f"E {number} {n_vertices} {n_particles}\nU GEV MM\n"
    return head + "\n".join(body) + "\n"


def write_hepmc3(
    process: str, n_events: int, path: str | os.PathLike[str], *, seed: int, progress: bool = True
) -> Path:
    """Generate ``n_events`` Pythia 8 events of ``process`` and write them to one HepMC3 ASCII file.

    ``process`` is a key of :data:`PROCESSES`; ``seed`` (1..900000000) is Pythia's random seed: the
    same (process, n_events, seed) gives the same file, byte for byte. Events are numbered 0..n-1.
    The file is plain text (a compression suffix such as ``.gz`` is refused, since ACTS would try to
    decompress it) and is written to a temporary name and renamed at the end, so an interrupted run
    leaves no truncated file. A tqdm bar shows progress when ``progress`` is true.

    Raises ``ValueError`` for an unknown process (naming the valid ones), ``n_events < 1``, a bad
    seed or a compressed suffix, ``ImportError`` when ``pythia8mc`` is not installed and
    ``RuntimeError`` when Pythia fails (settings, initialisation, or 10 failed tries for one event).
    Returns the path written.
    """
    settings = pythia_settings(process, seed)
    if isinstance(n_events, bool) or not isinstance(n_events, int) or n_events < 1:
        raise ValueError(f"n_events must be an int >= 1, got {n_events!r}")
    path = Path(path)
    if path.suffix.lower() in _COMPRESSED_SUFFIXES:
        raise ValueError(f"{path}: write_hepmc3 writes plain text; use a name such as '*.hepmc3'")
    pythia = _make_pythia(settings)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        with tmp.open("w", encoding="ascii", newline="\n") as f:
            f.write(_HEADER)
            for number in tqdm(range(n_events), desc=f"pythia {process}", unit="event", disable=not progress):
                for _ in range(_MAX_NEXT_TRIES):
                    if pythia.next():
                        break
                else:
                    raise RuntimeError(f"Pythia failed {_MAX_NEXT_TRIES} times in a row to generate event {number}")
                f.write(hepmc3_event_text(pythia.event, number))
            f.write(_FOOTER)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def count_hepmc3_events(path: str | os.PathLike[str]) -> int:
    """Number of events (``E`` lines) in a HepMC3 ASCII file."""
    with Path(path).open("rb") as f:
        return sum(1 for line in f if line.startswith(b"E "))
