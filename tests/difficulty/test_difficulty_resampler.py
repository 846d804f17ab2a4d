"""Tests of DifficultyResampler."""

import numpy as np
import pytest
import scipy.sparse as sp
from imblearn.pipeline import make_pipeline
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import LinearSVC

from skimb.difficulty import DifficultyResampler
from skimb.nn import NetClassifier


@pytest.fixture
def data():
    X, y = make_classification(
        n_samples=240, n_features=5, n_informative=3, weights=[0.75], random_state=1
    )
    return X, y


def _sgd():
    return SGDClassifier(loss="log_loss", random_state=0)


def test_algorithm_one_by_hand(data):
    """Check every epoch against a loop written from the paper's Algorithm 1."""
    X, y = data
    sampler = DifficultyResampler(_sgd(), n_epochs=4, prior=0.5, random_state=3)
    X_res, y_res = sampler.fit_resample(X, y)

    rng = np.random.RandomState(3)
    model = _sgd()
    unlearn, learn = np.zeros(len(y)), np.zeros(len(y))
    previous = np.full((len(y), 2), 0.5)
    rows = np.arange(len(y))
    for epoch in range(4):
        model.partial_fit(X[rows], y[rows], classes=[0, 1])
        proba = np.clip(model.predict_proba(X), 1e-7, 1)
        psi = (proba - previous) * np.log(proba / previous)
        for i in range(len(y)):
            for j in range(2):
                away = (
                    proba[i, j] < previous[i, j]
                    if j == y[i]
                    else (proba[i, j] > previous[i, j])
                )
                if away:
                    unlearn[i] += psi[i, j]
                else:
                    learn[i] += psi[i, j]
        previous = proba
        difficulty = (0.5 + unlearn) / (0.5 + learn)
        weights = difficulty / difficulty.sum()
        if epoch < 3:
            rows = rng.choice(len(y), size=len(y), p=weights)

    # The state is float32: equal to float32 rounding.
    np.testing.assert_allclose(sampler.difficulty_, difficulty, rtol=1e-5)
    np.testing.assert_allclose(sampler.estimator_.coef_, model.coef_)
    # The returned sample: per class, N times its share of the difficulty
    # (rounded, two classes), drawn within the class by difficulty.
    counts = {1: round(len(y) * weights[y == 1].sum())}
    counts[0] = len(y) - counts[1]
    expected = np.sort(
        np.concatenate(
            [
                rng.choice(
                    np.flatnonzero(y == c),
                    size=counts[c],
                    p=weights[y == c] / weights[y == c].sum(),
                )
                for c in (0, 1)
            ]
        )
    )
    np.testing.assert_array_equal(sampler.sample_indices_, expected)
    np.testing.assert_array_equal(X_res, X[expected])
    np.testing.assert_array_equal(y_res, y[expected])


def test_small_class_is_never_left_out():
    """Check every class is in the sample, with its expected share of rows.

    Two rows of 120: at equal difficulties the paper's multinomial draw leaves
    them out with probability (118/120)**120 = 13%, and a downstream
    classifier would never predict the class.
    """
    X, y = make_classification(n_samples=240, n_features=4, random_state=0)
    rows = np.r_[np.flatnonzero(y == 0)[:118], np.flatnonzero(y == 1)[:2]]
    X, y = X[rows], y[rows]
    for seed in range(20):
        sampler = DifficultyResampler(_sgd(), n_epochs=3, random_state=seed)
        _, y_res = sampler.fit_resample(X, y)
        weights = sampler.difficulty_ / sampler.difficulty_.sum()
        expected = len(y) * weights[y == 1].sum()
        assert max(1, np.floor(expected)) <= np.sum(y_res == 1) <= np.ceil(expected)
        assert len(y_res) == len(y)


def test_noisy_labels_are_harder():
    """Check that instances with flipped labels end up harder than the rest."""
    X, y = make_classification(
        n_samples=400,
        n_features=4,
        n_informative=4,
        n_redundant=0,
        class_sep=2.0,
        random_state=0,
    )
    flipped = np.random.RandomState(0).rand(len(y)) < 0.1
    y_noisy = np.where(flipped, 1 - y, y)
    sgd = SGDClassifier(
        loss="log_loss", learning_rate="constant", eta0=0.01, random_state=0
    )
    sampler = DifficultyResampler(sgd, n_epochs=15, random_state=0)
    sampler.fit_resample(X, y_noisy)
    difficulty = sampler.difficulty_
    assert difficulty[flipped].mean() > 1 > difficulty[~flipped].mean()
    assert difficulty[flipped].mean() > 1.2 * difficulty[~flipped].mean()
    # the sample favours them: more copies than their share of the data
    share = np.isin(sampler.sample_indices_, np.flatnonzero(flipped)).mean()
    assert share > 1.3 * flipped.mean()


def test_reproducible_and_estimator_untouched(data):
    """Check that random_state fixes the output and the estimator is cloned."""
    X, y = data
    estimator = _sgd()
    first = DifficultyResampler(estimator, n_epochs=3, random_state=0)
    second = clone(first)
    X1, y1 = first.fit_resample(X, y)
    X2, y2 = second.fit_resample(X, y)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not hasattr(estimator, "coef_")
    other = DifficultyResampler(estimator, n_epochs=3, random_state=1)
    assert not np.array_equal(other.fit_resample(X, y)[1], y1)


def test_default_net_classifier_string_labels(data):
    """Check the default NetClassifier: one epoch per call, labels kept."""
    X, y = data
    labels = np.array(["no", "yes"])[y]
    sampler = DifficultyResampler(n_epochs=3, random_state=0)
    X_res, y_res = sampler.fit_resample(X, labels)
    assert isinstance(sampler.estimator_, NetClassifier)
    assert len(sampler.estimator_.history) == 3
    np.testing.assert_array_equal(y_res, labels[sampler.sample_indices_])
    again = DifficultyResampler(n_epochs=3, random_state=0).fit_resample(X, labels)
    np.testing.assert_array_equal(again[0], X_res)


def test_net_estimator_set_to_one_epoch(data):
    """Check that a given skorch net trains one epoch per algorithm epoch."""
    X, y = data
    net = NetClassifier(max_epochs=50, random_state=0)
    sampler = DifficultyResampler(net, n_epochs=2, random_state=0)
    sampler.fit_resample(X, y)
    assert len(sampler.estimator_.history) == 2
    assert net.max_epochs == 50


def test_pipeline_and_multiclass():
    """Check use in an imblearn Pipeline on three classes, sparse input too."""
    X, y = make_classification(
        n_samples=300,
        n_classes=3,
        n_informative=4,
        weights=[0.6, 0.3],
        random_state=0,
    )
    model = make_pipeline(
        DifficultyResampler(GaussianNB(), n_epochs=3, random_state=0),
        LogisticRegression(),
    ).fit(X, y)
    assert model.score(X, y) > 0.6
    sampler = DifficultyResampler(_sgd(), n_epochs=2, random_state=0)
    X_res, _ = sampler.fit_resample(sp.csr_matrix(X), y)
    assert sp.issparse(X_res) and X_res.shape == X.shape


@pytest.mark.parametrize(
    "params, match",
    [
        ({"prior": 0}, "prior"),
        ({"prior": -2.0}, "prior"),
        ({"n_epochs": 0}, "n_epochs"),
        ({"n_epochs": 1.5}, "n_epochs"),
        ({"estimator": SGDClassifier(loss="hinge")}, "predict_proba"),
        ({"estimator": LinearSVC()}, "partial_fit"),
        ({"verbose": -1}, "'verbose' parameter"),
        ({"verbose": "loud"}, "'verbose' parameter"),
    ],
)
def test_bad_parameters(data, params, match):
    """Check that bad parameters raise errors that name them."""
    with pytest.raises(ValueError, match=match):
        DifficultyResampler(**params).fit_resample(*data)


# --- sample_weight -----------------------------------------------------------


def _one_epoch_nb(**params):
    """One epoch of GaussianNB: deterministic, weights in partial_fit."""
    return DifficultyResampler(GaussianNB(), n_epochs=1, random_state=0, **params)


def test_integer_weights_act_as_repeated_rows(data):
    """Check integer weights give the difficulties and class shares of copies."""
    X, y = data
    w = np.random.RandomState(0).randint(1, 4, size=len(y))
    weighted = _one_epoch_nb()
    _, y_w = weighted.fit_resample(X, y, sample_weight=w)
    rows = np.repeat(np.arange(len(y)), w)
    repeated = _one_epoch_nb()
    _, y_r = repeated.fit_resample(X[rows], y[rows])
    np.testing.assert_allclose(weighted.difficulty_[rows], repeated.difficulty_)
    # Class totals: N times the class's share of weight x difficulty.
    shares_w = np.bincount(y_w) / len(y_w)
    shares_r = np.bincount(y_r) / len(y_r)
    assert np.abs(shares_w - shares_r).max() <= 1 / len(y_w) + 1 / len(y_r)
    assert len(y_w) == len(y)  # the sample keeps N rows
    unweighted = _one_epoch_nb().fit(X, y)
    unweighted.fit_resample(X, y)
    assert not np.allclose(unweighted.difficulty_, weighted.difficulty_)


def test_zero_weights_act_as_dropped_rows(data):
    """Check zero-weight rows are never drawn and leave the rest unchanged."""
    X, y = data
    w = np.ones(len(y))
    w[::4] = 0
    kept = w > 0
    weighted = _one_epoch_nb()
    weighted.fit_resample(X, y, sample_weight=w)
    dropped = _one_epoch_nb()
    dropped.fit_resample(X[kept], y[kept])
    np.testing.assert_allclose(weighted.difficulty_[kept], dropped.difficulty_)
    assert kept[weighted.sample_indices_].all()
    # Over several epochs too, with an estimator that takes no weights.
    sampler = DifficultyResampler(_NoWeights(), n_epochs=4, random_state=0)
    sampler.fit_resample(X, y, sample_weight=w)
    assert kept[sampler.sample_indices_].all()
    assert all(kept[seen].all() for seen in sampler.estimator_.seen_)


class _NoWeights(SGDClassifier):
    """An SGDClassifier whose partial_fit takes no sample_weight; records rows."""

    def __init__(self):
        super().__init__(loss="log_loss", random_state=0)

    def partial_fit(self, X, y, classes=None):
        self.seen_ = [*getattr(self, "seen_", []), self._rows(X)]
        return super().partial_fit(X, y, classes=classes)

    def _rows(self, X):
        # The training data is make_classification output: rows are unique.
        return np.flatnonzero(np.isin(_ALL_X[:, 0], X[:, 0]))


_ALL_X = make_classification(
    n_samples=240, n_features=5, n_informative=3, weights=[0.75], random_state=1
)[0]


def test_weights_reach_partial_fit_in_the_first_epoch_only(data):
    """Check partial_fit gets the weights once; later epochs draw by w x D."""
    X, y = data
    w = np.random.RandomState(0).uniform(0.5, 2, size=len(y))
    received = []

    class Spy(SGDClassifier):
        def partial_fit(self, X, y, classes=None, sample_weight=None):
            received.append(sample_weight)
            return super().partial_fit(X, y, classes, sample_weight)

    sampler = DifficultyResampler(Spy(loss="log_loss", random_state=0), n_epochs=3)
    sampler.fit_resample(X, y, sample_weight=w)
    np.testing.assert_array_equal(received[0], w)
    assert received[1:] == [None, None]


def test_weights_routed_through_imblearn_pipeline_and_grid_search(data):
    """Check routed weights reach the sampler in a Pipeline and GridSearchCV."""
    import sklearn
    from imblearn.pipeline import Pipeline
    from sklearn.model_selection import GridSearchCV, KFold

    X, y = data
    w = np.random.RandomState(0).uniform(0, 2, size=len(y))
    w[:60] = 0
    alone = DifficultyResampler(_sgd(), n_epochs=3, random_state=0)
    alone.fit_resample(X, y, sample_weight=w)
    with sklearn.config_context(enable_metadata_routing=True):
        sampler = clone(alone).set_fit_resample_request(sample_weight=True)
        final = LogisticRegression().set_fit_request(sample_weight=False)
        pipe = Pipeline([("difficulty", sampler), ("lr", final)])
        pipe.fit(X, y, sample_weight=w)
        np.testing.assert_array_equal(pipe[0].sample_indices_, alone.sample_indices_)
        final.set_score_request(sample_weight=True)
        search = GridSearchCV(pipe, {"lr__C": [1.0]}, cv=KFold(2)).fit(
            X, y, sample_weight=w
        )
    np.testing.assert_array_equal(
        search.best_estimator_[0].sample_indices_, alone.sample_indices_
    )
    assert (alone.sample_indices_ >= 60).all()


@pytest.mark.xfail(
    strict=True,
    reason="imbalanced-learn 0.14's Pipeline drops step__param for sampler steps "
    "without metadata routing (it passes only params['fit_resample'])",
)
def test_classic_step_weights_reach_the_sampler(data):
    """Check step__sample_weight reaches a sampler in an imblearn Pipeline."""
    from imblearn.pipeline import Pipeline

    X, y = data
    w = np.ones(len(y))
    w[:60] = 0
    pipe = Pipeline(
        [("difficulty", DifficultyResampler(_sgd(), n_epochs=2)), ("lr", _sgd())]
    )
    pipe.fit(X, y, difficulty__sample_weight=w)
    assert (pipe[0].sample_indices_ >= 60).all()


@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(240), "Negative values in data passed to `sample_weight`"),
        (np.zeros(240), "at least one non-zero"),
        (np.ones(3), r"sample_weight.shape == \(3,\)"),
    ],
)
def test_bad_sample_weight(data, weights, match):
    """Check bad weights raise errors that name them."""
    with pytest.raises(ValueError, match=match):
        DifficultyResampler(_sgd(), n_epochs=1).fit_resample(
            *data, sample_weight=weights
        )


def test_class_of_zero_weight_is_left_out(data):
    """Check a class whose weights are all zero gets no row in the sample."""
    X, y = data
    w = (y == 0).astype(float)
    sampler = DifficultyResampler(_sgd(), n_epochs=2, random_state=0)
    _, y_res = sampler.fit_resample(X, y, sample_weight=w)
    assert set(y_res) == {0} and len(y_res) == len(y)


# --- verbose -----------------------------------------------------------------


def test_verbose_progress_bar(data, capsys):
    """Check verbose=1 shows a progress bar over the epochs, 0 is silent."""
    DifficultyResampler(_sgd(), n_epochs=3).fit_resample(*data)
    assert capsys.readouterr().err == ""
    DifficultyResampler(_sgd(), n_epochs=3, verbose=1).fit_resample(*data)
    err = capsys.readouterr().err
    assert "DifficultyResampler" in err and "3/3" in err
