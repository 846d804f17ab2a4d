"""Tests of the expected-cost score and scorer."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, TunedThresholdClassifierCV

from skimb.adjustment import BiasAdjustedClassifier
from skimb.metrics import make_cost_scorer, negative_expected_cost


def test_negative_expected_cost_by_hand():
    """Check the score is minus the mean cost of the confusion counts."""
    cost = [[0, 1, 2], [5, 0, 1], [9, 3, 0]]
    y_true = ["a", "a", "b", "c", "c"]
    y_pred = ["a", "b", "a", "b", "c"]
    # a->b costs 1, b->a costs 5, c->b costs 3: 9 over 5 rows
    assert negative_expected_cost(y_true, y_pred, cost_matrix=cost) == -9 / 5
    weights = [1, 1, 2, 1, 1]  # b->a counted twice: 14 over 6
    got = negative_expected_cost(
        y_true, y_pred, cost_matrix=cost, sample_weight=weights
    )
    assert got == pytest.approx(-14 / 6)


def test_labels_order_the_matrix():
    """Check labels= says which class each row and column is."""
    cost = [[0, 10], [1, 0]]  # rows/columns: class 1, then class 0
    score = negative_expected_cost([0, 1], [1, 1], cost_matrix=cost, labels=[1, 0])
    assert score == -1 / 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cost_matrix": [[0, 1, 1], [1, 0, 1]]}, "square K x K"),
        ({"cost_matrix": [[0]]}, "K >= 2"),
        ({"cost_matrix": [[0, np.nan], [1, 0]]}, "NaN"),
        ({"cost_matrix": np.ones((3, 3))}, "hold 2 labels"),
        ({"cost_matrix": np.ones((2, 2)), "labels": [0, 1, 2]}, "labels has 3"),
        ({"cost_matrix": np.ones((2, 2)), "labels": [0, 2]}, r"labels \[1\]"),
    ],
)
def test_bad_cost_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        negative_expected_cost([0, 1, 1], [0, 1, 0], **kwargs)


def test_bad_matrix_at_scorer_construction():
    with pytest.raises(ValueError, match="square"):
        make_cost_scorer([1, 2])


@pytest.fixture
def data():
    return make_classification(
        n_samples=600, weights=[0.9], flip_y=0.05, random_state=0
    )


def test_cost_scorer_moves_tuned_threshold(data):
    """Check a costly miss makes TunedThresholdClassifierCV predict more positives."""
    X, y = data
    cheap = make_cost_scorer([[0, 1], [1, 0]])
    costly = make_cost_scorer([[0, 1], [20, 0]])
    base = LogisticRegression()
    n_pos = {
        name: TunedThresholdClassifierCV(base, scoring=scorer, random_state=0)
        .fit(X, y)
        .predict(X)
        .sum()
        for name, scorer in {"cheap": cheap, "costly": costly}.items()
    }
    assert n_pos["costly"] > n_pos["cheap"]
    plain = base.fit(X, y)
    assert costly(plain, X, y) == negative_expected_cost(
        y, plain.predict(X), cost_matrix=[[0, 1], [20, 0]]
    )


def test_cost_scorer_in_grid_search_and_bias_adjustment(data):
    """Check the scorer drives GridSearchCV and BiasAdjustedClassifier."""
    X, y = data
    costly = make_cost_scorer([[0, 1], [20, 0]])
    grid = GridSearchCV(LogisticRegression(), {"C": [0.01, 1.0]}, scoring=costly)
    assert np.isfinite(grid.fit(X, y).best_score_)
    adjusted = BiasAdjustedClassifier(LogisticRegression(), scoring=costly)
    adjusted.fit(X, y)
    plain = LogisticRegression().fit(X, y)
    assert adjusted.predict(X).sum() > plain.predict(X).sum()
    assert costly(adjusted, X, y) > costly(plain, X, y)
