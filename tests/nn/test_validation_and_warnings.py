"""Hyperparameter checks, degenerate-input warnings and inference batches."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skimb.nn import MLP, LogitAdjustedNet, NetClassifier


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=120, n_features=4, random_state=0)
    return StandardScaler().fit_transform(X), y


BAD_PARAMS = [
    ({"lr": "fast"}, r"'lr' parameter of \w+ must be a float in the range \(0.0"),
    ({"lr": 0}, r"'lr' parameter .* Got 0 instead"),
    ({"lr": -1e-3}, r"'lr' parameter"),
    ({"max_epochs": 2.5}, r"'max_epochs' parameter of \w+ must be an int .*2.5"),
    ({"max_epochs": 0}, r"'max_epochs' parameter .* Got 0 instead"),
    ({"max_epochs": -3}, r"'max_epochs' parameter"),
    ({"max_epochs": True}, r"'max_epochs' parameter .* not a bool"),
    ({"batch_size": 0}, r"'batch_size' parameter"),
    ({"batch_size": -2}, r"'batch_size' parameter"),
    ({"batch_size": 2.5}, r"'batch_size' parameter"),
    ({"predict_batch_size": 0}, r"'predict_batch_size' parameter"),
    ({"predict_batch_size": "big"}, r"'predict_batch_size' parameter"),
    ({"random_state": "abc"}, r"'random_state' parameter of \w+ must be an int"),
    ({"random_state": -1}, r"'random_state' parameter .* Got -1 instead"),
    ({"verbose": "loud"}, r"'verbose' parameter"),
    ({"warm_start": "yes"}, r"'warm_start' parameter"),
    ({"train_split": 0.2}, r"'train_split' parameter"),
    ({"module": MLP, "module__hidden_sizes": (0,)}, r"'hidden_sizes' parameter of MLP"),
    (
        {"module": MLP, "module__hidden_sizes": (16, -1)},
        r"'hidden_sizes' parameter of MLP",
    ),
    ({"module": MLP, "module__dropout": 1.5}, r"'dropout' parameter of MLP"),
]


@pytest.mark.parametrize("net", [NetClassifier, LogitAdjustedNet])
@pytest.mark.parametrize("params, message", BAD_PARAMS)
def test_bad_hyperparameters_are_named(data, net, params, message):
    """Check that each invalid hyperparameter raises a ValueError naming it."""
    X, y = data
    with pytest.raises(ValueError, match=message):
        net(**params).fit(X, y)


@pytest.mark.parametrize("net", [NetClassifier, LogitAdjustedNet])
def test_partial_fit_checks_hyperparameters(data, net):
    """Check that partial_fit validates the hyperparameters as fit does."""
    X, y = data
    with pytest.raises(ValueError, match="'lr' parameter"):
        net(lr=0).partial_fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_valid_edge_values_fit(data):
    """Check that the edge values the constraints allow do fit."""
    X, y = data
    rng = np.random.RandomState(0)
    for params in (
        {"batch_size": -1, "predict_batch_size": -1},
        {"predict_batch_size": None, "random_state": rng},
        {"max_epochs": 1, "module": MLP, "module__hidden_sizes": ()},
        {"random_state": np.int64(3), "max_epochs": np.int64(2), "lr": 1},
    ):
        NetClassifier(**params).fit(X, y).predict(X)


def test_constraints_leave_skorch_paths_alone(data):
    """Check that set_params, clone, initialize and skorch's name check still work."""
    X, y = data
    net = NetClassifier(module=MLP, max_epochs=2, random_state=0)
    net.set_params(lr=0.01, module__hidden_sizes=(8,), predict_batch_size=16)
    clone(net).initialize()
    assert clone(net).get_params()["predict_batch_size"] == 16
    net.fit(X, y)
    assert net.module_.body[0].out_features == 8
    with pytest.raises(ValueError, match="iterator_train__shuffle"):
        NetClassifier(module=MLP, iterator_train_shuffle=True).initialize()


def test_criterion_given_to_logit_adjusted_net_is_refused():
    """Check that criterion= says that the loss comes from loss=."""
    with pytest.raises(TypeError, match=r"builds its criterion from loss="):
        LogitAdjustedNet(criterion=torch.nn.CrossEntropyLoss)
    with pytest.raises(ValueError, match=r"builds its criterion from loss="):
        LogitAdjustedNet().set_params(criterion=torch.nn.CrossEntropyLoss)
    # the built loss's own arguments stay settable
    LogitAdjustedNet().set_params(criterion__reduction="sum")


def test_classes_parameter_fixes_classes(data):
    """Check that skorch's classes= sets classes_ instead of being ignored."""
    X, y = data
    labels = np.array(["a", "b"])[y]
    net = NetClassifier(classes=["a", "b", "z"], max_epochs=2, random_state=0)
    net.fit(X, labels)
    np.testing.assert_array_equal(net.classes_, ["a", "b", "z"])
    assert net.predict_proba(X).shape == (len(X), 3)
    np.testing.assert_array_equal(net.class_counts_[2], 0)
    with pytest.raises(ValueError, match="unknown to the classifier"):
        NetClassifier(classes=["a", "z"], max_epochs=1).fit(X, labels)
    with pytest.raises(ValueError, match=r"no training sample"):
        LogitAdjustedNet(classes=["a", "b", "z"], max_epochs=1).fit(X, labels)


def test_criterion_with_wrong_output_shape(data):
    """Check that a criterion returning one loss per row raises clearly."""
    X, y = data
    net = NetClassifier(
        module=MLP, criterion__reduction="none", max_epochs=1, early_stopping=False
    )
    with pytest.raises(ValueError, match=r"returned a loss of shape \(120,\)"):
        net.fit(X, y)


def test_module_with_wrong_output_shape(data):
    """Check that a module with the wrong number of outputs raises clearly."""
    X, y = data
    net = NetClassifier(
        module=MLP, module__n_classes=5, max_epochs=1, early_stopping=False
    )
    with pytest.raises(ValueError, match=r"shape \(120, 5\).*\(n_samples, 2\)"):
        net.fit(X, y)


# -- degenerate inputs


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("net", [NetClassifier, LogitAdjustedNet])
def test_huge_features_warn_with_their_columns(data, net):
    """Check that features far from unit scale warn, naming the columns."""
    X, y = data
    X = X.copy()
    X[:, [1, 3]] *= 1e30
    with pytest.warns(UserWarning, match=r"columns 1, 3;.*StandardScaler"):
        net(max_epochs=2, preprocessing=None).fit(X, y)
    frame = pd.DataFrame(X, columns=["age", "amount", "c", "balance"])
    with pytest.warns(UserWarning, match=r"columns amount, balance;"):
        net(max_epochs=2, preprocessing=None).fit(frame, y)
    with warnings.catch_warnings():  # the default quantiles bound them
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        net(max_epochs=2).fit(frame, y)


def test_scale_rule_threshold(data):
    """Check the rule: a column above 1e6 in magnitude warns, 1e6 does not."""
    X, y = data
    X = X / np.abs(X).max(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        NetClassifier(max_epochs=2, preprocessing=None).fit(X * 1e6, y)
    with pytest.warns(UserWarning, match=r"1 feature\(s\) of X .*columns 4;"):
        NetClassifier(max_epochs=2, preprocessing=None).fit(np.c_[X, X[:, 0] * 2e6], y)


def test_stalled_loss_warns(data):
    """Check a ConvergenceWarning when the training loss does not go down."""
    X, y = data
    with pytest.warns(ConvergenceWarning, match=r"first epoch [\d.]+e\+2\d"):
        NetClassifier(module=MLP, max_epochs=5, random_state=0, preprocessing=None).fit(
            X * 1e30, y
        )
    with pytest.warns(ConvergenceWarning, match="training loss did not go down"):
        NetClassifier(lr=1e-9, max_epochs=5, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        LogitAdjustedNet(lr=1e-9, max_epochs=5, random_state=0).fit(X, y)


def test_normal_training_is_silent(data):
    """Check that scaled data and a converged net's further training do not warn."""
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = NetClassifier(max_epochs=10, random_state=0).fit(X, y)
        net.set_params(warm_start=True, max_epochs=3).fit(X, y)
        net.partial_fit(X, y)
        LogitAdjustedNet(loss="ldam", max_epochs=10, random_state=0).fit(X, y)
        NetClassifier(max_epochs=1).fit(X, y)  # one epoch: nothing to compare


# -- inference batches


class _BatchSizes(MLP):
    sizes = []

    def forward(self, X):
        if not self.training:
            _BatchSizes.sizes.append(len(X))
        return super().forward(X)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, [8192, 8192, 3616]),
        ({"predict_batch_size": 10_000}, [10_000, 10_000]),
        ({"predict_batch_size": None, "batch_size": 8000}, [8000, 8000, 4000]),
        ({"predict_batch_size": -1}, [20_000]),
        ({"iterator_valid__batch_size": 7000}, [7000, 7000, 6000]),
    ],
)
def test_inference_batch_size(params, expected):
    """Check that inference uses predict_batch_size rows a batch by default."""
    X = np.random.RandomState(0).normal(size=(20_000, 3))
    y = np.arange(20_000) % 2
    net = NetClassifier(_BatchSizes, max_epochs=1, **params).fit(X[:64], y[:64])
    _BatchSizes.sizes.clear()
    net.predict_proba(X)
    assert _BatchSizes.sizes == expected
