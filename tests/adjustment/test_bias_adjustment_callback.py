"""Tests of the skimb.adjustment.BiasAdjustment callback and per_epoch=True."""

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.datasets import make_classification
from skorch.dataset import Dataset, ValidSplit
from skorch.helper import predefined_split

from skimb.adjustment import BiasAdjustedClassifier, BiasAdjustment, solve_bias
from skimb.nn import NetClassifier


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=500,
        n_features=8,
        n_informative=4,
        weights=[0.88],
        flip_y=0.05,
        random_state=1,
    )
    X = X.astype(np.float32)
    return X[:350], y[:350], X[350:], y[350:]


@pytest.fixture(scope="module")
def trained(data):
    """A net trained with the callback on a predefined validation set."""
    X, y, X_val, y_val = data
    net = NetClassifier(
        max_epochs=8,
        lr=0.02,
        train_split=predefined_split(Dataset(X_val, y_val.astype(np.int64))),
        callbacks=[BiasAdjustment(scoring="gmean")],
        random_state=0,
    )
    return net.fit(X, y)


def test_history_records_every_epoch(trained):
    """Check each epoch records target, bias, score and the best flag."""
    history = trained.history
    assert len(history) == 8
    for row in history:
        assert len(row["ba_target"]) == 2 and len(row["ba_bias"]) == 2
        assert sum(row["ba_target"]) == pytest.approx(1.0)
        assert 0.0 <= row["ba_score"] <= 1.0
    scores = np.array(history[:, "ba_score"])
    flags = np.array(history[:, "ba_best"])
    running_best = np.maximum.accumulate(scores)
    expected = np.r_[True, scores[1:] > running_best[:-1]]
    np.testing.assert_array_equal(flags, expected)


def _callback(net):
    return dict(net.callbacks_)["BiasAdjustment"]


def test_best_epoch_is_restored(trained, data):
    """Check the restored module and bias give the best epoch's score."""
    X, y, X_val, y_val = data
    callback = _callback(trained)
    scores = np.array(trained.history[:, "ba_score"])
    assert callback.best_epoch_ == int(np.argmax(scores)) + 1
    assert callback.best_score_ == pytest.approx(scores.max())
    # Recompute independently with the restored parameters.
    z_val = trained.logits(X_val) + callback.bias_
    score = geometric_mean_score(y_val, np.argmax(z_val, axis=1))
    assert score == pytest.approx(scores.max())
    # The bias is the one solved on the training logits for the target.
    bias = solve_bias(trained.logits(X), callback.target_)
    np.testing.assert_allclose(callback.bias_, bias, atol=1e-6)
    np.testing.assert_allclose(
        trained.history[callback.best_epoch_ - 1, "ba_bias"], callback.bias_
    )


def test_needs_a_validation_split(data):
    """Check a clear error when the net has no train_split."""
    X, y, _, _ = data
    net = NetClassifier(max_epochs=1, callbacks=[BiasAdjustment()])
    with pytest.raises(ValueError, match="needs a validation split"):
        net.fit(X, y)


def test_per_epoch_classifier(data):
    """Check per_epoch=True trains once with the callback and uses its bias."""
    X, y, _, _ = data
    ba = BiasAdjustedClassifier(
        NetClassifier(max_epochs=4, lr=0.02, random_state=0),
        per_epoch=True,
        cv=4,
        random_state=0,
    ).fit(X, y)
    net = ba.estimator_
    assert isinstance(net.train_split, ValidSplit)
    assert len(net.history) == 4
    callback = dict(net.callbacks_)["bias_adjustment"]
    np.testing.assert_allclose(ba.bias_, callback.bias_)
    np.testing.assert_allclose(ba.logits(X), net.logits(X) + callback.bias_)
    assert ba.best_score_ == pytest.approx(max(net.history[:, "ba_score"]))
    assert ba.search_results_["score"].max() == pytest.approx(ba.best_score_)
    # A fraction makes a seeded holdout of that size.
    holdout = BiasAdjustedClassifier(
        NetClassifier(max_epochs=1, random_state=0),
        per_epoch=True,
        cv=0.4,
        random_state=0,
    ).fit(X, y)
    assert holdout.estimator_.train_split.cv == 0.4


def test_per_epoch_multiclass_and_fixed_target():
    """Check the callback with three classes and a fixed target."""
    X, y = make_classification(
        n_samples=300, n_classes=3, n_informative=4, weights=[0.6, 0.3], random_state=0
    )
    X = X.astype(np.float32)
    net = NetClassifier(
        max_epochs=2,
        train_split=ValidSplit(3, stratified=True),
        callbacks=[BiasAdjustment(scoring="balanced_accuracy", target="balanced")],
        random_state=0,
    ).fit(X, y)
    callback = _callback(net)
    np.testing.assert_allclose(callback.target_, np.full(3, 1 / 3))
    assert callback.bias_.shape == (3,)
    np.testing.assert_allclose(
        callback.imbalance_state_["after"], np.full(3, 1 / 3), atol=1e-6
    )
