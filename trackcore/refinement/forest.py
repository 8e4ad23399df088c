"""A fitted ``HistGradientBoostingClassifier``'s fake probability in one compiled pass over its trees.

scikit-learn predicts tree by tree, one call each (~15 µs of overhead per tree): a 300-tree classifier costs ~4 ms
per call whatever the number of rows, and the refinement judges its searches' proposals in many small calls. This
walks every tree for every row in one compiled loop, adding the leaf values in scikit-learn's order (the baseline,
then tree after tree) and mapping the sum to a probability with the classifier's own link: the same float64
numbers as ``predict_proba``. Classifiers it cannot read (categorical splits, several trees per iteration, another
scikit-learn layout) go through ``predict_proba`` unchanged.

Usage::

    from trackcore.refinement.forest import class1_probability
    prob = class1_probability(classifier, x)   # == classifier.predict_proba(x)[:, 1]
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np


@dataclass(frozen=True)
class _Forest:
    """Every tree's nodes, concatenated (children as indices into the concatenation), and each tree's root."""

    root: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    baseline: float


_FORESTS: weakref.WeakKeyDictionary[Any, _Forest | None] = weakref.WeakKeyDictionary()


def _forest_of(classifier: Any) -> _Forest | None:
    """The compiled form of a binary ``HistGradientBoostingClassifier`` (None for anything else)."""
    try:
        predictors, baseline = classifier._predictors, np.asarray(classifier._baseline_prediction, np.float64)
        if classifier.n_trees_per_iteration_ != 1 or baseline.size != 1 or not hasattr(classifier, "_loss"):
            return None
        nodes = [iteration[0].nodes for iteration in predictors]
        needed = ("value", "feature_idx", "num_threshold", "missing_go_to_left", "left", "right", "is_leaf",
                  "is_categorical")
        if not nodes or any(name not in n.dtype.names for n in nodes for name in needed):
            return None
    except (AttributeError, TypeError, IndexError):
        return None
    if any(n["is_categorical"].any() for n in nodes):
        return None
    offset = np.cumsum([0] + [len(n) for n in nodes[:-1]]).astype(np.int64)
    allnodes = np.concatenate(nodes)
    shift = np.repeat(offset, [len(n) for n in nodes])
    return _Forest(
        root=offset, feature=allnodes["feature_idx"].astype(np.int64),
        threshold=allnodes["num_threshold"].astype(np.float64),
        missing_left=allnodes["missing_go_to_left"].astype(np.bool_),
        left=allnodes["left"].astype(np.int64) + shift, right=allnodes["right"].astype(np.int64) + shift,
        leaf=allnodes["is_leaf"].astype(np.bool_), value=allnodes["value"].astype(np.float64),
        baseline=float(baseline.ravel()[0]),
    )


@numba.njit(cache=True, nogil=True)
def _raw(x, baseline, root, feature, threshold, missing_left, left, right, leaf, value):  # noqa: ANN001, ANN202, PLR0913
    """Each row's baseline plus its leaf value in every tree, in tree order."""
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        total = baseline
        for t in range(root.shape[0]):
            node = root[t]
            while not leaf[node]:
                v = x[i, feature[node]]
                if math.isnan(v):
                    node = left[node] if missing_left[node] else right[node]
                elif v <= threshold[node]:
                    node = left[node]
                else:
                    node = right[node]
            total += value[node]
        out[i] = total
    return out


def class1_probability(classifier: Any, x: np.ndarray) -> np.ndarray:
    """``classifier.predict_proba(x)[:, 1]``, compiled for a binary ``HistGradientBoostingClassifier``.

    Shapes: x: (G, F) features; returns (G,) float64.
    """
    if classifier not in _FORESTS:
        _FORESTS[classifier] = _forest_of(classifier)
    forest = _FORESTS[classifier]
    x = np.ascontiguousarray(x, np.float64)
    if x.ndim == 2 and not len(x):
        return np.zeros(0)
    if forest is None or x.ndim != 2 or x.shape[1] != getattr(classifier, "n_features_in_", -1):
        return classifier.predict_proba(x)[:, 1]
    raw = _raw(x, forest.baseline, forest.root, forest.feature, forest.threshold, forest.missing_left, forest.left,
               forest.right, forest.leaf, forest.value)
    return classifier._loss.predict_proba(raw[:, None])[:, 1]
