"""Sample weights in the bias solve, the target searches and the classifier.

An integer weight must act as the row repeated and a zero weight as the row
dropped. The solves and searches are compared with the repeated or reduced
data to 1e-10 (the weighted sums differ from the repeated ones only in the
order of floating-point additions; confusion counts of integer weights are
exact).
"""

import numpy as np
import pytest
import torch

from skimb.adjustment import search_target, solve_bias

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
