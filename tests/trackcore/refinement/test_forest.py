"""The compiled fake probability of a fitted HistGradientBoostingClassifier (trackcore.refinement.forest)."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from trackcore.refinement.forest import _forest_of, class1_probability


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(600, 5))
    y = (x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(scale=0.5, size=600) > 0).astype(np.int64)
    x[rng.random(600) < 0.1, 3] = np.nan  # missing values: the trees learn a side for them
    return x, y


def test_the_compiled_walk_gives_predict_probas_numbers() -> None:
    x, y = data()
    classifier = HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(x, y)
    assert _forest_of(classifier) is not None
    test, _ = data(1)
    test[:5, 0] = np.nan  # a feature never missing in training
    np.testing.assert_array_equal(class1_probability(classifier, test), classifier.predict_proba(test)[:, 1])
    assert class1_probability(classifier, test[:0]).shape == (0,)
    # values exactly on split thresholds go left, as in scikit-learn
    root = classifier._predictors[0][0].nodes[0]
    on = test[:20].copy()
    on[:, root["feature_idx"]] = root["num_threshold"]
    np.testing.assert_array_equal(class1_probability(classifier, on), classifier.predict_proba(on)[:, 1])


def test_other_classifiers_go_through_predict_proba() -> None:
    x, y = data()
    x = np.nan_to_num(x)
    linear = LogisticRegression().fit(x, y)
    assert _forest_of(linear) is None
    np.testing.assert_array_equal(class1_probability(linear, x), linear.predict_proba(x)[:, 1])
    categorical = np.c_[x[:, :4], np.abs(x[:, 4] * 3).astype(int) % 4]
    forest = HistGradientBoostingClassifier(max_iter=20, categorical_features=[4], random_state=0).fit(categorical, y)
    np.testing.assert_array_equal(class1_probability(forest, categorical), forest.predict_proba(categorical)[:, 1])
