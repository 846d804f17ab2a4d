"""Tests of the multiclass coordinate search: one fold moves the bias itself."""

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

import skimb.adjustment._multiclass_search as multiclass_search
from skimb.adjustment import BiasAdjustedClassifier, search_target
from skimb.adjustment._target import imbalance_state


def _logits(seed, n=900):
    rng = np.random.default_rng(seed)
    y = rng.choice(4, size=n, p=[0.6, 0.25, 0.1, 0.05])
    z = rng.normal(size=(n, 4))
    z[np.arange(n), y] += 1.2
    return z, y


@pytest.mark.parametrize("weighted", [False, True])
def test_one_fold_search_solves_only_its_starts(monkeypatch, weighted):
    """Check a one-fold search solves a bias for its 3 starts, not per candidate."""
    calls = []
    solve = multiclass_search.solve_bias

    def counting(*args, **kwargs):
        calls.append(1)
        return solve(*args, **kwargs)

    monkeypatch.setattr(multiclass_search, "solve_bias", counting)
    z, y = _logits(0)
    w = np.random.default_rng(1).uniform(0.5, 2.0, y.size) if weighted else None
    _, _, results = search_target(y, z, scoring="balanced_accuracy", sample_weight=w)
    assert len(results["score"]) > 20
    assert len(calls) == 3


@pytest.mark.parametrize("weighted", [False, True])
def test_one_fold_candidates_are_the_states_of_their_biases(weighted):
    """Check each candidate's target is the state its bias reaches, and its score.

    The bias of a candidate target, solved afresh, reproduces the recorded
    target (to the solver's tolerance) and the recorded score.
    """
    z, y = _logits(2)
    w = np.random.default_rng(3).uniform(0.5, 2.0, y.size) if weighted else None
    _, _, results = search_target(y, z, scoring="f1_macro", sample_weight=w)
    targets = results["target"]
    assert np.all(targets > 0) and np.allclose(targets.sum(axis=1), 1.0)
    rng = np.random.default_rng(4)
    for i in rng.choice(len(targets), size=8, replace=False):
        _, score, _ = search_target(
            y, z, scoring="f1_macro", target=targets[i], sample_weight=w
        )
        assert score == pytest.approx(results["score"][i], abs=1e-3)


def test_frozen_classifier_keeps_the_searched_bias():
    """Check the fitted bias is the searched one: its state is ``target_``."""
    z, y = _logits(5)
    X = z
    model = LogisticRegression().fit(X, y)
    clf = BiasAdjustedClassifier(
        FrozenEstimator(model), scoring="balanced_accuracy", min_improvement=-np.inf
    ).fit(X, y)
    logits = np.log(model.predict_proba(X))
    np.testing.assert_allclose(
        imbalance_state(logits, clf.bias_), clf.target_, atol=1e-10
    )
    pred = clf.classes_[np.argmax(logits + clf.bias_, axis=1)]
    np.testing.assert_array_equal(clf.predict(X), pred)
    best = np.argmax(clf.search_results_["score"])
    assert clf.best_score_ == pytest.approx(clf.search_results_["score"][best])


def test_several_folds_search_targets():
    """Check state_on='train' (several folds) still solves each candidate."""
    z, y = _logits(6, n=600)
    clf = BiasAdjustedClassifier(
        LogisticRegression(),
        scoring="balanced_accuracy",
        state_on="train",
        cv=3,
        ensemble=False,
        min_improvement=-np.inf,
    ).fit(z, y)
    p = softmax(np.log(clf.estimator_.predict_proba(z)) + clf.bias_, axis=1)
    np.testing.assert_allclose(p.mean(axis=0), clf.target_, atol=1e-6)
