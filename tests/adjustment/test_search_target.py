"""Tests of skimb.adjustment.search_target and the minority-class rule."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skimb.adjustment import BiasAdjustedClassifier, search_target, solve_bias
from skimb.adjustment._target import class1_probability, minority_index
from skimb.metrics import minority_f1_score


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(
        n_samples=500, n_features=6, weights=[0.85], flip_y=0.05, random_state=0
    )
    model = LogisticRegression().fit(X[:250], y[:250])
    return model, X[250:], y[250:]


# The exact search scores confusion counts only: no ("exact", "f1_macro").
@pytest.mark.parametrize(
    "search, scoring",
    [
        ("decimal", "gmean"),
        ("decimal", "minority_f1"),
        ("decimal", "f1_macro"),
        ("exact", "gmean"),
        ("exact", "minority_f1"),
    ],
)
def test_search_target_is_the_frozen_classifiers_search(binary, search, scoring):
    """Check search_target on given logits equals a frozen classifier's fit."""
    model, X, y = binary
    clf = BiasAdjustedClassifier(
        FrozenEstimator(model),
        scoring=scoring,
        search=search,
        min_improvement=-np.inf,  # the search itself, never the model's own rule
    ).fit(X, y)
    target, score, results = search_target(
        y, model.decision_function(X), scoring=scoring, search=search
    )
    np.testing.assert_allclose(target, clf.target_, atol=1e-9)
    assert score == pytest.approx(clf.best_score_, abs=1e-12)
    for key in ("target", "score", "minority_probability"):
        np.testing.assert_allclose(results[key], clf.search_results_[key], atol=1e-9)


def test_search_target_multiclass_and_fixed_target():
    """Check three classes and a fixed target, with string labels."""
    X, y = make_classification(
        n_samples=400, n_classes=3, n_informative=4, weights=[0.6, 0.3], random_state=0
    )
    labels = np.array(["a", "b", "c"])[y]
    logits = LogisticRegression().fit(X, labels).decision_function(X)
    target, score, results = search_target(labels, logits, target="balanced")
    np.testing.assert_allclose(target, np.full(3, 1 / 3))
    assert results["score"] == pytest.approx([score])
    target, _, results = search_target(labels, logits, scoring="balanced_accuracy")
    assert target.shape == (3,) and results["target"].shape[1] == 3


@pytest.mark.parametrize(
    "y_true, logits, params, match",
    [
        ([0, 0, 1, 1], np.zeros(3), {}, r"shape \(n_samples, n_classes\)"),
        ([0, 0, 0, 0], np.zeros(4), {}, "at least two"),
        ([0, 1, 2, 0], np.zeros(4), {}, r"\(4, 3\)"),
        ([0, 1, 2, 0], np.zeros((4, 3)), {"search": "exact"}, "binary problems"),
        ([0, 1, 0, 1], np.zeros(4), {"search": "grid"}, "'decimal' or 'exact'"),
    ],
)
def test_search_target_bad_input(y_true, logits, params, match):
    """Check bad labels, logits or search raise a ValueError naming them."""
    with pytest.raises(ValueError, match=match):
        search_target(y_true, logits, **params)


@pytest.mark.parametrize(
    "counts, expected",
    [([90, 10], 1), ([10, 90], 0), ([50, 50], 0), ([5, 3, 3], 1)],
)
def test_minority_is_the_rule_of_minority_f1_score(counts, expected):
    """Check the one minority rule (first class on a tie) is the metric's."""
    assert minority_index(counts) == expected
    y = np.repeat(np.arange(len(counts)), counts)
    # minority_f1_score picks the same class: perfect on it, wrong elsewhere.
    y_pred = np.where(y == expected, expected, (expected + 1) % len(counts))
    assert minority_f1_score(y, y_pred) == pytest.approx(1.0)


def test_class1_probability_is_its_own_inverse():
    """Check the one conversion between minority and class-1 probabilities."""
    p = np.array([0.1, 0.25, 0.9])
    np.testing.assert_array_equal(class1_probability(p, 1), p)
    np.testing.assert_allclose(class1_probability(p, 0), 1 - p)
    np.testing.assert_allclose(class1_probability(class1_probability(p, 0), 0), p)


def test_float_target_on_a_tie_is_class_0(binary):
    """Check a float target of balanced classes names classes_[0]."""
    model, X, y = binary
    even = np.r_[np.flatnonzero(y == 0)[:30], np.flatnonzero(y == 1)[:30]]
    clf = BiasAdjustedClassifier(FrozenEstimator(model), target=0.3)
    clf.fit(X[even], y[even])
    np.testing.assert_allclose(clf.target_, [0.3, 0.7])
    results = clf.search_results_
    np.testing.assert_allclose(results["minority_probability"], [0.3])


def test_solve_bias_many_binary_targets_match_single_solves():
    """Check a 2-D target gives, row by row, the bias of each single solve."""
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=2.0, size=(2000, 2))
    r1 = np.array([0.01, 0.2, 0.5, 0.97])
    targets = np.column_stack([1 - r1, r1])
    many, n_passes = solve_bias(logits, targets, tol=1e-9, return_n_passes=True)
    assert many.shape == (4, 2)
    singles = np.array([solve_bias(logits, t, tol=1e-9) for t in targets])
    np.testing.assert_allclose(many, singles, atol=1e-7)
    assert n_passes <= 20  # one pass per step for all targets together
    three = rng.normal(size=(500, 3))
    rows = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    np.testing.assert_allclose(
        solve_bias(three, rows), [solve_bias(three, t) for t in rows]
    )
