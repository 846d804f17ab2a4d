"""The honest gain of a searched rule over a fixed one (step 4).

The best of a few hundred candidate rules scored on a few validation rows of
a small class is the one that fits those rows best: its validation score is
inflated, by more the more candidates and the fewer rows there are. Here the
rows are halved: the rule searched on one half and the fixed rule chosen on
that half are scored on the other, and the difference is averaged over both
halves of two random halvings.
"""

import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold

from ._search import score_rule
from ._solve import solve_bias
from ._target import SEARCH_TOL

# Below this many validation rows in the smallest class the gain is
# cross-fitted; above it the in-sample gain is kept (inflated by little, and
# the cross-fit would cost four more searches).
CROSS_FIT_BELOW = 1000
# Halvings of the rows, each two searches on half of them. One halving for
# three or more classes made the check twice as fast but its choices worse
# (exploratory: BA fell out of 0.01 of the best mean in 3 of the 9 rows of
# bench_multiclass_decision.py).
_HALVINGS = 2


def _halves(y, seed):
    """Both ways of one stratified halving of the rows of ``y``.

    Returns ``[(fit, held), (held, fit)]`` (row indices).
    """
    with warnings.catch_warnings():
        # a class with one row goes to one half: the search takes it
        warnings.simplefilter("ignore", UserWarning)
        split = StratifiedKFold(2, shuffle=True, random_state=seed)
        return list(split.split(np.zeros(len(y)), y))


def _subset(folds, weights, parts):
    """Each fold with its validation rows ``parts[i]`` (and the search's logits)."""
    out, out_weights = [], None if weights is None else []
    for i, (z_train, z_valid, y_valid) in enumerate(folds):
        rows = parts[i]
        pooled = z_train is z_valid  # the state is measured on the validation rows
        z_rows = z_valid[rows]
        out.append((z_rows if pooled else z_train, z_rows, y_valid[rows]))
        if weights is not None:
            w_train, w_valid = weights[i]
            w_train = w_valid[rows] if pooled else w_train
            out_weights.append((w_train, w_valid[rows]))
    return out, out_weights


def pool_validation(folds, weights, biases=None):
    """The validation logits (plus each fold's bias), labels and weights, pooled.

    ``weights``: ``(train_weight, valid_weight)`` of each fold, or None
    (then the pooled weights are None).
    """
    z = [zv for _, zv, _ in folds]
    if biases is not None:
        z = [zv + b for zv, b in zip(z, biases, strict=True)]
    y = np.concatenate([yv for _, _, yv in folds])
    w = None if weights is None else np.concatenate([wv for _, wv in weights])
    return np.concatenate(z), y, w


def cross_fitted_gain(folds, weights, *, search, fixed_rule, scoring, scorer, classes):
    """Mean held-out gain of the searched rule over the best fixed rule.

    Parameters
    ----------
    folds : list of (train_logits, valid_logits, valid_y)
        As the search takes them; a fold whose train logits are its
        validation logits (the same array) measures the state there.
    weights : list of (train_weight, valid_weight) or None
        The rows' weights, as the search takes them.
    search : callable
        ``search(folds, weights)``: the target the search chooses, and the
        bias of each fold it reaches that target with (the rule it scored),
        or None to solve them.
    fixed_rule : callable
        ``fixed_rule(z, y, w)``: the bias of the best fixed rule on pooled
        logits ``z``.
    scoring, scorer, classes
        As :func:`~skimb.adjustment._search.score_rule` takes them.

    Returns
    -------
    gain : float
        The searched rule's score minus the fixed rule's on the other half,
        mean over both halves of two halvings.
    """

    def score(z, y, w):
        return score_rule(
            z, y, scoring=scoring, scorer=scorer, classes=classes, sample_weight=w
        )

    gains = []
    for seed in range(_HALVINGS):
        halves = [_halves(y_valid, seed) for _, _, y_valid in folds]
        for h in (0, 1):
            fit, fit_w = _subset(folds, weights, [parts[h][0] for parts in halves])
            held, held_w = _subset(folds, weights, [parts[h][1] for parts in halves])
            target, searched = search(fit, fit_w)
            if searched is None:
                searched = [
                    solve_bias(
                        z_train,
                        target,
                        tol=SEARCH_TOL,
                        sample_weight=None if fit_w is None else fit_w[i][0],
                    )
                    for i, (z_train, _, _) in enumerate(fit)
                ]
            fixed = [fixed_rule(*pool_validation(fit, fit_w))] * len(held)
            gains.append(
                score(*pool_validation(held, held_w, searched))
                - score(*pool_validation(held, held_w, fixed))
            )
    return float(np.mean(gains))
