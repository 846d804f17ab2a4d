"""Preprocessing inside the nets, categorical columns, early stopping, schedules."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import RobustScaler, StandardScaler
from skorch.callbacks import Callback

from skimb.nn import MLP, LogitAdjustedNet, NetClassifier
from skimb.nn._early_stopping import AUTO_MIN_ROWS
from skimb.nn._preprocessing import TabularPreprocessor


def small_net(**params):
    return NetClassifier(**{"max_epochs": 8, "random_state": 0, **params})


@pytest.fixture(scope="module")
def raw():
    """Features far from unit scale, with offsets and ties, 15% minority."""
    X, y = make_classification(
        n_samples=300, n_features=6, weights=[0.85], random_state=0
    )
    X = X * np.array([1, 10, 1e3, 1e-3, 5, 1e7]) + np.array([0, 7, -50, 7, 1e3, 0])
    X[:, 0] = np.round(X[:, 0])  # ties
    return X, y


@pytest.fixture(scope="module")
def frame():
    """A DataFrame of float, int, object, category and string columns."""
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame(
        {
            "amount": rng.lognormal(3, 2, n),
            "colour": rng.choice(["red", "green", "blue"], n).astype(object),
            "count": rng.integers(0, 5, n),
            "kind": pd.Categorical(rng.choice(["a", "b"], n)),
            "city": pd.array(rng.choice(["x", "y", "z", "w"], n), dtype="string"),
        }
    )
    y = np.where((X["colour"] == "red") ^ (X["kind"] == "b"), "yes", "no")
    return X, y


# -- numeric preprocessing


@pytest.mark.parametrize("early_stopping", [False, True])
def test_scaler_in_front_changes_nothing(raw, early_stopping):
    """Check that a StandardScaler before the net leaves predictions unchanged."""
    X, y = raw
    params = dict(max_epochs=15, early_stopping=early_stopping)
    alone = small_net(**params).fit(X, y)
    scaled = make_pipeline(StandardScaler(), small_net(**params)).fit(X, y)
    np.testing.assert_allclose(
        alone.predict_proba(X), scaled.predict_proba(X), rtol=0, atol=1e-5
    )


def test_raw_features_learn_as_scaled_ones(raw):
    """Check that raw features fit as well as standardised ones, without warning."""
    X, y = raw
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw_score = small_net(max_epochs=30).fit(X, y).score(X, y)
    scaled = StandardScaler().fit_transform(X)
    old = small_net(max_epochs=30, preprocessing=None).fit(scaled, y).score(scaled, y)
    assert raw_score >= old - 0.02
    with pytest.warns(UserWarning, match="columns 5;"):
        small_net(preprocessing=None).fit(X, y)


def test_preprocessing_options(raw):
    """Check the built-in transforms, a user transformer and None."""
    X, y = raw
    quantile = small_net().fit(X, y)
    Xt = quantile.preprocessor_.transform(X)
    assert Xt.dtype == np.float32 and np.abs(Xt).max() <= 5.2 + 1e-4
    assert abs(np.median(Xt[:, 1])) < 0.1 and 0.8 < Xt[:, 1].std() < 1.2
    robust = small_net(preprocessing="robust").fit(X, y)
    assert np.abs(robust.preprocessor_.transform(X)).max() < 3
    user = RobustScaler()
    net = small_net(preprocessing=user).fit(X, y)
    assert not hasattr(user, "center_")  # cloned, not fitted in place
    np.testing.assert_allclose(
        net.preprocessor_.numeric_.center_, np.median(X, axis=0), rtol=1e-6
    )
    assert small_net(preprocessing=None).fit(X, y).preprocessor_.numeric_ is None


@pytest.mark.parametrize("where", ["fit", "predict"])
def test_nan_is_refused_by_name(raw, frame, where):
    """Check that NaN in a numeric column raises the net's clear error."""
    X, y = raw
    bad = X.copy()
    bad[3, 2] = np.nan
    Xf, yf = frame
    bad_frame = Xf.copy()
    bad_frame.loc[3, "amount"] = np.nan
    with pytest.raises(ValueError, match="(?s)NaN.*NetClassifier"):
        if where == "fit":
            small_net().fit(bad, y)
        else:
            small_net(max_epochs=1).fit(X, y).predict(bad)
    with pytest.raises(ValueError, match="(?s)NaN.*NetClassifier"):
        if where == "fit":
            small_net().fit(bad_frame, yf)
        else:
            small_net(max_epochs=1).fit(Xf, yf).predict(bad_frame)


def test_inference_chunks_agree(raw):
    """Check that preprocessing per inference chunk gives the logits of one pass."""
    X, y = raw
    net = small_net().fit(X, y)
    whole = net.logits(X)
    net.set_params(predict_batch_size=7)
    np.testing.assert_allclose(net.logits(X), whole, rtol=1e-6, atol=1e-6)


# -- categorical columns


def test_dataframe_with_categorical_columns(frame):
    """Check mixed dtypes: codes last, cardinalities to the module, names kept."""
    X, y = frame
    before = X.copy()
    net = NetClassifier(module=MLP, max_epochs=40, random_state=0).fit(X, y)
    pd.testing.assert_frame_equal(X, before)
    assert net.cat_cardinalities_ == (3, 2, 4)
    assert net.n_features_in_ == 5
    assert list(net.feature_names_in_) == list(X.columns)
    assert [e.num_embeddings for e in net.module_.embeddings] == [4, 3, 5]
    assert net.score(X, y) > 0.9  # the label is a function of two categories
    tabm = NetClassifier(max_epochs=1, random_state=0).fit(X, y)  # the default
    assert tabm.get_params_for("module")["cat_cardinalities"] == (3, 2, 4)
    Xt = net.preprocessor_.transform(X)
    np.testing.assert_array_equal(
        Xt[:, 2], X["colour"].map({"blue": 0, "green": 1, "red": 2}).to_numpy()
    )


def test_unknown_and_missing_categories(frame):
    """Check that unseen and missing categories get the code cardinality."""
    X, y = frame
    net = NetClassifier(max_epochs=5, random_state=0).fit(X, y)
    new = X.head(3).copy()
    new["colour"] = ["pink", None, "red"]
    new["kind"] = pd.Categorical(["c", "a", None])
    codes = net.preprocessor_.transform(new)[:, 2:4]
    np.testing.assert_array_equal(codes, [[3, 2], [3, 0], [2, 2]])
    proba = net.predict_proba(new)
    assert proba.shape == (3, 2) and np.isfinite(proba).all()
    with pytest.raises(ValueError, match="feature names"):
        net.predict(new.rename(columns={"colour": "color"}))


def test_categorical_net_pickles_and_clones(frame):
    """Check that a net fitted on a DataFrame pickles and clones."""
    X, y = frame
    net = LogitAdjustedNet(max_epochs=5, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(again.predict_proba(X), net.predict_proba(X))
    refit = clone(net).fit(X, y)
    np.testing.assert_allclose(refit.predict_proba(X), net.predict_proba(X), atol=1e-6)


def test_preprocessor_alone(frame):
    """Check TabularPreprocessor as a transformer of its own."""
    X, _ = frame
    pre = TabularPreprocessor(numeric=None)
    Xt = pre.fit_transform(X)
    assert Xt.shape == (len(X), 5) and Xt.dtype == np.float32
    np.testing.assert_allclose(Xt[:, 0], X["amount"].to_numpy(np.float32))
    np.testing.assert_array_equal(pre.numeric_columns_, [0, 2])
    np.testing.assert_array_equal(pre.categorical_columns_, [1, 3, 4])
    with pytest.raises(ValueError, match="preprocessing must be"):
        TabularPreprocessor(numeric="minmax").fit(X)


def test_mlp_categorical_parameters():
    """Check MLP's embedding inputs and its refusal of bad cardinalities."""
    mlp = MLP(n_features=3, cat_cardinalities=(2, 5))
    X = torch.tensor([[0.5, 0.0, 4.0], [0.1, 2.0, 5.0]])  # codes 2 and 5: unknown
    assert mlp(X).shape == (2, 2)
    with pytest.raises(ValueError, match="'cat_cardinalities' parameter of MLP"):
        MLP(cat_cardinalities=(2, -1))
    with pytest.raises(ValueError, match="2 categorical columns"):
        MLP(n_features=1, cat_cardinalities=(2, 3))


# -- data size to the module


class _SizedModule(MLP):
    seen = {}

    def __init__(self, n_features=None, n_classes=2, n_samples=None):
        super().__init__(n_features=n_features, n_classes=n_classes)
        _SizedModule.seen["n_samples"] = n_samples


def test_modules_receive_the_number_of_training_rows(raw):
    """Check that a module taking n_samples gets the rows of positive weight."""
    X, y = raw
    weight = np.ones(len(y))
    weight[:10] = 0
    NetClassifier(_SizedModule, max_epochs=1).fit(X, y, sample_weight=weight)
    assert _SizedModule.seen["n_samples"] == len(y) - 10


# -- early stopping


class _Snapshots(Callback):
    def initialize(self):
        self.states_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.states_.append(
            {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
        )


def test_early_stopping_restores_the_best_epoch():
    """Check that training stops once valid_loss stalls and keeps the best epoch."""
    X, y = make_classification(
        n_samples=300, n_features=20, flip_y=0.3, weights=[0.8], random_state=0
    )
    snapshots = _Snapshots()
    net = NetClassifier(
        module=MLP,
        early_stopping=True,
        max_epochs=200,
        n_iter_no_change=5,
        lr=1e-2,
        callbacks=[snapshots],
        random_state=0,
    ).fit(X, y)
    assert net.early_stopping_
    losses = net.history[:, "valid_loss"]
    assert len(losses) < 200
    best = int(np.argmin(losses))
    assert len(losses) == best + 1 + 5
    for key, value in net.module_.state_dict().items():
        torch.testing.assert_close(value, snapshots.states_[best][key])
    assert len(net.history[-1]["batches"]) and net.history[0, "valid_loss"] > 0


def test_early_stopping_split_is_stratified_and_seeded(raw):
    """Check the held-out rows: a stratified tenth, the same for the same seed."""
    X, y = raw
    net = small_net(early_stopping=True).fit(X, y)
    train, valid = net.get_split_datasets(X.astype(np.float32), y)
    assert len(valid) == 30 and np.bincount(y[valid.indices]).tolist() == [25, 5]
    again = small_net(early_stopping=True).fit(X, y)
    np.testing.assert_array_equal(
        again.get_split_datasets(X.astype(np.float32), y)[1].indices, valid.indices
    )
    assert not small_net(early_stopping=False).fit(X, y).early_stopping_
    assert np.isnan(
        small_net(early_stopping=False).fit(X, y).history[-1].get("valid_loss", np.nan)
    )


def test_auto_early_stopping_from_enough_rows():
    """Check that "auto" early-stops from AUTO_MIN_ROWS training rows on."""
    X, y = make_classification(n_samples=AUTO_MIN_ROWS, random_state=0)
    net = NetClassifier(module=MLP, max_epochs=1, random_state=0)
    assert net.fit(X, y).early_stopping_
    assert np.isfinite(net.history[-1, "valid_loss"])
    assert not net.fit(X[1:], y[1:]).early_stopping_
    from skorch.dataset import ValidSplit

    own_split = net.set_params(train_split=ValidSplit(5, stratified=True))
    assert not own_split.fit(X, y).early_stopping_  # the user's split: theirs


def test_tiny_classes_fall_back_without_early_stopping(raw):
    """Check that a class too small to split turns early stopping off, not fails."""
    X, y = raw
    y = y.copy()
    y[np.flatnonzero(y == 1)[1:]] = 0  # one minority row left
    with pytest.warns(UserWarning, match="early_stopping is off for this fit"):
        net = small_net(early_stopping=True).fit(X, y)
    assert not net.early_stopping_ and len(net.history) == 8
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert not small_net().fit(X, y).early_stopping_  # "auto": silently


def test_partial_fit_does_not_early_stop(raw):
    """Check that partial_fit refuses early_stopping=True and ignores "auto"."""
    X, y = raw
    with pytest.raises(ValueError, match="partial_fit does not early-stop"):
        small_net(early_stopping=True).partial_fit(X, y)
    net = small_net().partial_fit(X, y)
    assert not net.early_stopping_ and len(net.history) == 8


def test_user_split_is_used_for_early_stopping(raw):
    """Check that a given train_split is the one early stopping watches."""
    from skorch.dataset import ValidSplit

    X, y = raw
    net = small_net(train_split=ValidSplit(3, stratified=True), early_stopping=True)
    _, valid = net.fit(X, y).get_split_datasets(X.astype(np.float32), y)
    assert len(valid) == 100 and net.early_stopping_


# -- learning-rate schedule


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("schedule, lr", [("cosine", 3e-3), ("plateau", 1e-7)])
def test_lr_schedule(raw, schedule, lr):
    """Check that a schedule lowers the learning rate over training."""
    X, y = raw
    net = small_net(lr_schedule=schedule, lr=lr, max_epochs=30, n_iter_no_change=2)
    net.set_params(early_stopping=False).fit(X, y)  # plateau: a flat loss
    final = net.optimizer_.param_groups[0]["lr"]
    assert final < net.lr
    constant = small_net(max_epochs=3).fit(X, y)
    assert constant.optimizer_.param_groups[0]["lr"] == constant.lr


@pytest.mark.parametrize(
    "params, match",
    [
        ({"preprocessing": "minmax"}, "'preprocessing' parameter"),
        ({"preprocessing": 3}, "'preprocessing' parameter"),
        ({"early_stopping": "yes"}, "'early_stopping' parameter"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
        ({"validation_fraction": 0}, "'validation_fraction' parameter"),
        ({"n_iter_no_change": 0}, "'n_iter_no_change' parameter"),
        ({"n_iter_no_change": True}, "'n_iter_no_change' parameter"),
        ({"lr_schedule": "step"}, "'lr_schedule' parameter"),
    ],
)
def test_bad_parameters_are_named(raw, params, match):
    """Check that each invalid new parameter raises a ValueError naming it."""
    X, y = raw
    with pytest.raises(ValueError, match=match):
        small_net(**params).fit(X, y)
