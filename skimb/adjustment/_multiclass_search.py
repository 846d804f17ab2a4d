"""Multiclass target search: a coordinate search over the simplex."""

import numpy as np
from scipy.special import softmax

from ._solve import MIN_TARGET, solve_bias
from ._target import SEARCH_TOL, clip_to_simplex, middle_of_best

# Candidates of the multiclass search: multipliers 10**(a * h) of one entry.
_MULTICLASS_STEPS = (0.5, 0.1, 0.02)
_MULTICLASS_SWEEPS = 3


def _coordinate_search(folds, scoring, starts, weights):
    """Coordinate search over the simplex in log-space, coarse to fine.

    From the best of ``starts``, each entry of the target in turn is
    multiplied by ``10 ** (a * h)`` for ``a`` in (-2, -1, 0, 1, 2) and the
    target renormalised; the move goes to the middle of the best scores along
    that line (as the binary search does, so that a single validation row of
    a tiny class does not pull the target to the edge of a flat range).
    Sweeps over all classes repeat (at most 3) until the score stops
    improving, for ``h`` = 0.5, 0.1 and 0.02 in turn. ``weights`` holds the
    training rows' weights of each fold (None for equal weights).
    """
    train = [z_train for z_train, _, _ in folds]
    valid = [z_valid for _, z_valid, _ in folds]
    records = []

    def evaluate(target, warm):
        biases = [
            solve_bias(z, target, tol=SEARCH_TOL, bias0=b0, sample_weight=w)
            for z, b0, w in zip(train, warm, weights, strict=True)
        ]
        pooled = np.concatenate([z + b for z, b in zip(valid, biases, strict=True)])
        score = scoring.score(pooled)
        records.append((target, score))
        return score, biases

    best_score, best_target, best_biases = -np.inf, None, None
    for start in starts:
        score, biases = evaluate(start, [None] * len(train))
        if score > best_score:
            best_score, best_target, best_biases = score, start, biases
    for h in _MULTICLASS_STEPS:
        for _ in range(_MULTICLASS_SWEEPS):
            start_score = best_score
            for j in range(best_target.size):
                line = [(best_score, best_target, best_biases)]
                for a in (-2, -1, 1, 2):
                    target = best_target.copy()
                    target[j] *= 10.0 ** (a * h)
                    target /= target.sum()
                    if target.min() < MIN_TARGET:
                        continue
                    shift = np.log(target) - np.log(best_target)
                    score, biases = evaluate(target, [b + shift for b in best_biases])
                    line.append((score, target, biases))
                line.sort(key=lambda item: item[1][j])
                chosen = line[middle_of_best([score for score, _, _ in line])]
                best_score, best_target, best_biases = chosen
            if best_score <= start_score + 1e-12:
                break
    targets = np.array([t for t, _ in records])
    scores = np.array([s for _, s in records])
    return targets, scores, best_target, best_score


def search_multiclass(folds, scoring, *, fixed, prior, weights=None):
    """Choose the target of three or more classes (see ``search_folds``).

    ``weights``: the training rows' weights of each fold, or None.
    """
    folds = [(np.asarray(a, dtype=np.float64), b, y) for a, b, y in folds]
    if weights is None:
        weights = [None] * len(folds)
    if fixed is not None:
        pooled = np.concatenate(
            [
                b + solve_bias(a, fixed, sample_weight=w)
                for (a, b, _), w in zip(folds, weights, strict=True)
            ]
        )
        score = scoring.score(pooled)
        return fixed, score, {"target": fixed[None, :], "score": np.array([score])}
    n_classes = prior.size
    states = np.mean(
        [
            np.average(softmax(a, axis=1), axis=0, weights=w)
            for (a, _, _), w in zip(folds, weights, strict=True)
        ],
        axis=0,
    )
    starts = [
        np.full(n_classes, 1.0 / n_classes),
        clip_to_simplex(prior),
        clip_to_simplex(states),
    ]
    targets, scores, best_target, best_score = _coordinate_search(
        folds, scoring, starts, weights
    )
    return best_target, best_score, {"target": targets, "score": scores}
