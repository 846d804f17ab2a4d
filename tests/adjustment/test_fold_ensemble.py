"""BiasAdjustedClassifier(ensemble=True): the fold models kept as the final model."""

import pickle

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from skimb.adjustment import BiasAdjustedClassifier, FoldEnsemble


class CountingLR(LogisticRegression):
    """LogisticRegression that counts its fits in a class attribute."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def data():
    return make_classification(
        n_samples=400, n_features=6, weights=[0.85], random_state=0
    )


def test_ensemble_keeps_the_fold_models_and_trains_no_refit(data):
    X, y = data
    CountingLR.fits = 0
    clf = BiasAdjustedClassifier(CountingLR(), cv=4, ensemble=True).fit(X, y)
    assert CountingLR.fits == 4
    assert isinstance(clf.estimator_, FoldEnsemble)
    assert len(clf.estimator_.estimators) == 4
    CountingLR.fits = 0
    BiasAdjustedClassifier(CountingLR(), cv=4, ensemble=False).fit(X, y)
    assert CountingLR.fits == 5


def test_ensemble_averages_the_fold_models(data):
    X, y = data
    clf = BiasAdjustedClassifier(
        LogisticRegression(), cv=3, ensemble=True, scoring="minority_f1"
    ).fit(X, y)
    models = clf.estimator_.estimators
    log_proba = np.mean([np.log(m.predict_proba(X)) for m in models], axis=0)
    np.testing.assert_allclose(clf.logits(X), log_proba + clf.bias_)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(log_proba, axis=1))
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[np.argmax(log_proba + clf.bias_, axis=1)]
    )


def test_ensemble_chooses_the_same_rule_as_the_refit(data):
    # The same fold models and validation logits: only the final model differs.
    X, y = data
    params = dict(cv=3, scoring="minority_f1", min_improvement=-np.inf)
    refit = BiasAdjustedClassifier(LogisticRegression(), ensemble=False, **params)
    refit.fit(X, y)
    kept = BiasAdjustedClassifier(LogisticRegression(), ensemble=True, **params)
    kept.fit(X, y)
    np.testing.assert_allclose(kept.target_, refit.target_)
    np.testing.assert_allclose(kept.bias_, refit.bias_)
    assert kept.best_score_ == refit.best_score_
    assert isinstance(refit.estimator_, LogisticRegression)


def test_ensemble_needs_no_refit_for_several_folds(data):
    X, y = data
    with pytest.raises(ValueError, match="refit=False keeps the model"):
        BiasAdjustedClassifier(
            LogisticRegression(), cv=3, refit=False, ensemble=False
        ).fit(X, y)
    clf = BiasAdjustedClassifier(
        LogisticRegression(), cv=3, refit=False, ensemble=True
    ).fit(X, y)
    assert len(clf.estimator_.estimators) == 3


def test_ensemble_state_on_train_reaches_the_target_on_its_logits(data):
    X, y = data
    clf = BiasAdjustedClassifier(
        LogisticRegression(),
        cv=3,
        ensemble=True,
        state_on="train",
        min_improvement=-np.inf,
    ).fit(X, y)
    state = softmax(clf.logits(X), axis=1).mean(axis=0)
    np.testing.assert_allclose(state, clf.target_, atol=1e-3)


def test_ensemble_of_models_without_probabilities():
    X, y = make_classification(n_samples=300, weights=[0.8], random_state=1)
    clf = BiasAdjustedClassifier(LinearSVC(), cv=3, ensemble=True).fit(X, y)
    proba = clf.predict_proba(X)
    decisions = np.mean([m.decision_function(X) for m in clf.estimator_.estimators], 0)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-decisions)))


def test_ensemble_pickles_and_clones(data):
    X, y = data
    clf = BiasAdjustedClassifier(LogisticRegression(), cv=3, ensemble=True)
    assert clone(clf).get_params()["ensemble"] is True
    clf.fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))


def test_unfitted_ensemble_refuses_to_predict():
    from sklearn.exceptions import NotFittedError

    ensemble = FoldEnsemble([LogisticRegression()], np.array([0, 1]))
    with pytest.raises(NotFittedError):
        ensemble.logits(np.zeros((2, 3)))


def test_ensemble_of_one_split_is_that_split_model(data):
    # A float cv: one model, kept as it is, its state on its training rows.
    X, y = data
    params = dict(cv=0.3, state_on="train", random_state=0, min_improvement=-np.inf)
    kept = BiasAdjustedClassifier(LogisticRegression(), ensemble=True, **params)
    split = BiasAdjustedClassifier(
        LogisticRegression(), ensemble=False, refit=False, **params
    )
    kept.fit(X, y)
    split.fit(X, y)
    assert isinstance(kept.estimator_, LogisticRegression)
    np.testing.assert_allclose(kept.estimator_.coef_, split.estimator_.coef_)
    np.testing.assert_allclose(kept.bias_, split.bias_)
