"""Sample weights in the bias solve, the target searches and the classifier.

An integer weight must act as the row repeated and a zero weight as the row
dropped. The solves and searches are compared with the repeated or reduced
data to 1e-10 (the weighted sums differ from the repeated ones only in the
order of floating-point additions; confusion counts of integer weights are
exact).
"""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skimb.adjustment import BiasAdjustedClassifier, search_target, solve_bias
from skimb.nn import NetClassifier

ATOL = 1e-10


def _logits(n_rows, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(
        n_classes,
        size=n_rows,
        p=np.linspace(3, 1, n_classes) / np.linspace(3, 1, n_classes).sum(),
    )
    z = rng.normal(size=(n_rows, n_classes)) + 1.5 * np.eye(n_classes)[y]
    weights = rng.integers(0, 4, size=n_rows)
    return z, y, weights


def _softmax_state(z, bias, weights=None):
    p = np.exp(z + bias)
    p /= p.sum(axis=1, keepdims=True)
    return np.average(p, axis=0, weights=weights)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("as_torch", [False, True])
def test_solve_bias_integer_weights_repeat_rows(n_classes, as_torch):
    """Check that an integer weight solves as the row repeated that often."""
    z, _, w = _logits(300, n_classes)
    target = np.full(n_classes, 1.0 / n_classes)
    repeated = solve_bias(np.repeat(z, w, axis=0), target)
    logits = torch.as_tensor(z) if as_torch else z
    weighted = solve_bias(logits, target, sample_weight=w)
    if as_torch:
        assert isinstance(weighted, torch.Tensor)
        weighted = weighted.numpy()
    np.testing.assert_allclose(weighted, repeated, rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        _softmax_state(z, weighted, w), target, rtol=0, atol=1e-6
    )


@pytest.mark.parametrize("n_classes", [2, 4])
def test_solve_bias_zero_weight_drops_row(n_classes):
    """Check that a zero weight solves as the row dropped."""
    z, _, _ = _logits(200, n_classes, seed=1)
    w = np.ones(len(z))
    w[::4] = 0
    target = np.linspace(1, 2, n_classes) / np.linspace(1, 2, n_classes).sum()
    np.testing.assert_allclose(
        solve_bias(z, target, sample_weight=w),
        solve_bias(z[w > 0], target),
        rtol=0,
        atol=ATOL,
    )


def test_solve_bias_weights_change_the_bias():
    """Check that non-uniform weights give another bias than none."""
    z, _, w = _logits(200, 3, seed=2)
    target = np.full(3, 1 / 3)
    assert not np.allclose(
        solve_bias(z, target, sample_weight=w), solve_bias(z, target)
    )
    np.testing.assert_allclose(
        solve_bias(z, target, sample_weight=np.full(len(z), 2.5)),
        solve_bias(z, target),
        rtol=0,
        atol=ATOL,
    )


@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(50), "Negative values in data passed to `sample_weight`"),
        (np.r_[np.nan, np.ones(49)], "Input sample_weight contains NaN"),
        (np.ones(3), r"sample_weight.shape == \(3,\), expected \(50,\)"),
        (np.zeros(50), "at least one non-zero number"),
    ],
)
def test_solve_bias_bad_weights(weights, match):
    """Check that bad weights raise a message that names them."""
    z, _, _ = _logits(50, 3)
    with pytest.raises(ValueError, match=match):
        solve_bias(z, [0.2, 0.3, 0.5], sample_weight=weights)


SEARCHES = [
    # (n_classes, scoring, search): count formulas, the exact search and the
    # scorer path (sample_weight= given to the scorer).
    (2, "gmean", "decimal"),
    (2, "minority_f1", "decimal"),
    (2, "accuracy", "exact"),
    (2, "gmean", "exact"),
    (2, "minority_f1", "exact"),
    (2, "f1_macro", "decimal"),
    (3, "gmean", "decimal"),
    (3, "balanced_accuracy", "decimal"),
]


@pytest.mark.parametrize("n_classes, scoring, search", SEARCHES)
def test_search_target_integer_weights_repeat_rows(n_classes, scoring, search):
    """Check that search_target with integer weights equals repeated rows."""
    z, y, w = _logits(400, n_classes, seed=3)
    weighted = search_target(y, z, scoring=scoring, search=search, sample_weight=w)
    repeated = search_target(
        np.repeat(y, w), np.repeat(z, w, axis=0), scoring=scoring, search=search
    )
    np.testing.assert_allclose(weighted[0], repeated[0], rtol=0, atol=ATOL)
    assert weighted[1] == pytest.approx(repeated[1], abs=ATOL)
    if search == "decimal":  # the exact search records thresholds per row
        np.testing.assert_allclose(
            weighted[2]["score"], repeated[2]["score"], rtol=0, atol=ATOL
        )
    unweighted = search_target(y, z, scoring=scoring, search=search)
    assert not np.allclose(weighted[2]["score"][:5], unweighted[2]["score"][:5])


@pytest.mark.parametrize("n_classes, scoring, search", SEARCHES)
def test_search_target_zero_weight_drops_row(n_classes, scoring, search):
    """Check that search_target with zero weights equals the rows dropped."""
    z, y, _ = _logits(400, n_classes, seed=4)
    w = np.ones(len(y))
    w[1::3] = 0
    weighted = search_target(y, z, scoring=scoring, search=search, sample_weight=w)
    dropped = search_target(y[w > 0], z[w > 0], scoring=scoring, search=search)
    np.testing.assert_allclose(weighted[0], dropped[0], rtol=0, atol=ATOL)
    assert weighted[1] == pytest.approx(dropped[1], abs=ATOL)
    np.testing.assert_allclose(
        weighted[2]["target"], dropped[2]["target"], rtol=0, atol=ATOL
    )


@pytest.mark.parametrize("target", ["prior", 0.3])
def test_search_target_weighted_prior_and_minority(target):
    """Check that "prior" and a float target follow the weighted frequencies."""
    z, y, _ = _logits(300, 2, seed=5)
    # Class 1 (the minority by rows) becomes the majority by weight.
    w = np.where(y == 1, 5.0, 1.0)
    chosen, _, _ = search_target(y, z, target=target, sample_weight=w)
    repeated, _, _ = search_target(
        np.repeat(y, 5 * (y == 1) + (y == 0)),
        np.repeat(z, 5 * (y == 1) + (y == 0), axis=0),
        target=target,
    )
    np.testing.assert_allclose(chosen, repeated, rtol=0, atol=ATOL)
    if target == 0.3:  # the minority by weight is class 0
        np.testing.assert_allclose(chosen, [0.3, 0.7])


@pytest.mark.parametrize(
    "kwargs, weights, match",
    [
        ({}, "class 1 zero", r"sums to zero over class\(es\) \[1\]"),
        ({}, -np.ones(90), "Negative values in data passed to `sample_weight`"),
        ({}, np.ones(4), r"sample_weight.shape == \(4,\)"),
        (
            {"scoring": "minority_f1"},
            np.ones(90),
            "scorer of scoring='minority_f1' does not accept sample_weight",
        ),
    ],
)
def test_search_target_bad_weights(kwargs, weights, match):
    """Check that bad weights, or a scorer that cannot take them, raise."""
    z, y, _ = _logits(90, 3, seed=6)
    if isinstance(weights, str):
        weights = (y != 1).astype(float)
    with pytest.raises(ValueError, match=match):
        search_target(y, z, sample_weight=weights, **kwargs)


# BiasAdjustedClassifier.fit(X, y, sample_weight=...)


def _exact_lr():
    """A logistic regression solved to rounding (repeated rows == weights)."""
    return LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000)


@pytest.fixture(scope="module")
def weighted_data():
    X, y = make_classification(
        n_samples=240,
        n_features=5,
        n_informative=3,
        weights=[0.8],
        flip_y=0.05,
        random_state=0,
    )
    w = np.random.default_rng(0).integers(0, 4, size=len(y)).astype(float)
    splits = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    return X, y, w, splits


def _expand(w, splits):
    """Rows repeated by integer weights, and the splits of the repeated rows."""
    rows = np.repeat(np.arange(len(w)), w.astype(int))
    expanded = [
        (np.flatnonzero(np.isin(rows, train)), np.flatnonzero(np.isin(rows, valid)))
        for train, valid in splits
    ]
    return rows, expanded


def _assert_same_fit(a, b, X, atol):
    np.testing.assert_allclose(a.target_, b.target_, rtol=0, atol=atol)
    np.testing.assert_allclose(a.bias_, b.bias_, rtol=0, atol=atol)
    assert a.best_score_ == pytest.approx(b.best_score_, abs=atol)
    for key in ("before", "after"):
        np.testing.assert_allclose(
            a.imbalance_state_[key], b.imbalance_state_[key], rtol=0, atol=atol
        )
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=atol)


@pytest.mark.parametrize("state_on", ["validation", "train"])
@pytest.mark.parametrize("search", ["decimal", "exact"])
def test_classifier_integer_weights_repeat_rows(weighted_data, state_on, search):
    """Check that integer weights fit as the rows repeated (fixed splits)."""
    X, y, w, splits = weighted_data
    rows, expanded = _expand(w, splits)
    params = dict(state_on=state_on, search=search, min_improvement=-np.inf)
    weighted = BiasAdjustedClassifier(_exact_lr(), cv=splits, **params)
    weighted.fit(X, y, sample_weight=w)
    repeated = BiasAdjustedClassifier(_exact_lr(), cv=expanded, **params)
    repeated.fit(X[rows], y[rows])
    # Newton-Cholesky solves both logistic regressions to rounding, so the
    # fits agree to 1e-10 (measured: 5e-16).
    _assert_same_fit(weighted, repeated, X, atol=ATOL)


def test_classifier_zero_weight_drops_row(weighted_data):
    """Check that zero weights fit as the rows dropped (fixed splits)."""
    X, y, _, splits = weighted_data
    w = np.ones(len(y))
    w[::5] = 0
    rows, reduced = _expand(w, splits)
    weighted = BiasAdjustedClassifier(_exact_lr(), cv=splits, min_improvement=-np.inf)
    weighted.fit(X, y, sample_weight=w)
    dropped = BiasAdjustedClassifier(_exact_lr(), cv=reduced, min_improvement=-np.inf)
    dropped.fit(X[rows], y[rows])
    _assert_same_fit(weighted, dropped, X, atol=ATOL)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_frozen_estimator_weights_weight_the_validation_data(n_classes):
    """Check that with a frozen model the weights equal repeated rows exactly."""
    X, y = make_classification(
        n_samples=300, n_classes=n_classes, n_informative=4, random_state=1
    )
    model = FrozenEstimator(LogisticRegression().fit(X[:100], y[:100]))
    w = np.random.default_rng(1).integers(0, 4, size=200).astype(float)
    X_val, y_val = X[100:], y[100:]
    params = dict(min_improvement=-np.inf, scoring="balanced_accuracy")
    weighted = BiasAdjustedClassifier(model, **params)
    weighted.fit(X_val, y_val, sample_weight=w)
    rows = np.repeat(np.arange(200), w.astype(int))
    repeated = BiasAdjustedClassifier(model, **params).fit(X_val[rows], y_val[rows])
    _assert_same_fit(weighted, repeated, X, atol=ATOL)
    z = np.log(model.predict_proba(X_val))
    target, score, _ = search_target(
        y_val, z, scoring="balanced_accuracy", sample_weight=w
    )
    np.testing.assert_allclose(weighted.target_, target, atol=ATOL)
    np.testing.assert_allclose(
        weighted.imbalance_state_["after"], weighted.target_, atol=1e-6
    )


_RECEIVED = []


class _SpyLR(LogisticRegression):
    """Records the weights of every fit of its clones in ``_RECEIVED``."""

    def fit(self, X, y, sample_weight=None):
        _RECEIVED.append(sample_weight)
        return super().fit(X, y, sample_weight=sample_weight)


def test_weights_reach_every_fit(weighted_data):
    """Check that every fold model and the refit receive their rows' weights."""
    X, y, w, splits = weighted_data
    record = _RECEIVED
    record.clear()
    BiasAdjustedClassifier(_SpyLR(), cv=splits, ensemble=False).fit(
        X, y, sample_weight=w
    )
    assert len(record) == len(splits) + 1
    for (train, _), received in zip(splits, record, strict=False):
        np.testing.assert_array_equal(received, w[train])
    np.testing.assert_array_equal(record[-1], w)
    record.clear()
    BiasAdjustedClassifier(_SpyLR(), cv=splits).fit(X, y)
    assert all(received is None for received in record)


def _four_ways(X, y, w):
    """The same weighted classifier fitted directly, as a step, and routed."""
    params = dict(cv=3, min_improvement=-np.inf)
    direct = BiasAdjustedClassifier(_exact_lr(), **params)
    yield "direct", direct.fit(X, y, sample_weight=w)
    pipe = Pipeline([("scale", "passthrough"), ("bac", clone(direct))])
    yield "step__sample_weight", pipe.fit(X, y, bac__sample_weight=w)[-1]
    with sklearn.config_context(enable_metadata_routing=True):
        inner = _exact_lr().set_fit_request(sample_weight=True)
        routed = BiasAdjustedClassifier(inner, **params)
        routed.set_fit_request(sample_weight=True)
        routed.set_score_request(sample_weight=True)
        pipe = Pipeline([("scale", "passthrough"), ("bac", routed)])
        yield "routed Pipeline", pipe.fit(X, y, sample_weight=w)[-1]
        search = GridSearchCV(
            clone(routed), {"search": ["decimal"]}, cv=KFold(2), refit=True
        )
        yield "routed GridSearchCV", search.fit(X, y, sample_weight=w).best_estimator_
        # An estimator pipeline whose last step requests the weights.
        inner = make_pipeline(
            FunctionTransformer(), _exact_lr().set_fit_request(sample_weight=True)
        )
        scaled = BiasAdjustedClassifier(inner, **params)
        scaled.fit(X, y, sample_weight=w)
    yield "routed estimator pipeline", (scaled,)


def test_weights_direct_step_and_routed(weighted_data):
    """Check that direct, step__sample_weight and routed weights fit alike."""
    X, y, w, _ = weighted_data
    fits = dict(_four_ways(X, y, w))
    scaled, *_ = fits.pop("routed estimator pipeline")
    for name, fitted in fits.items():
        assert isinstance(fitted, BiasAdjustedClassifier), name
        _assert_same_fit(fitted, fits["direct"], X, atol=1e-10)
    unweighted = BiasAdjustedClassifier(_exact_lr(), cv=3, min_improvement=-np.inf)
    unweighted.fit(X, y)
    assert not np.allclose(unweighted.bias_, fits["direct"].bias_)
    # A pipeline estimator gets the weights in its step that requests them.
    _assert_same_fit(scaled, fits["direct"], X, atol=1e-10)


def test_routing_refuses_weights_the_estimator_did_not_request(weighted_data):
    """Check that routing asks for set_fit_request on the estimator."""
    X, y, w, _ = weighted_data
    with sklearn.config_context(enable_metadata_routing=True):
        clf = BiasAdjustedClassifier(LogisticRegression(), cv=3)
        with pytest.raises(ValueError, match="LogisticRegression.fit"):
            clf.fit(X, y, sample_weight=w)
        # Not requested by the estimator: the weights weight only the search.
        record = _RECEIVED
        record.clear()
        spy = _SpyLR().set_fit_request(sample_weight=False)
        BiasAdjustedClassifier(spy, cv=3, ensemble=False).fit(X, y, sample_weight=w)
        assert len(record) == 4
        assert all(received is None for received in record)


@pytest.mark.parametrize(
    "estimator, weights, match",
    [
        (
            KNeighborsClassifier(),
            None,
            "estimator KNeighborsClassifier.*does not accept sample_weight",
        ),
        (
            make_pipeline(StandardScaler(), LogisticRegression()),
            None,
            "estimator Pipeline.*enable_metadata_routing",
        ),
        (None, -np.ones(240), "Negative values in data passed to `sample_weight`"),
        (None, np.r_[np.nan, np.ones(239)], "Input sample_weight contains NaN"),
        (None, np.ones(7), r"sample_weight.shape == \(7,\), expected \(240,\)"),
        (None, "class 1 zero", r"sums to zero over class\(es\) \[1\]"),
    ],
)
def test_classifier_bad_weights(weighted_data, estimator, weights, match):
    """Check that bad weights, or an estimator that cannot take them, raise."""
    X, y, _, _ = weighted_data
    w = np.ones(len(y)) if weights is None else weights
    if isinstance(weights, str):
        w = (y != 1).astype(float)
    clf = BiasAdjustedClassifier(estimator or LogisticRegression(), cv=3)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y, sample_weight=w)


def test_per_epoch_passes_weights_to_the_net(weighted_data):
    """Check that per_epoch=True trains the net with the weights."""
    X, y, w, _ = weighted_data
    X = X.astype(np.float32)
    record = []

    class SpyNet(NetClassifier):
        def fit(self, X, y, sample_weight=None, **fit_params):
            record.append(sample_weight)
            return super().fit(X, y, sample_weight=sample_weight, **fit_params)

    net = SpyNet(max_epochs=2, random_state=0)
    clf = BiasAdjustedClassifier(net, per_epoch=True, cv=3)
    clf.fit(X, y, sample_weight=w)
    assert len(record) == 1
    np.testing.assert_array_equal(record[0], w)
    assert clf.bias_.shape == (2,)


def test_scorer_without_weights_refused_before_training():
    """Check that a metric that cannot take weights is refused before any fit."""
    X, y = make_classification(
        n_samples=150, n_classes=3, n_informative=4, random_state=0
    )
    _RECEIVED.clear()
    clf = BiasAdjustedClassifier(_SpyLR(), scoring="minority_f1", cv=3, ensemble=False)
    with pytest.raises(ValueError, match="does not accept sample_weight"):
        clf.fit(X, y, sample_weight=np.ones(len(y)))
    assert _RECEIVED == []
    # Two classes: minority_f1 is computed from weighted confusion counts.
    binary = y == 0
    clf.fit(X, binary, sample_weight=np.ones(len(y)))
    assert len(_RECEIVED) == 4
