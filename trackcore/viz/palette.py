"""Colours of the event display: a categorical palette for tracks, grey and red kept for meanings.

Grey means unassigned or noise, red means fake: the categorical palette holds neither, so a
track is never mistaken for either.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps

#: Colour of unassigned hits and of noise (``particle_id == 0``).
UNASSIGNED_COLOR = "0.7"

#: Colour of fake track candidates (no particle matched).
FAKE_COLOR = "#e00000"

# tab20's greys (14, 15) and reds (6, 7), and tab20b's reds (12-15), are reserved.
_TAB20_RESERVED = [6, 7, 14, 15]
_TAB20B_RESERVED = [12, 13, 14, 15]


def palette() -> np.ndarray:
    """The 32-colour categorical palette: tab20 then tab20b, without greys and reds.

    Shapes:
        return: (32, 4) RGBA in [0, 1].
    """
    tab20 = np.delete(np.asarray(colormaps["tab20"].colors), _TAB20_RESERVED, axis=0)
    tab20b = np.delete(np.asarray(colormaps["tab20b"].colors), _TAB20B_RESERVED, axis=0)
    rgb = np.concatenate([tab20, tab20b])
    return np.concatenate([rgb, np.ones((len(rgb), 1))], axis=1)


def color_index(n: int, seed: int) -> np.ndarray:
    """Palette index of each of ``n`` categories: the palette shuffled once (seeded), then cycled.

    Shapes:
        return: (n,) int.
    """
    if n < 0:
        raise ValueError(f"Expected n >= 0 (got {n})")
    perm = np.random.default_rng(seed).permutation(len(palette()))
    return perm[np.arange(n) % len(perm)]


def categorical_colors(n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` colours for ``n`` categories: a 32-colour categorical palette shuffled (seeded) and cycled.

    Consecutive categories always get different colours, so tracks with neighbouring ids (which
    builders often produce side by side) stay distinguishable; no colour is grey or red.

    Shapes:
        return: (n, 4) RGBA in [0, 1].
    """
    return palette()[color_index(n, seed)]
