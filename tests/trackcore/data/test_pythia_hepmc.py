"""Pythia 8 events written as HepMC3 ASCII and read back by ACTS's HepMC3Reader + HepMC3InputConverter."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

from trackcore.data.acts_sim.pythia_hepmc import (
    MISSING_EXTRA_MESSAGE,
    PROCESSES,
    count_hepmc3_events,
    pythia_settings,
    write_hepmc3,
)

PYTHIA_REASON = "pythia8mc (optional extra `acts`) is not installed"
ACTS_REASON = "pyacts (optional extra `acts`) is not installed"
NEUTRINOS = {12, 14, 16}


def _pythia() -> None:
    pytest.importorskip("pythia8mc", reason=PYTHIA_REASON)


@pytest.fixture(scope="module")
def acts_module() -> Any:
    """The ``acts`` package with its HepMC3 bindings; listed first so that a missing pyacts skips before Pythia runs."""
    pytest.importorskip("acts", reason=ACTS_REASON)
    import acts
    import acts.examples
    import acts.examples.hepmc3

    return acts


@pytest.fixture(scope="module")
def ttbar_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _pythia()
    return write_hepmc3("ttbar", 3, tmp_path_factory.mktemp("hepmc") / "ttbar.hepmc3", seed=7, progress=False)


@pytest.fixture(scope="module")
def minbias_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _pythia()  # Pythia's SoftQCD initialisation takes ~6 s: one file for the module
    return write_hepmc3("minbias", 30, tmp_path_factory.mktemp("hepmc") / "minbias.hepmc3", seed=8, progress=False)


def _parse(path: Path) -> list[dict]:
    """Events of a HepMC3 ASCII file: E-line counts, particles {id: fields}, vertices {id: (incoming, position)}."""
    lines = path.read_text(encoding="ascii").splitlines()
    assert lines[0].startswith("HepMC::Version 3.02.")
    assert lines[1] == "HepMC::Asciiv3-START_EVENT_LISTING"
    assert lines[-1] == "HepMC::Asciiv3-END_EVENT_LISTING"
    events: list[dict] = []
    for line in lines[2:-1]:
        tag, *fields = line.split()
        if tag == "E":
            events.append({"number": int(fields[0]), "n_v": int(fields[1]), "n_p": int(fields[2])})
            events[-1].update(units=None, particles={}, vertices={})
        elif tag == "U":
            events[-1]["units"] = tuple(fields)
        elif tag == "P":
            pid, parent, pdg = (int(x) for x in fields[:3])
            p4m = [float(x) for x in fields[3:8]]
            assert pid == len(events[-1]["particles"]) + 1, "particle ids are 1..N in order"
            assert parent == 0 or parent in events[-1]["vertices"], "parent vertex written before the particle"
            events[-1]["particles"][pid] = {"parent": parent, "pdg": pdg, "p4m": p4m, "status": int(fields[8])}
        elif tag == "V":
            vid = int(fields[0])
            assert vid == -(len(events[-1]["vertices"]) + 1), "vertex ids are -1..-M in order"
            incoming = [int(x) for x in line[line.index("[") + 1 : line.index("]")].split(",")]
            assert all(i in events[-1]["particles"] for i in incoming), "incoming particles written before the vertex"
            position = [float(x) for x in line[line.index("@") + 1 :].split()]
            events[-1]["vertices"][vid] = (incoming, position)
        else:
            raise AssertionError(f"unexpected line {line!r}")
    return events


def test_bad_arguments_are_named_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown process 'tt'.*minbias, ttbar"):
        write_hepmc3("tt", 3, tmp_path / "x.hepmc3", seed=1)
    with pytest.raises(ValueError, match="n_events must be an int >= 1"):
        write_hepmc3("ttbar", 0, tmp_path / "x.hepmc3", seed=1)
    with pytest.raises(ValueError, match="seed must be an int in 1..900000000"):
        write_hepmc3("ttbar", 1, tmp_path / "x.hepmc3", seed=0)
    with pytest.raises(ValueError, match="plain text"):
        write_hepmc3("ttbar", 1, tmp_path / "x.hepmc3.gz", seed=1)
    assert not list(tmp_path.iterdir())
    assert {"ttbar", "minbias"} <= set(PROCESSES)
    settings = pythia_settings("ttbar", 5)
    assert "Beams:eCM = 13000" in settings and "Top:gg2ttbar = on" in settings
    assert settings[-2:] == ["Random:setSeed = on", "Random:seed = 5"]


def test_missing_pythia_raises_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pythia8mc", None)  # makes `import pythia8mc` raise ImportError
    with pytest.raises(ImportError) as err:
        write_hepmc3("ttbar", 1, tmp_path / "x.hepmc3", seed=1)
    assert str(err.value) == MISSING_EXTRA_MESSAGE


def test_ttbar_file_is_a_valid_connected_record(ttbar_file: Path) -> None:
    assert ttbar_file.is_file() and count_hepmc3_events(ttbar_file) == 3
    assert not ttbar_file.with_name(ttbar_file.name + ".part").exists()
    events = _parse(ttbar_file)
    assert [e["number"] for e in events] == [0, 1, 2]
    n_displaced = 0
    for event in events:
        particles, vertices = event["particles"], event["vertices"]
        assert (len(vertices), len(particles)) == (event["n_v"], event["n_p"])
        assert event["units"] == ("GEV", "MM")
        # Beams: two protons (status 4) into the primary vertex at the collision point.
        assert [(particles[i]["pdg"], particles[i]["status"], particles[i]["parent"]) for i in (1, 2)] == [
            (2212, 4, 0),
            (2212, 4, 0),
        ]
        assert vertices[-1] == ([1, 2], [0.0, 0.0, 0.0, 0.0])
        # Every other vertex is the decay of one status-2 particle, which has exactly this end vertex.
        ends = [i for incoming, _ in list(vertices.values())[1:] for i in incoming]
        assert len(ends) == len(set(ends)) == len(vertices) - 1
        assert {particles[i]["status"] for i in ends} == {2}
        assert {i for i, p in particles.items() if p["status"] == 2} == set(ends)
        children = {v: 0 for v in vertices}
        for i, p in particles.items():
            assert p["status"] in (1, 2, 4)
            if i > 2:
                children[p["parent"]] += 1
            px, py, pz, e, m = p["p4m"]
            assert all(math.isfinite(x) for x in p["p4m"]) and e > 0 and m >= 0
            assert abs(e * e - px * px - py * py - pz * pz - m * m) <= 1e-6 * e * e + 1e-9
        assert min(children.values()) >= 1
        final = [p for p in particles.values() if p["status"] == 1]
        assert len(final) > 100
        assert sum(abs(p["pdg"]) == 211 for p in final) > 20
        n_displaced += sum(math.dist(pos[:3], (0, 0, 0)) > 1.0 for _, pos in vertices.values())
    assert n_displaced > 0  # K0S, Lambda, b and c hadron decays at their displaced decay points

    # Every final-state particle of Pythia's record is in the file.
    pythia8mc = pytest.importorskip("pythia8mc", reason=PYTHIA_REASON)
    pythia = pythia8mc.Pythia("", False)
    for setting in pythia_settings("ttbar", 7):
        assert pythia.readString(setting)
    assert pythia.init() and pythia.next()
    assert sum(p["status"] == 1 for p in events[0]["particles"].values()) == pythia.event.nFinal()


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    _pythia()
    a = write_hepmc3("ttbar", 2, tmp_path / "a.hepmc3", seed=11, progress=False)
    b = write_hepmc3("ttbar", 2, tmp_path / "b.hepmc3", seed=11, progress=False)
    c = write_hepmc3("ttbar", 2, tmp_path / "c.hepmc3", seed=12, progress=False)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def _run_acts(
    acts: Any, inputs: list, vertex_stddev: tuple[float, float, float, float], n_events: int = 2
) -> dict[int, list]:
    """Read HepMC3 ``inputs`` with ACTS; per event the converted particles as (pv, sv, pdg, charge, x, y, z, t)."""
    hepmc3 = acts.examples.hepmc3

    collected: dict[int, list] = {}

    class CollectParticles(acts.examples.IAlgorithm):
        def __init__(self, key: str) -> None:
            acts.examples.IAlgorithm.__init__(self, name="CollectParticles", level=acts.logging.WARNING)
            self.particles = acts.examples.ReadDataHandle(self, acts.examples.SimParticleContainer, "InputParticles")
            self.particles.initialize(key)

        def execute(self, context: Any) -> Any:
            rows = []
            for p in self.particles(context.eventStore):
                barcode, position = p.particleId, p.fourPosition
                xyzt = [position[k] for k in range(4)]
                rows.append((barcode.vertexPrimary, barcode.vertexSecondary, int(p.pdg), p.charge, *xyzt))
            collected[context.eventNumber] = rows
            return acts.examples.ProcessCode.SUCCESS

    s = acts.examples.Sequencer(events=n_events, numThreads=1, trackFpes=False, logLevel=acts.logging.WARNING)
    s.addReader(
        hepmc3.HepMC3Reader(
            inputs=inputs,
            level=acts.logging.WARNING,
            outputEvent="hepmc3_event",
            randomNumbers=acts.examples.RandomNumbers(seed=42),
            vertexGenerator=acts.examples.GaussianVertexGenerator(
                stddev=acts.Vector4(*vertex_stddev), mean=acts.Vector4(0, 0, 0, 0)
            ),
        )
    )
    s.addAlgorithm(
        hepmc3.HepMC3InputConverter(
            level=acts.logging.WARNING,
            inputEvent="hepmc3_event",
            outputParticles="particles_generated",
            outputVertices="vertices_generated",
            checkConsistency=True,
        )
    )
    s.addAlgorithm(CollectParticles("particles_generated"))
    s.run()
    assert sorted(collected) == list(range(n_events))
    return collected


def test_acts_reads_the_ttbar_file(acts_module: Any, ttbar_file: Path) -> None:
    fixed = acts_module.examples.hepmc3.HepMC3Reader.Input.Fixed
    collected = _run_acts(
        acts_module, [fixed(str(ttbar_file), 1)], (0.0, 0.0, 0.0, 0.0)
    )  # no smearing: positions as written
    for number, event in enumerate(_parse(ttbar_file)[:2]):
        rows = collected[number]
        # One primary vertex; every interacting final-state particle (not neutrinos) comes through.
        assert {r[0] for r in rows} == {1}
        final = [p for p in event["particles"].values() if p["status"] == 1 and abs(p["pdg"]) not in NEUTRINOS]
        assert len(rows) == len(final)
        assert sum(r[3] != 0 for r in rows) > 50
        assert sorted(r[2] for r in rows) == sorted(p["pdg"] for p in final)
        # Particles start at their production vertex: the displaced ones (> 1 mm) are the same ones.
        vertices = event["vertices"]
        displaced_file = sum(math.dist(vertices[p["parent"]][1][:3], (0, 0, 0)) > 1.0 for p in final)
        displaced_acts = sum(math.dist(r[4:7], (0, 0, 0)) > 1.0 for r in rows)
        assert displaced_acts == displaced_file > 0
        assert all(abs(r[6]) < 1.0 for r in rows if r[1] == 0)  # primary particles at the collision point


def test_acts_mixes_ttbar_with_poisson_minbias_pileup(acts_module: Any, ttbar_file: Path, minbias_file: Path) -> None:
    u = acts_module.UnitConstants
    reader = acts_module.examples.hepmc3.HepMC3Reader
    inputs = [reader.Input.Fixed(str(ttbar_file), 1), reader.Input.Poisson(str(minbias_file), 5.0)]
    collected = _run_acts(acts_module, inputs, (0.0125 * u.mm, 0.0125 * u.mm, 55.5 * u.mm, 5.0 * u.ns))
    n_vertices = []
    for rows in collected.values():
        assert sum(r[3] != 0 for r in rows) > 50
        primaries = {r[0]: r[4:7] for r in rows if r[1] == 0}
        n_vertices.append(len(primaries))
        for x, y, z in primaries.values():  # smeared collision points, near the origin
            assert abs(x) < 1.0 and abs(y) < 1.0 and abs(z) < 1000.0
        assert len({round(z, 6) for _, _, z in primaries.values()}) == len(primaries)  # each vertex smeared apart
    assert max(n_vertices) > 1  # hard scatter + pile-up vertices
