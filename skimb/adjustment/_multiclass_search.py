"""Multiclass target search: a coordinate search over the simplex.

On several folds (``state_on="train"``) a candidate is a target, whose bias
is solved on each fold's training logits. On one fold (the pooled validation
logits of ``state_on="validation"``, a frozen estimator, ``search_target``)
targets and biases are one-to-one, so the search moves the bias itself: a
candidate costs an argmax and a confusion count instead of a Newton solve,
and its target is the state its bias reaches.
"""

import numpy as np
from scipy.special import softmax

from ._constraints import rank_key
from ._solve import MIN_TARGET, solve_bias
from ._target import SEARCH_TOL, clip_to_simplex, middle_of_best

# Candidates of the multiclass search: multipliers 10**(a * h) of one entry.
_MULTICLASS_STEPS = (0.5, 0.1, 0.02)
_MULTICLASS_SWEEPS = 3
_MOVES = np.array([-2.0, -1.0, 1.0, 2.0])  # the a of the multipliers


def _record(scoring, constraints, records, target, pooled):
    """Score ``pooled`` logits (and the constraints' values), record, return.

    Returns ``(score, shortfall)``, ``shortfall`` None without constraints.
    """
    score = scoring.score(pooled)
    values = shortfall = None
    if constraints is not None:
        values = scoring.constraint_values(pooled)
        shortfall = float(constraints.shortfall(values))
    records.append((target, score, values))
    return score, shortfall


def _record_line(scoring, constraints, records, targets, logits, j, shifts):
    """:func:`_record` for each of ``shifts`` added to column ``j`` of ``logits``.

    The scores come in one pass (:meth:`_Scoring.score_line`); the
    constraints' values, where there are constraints, one candidate at a time.
    """
    results = []
    for target, shift, score in zip(
        targets, shifts, scoring.score_line(logits, j, shifts), strict=True
    ):
        values = shortfall = None
        if constraints is not None:
            moved = logits.copy()
            moved[:, j] += shift
            values = scoring.constraint_values(moved)
            shortfall = float(constraints.shortfall(values))
        records.append((target, score, values))
        results.append((score, shortfall))
    return results


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

    With constraints (``scoring.constraints``) a candidate that meets every
    floor beats one that does not, and among those that do not the one of
    the smallest total shortfall is best: the search first moves toward the
    floors, then maximises the score among the rules that meet them.
    """
    train = [z_train for z_train, _, _ in folds]
    valid = [z_valid for _, z_valid, _ in folds]
    constraints = scoring.constraints
    records = []

    def evaluate(target, warm):
        biases = [
            solve_bias(z, target, tol=SEARCH_TOL, bias0=b0, sample_weight=w)
            for z, b0, w in zip(train, warm, weights, strict=True)
        ]
        pooled = np.concatenate([z + b for z, b in zip(valid, biases, strict=True)])
        return _record(scoring, constraints, records, target, pooled), biases

    def key(result):
        return rank_key(*result)

    best, best_target, best_biases = None, None, None
    for start in starts:
        result, biases = evaluate(start, [None] * len(train))
        if best is None or key(result) > key(best):
            best, best_target, best_biases = result, start, biases
    for h in _MULTICLASS_STEPS:
        for _ in range(_MULTICLASS_SWEEPS):
            start_key = key(best)
            for j in range(best_target.size):
                line = [(best, best_target, best_biases)]
                for a in (-2, -1, 1, 2):
                    target = best_target.copy()
                    target[j] *= 10.0 ** (a * h)
                    target /= target.sum()
                    if target.min() < MIN_TARGET:
                        continue
                    shift = np.log(target) - np.log(best_target)
                    result, biases = evaluate(target, [b + shift for b in best_biases])
                    line.append((result, target, biases))
                line.sort(key=lambda item: item[1][j])
                chosen = line[
                    middle_of_best(
                        [r[0] for r, _, _ in line],
                        None if constraints is None else [r[1] for r, _, _ in line],
                    )
                ]
                best, best_target, best_biases = chosen
            end_key = key(best)
            if end_key[0] == start_key[0] and end_key[1] <= start_key[1] + 1e-12:
                break
    return _finish(records, best, best_target, constraints)


def _bias_coordinate_search(fold, scoring, starts, weight, state):
    """The coordinate search of one fold, moving the bias.

    The moves of :func:`_coordinate_search` in the bias: from the best of
    ``starts`` (targets, whose biases are solved from the warm start
    ``ln(start) - ln(state at bias 0)``), entry ``j`` of the bias is
    moved by ``a * h * ln(10)`` for ``a`` in (-2, -1, 1, 2), which multiplies
    the odds of class ``j`` in every row by ``10 ** (a * h)`` (the weight of
    class ``j`` in ``argmax(w * p)``). Its target is the state it reaches on
    the training logits, ``P_j = mean(e p_j / (1 + (e - 1) p_j))`` and
    ``P_k = mean(p_k / (1 + (e - 1) p_j))`` with ``e = 10 ** (a * h)``, from
    the probabilities ``p`` at the line's bias (one softmax pass per search
    after the starts: ``p`` moves with the bias by the same formulas). The
    four candidates of a line are scored in one pass
    (:meth:`ConfusionScore.line`). Candidates whose target has an entry
    below ``MIN_TARGET`` are skipped.
    The same steps, sweeps, middle of the best and constraint ranking.
    ``state``: the state at bias 0 (the mean softmax of the training logits).
    Returns what :func:`_coordinate_search` returns, and the chosen bias.
    """
    z_train, z_valid, _ = fold
    constraints = scoring.constraints
    total = z_train.shape[0] if weight is None else float(weight.sum())
    records = []

    def evaluate(target, bias):
        return _record(scoring, constraints, records, target, z_valid + bias)

    def key(result):
        return rank_key(*result)

    log_state = np.log(state)  # the solver's warm start: ln(target) - ln(state)
    best = None
    for start in starts:
        bias = solve_bias(
            z_train,
            start,
            tol=SEARCH_TOL,
            bias0=np.log(start) - log_state,
            sample_weight=weight,
        )
        result = evaluate(start, bias)
        if best is None or key(result) > key(best[0]):
            best = (result, start, bias)
    result, target, bias = best
    p = softmax(z_train + bias, axis=1)  # kept up to date with the moves
    logits = z_valid + bias
    for h in _MULTICLASS_STEPS:
        factors = 10.0 ** (_MOVES * h)
        steps = _MOVES * h * np.log(10.0)
        for _ in range(_MULTICLASS_SWEEPS):
            start_key = key(result)
            for j in range(z_train.shape[1]):
                scale = 1.0 / (1.0 + (factors[:, None] - 1.0) * p[:, j])
                weighted = scale if weight is None else scale * weight
                targets = (weighted @ p) / total
                targets[:, j] *= factors
                targets /= targets.sum(axis=1, keepdims=True)  # rounding only
                kept = np.flatnonzero(targets.min(axis=1) >= MIN_TARGET)
                shifts = steps[kept]
                results = _record_line(
                    scoring, constraints, records, targets[kept], logits, j, shifts
                )
                # in the order of entry j of the target: the moves down, the
                # current rule, the moves up
                down = int(np.searchsorted(_MOVES[kept], 0.0))
                line = results[:down] + [result] + results[down:]
                chosen = middle_of_best(
                    [score for score, _ in line],
                    None if constraints is None else [short for _, short in line],
                )
                if chosen == down:
                    continue
                move = kept[chosen if chosen < down else chosen - 1]
                result, target = line[chosen], targets[move]
                bias = bias.copy()  # moved in entry j, and recentred (sum 0)
                bias[j] += steps[move]
                bias -= steps[move] / bias.size
                logits = z_valid + bias  # a new array: new best two classes
                p = p * scale[move][:, None]  # the probabilities at the new bias
                p[:, j] *= factors[move]
            end_key = key(result)
            if end_key[0] == start_key[0] and end_key[1] <= start_key[1] + 1e-12:
                break
    return _finish(records, result, target, constraints) + (bias,)


def _finish(records, best, best_target, constraints):
    """Candidates' targets and scores, and the best; raise if none is feasible."""
    targets = np.array([t for t, _, _ in records])
    scores = np.array([s for _, s, _ in records])
    values = None
    if constraints is not None:
        values = np.column_stack([v for _, _, v in records])
        if best[1] != 0:
            raise constraints.error(values)
    return targets, scores, best_target, best[0], values


def search_multiclass(folds, scoring, *, fixed, prior, weights=None):
    """Choose the target of three or more classes (see ``search_folds``).

    ``weights``: the training rows' weights of each fold, or None. Returns
    the target, its score, the results and, for a searched single fold, the
    bias of the target in a list (None otherwise).
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
        results = {"target": fixed[None, :], "score": np.array([score])}
        return fixed, score, results, None
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
    bias = None
    if len(folds) == 1:
        found = _bias_coordinate_search(folds[0], scoring, starts, weights[0], states)
        targets, scores, best_target, best_score, values, bias = found
    else:
        found = _coordinate_search(folds, scoring, starts, weights)
        targets, scores, best_target, best_score, values = found
    results = {"target": targets, "score": scores}
    if values is not None:
        results["feasible"] = scoring.constraints.shortfall(values) == 0
    return best_target, best_score, results, None if bias is None else [bias]
