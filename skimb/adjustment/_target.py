"""Targets: the minority convention, fixed targets and imbalance states.

The minority class
------------------
skimb has one rule for "the minority class" of a binary problem: the class
with the fewest rows, the first of ``classes_`` (index 0) on a tie. It is the
rule of :func:`skimb.metrics.minority_f1_score` (``argmin`` of the counts of
the sorted labels), so that a float ``target`` and the ``"minority_f1"``
scoring name the same class whenever they count the same rows. They may count
different rows: a float ``target`` and ``search_results_["minority_probability"]``
follow the minority of the *training* class frequencies (the ``prior``),
while ``"minority_f1"`` is the F1 of the minority of the *scored* labels, as
``minority_f1_score`` computes it on them.

A target of a binary problem is stored as the probability ``r1`` of class 1;
:func:`class1_probability` is the one conversion between it and the minority
probability (the map is its own inverse).
"""

import numpy as np
from scipy.special import expit, softmax

from ._solve import MIN_TARGET, check_target

# Target tolerance of the solves inside the searches.
SEARCH_TOL = 1e-8


def minority_index(counts):
    """Index of the minority class: the fewest rows, the first on a tie.

    Parameters
    ----------
    counts : array-like of shape (n_classes,)
        Rows (or frequencies) of each class, in the order of ``classes_``.

    Returns
    -------
    index : int
        ``argmin(counts)``, the rule of ``minority_f1_score``.
    """
    return int(np.argmin(counts))


def class1_probability(p, minority):
    """Class-1 probability of a minority probability ``p``, and back.

    ``p`` itself when the minority is class 1, else ``1 - p``; the map is its
    own inverse, so it also turns class-1 probabilities into minority ones.
    """
    return p if minority == 1 else 1 - p


def binary_target(r1):
    """The target array ``[1 - r1, r1]`` of a class-1 probability."""
    return np.array([1.0 - r1, r1])


def binary_results(probabilities, scores, minority, shortfall=None):
    """The ``results`` of a binary search: candidates sorted by probability.

    ``"target"`` (one row per candidate), ``"score"``,
    ``"minority_probability"`` and, with constraints' ``shortfall``,
    ``"feasible"``.
    """
    r1 = class1_probability(probabilities, minority)
    results = {
        "target": np.column_stack([1 - r1, r1]),
        "score": scores,
        "minority_probability": probabilities,
    }
    if shortfall is not None:
        results["feasible"] = shortfall == 0
    return results


def clip_to_simplex(state):
    """The state with entries at least ``2 * MIN_TARGET``, renormalised."""
    state = np.maximum(np.asarray(state, dtype=np.float64), 2 * MIN_TARGET)
    return state / state.sum()


def resolve_fixed_target(target, n_classes, prior):
    """The target array for a fixed ``target``; None for ``"search"``."""
    if isinstance(target, str):
        if target == "search":
            return None
        if target == "balanced":
            return np.full(n_classes, 1.0 / n_classes)
        if target == "prior":
            return clip_to_simplex(prior)
        raise ValueError(
            f"target must be 'search', 'balanced', 'prior', a float or an array "
            f"on the simplex; got {target!r}."
        )
    if np.isscalar(target):
        if n_classes != 2:
            raise ValueError(
                f"A float target is the minority-class probability of a binary "
                f"problem; with {n_classes} classes give an array of "
                f"{n_classes} probabilities. Got target={target!r}."
            )
        p = float(target)
        if not MIN_TARGET <= p <= 1 - MIN_TARGET:
            raise ValueError(
                f"A float target must be in [{MIN_TARGET}, {1 - MIN_TARGET}]; "
                f"got {target!r}."
            )
        return binary_target(class1_probability(p, minority_index(prior)))
    return check_target(target, n_classes)


def imbalance_state(logits, bias, sample_weight=None):
    """Mean softmax of ``logits + bias`` (a sigmoid of the margins for two).

    With ``sample_weight``, the weighted mean over the rows.
    """
    if logits.shape[1] == 2:
        p1 = expit(logits[:, 1] - logits[:, 0] + bias[1] - bias[0])
        p1 = float(
            np.mean(p1)
            if sample_weight is None
            else np.average(p1, weights=sample_weight)
        )
        return np.array([1 - p1, p1])
    p = softmax(logits + bias, axis=1)
    if sample_weight is None:
        return p.mean(axis=0)
    return np.average(p, axis=0, weights=sample_weight)


def middle_of_best(scores, shortfall=None):
    """Index of the middle of the best scores (ordered candidates).

    A validation score is flat over ranges of targets; the middle of the
    best range generalises better than its edge. With ``shortfall`` (by how
    much each candidate misses the constraints' floors, 0 when it meets
    them) the best are among the candidates that meet them, or, when none
    does, those of the smallest shortfall.
    """
    scores = np.asarray(scores, dtype=np.float64).tolist()  # few: plain floats
    feasible = [True] * len(scores)
    if shortfall is not None:
        shortfall = np.asarray(shortfall, dtype=np.float64).tolist()
        feasible = [short == 0 for short in shortfall]
        if not any(feasible):
            scores, feasible = [-short for short in shortfall], [True] * len(scores)
    best = max(score for score, ok in zip(scores, feasible, strict=True) if ok)
    tied = [
        i
        for i, (score, ok) in enumerate(zip(scores, feasible, strict=True))
        if ok and score >= best - 1e-12
    ]
    return tied[len(tied) // 2]
