"""Tests of BiasAdjustedClassifier's probabilities (predict_proba)."""

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss
from sklearn.svm import LinearSVC

from skimb.adjustment import BiasAdjustedClassifier
from skimb.adjustment._logits import PrecomputedLogits
from skimb.nn import NetClassifier


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=1500,
        n_features=6,
        n_informative=3,
        weights=[0.9],
        flip_y=0.03,
        random_state=0,
    )
    return X[:1000], y[:1000], X[1000:], y[1000:]


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _, _ = data
    return BiasAdjustedClassifier(
        LogisticRegression(), cv=3, scoring="gmean", ensemble=False
    ).fit(X, y)


def test_default_probabilities_are_the_base_models(data, fitted):
    """Check predict_proba is the base model's and predict the adjusted rule."""
    X, y, X_test, _ = data
    assert fitted.probabilities == "base"
    assert np.any(fitted.bias_ != 0)  # the rule moved: the test means something
    proba = fitted.predict_proba(X_test)
    np.testing.assert_allclose(proba, fitted.estimator_.predict_proba(X_test))
    np.testing.assert_allclose(
        proba, LogisticRegression().fit(X, y).predict_proba(X_test), atol=1e-12
    )
    z = fitted.logits(X_test)
    np.testing.assert_array_equal(fitted.predict(X_test), np.argmax(z, axis=1))
    np.testing.assert_allclose(fitted.decision_function(X_test), z[:, 1] - z[:, 0])
    # The adjusted rule predicts more minority rows than the probabilities'
    # argmax: predict is not read from predict_proba.
    assert fitted.predict(X_test).sum() > np.argmax(proba, axis=1).sum()
    # The imbalance state of the adjusted model is still reported.
    np.testing.assert_allclose(fitted.imbalance_state_["after"], fitted.target_)


def test_adjusted_probabilities_are_the_softmax_of_the_adjusted_logits(data, fitted):
    """Check probabilities="adjusted" is the softmax of logits, predict unchanged."""
    X, y, X_test, _ = data
    adjusted = clone(fitted).set_params(probabilities="adjusted").fit(X, y)
    np.testing.assert_allclose(
        adjusted.predict_proba(X_test), softmax(adjusted.logits(X_test), axis=1)
    )
    np.testing.assert_array_equal(adjusted.predict(X_test), fitted.predict(X_test))
    np.testing.assert_array_equal(
        np.argmax(adjusted.predict_proba(X_test), axis=1),
        np.argmax(adjusted.logits(X_test), axis=1),
    )


@pytest.mark.parametrize("method", ["sigmoid", "isotonic", "temperature"])
def test_calibrated_probabilities_match_a_manual_calibration(data, method):
    """Check a calibration is CalibratedClassifierCV on the validation logits."""
    X, y, X_test, y_test = data
    model = LogisticRegression().fit(X[:500], y[:500])
    ba = BiasAdjustedClassifier(FrozenEstimator(model), probabilities=method).fit(
        X[500:], y[500:]
    )
    z = np.log(model.predict_proba(X[500:]))
    manual = CalibratedClassifierCV(
        FrozenEstimator(PrecomputedLogits(ba.classes_)), method=method
    ).fit(z, y[500:])
    proba = ba.predict_proba(X_test)
    np.testing.assert_allclose(
        proba, manual.predict_proba(np.log(model.predict_proba(X_test)))
    )
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    plain = BiasAdjustedClassifier(FrozenEstimator(model)).fit(X[500:], y[500:])
    np.testing.assert_array_equal(ba.predict(X_test), plain.predict(X_test))


def test_calibration_repairs_the_adjusted_probabilities(data):
    """Check the adjusted softmax is miscalibrated and a calibration is not."""
    X, y, X_test, y_test = data
    params = dict(cv=3, scoring="gmean", target=0.5)  # a large move
    fits = {
        p: BiasAdjustedClassifier(LogisticRegression(), probabilities=p, **params).fit(
            X, y
        )
        for p in ("base", "adjusted", "sigmoid")
    }
    brier = {
        p: brier_score_loss(y_test, ba.predict_proba(X_test)[:, 1])
        for p, ba in fits.items()
    }
    assert brier["adjusted"] > 1.5 * brier["base"]
    assert brier["sigmoid"] < 1.2 * brier["base"]
    # The mean adjusted probability is the target, far from the test rate.
    assert fits["adjusted"].predict_proba(X_test)[:, 1].mean() > 2 * y_test.mean()


def test_calibrated_with_weights_and_state_on_train(data):
    """Check the calibrator is fitted on the pooled fold logits with weights."""
    X, y, X_test, _ = data
    w = np.random.default_rng(0).integers(1, 3, size=y.size)
    ba = BiasAdjustedClassifier(
        LogisticRegression(), cv=3, probabilities="sigmoid", state_on="train"
    ).fit(X, y, sample_weight=w)
    assert isinstance(ba.calibrator_, CalibratedClassifierCV)
    proba = ba.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_scores_without_probabilities(data):
    """Check a decision_function-only base gives the softmax of its scores."""
    X, y, X_test, _ = data
    ba = BiasAdjustedClassifier(LinearSVC(), cv=3).fit(X, y)
    d = ba.estimator_.decision_function(X_test)
    np.testing.assert_allclose(ba.predict_proba(X_test)[:, 1], 1 / (1 + np.exp(-d)))


def test_multiclass_probabilities():
    """Check three classes: base probabilities, calibrated rows sum to one."""
    X, y = make_classification(
        n_samples=900,
        n_features=8,
        n_informative=5,
        n_classes=3,
        weights=[0.7, 0.2, 0.1],
        random_state=0,
    )
    base = BiasAdjustedClassifier(LogisticRegression(), cv=3).fit(X, y)
    np.testing.assert_allclose(base.predict_proba(X), base.estimator_.predict_proba(X))
    calibrated = clone(base).set_params(probabilities="temperature").fit(X, y)
    proba = calibrated.predict_proba(X)
    assert proba.shape == (900, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(calibrated.predict(X), base.predict(X))


def test_per_epoch_probabilities(imbalanced_binary):
    """Check per_epoch: base probabilities leave the bias out; no calibration."""
    X, y = imbalanced_binary
    net = NetClassifier(max_epochs=2, random_state=0)
    ba = BiasAdjustedClassifier(net, per_epoch=True, cv=0.25, random_state=0).fit(X, y)
    np.testing.assert_allclose(ba.predict_proba(X), ba.estimator_.predict_proba(X))
    np.testing.assert_allclose(
        ba.logits(X), ba.estimator_.logits(X) + ba.bias_, rtol=1e-6
    )
    with pytest.raises(ValueError, match="per_epoch=True does not keep"):
        clone(ba).set_params(probabilities="isotonic").fit(X, y)


def test_bad_probabilities(data):
    """Check an unknown probabilities value is refused."""
    X, y, _, _ = data
    with pytest.raises(ValueError, match="probabilities"):
        BiasAdjustedClassifier(LogisticRegression(), probabilities="platt").fit(X, y)


def test_model_imbalance_state_is_the_adjusted_models(data, fitted):
    """Check model_imbalance_state of BA is that of its adjusted logits."""
    from skimb.metrics import model_imbalance_state

    _, _, X_test, _ = data
    state = model_imbalance_state(fitted, X_test)
    np.testing.assert_allclose(
        state, softmax(fitted.logits(X_test), axis=1).mean(axis=0)
    )
    base = model_imbalance_state(fitted.estimator_, X_test)
    np.testing.assert_allclose(base, fitted.predict_proba(X_test).mean(axis=0))
    assert state[1] > base[1] + 0.05  # the bias moved the state, not the proba
