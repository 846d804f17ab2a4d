import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate

from skimb.metrics import (
    get_scorer,
    gmean_scorer,
    minority_f1_score,
    minority_f1_scorer,
    model_imbalance_state,
)


def test_minority_f1_picks_least_frequent_class():
    """Check the F1 is computed for the least frequent class, by hand."""
    y_true = ["a", "a", "a", "b", "b", "c", "c", "c"]
    y_pred = ["a", "b", "a", "b", "a", "c", "c", "b"]
    # class b: tp=1, fp=2, fn=1 -> precision 1/3, recall 1/2 -> f1 = 0.4
    assert minority_f1_score(y_true, y_pred) == pytest.approx(0.4)
    # class c given explicitly: tp=2, fp=0, fn=1 -> f1 = 0.8
    assert minority_f1_score(y_true, y_pred, minority_label="c") == pytest.approx(0.8)


def test_minority_f1_unknown_label():
    with pytest.raises(ValueError, match="minority_label=9"):
        minority_f1_score([0, 1], [0, 1], minority_label=9)


@pytest.mark.parametrize(
    "y_true, y_pred, match",
    [
        # Column 1 is the minority label; the flattened 0/1 values would
        # have picked column 0 (the majority) without a word.
        ([[1, 0], [1, 0], [1, 1]], [[1, 0], [1, 0], [0, 0]], "y_true .* multilabel"),
        ([0, 1, 1], [[1, 0], [0, 1], [0, 1]], "y_pred .* multilabel"),
        ([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], "y_true .* continuous"),
    ],
)
def test_minority_f1_rejects_non_label_targets(y_true, y_pred, match):
    """Check that multilabel or continuous input raises instead of scoring."""
    with pytest.raises(ValueError, match=match):
        minority_f1_score(np.array(y_true), np.array(y_pred))


def test_model_imbalance_state_is_mean_probability():
    X = np.arange(20, dtype=float).reshape(-1, 1)
    y = np.r_[np.zeros(15), np.ones(5)]
    clf = LogisticRegression().fit(X, y)
    state = model_imbalance_state(clf, X)
    np.testing.assert_allclose(state, clf.predict_proba(X).mean(0))
    assert state.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="predict_proba"):
        model_imbalance_state(object(), X)


def test_gmean_scorer_by_hand():
    """Check G-mean = sqrt(recall_0 * recall_1) on a majority-only predictor."""
    X = np.zeros((10, 1))
    y = np.array(["n"] * 8 + ["p"] * 2)
    clf = DummyClassifier(strategy="most_frequent").fit(X, y)
    assert gmean_scorer(clf, X, y) == 0.0
    assert minority_f1_scorer(clf, X, y) == 0.0


def test_get_scorer_names():
    assert get_scorer("gmean") is gmean_scorer
    assert get_scorer("minority_f1") is minority_f1_scorer
    assert (
        get_scorer("balanced_accuracy")._score_func.__name__
        == "balanced_accuracy_score"
    )
    assert get_scorer(len) is len
    with pytest.raises(ValueError, match="Unknown scoring 'gmeen'"):
        get_scorer("gmeen")


def test_scorers_in_grid_search_multi_metric():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=200) > 1.0, "pos", "neg")
    grid = GridSearchCV(
        LogisticRegression(),
        {"class_weight": [None, "balanced"]},
        scoring={"gmean": gmean_scorer, "f1": get_scorer("minority_f1")},
        refit="gmean",
        cv=3,
    ).fit(X, y)
    assert grid.best_params_ == {"class_weight": "balanced"}
    scores = cross_validate(LogisticRegression(), X, y, scoring=gmean_scorer, cv=3)
    assert np.all(scores["test_score"] > 0)
