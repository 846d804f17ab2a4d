"""Tests of the fit's shortcuts: the model's own score from confusion counts,
and the final bias reused from the search where it solved the same problem."""

import warnings

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skimb.adjustment import BiasAdjustedClassifier, solve_bias
from skimb.adjustment._count_metrics import COUNT_METRICS
from skimb.adjustment._logits import PrecomputedLogits
from skimb.adjustment._search import score_rule
from skimb.adjustment._target import SEARCH_TOL, imbalance_state
from skimb.metrics import get_scorer


def _logits(n, minority_share, seed, ties=False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < minority_share).astype(int)
    margins = 1.5 * y + rng.normal(size=n) - 1.0
    if ties:  # margins of exactly 0 (a tie: class 0) and coarse values
        margins = np.round(margins, 1)
        margins[:20] = 0.0
    offset = rng.normal(size=n)
    return np.column_stack([offset, offset + margins]), y


@pytest.mark.parametrize("scoring", sorted(COUNT_METRICS))
@pytest.mark.parametrize(
    "minority_share, ties, seed",
    [(0.1, False, 0), (0.9, False, 1), (0.3, True, 2), (0.5, True, 3)],
)
def test_own_score_from_counts_equals_the_scorer(scoring, minority_share, ties, seed):
    """Check the unweighted count path of score_rule equals the scorer."""
    z, y = _logits(3000, minority_share, seed, ties)
    classes = np.array(["neg", "pos"])
    scorer = get_scorer(scoring)
    fast = score_rule(z, y, scoring=scoring, scorer=scorer, classes=classes)
    slow = scorer(PrecomputedLogits(classes), z, classes[y])
    assert fast == pytest.approx(slow, abs=1e-12, rel=0)


@pytest.mark.filterwarnings("ignore")  # the scorer's, on an absent class
@pytest.mark.parametrize("scoring", sorted(COUNT_METRICS))
def test_own_score_with_one_class_is_the_scorers(scoring):
    """Check one validation class falls back to the scorer's definition."""
    z, _ = _logits(200, 0.2, 4)
    y = np.zeros(200, dtype=int)
    classes = np.array([0, 1])
    scorer = get_scorer(scoring)
    fast = score_rule(z, y, scoring=scoring, scorer=scorer, classes=classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # recall of an absent class
        slow = scorer(PrecomputedLogits(classes), z, classes[y])
    assert fast == pytest.approx(slow, abs=1e-12, rel=0)


@pytest.mark.parametrize("n", [2000, 100_000])  # above COMPRESS_ABOVE: binned
@pytest.mark.parametrize("state_on", ["train", "validation"])
def test_reused_search_bias_reaches_the_target(n, state_on):
    """Check the search's bias, reused as bias_, is that of target_."""
    z, y = _logits(n, 0.1, 5)
    X = z[:, 1:] - z[:, :1]
    model = LogisticRegression().fit(X, y)
    ba = BiasAdjustedClassifier(
        FrozenEstimator(model),
        state_on=state_on,
        min_improvement=-np.inf,
    ).fit(X, y)
    assert ba._search_bias is not None  # the final bias is the search's
    logits = model.decision_function(X)
    logits = np.column_stack([np.zeros_like(logits), logits])
    expected = solve_bias(logits, ba.target_, tol=SEARCH_TOL)
    # Binned margins (above 65,536 rows) move the state by less than 1e-7.
    tol = 1e-7 if n < 65_536 else 2e-6
    np.testing.assert_allclose(ba.bias_, expected, atol=tol * 100)
    np.testing.assert_allclose(ba.imbalance_state_["after"], ba.target_, atol=tol)
    np.testing.assert_allclose(
        ba.imbalance_state_["after"], imbalance_state(logits, ba.bias_), rtol=1e-12
    )
    np.testing.assert_allclose(
        ba.imbalance_state_["before"],
        imbalance_state(logits, np.zeros(2)),
        rtol=1e-12,
    )
    assert ba.bias_.sum() == pytest.approx(0.0, abs=1e-12)


def test_kept_own_rule_has_zero_bias_and_its_state():
    """Check a kept own rule: zero bias, target_ and both states at zero."""
    z, y = _logits(2000, 0.1, 6)
    X = z[:, 1:] - z[:, :1]
    model = LogisticRegression().fit(X, y)
    ba = BiasAdjustedClassifier(FrozenEstimator(model), min_improvement=np.inf)
    ba.fit(X, y)
    logits = model.decision_function(X)
    state = imbalance_state(
        np.column_stack([np.zeros_like(logits), logits]), np.zeros(2)
    )
    np.testing.assert_array_equal(ba.bias_, np.zeros(2))
    np.testing.assert_allclose(ba.target_, state, rtol=1e-12)
    np.testing.assert_allclose(ba.imbalance_state_["before"], state, rtol=1e-12)
    np.testing.assert_allclose(ba.imbalance_state_["after"], state, rtol=1e-12)
