"""Tests of InstanceDifficulty on hand-worked cases."""

import math

import numpy as np
import pytest

from skimb.difficulty import InstanceDifficulty


def _by_hand(old, new, label):
    """du and dl of one instance, term by term, as in the paper."""
    du = dl = 0.0
    for j, (q, p) in enumerate(zip(old, new)):
        d = (p - q) * math.log(p / q)
        if j == label:
            du, dl = (du + d, dl) if p < q else (du, dl + d)
        else:
            du, dl = (du + d, dl) if p > q else (du, dl + d)
    return du, dl


THIRD = [1 / 3, 1 / 3, 1 / 3]
CASES = [
    # (previous, new, label)
    (THIRD, [0.6, 0.2, 0.2], 0),  # learns: the true class rises, others fall
    (THIRD, [0.2, 0.4, 0.4], 0),  # unlearns: the true class falls
    ([0.5, 0.3, 0.2], [0.3, 0.3, 0.4], 0),  # a class that does not move
    ([0.2, 0.5, 0.3], [0.1, 0.6, 0.3], 2),  # mixed: class 1 rises, class 0 falls
    ([0.7, 0.2, 0.1], [0.2, 0.1, 0.7], 2),  # large move towards the label
]


@pytest.mark.parametrize("old, new, label", CASES)
def test_du_dl_hand_worked(old, new, label):
    """Check du and dl against a term-by-term computation and the PSI."""
    state = InstanceDifficulty(prior=1.0).start(np.array([old]))
    state.update(np.array([new]), np.array([label]))
    du, dl = _by_hand(old, new, label)
    psi = sum((p - q) * math.log(p / q) for q, p in zip(old, new))
    assert state.unlearning_[0] == pytest.approx(du)
    assert state.learning_[0] == pytest.approx(dl)
    assert state.unlearning_[0] + state.learning_[0] == pytest.approx(psi)
    assert state.difficulty()[0] == pytest.approx((1 + du) / (1 + dl))


def test_first_case_by_numbers():
    """Check the first case against numbers worked out by hand."""
    state = InstanceDifficulty().start(n_samples=1, n_classes=3)
    state.update(np.array([[0.6, 0.2, 0.2]]), np.array([0]))
    dl = (0.6 - 1 / 3) * math.log(1.8) + 2 * (0.2 - 1 / 3) * math.log(0.6)
    assert state.unlearning_[0] == 0.0
    assert state.learning_[0] == pytest.approx(dl)
    assert state.difficulty()[0] == pytest.approx(1 / (1 + dl))


def test_difficulty_starts_at_one():
    """Check that the difficulty is 1 before any update and after no move."""
    proba = np.array([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]])
    state = InstanceDifficulty(prior=0.5).start(proba)
    np.testing.assert_array_equal(state.difficulty(), [1.0, 1.0])
    state.update(proba, np.array([0, 2]))
    np.testing.assert_allclose(state.difficulty(), [1.0, 1.0])
    fresh = InstanceDifficulty().start(n_samples=4, n_classes=3)
    np.testing.assert_array_equal(fresh.difficulty(), np.ones(4))


def test_uniform_reference_without_start():
    """Check that a first update without start compares with 1 / K."""
    new = np.array([[0.2, 0.4, 0.4]])
    lazy = InstanceDifficulty().update(new, np.array([0]))
    explicit = InstanceDifficulty().start(np.full((1, 3), 1 / 3))
    explicit.update(new, np.array([0]))
    assert lazy.difficulty()[0] == pytest.approx(explicit.difficulty()[0])
    assert lazy.n_updates_ == 1


def test_falling_true_class_gets_harder():
    """Check that an instance whose true class keeps falling gets harder."""
    falling = [0.6, 0.5, 0.4, 0.3, 0.2]
    rising = falling[::-1]
    state = InstanceDifficulty().start(np.array([[0.7, 0.15, 0.15], [0.1, 0.45, 0.45]]))
    previous = np.ones(2)
    for down, up in zip(falling, rising):
        rest_down, rest_up = (1 - down) / 2, (1 - up) / 2
        proba = np.array([[down, rest_down, rest_down], [up, rest_up, rest_up]])
        state.update(proba, np.array([0, 0]))
        difficulty = state.difficulty()
        assert difficulty[0] > previous[0] and difficulty[0] > 1
        assert difficulty[1] < previous[1] and difficulty[1] < 1
        previous = difficulty


def test_prior_damps_the_difficulty():
    """Check that a larger prior keeps the difficulty closer to 1."""
    old, new, y = np.full((1, 3), 1 / 3), np.array([[0.1, 0.1, 0.8]]), np.array([0])
    small = InstanceDifficulty(prior=0.1).start(old).update(new, y).difficulty()
    large = InstanceDifficulty(prior=10.0).start(old).update(new, y).difficulty()
    assert small[0] > large[0] > 1


def test_weights_are_normalised_difficulties():
    """Check that the weights are the difficulties divided by their sum."""
    rng = np.random.RandomState(0)
    state = InstanceDifficulty().start(n_samples=50, n_classes=4)
    y = rng.randint(4, size=50)
    for _ in range(3):
        state.update(rng.dirichlet(np.ones(4), size=50), y)
    difficulty = (1 + state.unlearning_) / (1 + state.learning_)
    np.testing.assert_allclose(state.weights(), difficulty / difficulty.sum())
    assert state.weights().sum() == pytest.approx(1.0)


def test_zero_probabilities_are_clipped():
    """Check that exact zeros give finite difficulties, inputs untouched."""
    proba = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    copy = proba.copy()
    state = InstanceDifficulty().update(proba, np.array([0, 0]))
    assert np.isfinite(state.difficulty()).all()
    assert state.difficulty()[1] > 1 > state.difficulty()[0]
    np.testing.assert_array_equal(proba, copy)


def test_reused_proba_buffer_is_not_aliased():
    """Check that refilling one proba array each epoch gives fresh arrays' result."""
    y = np.array([0, 1])
    epochs = ([[0.5, 0.5]] * 2, [[0.9, 0.1]] * 2, [[0.2, 0.8]] * 2)
    fresh, reused = InstanceDifficulty(), InstanceDifficulty()
    buffer = np.empty((2, 2))
    for proba in epochs:
        fresh.update(np.array(proba), y)
        buffer[:] = proba
        reused.update(buffer, y)
    np.testing.assert_allclose(reused.difficulty(), fresh.difficulty())
    assert not np.allclose(fresh.difficulty(), 1.0)


def test_float32_softmax_rows_are_accepted():
    """Check that float32 rows that sum to 1 up to rounding are accepted."""
    logits = np.random.RandomState(0).normal(size=(100, 5)).astype(np.float32)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    state = InstanceDifficulty().update(proba, np.zeros(100, dtype=int))
    assert state.difficulty().shape == (100,)


GOOD = np.array([[0.5, 0.5], [0.2, 0.8]])
BAD_UPDATES = [
    ({"prior": 0}, GOOD, [0, 1], "prior"),
    ({"prior": -1.0}, GOOD, [0, 1], "prior"),
    ({}, np.array([[1.5, -0.5], [0.2, 0.8]]), [0, 1], r"proba\[0, 0\] = 1.5"),
    ({}, np.array([[0.5, 0.7], [0.2, 0.8]]), [0, 1], "row 0 sums to 1.2"),
    ({}, np.array([[np.nan, 0.5], [0.2, 0.8]]), [0, 1], "NaN"),
    ({}, np.array([[1.0], [1.0]]), [0, 0], "at least 2"),
    ({}, GOOD, [0, 2], r"in \[0, 1\]; got 2"),
    ({}, GOOD, [0.0, 1.0], "integer class indices"),
    ({}, GOOD, [0, 1, 1], "length 3"),
]


@pytest.mark.parametrize("params, proba, y, match", BAD_UPDATES)
def test_bad_input(params, proba, y, match):
    """Check that bad parameters and non-probabilities raise clear errors."""
    with pytest.raises(ValueError, match=match):
        InstanceDifficulty(**params).update(proba, np.asarray(y))


def test_shape_change_and_bad_start():
    """Check that a shape change and an unsized start raise clear errors."""
    state = InstanceDifficulty().update(GOOD, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"shape \(3, 2\).*call start"):
        state.update(np.vstack([GOOD, GOOD[:1]]), np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="n_classes=None"):
        InstanceDifficulty().start(n_samples=3)
