"""BiasAdjustedClassifier(n_bootstrap=...): the bagged binary threshold."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skimb.adjustment import BiasAdjustedClassifier, solve_bias


@pytest.fixture(scope="module")
def data():
    return make_classification(
        n_samples=400, weights=[0.9], flip_y=0.05, class_sep=0.8, random_state=0
    )


def _ba(**params):
    return BiasAdjustedClassifier(LogisticRegression(), cv=3, **params)


def _f1_curve(margins, y):
    """Best F1 threshold of ``margins`` by brute force (midway between rows)."""
    grid = np.sort(np.unique(margins))
    cuts = np.concatenate([[grid[0] - 1], (grid[1:] + grid[:-1]) / 2])
    f1 = []
    for t in cuts:
        pred = margins > t
        tp = np.sum(pred & (y == 1))
        f1.append(2 * tp / (pred.sum() + y.sum()))
    return cuts, np.array(f1)


def test_off_is_the_plain_search(data):
    X, y = data
    for search in ("decimal", "exact"):
        plain = _ba(scoring="minority_f1", search=search).fit(X, y)
        off = _ba(scoring="minority_f1", search=search, n_bootstrap=0).fit(X, y)
        np.testing.assert_array_equal(plain.bias_, off.bias_)
    # "auto" is off where bagging does not apply (a scorer, not a count)
    auto = _ba(scoring="precision", n_bootstrap="auto").fit(X, y)
    off = _ba(scoring="precision").fit(X, y)
    np.testing.assert_array_equal(auto.bias_, off.bias_)
    assert _ba(scoring="gmean", n_bootstrap="auto").fit(X, y)._n_bootstrap == 100


def test_deterministic_under_random_state(data):
    X, y = data
    fits = [
        _ba(scoring="minority_f1", n_bootstrap=50, random_state=seed).fit(X, y)
        for seed in (0, 0, 1)
    ]
    np.testing.assert_array_equal(fits[0].bias_, fits[1].bias_)
    assert fits[0].best_score_ == fits[1].best_score_
    # the bagged rule is recorded among the candidates, and is the one used
    results = fits[0].search_results_
    assert np.isclose(results["score"], fits[0].best_score_).any()


def test_bagging_lowers_the_variance_of_the_threshold():
    """Over validation sets drawn from one distribution, the bagged F1
    threshold varies less than the argmax of the F1 curve (whose brute-force
    value the plain exact search must also match)."""
    rng = np.random.default_rng(0)
    plain, bagged = [], []
    for seed in range(30):
        y = (rng.random(300) < 0.1).astype(int)
        margins = 1.5 * y + rng.normal(size=300) - 2.0
        model = FrozenEstimator(_MarginModel())
        X = margins[:, None]
        exact = BiasAdjustedClassifier(
            model, scoring="minority_f1", search="exact", min_improvement=-np.inf
        ).fit(X, y)
        bag = BiasAdjustedClassifier(
            model,
            scoring="minority_f1",
            n_bootstrap=100,
            min_improvement=-np.inf,
            random_state=seed,
        ).fit(X, y)
        t_exact = -(exact.bias_[1] - exact.bias_[0])
        cuts, f1 = _f1_curve(margins, y)
        best = cuts[f1 == f1.max()]
        # the plain exact threshold makes the brute-force best predictions
        assert np.array_equal(margins > t_exact, margins > best[len(best) // 2]) or (
            f1.max() - _f1_at(margins, y, t_exact) < 1e-12
        )
        plain.append(t_exact)
        bagged.append(-(bag.bias_[1] - bag.bias_[0]))
    assert np.std(bagged) < 0.8 * np.std(plain)


def _f1_at(margins, y, t):
    pred = margins > t
    return 2 * np.sum(pred & (y == 1)) / (pred.sum() + y.sum())


class _MarginModel(LogisticRegression):
    """A 'fitted' binary model whose margin is its only feature."""

    classes_ = np.array([0, 1])

    def __init__(self):
        super().__init__()
        self.coef_ = np.array([[1.0]])
        self.intercept_ = np.array([0.0])
        self.n_features_in_ = 1


def test_many_rows_bagging_is_close_to_the_exact_search():
    rng = np.random.default_rng(1)
    y = (rng.random(20_000) < 0.2).astype(int)
    margins = 2.0 * y + rng.normal(size=y.size) - 1.5
    X = margins[:, None]
    model = FrozenEstimator(_MarginModel())
    exact = BiasAdjustedClassifier(model, scoring="gmean", search="exact").fit(X, y)
    bag = BiasAdjustedClassifier(
        model, scoring="gmean", n_bootstrap=30, random_state=0
    ).fit(X, y)
    assert abs(bag.best_score_ - exact.best_score_) < 2e-3
    assert abs(bag.bias_[1] - exact.bias_[1]) < 0.05


def test_the_bias_reaches_the_bagged_target_and_is_scored(data):
    X, y = data
    clf = _ba(scoring="gmean", n_bootstrap=40, random_state=0, min_improvement=-1)
    clf.fit(X, y)
    # the pooled validation logits of the same fold models
    z = np.concatenate(
        [
            LogisticRegression()
            .fit(X[train], y[train])
            .decision_function(X[valid])[:, None]
            * [0, 1]
            for train, valid in _splits(X, y)
        ]
    )
    y_pooled = np.concatenate([y[valid] for _, valid in _splits(X, y)])
    np.testing.assert_allclose(clf.bias_, solve_bias(z, clf.target_), atol=1e-5)
    pred = np.argmax(z + clf.bias_, axis=1)
    tpr = np.mean(pred[y_pooled == 1] == 1)
    tnr = np.mean(pred[y_pooled == 0] == 0)
    assert np.isclose(np.sqrt(tpr * tnr), clf.best_score_, atol=1e-9)


def _splits(X, y):
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(3).split(X, y))


def test_weights_scale_free_and_change_the_rule():
    """Scaling every weight leaves the bagged rule (same draws, count scores
    that ignore the scale); the weights themselves change it."""
    rng = np.random.default_rng(2)
    y = (rng.random(400) < 0.15).astype(int)
    X = (1.2 * y + rng.normal(size=400) - 1.5)[:, None]
    w = rng.integers(1, 4, y.size).astype(float)

    def fit(weights):
        model = FrozenEstimator(_MarginModel())
        ba = BiasAdjustedClassifier(
            model, scoring="minority_f1", n_bootstrap=30, random_state=0
        )
        return ba.fit(X, y, sample_weight=weights)

    a, b = fit(w), fit(2.5 * w)
    np.testing.assert_allclose(a.bias_, b.bias_, atol=1e-6)
    assert a.best_score_ == pytest.approx(b.best_score_, abs=1e-12)
    assert not np.allclose(a.bias_, fit(None).bias_)


def test_constraints_are_met_on_the_pooled_rows(data):
    X, y = data
    for state_on in ("validation", "train"):
        clf = _ba(
            scoring="minority_f1",
            constraints={"recall": 0.95},
            n_bootstrap=40,
            random_state=0,
            state_on=state_on,
        ).fit(X, y)
        assert clf.constraint_values_["recall"][1] >= 0.95 - 1e-9


def test_state_on_train_bags_in_log_odds(data):
    X, y = data
    clf = _ba(scoring="gmean", n_bootstrap=40, random_state=0, state_on="train")
    clf.fit(X, y)
    again = _ba(scoring="gmean", n_bootstrap=40, random_state=0, state_on="train")
    np.testing.assert_array_equal(clf.fit(X, y).bias_, again.fit(X, y).bias_)
    assert 0 < clf.target_[1] < 1
    assert clf.best_score_ >= clf.own_score_


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(scoring="precision"), "not a confusion-count scoring"),
        (dict(scoring="gmean", target="balanced"), "fixed, not searched"),
    ],
)
def test_unsupported_settings_are_refused(data, params, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        _ba(n_bootstrap=10, **params).fit(X, y)


def test_multiclass_is_refused_clearly():
    X, y = make_classification(
        n_samples=300, n_classes=3, n_informative=4, random_state=0
    )
    with pytest.raises(ValueError, match="3 classes, not 2"):
        _ba(n_bootstrap=10).fit(X, y)
    # "auto" leaves a multiclass search as it is
    auto = _ba(n_bootstrap="auto").fit(X, y)
    np.testing.assert_array_equal(auto.bias_, _ba().fit(X, y).bias_)


def test_bad_n_bootstrap_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="n_bootstrap"):
        _ba(n_bootstrap=-1).fit(X, y)
