"""Tests of the constraints of BiasAdjustedClassifier and search_target."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from skimb.adjustment import BiasAdjustedClassifier, search_target


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(
        n_samples=1200,
        n_features=6,
        n_informative=3,
        weights=[0.9],
        flip_y=0.05,
        random_state=0,
    )
    model = LogisticRegression().fit(X[:600], y[:600])
    return model, X[600:], y[600:]


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(
        n_samples=1500,
        n_features=8,
        n_informative=5,
        n_classes=3,
        weights=[0.75, 0.2, 0.05],
        flip_y=0.05,
        random_state=1,
    )
    model = LogisticRegression().fit(X[:750], y[:750])
    return model, X[750:], y[750:]


def _margins(model, X):
    proba = np.clip(model.predict_proba(X), np.finfo(float).tiny, None)
    return np.log(proba[:, 1]) - np.log(proba[:, 0])


def _brute_force(margins, y, metric, floor_metric, floor):
    """Best metric over the thresholds whose floor_metric meets the floor."""
    best, reachable = -np.inf, -np.inf
    for t in np.r_[np.sort(margins), np.inf]:
        pred = (margins >= t).astype(int)
        value = floor_metric(y, pred)
        reachable = max(reachable, value)
        if value >= floor:
            best = max(best, metric(y, pred))
    return best, reachable


def _recall1(y, pred):
    return recall_score(y, pred, pos_label=1)


def _precision1(y, pred):
    return precision_score(y, pred, pos_label=1, zero_division=0)


def _f1(y, pred):
    return f1_score(y, pred, pos_label=1)


@pytest.mark.parametrize(
    "floor_name, floor_metric, floor",
    [
        ("recall", _recall1, 0.9),
        ("recall", _recall1, 0.75),
        ("precision", _precision1, 0.5),
    ],
)
def test_exact_constrained_search_matches_brute_force(
    binary, floor_name, floor_metric, floor
):
    """Check the exact search finds the best rule that meets the floor."""
    model, X, y = binary
    ba = BiasAdjustedClassifier(
        FrozenEstimator(model),
        scoring="minority_f1",
        search="exact",
        constraints={floor_name: floor},
        min_improvement=-np.inf,
    ).fit(X, y)
    best, _ = _brute_force(_margins(model, X), y, _f1, floor_metric, floor)
    assert ba.best_score_ == pytest.approx(best, abs=1e-12)
    pred = ba.predict(X)
    # The rule used meets the floor on the validation data and scores best.
    assert floor_metric(y, pred) >= floor
    assert _f1(y, pred) == pytest.approx(best, abs=1e-12)
    assert ba.constraint_values_ == {
        floor_name: {1: pytest.approx(floor_metric(y, pred), abs=1e-12)}
    }


@pytest.mark.parametrize("state_on", ["validation", "train"])
@pytest.mark.parametrize("search", ["decimal", "exact"])
def test_floor_holds_on_pooled_validation_predictions(binary, search, state_on):
    """Check the achieved validation recall meets the floor with folds."""
    model, X, y = binary
    unconstrained = BiasAdjustedClassifier(
        LogisticRegression(),
        cv=3,
        scoring="minority_f1",
        search=search,
        state_on=state_on,
    ).fit(X, y)
    ba = clone(unconstrained).set_params(constraints={"recall": 0.95}).fit(X, y)
    recall = ba.constraint_values_["recall"][1]
    assert recall >= 0.95
    # The floor binds: the unconstrained rule reaches less recall and a
    # better F1 on the same validation rows.
    assert ba.best_score_ <= unconstrained.best_score_
    assert not hasattr(unconstrained, "constraint_values_")
    feasible = ba.search_results_["feasible"]
    assert feasible.any() and not feasible.all()


def test_constraint_values_are_the_rule_used_on_pooled_validation_rows(binary):
    """Check constraint_values_ against predictions of the fold models."""
    _, X, y = binary
    ba = BiasAdjustedClassifier(
        LogisticRegression(),
        cv=3,
        scoring="precision",
        constraints={"recall": 0.75, "specificity": 0.5},
    ).fit(X, y)
    from sklearn.model_selection import StratifiedKFold

    z, truth = [], []
    for train, valid in StratifiedKFold(3).split(X, y):
        fold = LogisticRegression().fit(X[train], y[train])
        z.append(np.log(fold.predict_proba(X[valid])))
        truth.append(y[valid])
    z, truth = np.concatenate(z), np.concatenate(truth)
    pred = np.argmax(z + ba.bias_, axis=1)
    assert ba.constraint_values_["recall"][1] == pytest.approx(_recall1(truth, pred))
    specificity = recall_score(truth, pred, pos_label=0)
    assert ba.constraint_values_["specificity"][1] == pytest.approx(specificity)
    assert _recall1(truth, pred) >= 0.75 and specificity >= 0.5
    assert ba.best_score_ == pytest.approx(_precision1(truth, pred))


def test_non_binding_floor_changes_nothing(binary):
    """Check that a floor every rule meets gives the unconstrained rule."""
    model, X, y = binary
    params = dict(scoring="gmean", min_improvement=-np.inf)
    plain = BiasAdjustedClassifier(FrozenEstimator(model), **params).fit(X, y)
    floored = BiasAdjustedClassifier(
        FrozenEstimator(model), constraints={"recall": 0.0}, **params
    ).fit(X, y)
    np.testing.assert_allclose(floored.target_, plain.target_)
    assert floored.best_score_ == plain.best_score_


def test_own_rule_not_kept_when_it_misses_the_floor(binary):
    """Check that step 4 keeps the model's own rule only if it meets the floor."""
    model, X, y = binary
    own_recall = _recall1(y, model.predict(X))
    floor = min(own_recall + 0.1, 0.99)
    ba = BiasAdjustedClassifier(
        FrozenEstimator(model),
        scoring="accuracy",  # the model's own rule is about the best for it
        constraints={"recall": floor},
        min_improvement=np.inf,  # would keep the own rule whatever it scores
    ).fit(X, y)
    assert np.any(ba.bias_ != 0)
    assert _recall1(y, ba.predict(X)) >= floor
    assert ba.best_score_ < ba.own_score_


def test_infeasible_floor_reports_the_best_reachable(binary):
    """Check the error of an infeasible floor gives the reachable value."""
    model, X, y = binary
    ba = BiasAdjustedClassifier(
        FrozenEstimator(model),
        scoring="minority_f1",
        search="exact",
        constraints={"recall": 0.9, "precision": 0.95},
    )
    # The best precision among the thresholds that reach a recall of 0.9.
    margins = _margins(model, X)
    best_precision = max(
        _precision1(y, (margins >= t).astype(int))
        for t in np.sort(margins)
        if _recall1(y, (margins >= t).astype(int)) >= 0.9
    )
    assert best_precision < 0.95
    message = (
        rf"precision of class 1 >= 0.95 reaches at most {best_precision:.4f} "
        r"where the other floors hold"
    )
    with pytest.raises(ValueError, match=message):
        ba.fit(X, y)


def test_infeasible_floor_decimal_and_multiclass(binary, multiclass):
    """Check decimal and multiclass searches raise on a floor none meets."""
    model, X, y = binary
    with pytest.raises(ValueError, match="No decision rule meets the constraints"):
        BiasAdjustedClassifier(
            FrozenEstimator(model), constraints={"recall": 1.0, "specificity": 1.0}
        ).fit(X, y)
    model, X, y = multiclass
    with pytest.raises(ValueError, match=r"recall of class 2 >= 1 reaches at most"):
        BiasAdjustedClassifier(
            FrozenEstimator(model),
            scoring="balanced_accuracy",
            constraints={"recall": {2: 1.0}, "precision": {2: 1.0}},
        ).fit(X, y)


def test_multiclass_per_class_floors(multiclass):
    """Check per-class floors of three classes hold on the validation data."""
    model, X, y = multiclass
    plain = BiasAdjustedClassifier(
        FrozenEstimator(model), scoring="accuracy", min_improvement=-np.inf
    ).fit(X, y)
    recalls = recall_score(y, plain.predict(X), average=None)
    floors = {1: min(recalls[1] + 0.1, 0.95), 2: min(recalls[2] + 0.15, 0.95)}
    ba = BiasAdjustedClassifier(
        FrozenEstimator(model),
        scoring="accuracy",
        constraints={"recall": floors},
        min_improvement=-np.inf,
    ).fit(X, y)
    achieved = recall_score(y, ba.predict(X), average=None)
    for label, floor in floors.items():
        assert achieved[label] >= floor
        assert ba.constraint_values_["recall"][label] == pytest.approx(achieved[label])
    assert ba.best_score_ <= plain.best_score_
    assert ba.search_results_["feasible"].any()


def test_scalar_floor_is_on_the_minority_class(multiclass):
    """Check a scalar floor applies to the class of fewest training rows."""
    model, X, y = multiclass
    ba = BiasAdjustedClassifier(
        FrozenEstimator(model), scoring="accuracy", constraints={"recall": 0.8}
    ).fit(X, y)
    assert list(ba.constraint_values_["recall"]) == [2]
    assert recall_score(y, ba.predict(X), average=None)[2] >= 0.8


def test_string_labels_and_weights(binary):
    """Check floors by string label, and weights as repeated rows."""
    model, X, y = binary
    labels = np.array(["no", "yes"])[y]
    frozen = FrozenEstimator(LogisticRegression().fit(X[:300], labels[:300]))
    w = np.random.default_rng(0).integers(0, 3, size=y.size)
    params = dict(
        scoring="minority_f1", search="exact", constraints={"recall": {"yes": 0.8}}
    )
    weighted = BiasAdjustedClassifier(frozen, **params).fit(X, labels, sample_weight=w)
    rows = np.repeat(np.arange(y.size), w)
    repeated = BiasAdjustedClassifier(frozen, **params).fit(X[rows], labels[rows])
    recall = weighted.constraint_values_["recall"]["yes"]
    assert recall == pytest.approx(repeated.constraint_values_["recall"]["yes"])
    assert recall >= 0.8
    np.testing.assert_array_equal(weighted.predict(X), repeated.predict(X))


@pytest.mark.parametrize(
    "params, error, match",
    [
        (
            {"constraints": {"recal": 0.9}},
            ValueError,
            "Unknown constraint metric 'recal'",
        ),
        (
            {"constraints": {"recall": 1.5}},
            ValueError,
            r"must be a number in \[0, 1\]; got 1.5",
        ),
        ({"constraints": {"recall": -0.1}}, ValueError, r"in \[0, 1\]; got -0.1"),
        ({"constraints": {"recall": "high"}}, ValueError, "got 'high'"),
        (
            {"constraints": {"precision": {7: 0.5}}},
            ValueError,
            "names label 7, which is not a class",
        ),
        ({"constraints": [("recall", 0.9)]}, InvalidParameterError, "constraints"),
        (
            {"constraints": {"recall": 0.9}, "target": "balanced"},
            ValueError,
            "target='search'",
        ),
        (
            {"constraints": {"recall": 0.9}, "target": 0.3},
            ValueError,
            "fixed target=0.3",
        ),
    ],
)
def test_bad_constraints(binary, params, error, match):
    """Check bad constraints are refused before any fit, naming the problem."""
    model, X, y = binary
    with pytest.raises(error, match=match):
        BiasAdjustedClassifier(FrozenEstimator(model), **params).fit(X, y)


def test_per_epoch_refuses_constraints(imbalanced_binary):
    """Check per_epoch=True with constraints is a clear error."""
    from skimb.nn import NetClassifier

    X, y = imbalanced_binary
    ba = BiasAdjustedClassifier(
        NetClassifier(max_epochs=1), per_epoch=True, constraints={"recall": 0.9}
    )
    with pytest.raises(ValueError, match="not supported with per_epoch=True"):
        ba.fit(X, y)


def test_clone_and_grid_search(binary):
    """Check constraints survive clone and GridSearchCV, floors met by each fit."""
    _, X, y = binary
    ba = BiasAdjustedClassifier(
        LogisticRegression(), cv=2, scoring="precision", constraints={"recall": 0.8}
    )
    assert clone(ba).get_params()["constraints"] == {"recall": 0.8}
    grid = GridSearchCV(
        ba,
        {"constraints": [{"recall": 0.6}, {"recall": 0.8}], "estimator__C": [0.1, 1.0]},
        cv=2,
        scoring="recall",
    ).fit(X, y)
    assert grid.best_params_["constraints"] == {"recall": 0.8}
    assert grid.best_estimator_.constraint_values_["recall"][1] >= 0.8


def test_search_target_with_constraints():
    """Check search_target takes the same constraints."""
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.1).astype(int)
    margins = 2.0 * y + rng.normal(size=2000) - 2.0
    target, score, results = search_target(
        y, margins, scoring="minority_f1", search="exact", constraints={"recall": 0.9}
    )
    free, free_score, _ = search_target(
        y, margins, scoring="minority_f1", search="exact"
    )
    assert score < free_score
    assert target[1] > free[1]
    assert results["feasible"].any()
    best, _ = _brute_force(margins, y, _f1, _recall1, 0.9)
    assert score == pytest.approx(best, abs=1e-12)


def _threshold_counts(margins, y, label):
    """Confusion counts of ``label`` at every threshold ``margins >= t``."""
    cuts = np.r_[np.sort(margins), np.inf]
    pred = margins[None, :] >= cuts[:, None]  # class 1 predicted
    is_label = (pred if label == 1 else ~pred), (y == label)
    tp = np.sum(is_label[0] & is_label[1], axis=1)
    fp = np.sum(is_label[0] & ~is_label[1], axis=1)
    fn = np.sum(~is_label[0] & is_label[1], axis=1)
    tn = np.sum(~is_label[0] & ~is_label[1], axis=1)
    return tp, fp, fn, tn


def _safe(a, b):
    return np.divide(a, b, out=np.zeros(len(a)), where=b > 0)


@pytest.mark.parametrize("flip", [False, True])  # True: the minority is class 0
@pytest.mark.parametrize(
    "metric, label, quantile",
    [
        ("recall", 0, 0.3),
        ("recall", 1, 0.5),
        ("precision", 0, 0.5),
        ("specificity", 0, 0.5),
        ("specificity", 1, 0.7),
        ("precision", 1, 0.3),
    ],
)
def test_exact_search_floors_on_either_class(binary, flip, metric, label, quantile):
    """Check floors on each class and metric against every threshold."""
    model, X, y = binary
    if flip:  # labels and model flipped: the minority is class 0
        X_all, y_all = make_classification(
            n_samples=1200,
            n_features=6,
            n_informative=3,
            weights=[0.9],
            flip_y=0.05,
            random_state=0,
        )
        model = LogisticRegression().fit(X_all[:600], 1 - y_all[:600])
        y = 1 - y
    margins = _margins(model, X)
    tp, fp, fn, tn = _threshold_counts(margins, y, label)
    values = {
        "recall": _safe(tp, tp + fn),
        "precision": _safe(tp, tp + fp),
        "specificity": _safe(tn, tn + fp),
    }[metric]
    minority = 0 if flip else 1
    m_tp, m_fp, m_fn, _ = _threshold_counts(margins, y, minority)
    f1 = _safe(2 * m_tp, 2 * m_tp + m_fp + m_fn)
    # A floor between the value at the best F1 and the largest value binds.
    at_best = values[np.argmax(f1)]
    floor = float(at_best + quantile * (values.max() - at_best))
    best = f1[values >= floor].max()
    assert best < f1.max()
    ba = BiasAdjustedClassifier(
        FrozenEstimator(model),
        scoring="minority_f1",
        search="exact",
        constraints={metric: {label: floor}},
        min_improvement=-np.inf,
    ).fit(X, y)
    assert ba.best_score_ == pytest.approx(best, abs=1e-12)
    pred = ba.predict(X)
    assert f1_score(y, pred, pos_label=minority) == pytest.approx(best, abs=1e-12)
    assert ba.constraint_values_[metric][label] >= floor
