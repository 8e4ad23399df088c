"""Helix propagation: crossings lie on the layers, in order, with the right bending."""

from __future__ import annotations

import numpy as np

from trackcore.data.geometry import get_layers
from trackcore.data.simulation import ParticleSet, helix_radius, helix_step, propagate

PIXEL = get_layers((7, 8, 9))
ALL = get_layers()


def _gun(pt, eta, phi, charge, **kwargs) -> ParticleSet:
    return ParticleSet.from_kinematics(pt, eta, phi, charge, **kwargs)


def _layer_keys(layers, idx):
    return [(layers[i].volume_id, layers[i].layer_id) for i in idx]


def test_high_pt_particle_crosses_each_pixel_barrel_layer_once_in_order() -> None:
    gun = _gun([50.0], [0.1], [0.7], [1])
    cr = propagate(gun, PIXEL, rng=np.random.default_rng(0), multiple_scattering=False)
    assert _layer_keys(PIXEL, cr.layer) == [(8, 2), (8, 4), (8, 6), (8, 8)]
    np.testing.assert_array_equal(cr.step, np.arange(4))
    r = np.hypot(cr.position[:, 0], cr.position[:, 1])
    np.testing.assert_allclose(r, [32.0, 72.0, 116.0, 172.0], atol=1e-9)


def test_barrel_crossings_lie_on_their_cylinder_and_disk_crossings_on_their_plane() -> None:
    rng = np.random.default_rng(1)
    n = 300
    gun = _gun(rng.uniform(0.3, 5.0, n), rng.uniform(-3.5, 3.5, n), rng.uniform(-np.pi, np.pi, n),
               rng.choice([-1, 1], n), vertex=np.column_stack([np.zeros((n, 2)), rng.normal(0, 5, n)]))
    cr = propagate(gun, ALL, rng=rng, multiple_scattering=False)
    r = np.hypot(cr.position[:, 0], cr.position[:, 1])
    for i, layer in enumerate(ALL):
        sel = cr.layer == i
        if not sel.any():
            continue
        if layer.is_barrel:
            np.testing.assert_allclose(r[sel], layer.r, atol=1e-6)
            assert np.all(np.abs(cr.position[sel, 2]) <= layer.z_max + 1e-9)
        else:
            np.testing.assert_allclose(cr.position[sel, 2], layer.z, atol=1e-6)
            assert np.all((r[sel] >= layer.r_min - 1e-9) & (r[sel] <= layer.r_max + 1e-9))


def test_low_pt_looper_stops_before_the_outer_layers() -> None:
    # pT = 0.1 GeV: R = 167 mm, so it never gets beyond r = 2R = 334 mm.
    gun = _gun([0.1], [0.0], [0.0], [-1])
    cr = propagate(gun, ALL, rng=np.random.default_rng(0), multiple_scattering=False)
    r = np.hypot(cr.position[:, 0], cr.position[:, 1])
    assert _layer_keys(ALL, cr.layer) == [(8, 2), (8, 4), (8, 6), (8, 8), (13, 2)]
    assert r.max() < 2 * helix_radius(np.array([0.1]), np.array([-1]), 2.0)[0]
    # It stops where it starts to curl back: no crossing on the way in.
    assert np.all(np.diff(r) > 0)


def test_true_hits_ordered_from_the_vertex_have_increasing_radius() -> None:
    rng = np.random.default_rng(2)
    n = 200
    gun = _gun(rng.uniform(0.5, 10.0, n), rng.uniform(-1.0, 1.0, n), rng.uniform(-np.pi, np.pi, n),
               rng.choice([-1, 1], n))
    cr = propagate(gun, ALL, rng=rng, multiple_scattering=True)
    order = np.lexsort((cr.step, cr.particle))
    p, pos = cr.particle[order], cr.position[order]
    r = np.hypot(pos[:, 0], pos[:, 1])
    dist = np.linalg.norm(pos - gun.vertex[p], axis=1)
    same = p[1:] == p[:-1]
    assert np.all(np.diff(dist)[same] > 0)
    assert np.all(np.diff(r)[same] > 0)


def test_charge_sign_flips_the_bending_direction() -> None:
    gun = _gun([1.0, 1.0], [0.0, 0.0], [0.0, 0.0], [1, -1])
    cr = propagate(gun, PIXEL, rng=np.random.default_rng(0), multiple_scattering=False)
    pos_y = cr.position[cr.particle == 0, 1]
    neg_y = cr.position[cr.particle == 1, 1]
    # B along +z turns a positive particle clockwise: starting along +x it bends to -y.
    assert np.all(pos_y < 0) and np.all(neg_y > 0)
    np.testing.assert_allclose(pos_y, -neg_y, atol=1e-9)


def test_forward_particle_crosses_the_disks_in_order_of_z() -> None:
    gun = _gun([2.0], [3.5], [1.0], [1])  # misses the barrel: z = 529 mm at r = 32 mm
    cr = propagate(gun, PIXEL, rng=np.random.default_rng(0), multiple_scattering=False)
    assert all(PIXEL[i].volume_id == 9 for i in cr.layer)
    assert np.all(np.diff(cr.position[:, 2]) > 0) and len(cr) == 7


def test_helix_step_full_turn_returns_to_the_start_in_the_transverse_plane() -> None:
    pos = np.array([[1.0, 2.0, 3.0]])
    mom = np.array([[0.3, -0.4, 1.0]])
    end, mom_end = helix_step(pos, mom, np.array([1]), 2.0, np.array([2 * np.pi]))
    np.testing.assert_allclose(end[0, :2], pos[0, :2], atol=1e-9)
    np.testing.assert_allclose(mom_end, mom, atol=1e-12)
    radius = helix_radius(np.array([0.5]), np.array([1]), 2.0)[0]
    np.testing.assert_allclose(end[0, 2] - 3.0, 1.0 / 0.5 * radius * 2 * np.pi)
    np.testing.assert_allclose(radius, 0.5 / (0.299792458 * 2.0) * 1000)


def test_interacting_particles_stop_at_their_interaction() -> None:
    gun = _gun(np.full(500, 5.0), np.zeros(500), np.linspace(-3, 3, 500), np.ones(500, int))
    cr = propagate(gun, ALL, rng=np.random.default_rng(3), multiple_scattering=False, interaction_rate=5.0)
    assert cr.interacted.any()
    last_step = np.zeros(len(gun), int)
    np.maximum.at(last_step, cr.particle, cr.step)
    stopped = cr.particle[cr.interacted]
    np.testing.assert_array_equal(cr.step[cr.interacted], last_step[stopped])


def test_restarting_on_a_layer_continues_the_same_helix() -> None:
    gun = _gun([1.0], [0.0], [0.3], [1])
    first = propagate(gun, PIXEL, rng=np.random.default_rng(0), multiple_scattering=False)
    assert len(first) == 4
    restart = ParticleSet(gun.particle_id, first.position[:1], first.momentum[:1], gun.charge, gun.pdg)
    again = propagate(restart, PIXEL, rng=np.random.default_rng(0), multiple_scattering=False,
                      start_layer=first.layer[:1])
    np.testing.assert_array_equal(again.layer, first.layer[1:])
    np.testing.assert_allclose(again.position, first.position[1:], atol=1e-9)
