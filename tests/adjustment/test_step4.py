"""Step 4 of BiasAdjustedClassifier: the searched rule against the fixed rules."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer

from skimb.adjustment import BiasAdjustedClassifier, _fit_modes
from skimb.adjustment._cross_fit import cross_fitted_gain
from skimb.metrics import make_cost_scorer


class _Lookup(ClassifierMixin, BaseEstimator):
    """Predicts the probabilities of row ``int(X[i, 0])`` of ``proba``."""

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return self.proba[np.asarray(X)[:, 0].astype(int)]


def _frozen(proba, y):
    X = np.arange(len(y), dtype=float)[:, None]
    return FrozenEstimator(_Lookup(proba).fit(X, y)), X


def _noise(n, minority, n_classes=2, seed=0):
    """Labels and probabilities that carry no information about them."""
    rng = np.random.default_rng(seed)
    share = np.full(n_classes, (1 - minority) / (n_classes - 1))
    share[-1] = minority
    y = rng.choice(n_classes, size=n, p=share)
    proba = rng.dirichlet(np.full(n_classes, 2.0), size=n)
    return y, proba


def test_cross_fitted_gain_keeps_the_own_rule_on_noise():
    """Check a gain that the search finds in the rows' noise is not used."""
    y, proba = _noise(300, 0.1)
    model, X = _frozen(proba, y)
    # -1: the search is used whatever the gain, and the gain cross-fitted
    searched = BiasAdjustedClassifier(model, scoring="gmean", min_improvement=-1.0)
    searched.fit(X, y)
    in_sample = searched.best_score_ - searched.own_score_
    assert in_sample > 0.01  # the search fits the noise of 30 minority rows
    assert searched.search_gain_ < 0
    kept = BiasAdjustedClassifier(model, scoring="gmean").fit(X, y)
    assert kept.search_gain_ == pytest.approx(searched.search_gain_)
    np.testing.assert_array_equal(kept.bias_, 0)
    assert kept.prior_correction_ == 0.0
    assert kept.best_score_ == kept.own_score_


def test_cross_fitted_gain_uses_a_real_gain():
    """Check a rule that helps on every half is used."""
    rng = np.random.default_rng(0)
    y = (rng.random(600) < 0.1).astype(int)
    margin = 2.0 * y + rng.normal(size=600) - 3.0  # the minority is rarely predicted
    proba = np.column_stack([1 - 1 / (1 + np.exp(-margin)), 1 / (1 + np.exp(-margin))])
    model, X = _frozen(proba, y)
    ba = BiasAdjustedClassifier(model, scoring="gmean").fit(X, y)
    assert ba.search_gain_ > 0.1
    assert ba.prior_correction_ is None
    assert ba.bias_[1] > 0
    assert ba.best_score_ > ba.own_score_ + 0.1


def test_large_classes_keep_the_in_sample_gain(monkeypatch):
    """Check the gain is the in-sample one when every class has enough rows."""
    y, proba = _noise(300, 0.1)
    model, X = _frozen(proba, y)
    monkeypatch.setattr(_fit_modes, "CROSS_FIT_BELOW", 0)
    ba = BiasAdjustedClassifier(
        model, scoring="minority_f1", min_improvement=-np.inf
    ).fit(X, y)
    assert ba.search_gain_ == pytest.approx(ba.best_score_ - ba.own_score_)


def test_cross_fit_is_deterministic():
    """Check two fits halve the rows alike whatever random_state is."""
    y, proba = _noise(300, 0.1, seed=1)
    model, X = _frozen(proba, y)
    gains = [
        BiasAdjustedClassifier(model, scoring="gmean", random_state=seed)
        .fit(X, y)
        .search_gain_
        for seed in (None, None, 3)
    ]
    assert gains[0] == gains[1] == gains[2]


def test_prior_correction_for_three_classes():
    """Check a calibrated model's balanced-accuracy rule is its prior correction.

    For calibrated probabilities the rule of the best balanced accuracy is
    argmax p_k / prior_k: the bias -log(prior), tau = 1.
    """
    rng = np.random.default_rng(0)
    prior = np.array([0.8, 0.15, 0.05])
    y = rng.choice(3, size=3000, p=prior)
    means = np.eye(3) * 1.5
    X_feat = means[y] + rng.normal(size=(3000, 3))
    # the Bayes posterior of the generator: calibrated by construction
    log_lik = -0.5 * ((X_feat[:, None, :] - means[None]) ** 2).sum(axis=2)
    joint = np.exp(log_lik) * prior
    proba = joint / joint.sum(axis=1, keepdims=True)
    model, X = _frozen(proba, y)
    ba = BiasAdjustedClassifier(model, scoring="balanced_accuracy").fit(X, y)
    assert ba.prior_correction_ in (0.75, 1.0)
    counts = np.bincount(y) / y.size
    log_prior = np.log(counts)
    expected = -ba.prior_correction_ * (log_prior - log_prior.mean())
    np.testing.assert_allclose(ba.bias_, expected)
    np.testing.assert_allclose(ba.target_, ba.imbalance_state_["after"])
    own = np.argmax(proba, axis=1)
    assert ba.best_score_ > ba.own_score_ + 0.05
    assert (ba.predict(X) != own).any()


def test_two_classes_have_no_prior_correction():
    """Check a binary problem compares the search with the own rule only."""
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.2).astype(int)
    X = np.column_stack([y + rng.normal(size=400), rng.normal(size=400)])
    ba = BiasAdjustedClassifier(LogisticRegression(), cv=3, min_improvement=np.inf)
    ba.fit(X, y)
    assert ba.prior_correction_ == 0.0
    np.testing.assert_array_equal(ba.bias_, 0)


def test_constraints_keep_the_in_sample_comparison():
    """Check constrained searches compare in sample (the floors hold there)."""
    y, proba = _noise(300, 0.1)
    model, X = _frozen(proba, y)
    ba = BiasAdjustedClassifier(
        model,
        scoring="precision",
        constraints={"recall": 0.5},
        min_improvement=-np.inf,
    ).fit(X, y)
    assert ba.search_gain_ is None or ba.search_gain_ == pytest.approx(
        ba.best_score_ - ba.own_score_
    )
    assert ba.constraint_values_["recall"][1] >= 0.5


def test_fixed_target_has_no_search_gain():
    """Check a fixed target is used as given: no comparison, no gain."""
    y, proba = _noise(300, 0.1)
    model, X = _frozen(proba, y)
    ba = BiasAdjustedClassifier(model, target=0.3).fit(X, y)
    assert ba.search_gain_ is None
    assert ba.prior_correction_ is None
    np.testing.assert_allclose(ba.target_[1], 0.3, atol=1e-3)


def test_no_check_skips_the_cross_fit(monkeypatch):
    """Check min_improvement=-inf uses the search without cross-fitting."""
    y, proba = _noise(300, 0.1)
    model, X = _frozen(proba, y)

    def fail(*args, **kwargs):
        raise AssertionError("cross-fitted")

    monkeypatch.setattr(_fit_modes, "cross_fitted_gain", fail)
    ba = BiasAdjustedClassifier(model, min_improvement=-np.inf).fit(X, y)
    assert ba.search_gain_ == pytest.approx(ba.best_score_ - ba.own_score_)
    assert ba.prior_correction_ is None
    with pytest.raises(AssertionError, match="cross-fitted"):
        BiasAdjustedClassifier(model).fit(X, y)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_cross_fit_searches_four_halves(monkeypatch, n_classes):
    """Check the cross-fit searches both halves of two halvings, any K."""
    y, proba = _noise(300, 0.1, n_classes=n_classes)
    model, X = _frozen(proba, y)
    halves = []
    original = _fit_modes.cross_fitted_gain

    def counted(folds, weights, *, search, **kwargs):
        def search_half(f, w):
            halves.append(len(f[0][2]))
            return search(f, w)

        return original(folds, weights, search=search_half, **kwargs)

    monkeypatch.setattr(_fit_modes, "cross_fitted_gain", counted)
    BiasAdjustedClassifier(model, scoring="balanced_accuracy").fit(X, y)
    assert len(halves) == 4
    assert all(abs(n - 150) <= 1 for n in halves)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_cross_fit_scores_the_bias_the_search_scored(n_classes):
    """Check a held-out half gets the bias the search returns, not a re-solve.

    A search whose target is far from the model's state but whose bias is
    the own rule's (zero) gains exactly nothing over the own rule.
    """
    y, proba = _noise(300, 0.1, n_classes=n_classes)
    z = np.log(proba)
    target = np.full(n_classes, 0.1 / (n_classes - 1))
    target[-1] = 0.9

    def gain(biases):
        return cross_fitted_gain(
            [(z, z, y)],
            None,
            search=lambda folds, weights: (target, biases),
            fixed_rule=lambda z, y, w: np.zeros(n_classes),
            scoring="accuracy",
            scorer=get_scorer("accuracy"),
            classes=np.arange(n_classes),
        )

    assert gain([np.zeros(n_classes)]) == 0.0
    assert gain(None) < -0.2  # the solved target predicts the 10% class


def test_calibrated_model_keeps_the_cost_rule():
    """Check a calibrated model's cost rule is kept: the search cannot beat it.

    The probabilities are the Bayes posterior of the generator, so the rule
    of least expected cost is the threshold 1/11; a search over thresholds
    only fits the validation rows' noise.
    """
    rng = np.random.default_rng(0)
    n = 2000
    y = (rng.random(n) < 0.1).astype(int)
    x = rng.normal(size=n) + 1.5 * y
    margin = 1.5 * x - 1.125 + np.log(0.1 / 0.9)
    p1 = 1 / (1 + np.exp(-margin))
    model, X = _frozen(np.column_stack([1 - p1, p1]), y)
    scorer = make_cost_scorer([[0, 1], [10, 0]])
    ba = BiasAdjustedClassifier(model, scoring=scorer).fit(X, y)
    assert ba.decision_rule_ == "cost"
    assert ba.prior_correction_ is None
    assert ba.bias_[1] - ba.bias_[0] == pytest.approx(np.log(10))
    np.testing.assert_array_equal(ba.predict(X), p1 > 1 / 11)
    assert ba.best_score_ > ba.own_score_
