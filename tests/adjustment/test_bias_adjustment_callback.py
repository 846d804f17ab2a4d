"""Tests of the skimb.adjustment.BiasAdjustment callback and per_epoch=True."""

import pickle

import numpy as np
import pytest
import torch
from imblearn.metrics import geometric_mean_score
from sklearn.base import clone
from sklearn.datasets import make_classification
from skorch.callbacks import Callback
from skorch.dataset import Dataset, ValidSplit
from skorch.helper import predefined_split

from skimb.adjustment import BiasAdjustedClassifier, BiasAdjustment, solve_bias
from skimb.nn import MLP, NetClassifier


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
    # the callback's training logits come in other batches: float32 rounding
    np.testing.assert_allclose(callback.bias_, bias, atol=1e-5)
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


class _Sabotage(Callback):
    """From epoch ``start`` on, overwrite the module with seeded noise after
    every training step, so that every later epoch scores badly."""

    def __init__(self, start):
        self.start = start

    def on_batch_end(self, net, training=None, **kwargs):
        epoch = len(net.history)
        if training and epoch >= self.start:
            generator = torch.Generator().manual_seed(epoch)
            with torch.no_grad():
                for param in net.module_.parameters():
                    param.copy_(3.0 * torch.randn(param.shape, generator=generator))


class _Snapshots(Callback):
    """The module's parameters at the end of every epoch."""

    def initialize(self):
        self.states_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        state = net.module_.state_dict()
        self.states_.append({k: v.detach().clone() for k, v in state.items()})


@pytest.fixture(scope="module")
def sabotaged(data):
    """A net whose epochs 4 to 6 are noise: its best epoch is not the last."""
    X, y, X_val, y_val = data
    snapshots = _Snapshots()
    net = NetClassifier(
        max_epochs=6,
        lr=0.05,
        train_split=predefined_split(Dataset(X_val, y_val.astype(np.int64))),
        callbacks=[_Sabotage(start=4), BiasAdjustment(scoring="gmean"), snapshots],
        random_state=0,
    ).fit(X, y)
    return net, snapshots.states_


def test_restored_weights_are_the_best_epochs_not_the_last(sabotaged, data):
    """Check the module is restored to the best epoch's parameters, which
    differ from the last epoch's, and that the snapshot is then released."""
    net, states = sabotaged
    callback = _callback(net)
    scores = np.array(net.history[:, "ba_score"])
    assert callback.best_epoch_ == int(np.argmax(scores)) + 1 < len(states)
    restored = net.module_.state_dict()
    best, last = states[callback.best_epoch_ - 1], states[-1]
    for name, value in restored.items():
        assert torch.equal(value, best[name]), name
    assert any(not torch.equal(restored[k], last[k]) for k in restored)
    # The restored module with the best bias gives the best epoch's score.
    _, _, X_val, y_val = data
    z_val = net.logits(X_val) + callback.bias_
    score = geometric_mean_score(y_val, np.argmax(z_val, axis=1))
    assert score == pytest.approx(scores.max())
    assert callback._best_module is None


def test_pickled_per_epoch_classifier_carries_the_weights_once():
    """Check a pickled per-epoch classifier is at most 1.05 times the same net
    fitted without adjustment (the best epoch's copy is not pickled)."""
    X, y = make_classification(
        n_samples=600, n_features=20, n_informative=4, weights=[0.9], random_state=0
    )
    X = X.astype(np.float32)
    net = NetClassifier(
        module=MLP,
        module__hidden_sizes=(256, 256),
        max_epochs=3,
        train_split=ValidSplit(4, stratified=True),
        random_state=0,
    )
    plain = clone(net).fit(X, y)
    adjusted = BiasAdjustedClassifier(clone(net), per_epoch=True).fit(X, y)
    dumped = pickle.dumps(adjusted)
    assert len(dumped) <= 1.05 * len(pickle.dumps(plain))
    loaded = pickle.loads(dumped)
    np.testing.assert_array_equal(loaded.predict(X), adjusted.predict(X))
    np.testing.assert_allclose(
        dict(loaded.estimator_.callbacks_)["bias_adjustment"].bias_, adjusted.bias_
    )
