"""Tests of the DifficultySampling skorch callback."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from skorch.callbacks import Callback
from skorch.dataset import ValidSplit

from skimb.difficulty import DifficultySampling
from skimb.nn import NetClassifier


class _Recorder(Callback):
    """Records the rows trained on each epoch and the probabilities after it."""

    def __init__(self, sampling):
        self.sampling = sampling

    def initialize(self):
        self.rows_, self.proba_, self.samples_ = [], [], []
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.X_ = X

    def on_epoch_begin(self, net, **kwargs):
        self.rows_.append([])

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            self.rows_[-1].append(batch[0].numpy().copy())

    def on_epoch_end(self, net, **kwargs):
        train = self.sampling.train_indices_
        self.proba_.append(net.predict_proba(self.X_[train]).astype(np.float64))
        self.samples_.append(self.sampling.sample_indices_.copy())


@pytest.fixture
def data():
    X, y = make_classification(
        n_samples=200, n_features=5, n_informative=3, weights=[0.8], random_state=0
    )
    return X.astype(np.float32), y


# Raw rows, all of them trained on: the tests compare the batches with X.
RAW = {"preprocessing": None, "early_stopping": False}


def _fit(X, y, *, epochs=3, **kwargs):
    sampling = DifficultySampling(prior=0.5, random_state=0)
    recorder = _Recorder(sampling)
    net = NetClassifier(
        max_epochs=epochs,
        callbacks=[sampling, recorder],
        random_state=0,
        **{**RAW, **kwargs},
    ).fit(X, y)
    return net, sampling, recorder


def _sorted_rows(rows):
    return rows[np.lexsort(rows.T[::-1])]


def _difficulty_by_hand(probas, y, prior):
    previous = np.full_like(probas[0], 1 / probas[0].shape[1])
    unlearn = learn = 0.0
    for proba in probas:
        new, old = np.clip(proba, 1e-7, 1), np.clip(previous, 1e-7, 1)
        psi = (new - old) * np.log(new / old)
        onehot = np.eye(proba.shape[1], dtype=bool)[y]
        fell_true = onehot & (new < old)
        rose_other = ~onehot & (new > old)
        du = (psi * (fell_true | rose_other)).sum(axis=1)
        unlearn, learn = unlearn + du, learn + psi.sum(axis=1) - du
        previous = proba
    return (prior + unlearn) / (prior + learn)


def test_difficulty_matches_predictions(data):
    """Check the recorded difficulty against the epoch-end predictions."""
    X, y = data
    net, sampling, recorder = _fit(X, y)
    expected = _difficulty_by_hand(recorder.proba_, y, prior=0.5)
    np.testing.assert_allclose(sampling.difficulty_, expected, rtol=1e-6)
    assert len(net.history[:, "difficulty_max"]) == 3
    assert net.history[-1, "difficulty_max"] == pytest.approx(expected.max())
    assert net.history[-1, "difficulty_min"] == pytest.approx(expected.min())


def test_next_epoch_trains_on_the_drawn_sample(data):
    """Check that each epoch after the first trains on the previous draw."""
    X, y = data
    _, sampling, recorder = _fit(X, y)
    first = np.concatenate(recorder.rows_[0])
    np.testing.assert_array_equal(_sorted_rows(first), _sorted_rows(X))
    for epoch in (1, 2):
        seen = np.concatenate(recorder.rows_[epoch])
        drawn = X[recorder.samples_[epoch - 1]]
        np.testing.assert_array_equal(_sorted_rows(seen), _sorted_rows(drawn))
    # harder instances are drawn more often
    counts = np.bincount(recorder.samples_[-1], minlength=len(y))
    hard = sampling.difficulty_ > np.median(sampling.difficulty_)
    assert counts[hard].mean() > counts[~hard].mean()


def test_validation_split_is_respected(data):
    """Check that validation rows are neither scored nor drawn."""
    X, y = data
    split = ValidSplit(4, stratified=True)
    net, sampling, recorder = _fit(X, y, train_split=split, callbacks__valid_acc=None)
    train = sampling.train_indices_
    valid = np.setdiff1d(np.arange(len(y)), train)
    assert len(train) == 150 and len(valid) == 50
    assert np.isin(sampling.sample_indices_, train).all()
    seen = np.concatenate(recorder.rows_[2])
    np.testing.assert_array_equal(
        _sorted_rows(seen), _sorted_rows(X[recorder.samples_[1]])
    )
    expected = _difficulty_by_hand(recorder.proba_, y[train], prior=0.5)
    np.testing.assert_allclose(sampling.difficulty_, expected, rtol=1e-6)
    assert np.isfinite(net.history[:, "valid_loss"]).all()


def test_reproducible_state_and_partial_fit(data):
    """Check reproducibility, state kept by partial_fit and reset by fit."""
    X, y = data
    net, sampling, _ = _fit(X, y)
    twin, twin_sampling, _ = _fit(X, y)
    np.testing.assert_array_equal(
        sampling.sample_indices_, twin_sampling.sample_indices_
    )
    np.testing.assert_array_equal(net.predict_proba(X), twin.predict_proba(X))
    net.partial_fit(X, y)
    assert sampling.state_.n_updates_ == 6
    net.fit(X, y)
    assert sampling.state_.n_updates_ == 3
    assert not hasattr(sampling, "fit_data_")  # no training data kept
    alone = NetClassifier(max_epochs=2, callbacks=[DifficultySampling()], **RAW)
    refit = clone(alone).fit(X, y)
    assert len(dict(refit.callbacks_)["DifficultySampling"].difficulty_) == len(y)


@pytest.mark.parametrize("prior", [0, -1.0, "one"])
def test_bad_prior(data, prior):
    """Check that a prior that is not positive raises a clear error."""
    net = NetClassifier(max_epochs=1, callbacks=[DifficultySampling(prior=prior)])
    with pytest.raises(ValueError, match="prior must be a number > 0"):
        net.fit(*data)


def test_plain_skorch_net(data):
    """Check a skorch net that is no NetClassifier: scored by predict_proba."""
    from skorch import NeuralNetClassifier

    from skimb.nn import MLP

    X, y = data
    sampling = DifficultySampling(random_state=0)
    net = NeuralNetClassifier(
        MLP,
        module__n_features=X.shape[1],
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        train_split=None,
        callbacks=[sampling],
    ).fit(X, y)
    assert sampling.difficulty_.shape == (len(y),)
    assert len(net.history[:, "difficulty_max"]) == 2


def test_bad_batch_size(data):
    """Check that a scoring batch size that is not a positive int is refused."""
    net = NetClassifier(max_epochs=1, callbacks=[DifficultySampling(batch_size=0)])
    with pytest.raises(ValueError, match="batch_size must be an int > 0; got"):
        net.fit(*data)


def test_state_lives_on_the_callback_not_the_net(data):
    """Check the callback writes nothing onto the net but two history keys."""
    X, y = data
    plain = NetClassifier(max_epochs=2, random_state=0).fit(X, y)
    sampling = DifficultySampling(random_state=0)
    net = NetClassifier(max_epochs=2, callbacks=[sampling], random_state=0)
    net.fit(X, y)
    assert set(vars(net)) == set(vars(plain))
    assert set(net.history[-1]) - set(plain.history[-1]) == {
        "difficulty_max",
        "difficulty_min",
    }
    assert sampling.state_.n_updates_ == 2
    # After training, no reference to the training data is left.
    for name in ("fit_data_", "dataset_", "X_train_", "y_train_"):
        assert not hasattr(sampling, name)


class _PickleDuringTraining(Callback):
    """Pickles the net at the end of every epoch, as skorch's Checkpoint can."""

    def initialize(self):
        self.pickles_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.pickles_.append(pickle.dumps(net))


def test_pickled_during_training_without_the_training_data(data):
    """Check a net pickled mid-fit does not carry the callback's data references.

    Before, the callback's fit_data_, X_train_ and dataset_ went into every
    checkpoint: the training data pickled again with each.
    """
    X, y = data
    sampling = DifficultySampling(random_state=0)
    spy = _PickleDuringTraining()
    net = NetClassifier(max_epochs=2, callbacks=[sampling, spy], random_state=0)
    net.fit(X, y)
    restored = pickle.loads(spy.pickles_[-1])
    callback = dict(restored.callbacks_)["DifficultySampling"]
    for name in ("fit_data_", "dataset_", "X_train_", "y_train_", "original_data_"):
        assert not hasattr(callback, name)
    # The difficulty state itself is kept (partial_fit continues from it).
    np.testing.assert_array_equal(callback.difficulty_, sampling.difficulty_)


def test_weighted_fit_draws_rows_with_their_weights(data):
    """Check a net fitted with sample_weight trains each drawn row with its weight.

    The callback draws by difficulty; the net's weighted loss then counts each
    drawn row by its own weight, so a row's expected share of the loss is
    proportional to weight x difficulty. NetClassifier drops rows of zero
    weight before training: the callback sees only the others.
    """
    X, y = data
    w = (np.arange(len(y)) % 3).astype(np.float64)

    class Batches(Callback):
        def initialize(self):
            self.batches_ = []
            return self

        def on_batch_begin(self, net, batch=None, training=None, **kwargs):
            if training:
                self.batches_.append(batch[0])

    sampling = DifficultySampling(random_state=0)
    batches = Batches()
    net = NetClassifier(
        max_epochs=2, callbacks=[sampling, batches], random_state=0, **RAW
    )
    net.fit(X, y, sample_weight=w)
    second_epoch = batches.batches_[len(batches.batches_) // 2 :]
    rows = np.concatenate([b["X"].numpy() for b in second_epoch])
    weights = np.concatenate([b["sample_weight"].numpy() for b in second_epoch])
    # Each trained row carries the weight of the input row it is a copy of.
    index = {row.tobytes(): i for i, row in enumerate(X)}
    np.testing.assert_array_equal(weights, w[[index[r.tobytes()] for r in rows]])
    assert (weights > 0).all()
    assert sampling.difficulty_.shape == ((w > 0).sum(),)
