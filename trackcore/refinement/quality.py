"""The learned quality cut: how likely a refined candidate is a fake, judged from its geometry alone.

The hand-set quality cut (holes, layers, ``short_d0``) cannot tell most fakes at TrackML density from
particles: both are 3-layer candidates near the beam line (``docs/refinement.md``). A gradient-boosted
classifier (scikit-learn's ``HistGradientBoostingClassifier``) on a few numbers per candidate does better:
its hits and layers, holes, the helix fit's impact parameters, curvature, direction and residuals, its radial
span, and how crowded its hits' surroundings are (a fake is hits of several particles in a dense region).
The truth only makes its training targets (a candidate that matches no particle of any pT is a fake,
as the DM fake rate counts it), on a family's candidates of the training events (``trackcore quality
fit``); it then reads no truth. The features use the hits and the detector's layers only, so one model
serves any family's candidates in principle, but each family's candidates differ: fit one per family.

:class:`~trackcore.refinement.refine.HelixRefinement` (``quality_model``: the saved file) judges with it where
it applies the hand-set quality cut: the model's candidates before the searches (those whose fake probability
exceeds ``max_fake_prob`` are dropped and their hits searched) and every helix a search finds, before it takes
its hits (:func:`learned_judge`). Which threshold: ``trackcore quality scan`` on the validation events (an
estimate: it cuts the final candidates of a stage predicted without the cut). Files are pickles: load only the
ones you made.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trackcore.checks import is_null_text
from trackcore.data.atomic import atomic_write_bytes
from trackcore.refinement import steps
from trackcore.refinement.forest import class1_probability
from trackcore.refinement.helix import fit_helices, flatten

FEATURES: tuple[str, ...] = (
    "hits", "layers", "holes", "log10_d0", "abs_z0", "log10_radius", "abs_eta", "max_dxy", "mean_dxy",
    "max_drz", "mean_drz", "mean_crowd", "max_crowd", "radial_span", "inner_radius",
)
"""The columns of :func:`candidate_features`, in order (a saved model holds the names it was fitted on)."""
FORMAT = 1
"""The version of the saved file; a file of another version is refused with the reason."""


def crowding(p: np.ndarray, window: tuple[float, float], cap: int = 64) -> np.ndarray:
    """How many hits (itself included, at most ``cap``) lie within ``window = (azimuth rad, pseudorapidity)``
    of each hit, seen from the origin: points ``(cos phi / window[0], sin phi / window[0], eta / window[1])``
    within distance 1 (inclusive) of each other, searched in float32, counted without listing the pairs.

    Shapes: p: (N_hits, 3) float64; returns (N_hits,) float64.
    """
    from scipy.spatial import cKDTree

    r = np.maximum(np.hypot(p[:, 0], p[:, 1]), 1e-9)
    phi, eta = np.arctan2(p[:, 1], p[:, 0]), np.arcsinh(p[:, 2] / r)
    direction = np.stack([np.cos(phi) / window[0], np.sin(phi) / window[0], eta / window[1]], 1).astype(np.float32)
    if not len(direction):
        return np.zeros(0)
    counts = cKDTree(direction).query_ball_point(direction, 1.0, return_length=True)
    return np.minimum(np.asarray(counts, np.int64), cap).astype(np.float64)


def candidate_features(
    p: np.ndarray, tracks: list[np.ndarray], layer: tuple[Any, np.ndarray], *, hole_margin: float,
    span_from: int | None, crowd: np.ndarray,
) -> np.ndarray:
    """The :data:`FEATURES` of each candidate (hole counts as the quality cut counts them).

    Args:
        p: hit positions (mm); tracks: each candidate's hit indices (>= 3 each); layer: :func:`steps.hit_layers`;
        crowd: :func:`crowding` of every hit.

    Shapes:
        p: (N_hits, 3) float64; crowd: (N_hits,); returns (G, len(FEATURES)) float64.
    """
    if not tracks:
        return np.zeros((0, len(FEATURES)))
    hits, group = flatten(tracks)
    n = len(tracks)
    fit = fit_helices(p[hits], group, n)
    dxy, drz = fit.residuals(p[hits], group)
    size = np.bincount(group, minlength=n).astype(np.float64)

    def largest(v: np.ndarray) -> np.ndarray:
        out = np.full(n, -np.inf)
        np.maximum.at(out, group, v)
        return out

    def mean(v: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=v, minlength=n) / size

    holes, _ = steps.hole_counts(tracks, p, layer, hole_margin, span_from)
    r = np.hypot(p[hits, 0], p[hits, 1])
    inner = -largest(-r)
    columns = [
        size, steps.layer_counts(tracks, layer), holes.sum(1), np.log10(fit.d0 + 1e-3),
        np.minimum(np.abs(fit.z_at_beam), 1e4), np.log10(np.minimum(fit.radius, 1e7)), np.abs(fit.eta),
        largest(dxy), mean(dxy), largest(drz), mean(drz), mean(crowd[hits]), largest(crowd[hits]),
        largest(r) - inner, inner,
    ]
    out = np.stack([np.asarray(c, np.float64) for c in columns], 1)
    return np.nan_to_num(out, nan=0.0, posinf=1e7, neginf=-1e7)


@dataclass(frozen=True)
class QualityModel:
    """A fitted fake classifier and the settings its features were computed with.

    Args:
        classifier: a fitted scikit-learn classifier with ``predict_proba`` (class 1: fake).
        hole_volumes: the volumes whose layers the holes and layers were counted on.
        hole_margin, span_from: the hole counting (:func:`steps.hole_counts`).
        crowd_window: ``(azimuth rad, pseudorapidity)`` of :func:`crowding`.
        features: the feature names it was fitted on.
        info: what it was fitted on (stage folders, split, candidates, fakes), for the record.
    """

    classifier: Any
    hole_volumes: tuple[int, ...] | None = (7, 8, 9)
    hole_margin: float = 1.0
    span_from: int | None = 5
    crowd_window: tuple[float, float] = (0.01, 0.02)
    features: tuple[str, ...] = FEATURES
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, x: np.ndarray, fake: np.ndarray, seed: int = 0, **settings: Any) -> QualityModel:
        """Fit the classifier on candidates' :func:`candidate_features` and whether each is a fake.

        Shapes: x: (G, len(FEATURES)); fake: (G,) bool.

        Raises:
            ValueError: shapes that do not match, or only one class (no fakes, or only fakes).
        """
        from sklearn.ensemble import HistGradientBoostingClassifier

        x, fake = np.asarray(x, np.float64), np.asarray(fake, bool)
        if x.ndim != 2 or x.shape[1] != len(FEATURES) or fake.shape != (len(x),):
            raise ValueError(f"Expected features (G, {len(FEATURES)}) and one label per candidate "
                             f"(got {x.shape} and {fake.shape})")
        if fake.all() or not fake.any():
            raise ValueError(f"cannot fit a fake classifier on {len(fake)} candidates of which {int(fake.sum())} "
                             "are fakes: both kinds are needed")
        classifier = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=seed)
        return cls(classifier.fit(x, fake.astype(np.int64)), **settings)

    def fake_probability(self, p: np.ndarray, tracks: list[np.ndarray], layer: tuple[Any, np.ndarray],
                         crowd: np.ndarray | None = None) -> np.ndarray:
        """Each candidate's probability of being a fake; 0 for those it does not judge (a hit outside the
        layers of ``layer``, :func:`steps.on_layers`).

        Args:
            layer: :func:`steps.hit_layers` of the model's ``hole_volumes``; crowd: :func:`crowding` of every
                hit with the model's ``crowd_window`` (computed here when None).

        Shapes: p: (N_hits, 3) float64; returns (G,) float64.
        """
        prob = np.zeros(len(tracks))
        inside = steps.on_layers(tracks, layer)
        if inside.any():
            crowd = crowding(p, self.crowd_window) if crowd is None else crowd
            x = candidate_features(p, [t for t, i in zip(tracks, inside, strict=True) if i], layer,
                                   hole_margin=self.hole_margin, span_from=self.span_from, crowd=crowd)
            prob[inside] = class1_probability(self.classifier, x)
        return prob

    def save(self, path: str | Path) -> Path:
        """Write the model (atomically: a stopped write leaves no partial file)."""
        return atomic_write_bytes(path, pickle.dumps({"format": FORMAT, "model": self}))

    @staticmethod
    def load(path: str | Path) -> QualityModel:
        """A saved model (cached while the file is unchanged).

        Raises:
            FileNotFoundError: no such file (with how to make one).
            ValueError: not a saved quality model, another format, or other features.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no quality model there (make one with `trackcore quality fit`, "
                                    "or set refine.quality_model to null)")
        return _load(str(path.resolve()), os.stat(path).st_mtime_ns)


def model_file(value: str | Path | None) -> str | None:
    """A ``quality_model`` setting as a file name, or None for none: the command line's ``null`` (or ``none``)
    arrives as a string (``--model.init_args.refine.quality_model=null``: jsonargparse parses ``str | None``
    from the command line as the string), and no one names a model file so."""
    if value is None or is_null_text(str(value)):
        return None
    return str(value)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> QualityModel:
    """The model in ``path`` (``mtime_ns`` makes a rewritten file a new cache entry)."""
    try:
        with open(path, "rb") as f:
            saved = pickle.load(io.BufferedReader(f))
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as err:
        raise ValueError(f"{path}: not a saved quality model ({type(err).__name__}: {err})") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("model"), QualityModel):
        raise ValueError(f"{path}: not a saved quality model")
    if saved.get("format") != FORMAT:
        raise ValueError(f"{path}: quality model format {saved.get('format')!r}, this version reads {FORMAT}: "
                         "fit it again")
    model = saved["model"]
    if tuple(model.features) != FEATURES:
        raise ValueError(f"{path}: fitted on features {list(model.features)}, this version computes "
                         f"{list(FEATURES)}: fit it again")
    return model


def learned_judge(model: QualityModel, max_fake_prob: float, p: np.ndarray, volume_id: Any,
                  layer_id: Any, shared: dict[Any, Any] | None = None) -> Callable[[list[np.ndarray]], np.ndarray]:
    """The learned cut of one event: a function telling which of some tracks have a fake probability of at most
    ``max_fake_prob`` (tracks with a hit outside the model's ``hole_volumes`` pass unjudged). The event's layers
    and crowding are computed once, here, for all the calls (the refinement judges every proposal of its searches);
    ``shared`` (a dict, for one event): the judges of several models with the same hole volumes or crowding
    window compute those once.

    Raises:
        ValueError: no ``volume_id`` or ``layer_id`` (:func:`steps.hit_layers`).
    """
    shared = {} if shared is None else shared
    layers, crowds = ("layers", model.hole_volumes), ("crowding", model.crowd_window)
    if layers not in shared:
        shared[layers] = steps.hit_layers(len(p), volume_id, layer_id, model.hole_volumes)
    if crowds not in shared:
        shared[crowds] = crowding(p, model.crowd_window)
    layer, crowd = shared[layers], shared[crowds]

    def passes(tracks: list[np.ndarray]) -> np.ndarray:
        return model.fake_probability(p, tracks, layer, crowd) <= max_fake_prob

    return passes
