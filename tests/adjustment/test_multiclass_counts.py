"""Tests of the multiclass search's fast path: scores from confusion matrices."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import make_scorer

from skimb.adjustment import search_target
from skimb.adjustment._logits import PrecomputedLogits
from skimb.adjustment._multiclass_counts import CONFUSION_METRICS, confusion_score
from skimb.metrics import get_scorer, make_cost_scorer, negative_expected_cost

CLASSES = np.array(["a", "b", "c", "d"])
COST = np.array([[0, 1, 4, 2], [3, 0, 1, 1], [9, 2, 0, 5], [1, 7, 2, 0]], float)


def _data(seed, n=600, absent=None, unpredicted=None):
    """Logits and labels of 4 classes; a class missing from y or from argmax."""
    rng = np.random.default_rng(seed)
    y = rng.choice(4, size=n, p=[0.55, 0.25, 0.15, 0.05])
    if absent is not None:
        y[y == absent] = 0
    z = rng.normal(size=(n, 4))
    z[np.arange(n), y] += 1.5
    if unpredicted is not None:
        z[:, unpredicted] = -50.0
    return z, y


def _scorers():
    """(name, fast scoring, equivalent scoring that takes the scorer path)."""
    named = [(n, n, get_scorer(n)) for n in sorted(CONFUSION_METRICS)]
    cost = [
        (
            "cost",
            make_cost_scorer(COST),
            make_scorer(negative_expected_cost, cost_matrix=COST),
        ),
        (
            "cost, labels",
            make_cost_scorer(COST.T, labels=CLASSES[::-1]),
            make_scorer(
                negative_expected_cost, cost_matrix=COST.T, labels=CLASSES[::-1]
            ),
        ),
    ]
    return named + cost


SCORERS = _scorers()


def _slow(scorer, z, y, weights):
    kwargs = {} if weights is None else {"sample_weight": weights}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-division warnings of the scorer
        return scorer(PrecomputedLogits(CLASSES), z, CLASSES[y], **kwargs)


@pytest.mark.parametrize("name, fast, slow", SCORERS, ids=[s[0] for s in SCORERS])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "seed, absent, unpredicted",
    [(0, None, None), (1, 3, None), (2, None, 2), (3, 1, 1), (4, 2, 3)],
)
def test_confusion_score_equals_the_scorer(
    name, fast, slow, weighted, seed, absent, unpredicted
):
    """Check each counted metric equals its scorer to 1e-12, with weights too.

    Classes absent from the true labels or from the predictions exercise the
    scorers' conventions (present labels, zero division).
    """
    z, y = _data(seed, absent=absent, unpredicted=unpredicted)
    weights = None
    if weighted:
        weights = np.random.default_rng(seed + 10).uniform(0.1, 3.0, size=y.size)
    counted = confusion_score(fast, get_scorer(fast), CLASSES, y, weights)
    if name == "minority_f1" and weighted:  # its scorer takes no weights
        assert counted is None
        return
    assert counted is not None
    value = counted(z)
    if value is None:  # a cost matrix whose labels do not all occur
        assert name == "cost" and (absent is not None and absent == unpredicted)
        return
    assert value == pytest.approx(_slow(slow, z, y, weights), abs=1e-12, rel=0)


@pytest.mark.parametrize("name, fast, slow", SCORERS, ids=[s[0] for s in SCORERS])
@pytest.mark.parametrize("weighted", [False, True])
def test_line_scores_each_shift_as_argmax_does(name, fast, slow, weighted):
    """Check one line's scores equal scoring each shifted column, ties included.

    Logits and shifts on a grid of halves make many rows tie between column
    ``j`` and their best other class, where ``np.argmax`` takes the first.
    Every column of one array in turn (the rows' two best classes are kept
    between them), then of a new array with a column moved.
    """
    # class 1 neither true nor predicted: the scorer of "cost" must be asked
    missing = 1 if name == "cost" else None
    z, y = _data(5, absent=missing, unpredicted=missing)
    z = np.round(z * 2) / 2
    weights = None
    if weighted:
        weights = np.random.default_rng(6).uniform(0.1, 3.0, size=y.size)
    counted = confusion_score(fast, get_scorer(fast), CLASSES, y, weights)
    if counted is None:  # weighted minority F1 is not counted
        return
    shifts = np.array([-1.0, -0.5, 0.5, 1.0, -40.0])
    moved_logits = z.copy()
    moved_logits[:, 2] += 1.5
    for logits in (z, moved_logits):
        for j in range(z.shape[1]):
            line = counted.line(logits, j, shifts)
            for shift, value in zip(shifts, line, strict=True):
                moved = logits.copy()
                moved[:, j] += shift
                expected = counted(moved)
                if expected is None:  # the scorer must be asked: NaN on the line
                    assert np.isnan(value)
                else:
                    assert value == expected


def test_confusion_score_refuses_what_it_cannot_count():
    """Check scorers without a confusion form, and weighted minority F1, are None."""
    y = np.array([0, 1, 2, 3])
    assert confusion_score("roc_auc_ovr", get_scorer("roc_auc_ovr"), CLASSES, y) is None
    assert (
        confusion_score(get_scorer("f1_macro"), get_scorer("f1_macro"), CLASSES, y)
        is None
    )
    weights = np.ones(4)
    assert (
        confusion_score("minority_f1", get_scorer("minority_f1"), CLASSES, y, weights)
        is None
    )
    wrong_size = make_cost_scorer(np.ones((3, 3)))
    assert confusion_score(wrong_size, wrong_size, CLASSES, y) is None
    unknown = make_cost_scorer(COST, labels=["a", "b", "c", "x"])
    assert confusion_score(unknown, unknown, CLASSES, y) is None


@pytest.mark.parametrize(
    "name, fast, slow",
    [
        s
        for s in SCORERS
        if s[0]
        in (
            "f1_macro",
            "balanced_accuracy",
            "gmean",
            "minority_f1",
            "cost",
            "cost, labels",
        )
    ],
    ids=lambda s: s if isinstance(s, str) else "",
)
@pytest.mark.parametrize("weighted", [False, True])
def test_search_chooses_the_scorer_paths_rule(name, fast, slow, weighted):
    """Check the counted search chooses the same target, score and candidates."""
    z, y = _data(7, n=800)
    labels = CLASSES[y]
    weights = None
    if weighted:
        weights = np.random.default_rng(8).uniform(0.1, 3.0, size=y.size)
    if name == "minority_f1" and weighted:  # refused on both paths alike
        for scoring in (fast, slow):
            with pytest.raises(ValueError, match="sample_weight"):
                search_target(labels, z, scoring=scoring, sample_weight=weights)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        target_fast, score_fast, results_fast = search_target(
            labels, z, scoring=fast, sample_weight=weights
        )
        target_slow, score_slow, results_slow = search_target(
            labels, z, scoring=slow, sample_weight=weights
        )
    np.testing.assert_array_equal(target_fast, target_slow)
    assert score_fast == pytest.approx(score_slow, abs=1e-12, rel=0)
    np.testing.assert_array_equal(results_fast["target"], results_slow["target"])
    np.testing.assert_allclose(
        results_fast["score"], results_slow["score"], atol=1e-12, rtol=0
    )


def test_search_does_not_call_a_countable_scorer():
    """Check the cost scorer is not called per candidate (the fast path runs)."""
    inner = make_cost_scorer(COST)
    calls = []

    def scorer(estimator, X, y, sample_weight=None):
        calls.append(1)
        return inner(estimator, X, y, sample_weight=sample_weight)

    scorer.cost_matrix, scorer.labels = inner.cost_matrix, inner.labels
    z, y = _data(9)
    _, _, results = search_target(CLASSES[y], z, scoring=scorer)
    assert len(results["score"]) > 10
    assert calls == []
    del scorer.cost_matrix  # the same scorer without its matrix: called
    search_target(CLASSES[y], z, scoring=scorer)
    assert len(calls) > 10
