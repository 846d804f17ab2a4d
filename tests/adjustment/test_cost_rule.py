"""The Bayes rule of a cost matrix, where it is a bias of the logits."""

import numpy as np
import pytest
from scipy.special import softmax

from skimb.adjustment._cost_rule import cost_rule_bias
from skimb.metrics import get_scorer, make_cost_scorer


def test_binary_cost_rule_is_the_cost_threshold():
    """Check [[0, 1], [10, 0]] gives the threshold p_1 > 1/11."""
    bias = cost_rule_bias(make_cost_scorer([[0, 1], [10, 0]]), np.array([0, 1]))
    assert bias[1] - bias[0] == pytest.approx(np.log(10))
    p1 = np.linspace(0.01, 0.99, 99)
    z = np.log(np.column_stack([1 - p1, p1]))
    np.testing.assert_array_equal(np.argmax(z + bias, axis=1), p1 > 1 / 11)


@pytest.mark.parametrize("labels", [None, ["c", "a", "b"]])
def test_multiclass_cost_rule_minimises_expected_cost(labels):
    """Check argmax(z + bias) is argmin(p @ C) for one error cost per row."""
    classes = np.array(["a", "b", "c"])
    cost = np.array([[0.5, 2, 2], [1, 0, 1], [7, 7, 1]])  # rows in labels' order
    bias = cost_rule_bias(make_cost_scorer(cost, labels=labels), classes)
    order = [0, 1, 2] if labels is None else [labels.index(c) for c in classes]
    ordered = cost[np.ix_(order, order)]
    z = np.random.default_rng(0).normal(scale=2, size=(500, 3))
    expected = np.argmin(softmax(z, axis=1) @ ordered, axis=1)
    np.testing.assert_array_equal(np.argmax(z + bias, axis=1), expected)


@pytest.mark.parametrize(
    "scorer",
    [
        get_scorer("f1_macro"),
        make_cost_scorer([[0, 1, 2], [1, 0, 1], [1, 1, 0]]),  # two error costs
        make_cost_scorer([[1, 1, 1], [2, 0, 2], [3, 3, 0]]),  # error costs no more
        make_cost_scorer(np.ones((2, 2)) - np.eye(2)),  # a 2 x 2 matrix for 3
    ],
)
def test_no_cost_rule_where_it_is_no_bias(scorer):
    """Check scorers without a cost matrix, or whose rule is no bias, get None."""
    assert cost_rule_bias(scorer, np.array([0, 1, 2])) is None
