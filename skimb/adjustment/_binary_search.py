"""Binary target search: the decimal grid and the exact search over thresholds.

Candidates are solved on the folds' training margins and scored on their
validation margins (:class:`~skimb.adjustment._binary_folds.BinaryFolds`);
metrics that are functions of the confusion counts (``COUNT_METRICS``) are
scored from sorted margins, without predictions.
"""

import numpy as np

from ._bagging import AnchorRows, bagged_threshold
from ._binary_folds import COMPRESS_ABOVE, BinaryFolds
from ._count_metrics import COUNT_METRICS, EXACT_SCORINGS
from ._solve import MIN_TARGET
from ._target import (
    binary_results,
    binary_target,
    class1_probability,
    middle_of_best,
    minority_index,
)

# Thresholds of the exact search whose target is kept in search_results_.
_EXACT_RECORDED = 101


def _slot_counts(cuts, others, weights=None):
    """``bincount(searchsorted(cuts, others, "left"), minlength=cuts.size + 1)``.

    With ``weights`` (of ``others``), the sums of the weights in each slot.

    For many unsorted ``others`` a binary search per row is slow (a branch
    misprediction per step). Each row first takes the slot of its bin on a
    uniform grid of 4 bins per cut, read from a table; the slot is checked
    (``cuts[s - 1] < x <= cuts[s]``) and only the rows where it is wrong
    (in a bin that holds a cut, or NaN) are searched.
    """
    n = cuts.size
    if others.size < COMPRESS_ABOVE or n < 2:
        slots = np.searchsorted(cuts, others, side="left")
        return np.bincount(slots, weights=weights, minlength=n + 1)
    low, n_bins = cuts[0], 4 * n
    width = (cuts[-1] - low) / n_bins
    if not (np.isfinite(low) and np.isfinite(width) and width > 0):
        slots = np.searchsorted(cuts, others, side="left")
        return np.bincount(slots, weights=weights, minlength=n + 1)
    table = np.searchsorted(cuts, low + width * np.arange(n_bins + 1), side="left")
    position = np.clip((others - low) / width, 0, n_bins)
    slots = table[np.nan_to_num(position, nan=0.0).astype(np.intp)]
    below = np.concatenate([[-np.inf], cuts])
    above = np.concatenate([cuts, [np.inf]])
    wrong = ~((below[slots] < others) & (others <= above[slots]))
    slots[wrong] = np.searchsorted(cuts, others[wrong], side="left")
    return np.bincount(slots, weights=weights, minlength=n + 1)


def _search_binary_decimal(folds, scoring, candidates_fn):
    """Score targets on the paper's decimal grid (or the given fixed ones).

    Returns the probabilities, scores and constraint values (shape
    ``(n_constraints, n_candidates)``, None without constraints) of the
    candidates, and a dict from each probability to its class-1 bias per fold.
    """
    tried = {}
    fold_betas_of = {}
    constraints = scoring.constraints
    solved = [([], []) for _ in folds.train]  # per fold: targets r1, betas

    def evaluate(probabilities):
        rounded = {round(p, 10) for p in probabilities}
        new = sorted(
            p for p in rounded if p not in tried and MIN_TARGET <= p <= 1 - MIN_TARGET
        )
        r1 = class1_probability(np.array(new), folds.minority)
        fold_betas = []
        for margins, (done, betas) in zip(folds.train, solved, strict=True):
            fold_betas.append(margins.solve_many(r1, known=(done, betas)))
            done.extend(r1)
            betas.extend(fold_betas[-1])
        for i, p in enumerate(new):
            betas = [float(b[i]) for b in fold_betas]
            fold_betas_of[p] = betas
            counted = scoring.count_metric is not None or constraints is not None
            counts = folds.counts(betas) if counted else None
            if scoring.count_metric is not None:
                score = float(scoring.count_metric(*counts, folds.metric_minority))
            else:
                score = scoring.score(folds.pooled_logits(betas))
            values = None if constraints is None else constraints.binary_values(*counts)
            tried[p] = (p, score, values)
        ordered = sorted(tried.values(), key=lambda item: item[0])
        shortfall = (
            None
            if constraints is None
            else [constraints.shortfall(v) for _, _, v in ordered]
        )
        best = middle_of_best([s for _, s, _ in ordered], shortfall)
        return ordered[best][0]

    candidates_fn(evaluate)
    probabilities = np.array([p for p, _, _ in tried.values()])
    scores = np.array([s for _, s, _ in tried.values()])
    values = None
    if constraints is not None:
        values = np.column_stack([v for _, _, v in tried.values()])
    return probabilities, scores, values, fold_betas_of


def _decimal_candidates(evaluate):
    best = evaluate([a / 10 for a in range(1, 10)])
    for step in (0.01, 0.001):
        best = evaluate([best + a * step for a in range(-9, 10) if a])


def _search_binary_exact(folds, scoring, n_bootstrap=0, rng=None):
    """Best of every decision threshold of the pooled validation rows.

    Row ``i`` of fold ``f`` turns to class 1 when the target of class 1
    exceeds its *critical target* ``c_i = P_f(-m_i)`` (the training state at
    the bias that puts its margin at zero), so the pooled decisions are the
    thresholds on ``c``. With one fold ``c`` decreases with the margin and the
    key ``-m`` is used instead (``c`` is then computed only where needed).

    Every supported metric gets no worse when, at a fixed number of correct
    predictions of its *anchor* class (class 1, or class 0 for the F1 of a
    class-0 minority), fewer rows of the other class are predicted as the
    anchor. The best threshold therefore sits at an anchor row: one sort of
    the anchor rows' keys, a binary search of the other rows among them and
    a cumulative count give the score at every such threshold.

    With ``n_bootstrap`` (and a numpy Generator ``rng``) the chosen threshold
    is the mean of the best one over that many stratified bootstrap
    resamples of the pooled rows (:func:`bagged_threshold`).
    """
    if scoring.count_metric is None:
        raise ValueError(
            f"search='exact' scores every threshold from confusion counts and "
            f"supports scoring in {list(EXACT_SCORINGS)}; use search='decimal' "
            f"for other scorers."
        )
    y = np.concatenate(folds.y)
    w = None if folds.valid_weights is None else np.concatenate(folds.valid_weights)
    if len(folds.train) == 1:
        keys = -folds.valid[0]
        train = folds.train[0]

        def critical(values):
            return train.states(values)

    else:
        keys = np.concatenate(
            [
                train.states(-margins)
                for train, margins in zip(folds.train, folds.valid, strict=True)
            ]
        )

        def critical(values):
            return values

    # Rows whose anchor key is at most v are predicted as the anchor class.
    anchor = (
        0
        if scoring.count_metric is COUNT_METRICS["minority_f1"]
        and (folds.metric_minority == 0)
        else 1
    )
    anchor_keys = keys if anchor == 1 else -keys
    if w is None:
        cuts = np.sort(anchor_keys[y == anchor])
    else:
        order = np.argsort(anchor_keys[y == anchor], kind="stable")
        cuts = anchor_keys[y == anchor][order]
    others = anchor_keys[y != anchor]
    hits = np.arange(cuts.size + 1)
    hits[1:] = np.searchsorted(cuts, cuts, side="right")
    slots = None
    if w is None:
        slots = _slot_counts(cuts, others)
        false = np.concatenate([[0], np.cumsum(slots)[:-1]])
    else:  # the counts are sums of the weights of their rows
        hits = np.concatenate([[0.0], np.cumsum(w[y == anchor][order])])[hits]
        slots = _slot_counts(cuts, others, w[y != anchor])
        false = np.concatenate([[0.0], np.cumsum(slots)[:-1]])
    if anchor == 1:
        tp, fp = hits, false
    else:
        tp, fp = folds.n_pos - false, folds.n_neg - hits
    scores = scoring.count_metric(
        tp, folds.n_pos - tp, fp, folds.n_neg - fp, folds.metric_minority
    ).astype(np.float64)
    # Floors on recall, precision and specificity of either class also get
    # no worse with fewer rows of the other class predicted as the anchor:
    # the best threshold that meets them is also at an anchor row.
    met = None  # the constraint values at each threshold
    if scoring.constraints is None:
        best = int(np.argmax(scores))
    else:
        met = scoring.constraints.binary_values(
            tp, folds.n_pos - tp, fp, folds.n_neg - fp
        )
        feasible = np.flatnonzero(scoring.constraints.shortfall(met) == 0)
        if feasible.size == 0:
            raise scoring.constraints.error(met)
        best = int(feasible[np.argmax(scores[feasible])])
    # Anchor cut values: -inf (no row predicted as the anchor), then the keys.
    values = np.concatenate([[-np.inf], cuts])
    low = values[best]
    above = np.concatenate([cuts[cuts > low][:1], others[others > low]])
    high = above.min() if above.size else np.inf
    if anchor == 0:  # back to keys: class 1 is below the cut
        low, high = -high, -low

    def target_at(value):
        if value == -np.inf:
            return 0.0
        if value == np.inf:
            return 1.0
        return float(critical(np.array([value]))[0])

    best_r1 = np.clip(
        (target_at(low) + target_at(high)) / 2, MIN_TARGET, 1 - MIN_TARGET
    )
    bagged = None
    if n_bootstrap:
        rows = AnchorRows(
            anchor_keys, y, w, anchor, log_odds=len(folds.train) > 1, slots=slots
        )

        def score_fn(tp, fn, fp, tn):
            return scoring.count_metric(tp, fn, fp, tn, folds.metric_minority).astype(
                np.float64
            )

        key, bagged_score, bagged_met = bagged_threshold(
            rows, score_fn, scoring.constraints, n_bootstrap, rng
        )
        bagged = np.clip(target_at(key), MIN_TARGET, 1 - MIN_TARGET)
    # Recorded thresholds: evenly spaced anchor cuts, at the target where
    # their last row changes class.
    kept = np.unique(
        np.linspace(0, cuts.size, min(cuts.size + 1, _EXACT_RECORDED)).astype(int)
    )
    kept = kept[kept != best]
    kept_values = values[kept] if anchor == 1 else -values[kept]
    finite = np.isfinite(kept_values)
    r1 = np.where(kept_values > 0, 1.0, 0.0)
    r1[finite] = critical(kept_values[finite])
    r1 = np.clip(np.concatenate([r1, [best_r1]]), MIN_TARGET, 1 - MIN_TARGET)
    recorded = np.concatenate([scores[kept], [scores[best]]])
    if met is not None:
        met = np.concatenate([met[:, kept], met[:, [best]]], axis=1)
    best_score = scores[best]
    if bagged is not None:  # recorded too, and chosen
        r1 = np.concatenate([r1, [bagged]])
        recorded = np.concatenate([recorded, [bagged_score]])
        if met is not None:
            met = np.concatenate([met, bagged_met[:, None]], axis=1)
        best_score = bagged_score
    p_minority = class1_probability(r1, folds.minority)
    return p_minority, recorded, p_minority[-1], best_score, met


def search_binary(
    folds, scoring, *, fixed, search, prior, weights=None, n_bootstrap=0, rng=None
):
    """Choose the target of a binary problem (see ``search_target``).

    ``weights``: ``(train_weight, valid_weight)`` of each fold, or None.
    ``n_bootstrap``: bag the exact search's threshold over that many
    bootstrap resamples (whatever ``search``), drawn by the Generator ``rng``.
    Returns the target, its score, the results and the bias (gauge
    ``sum == 0``) of the target on each fold's training logits as the search
    solved it, or None where it was not solved (the exact search).
    """
    minority = minority_index(prior)
    binary = BinaryFolds(folds, minority, weights)
    constraints = scoring.constraints
    if fixed is not None:
        p = [fixed[minority]]
        probabilities, scores, values, betas = _search_binary_decimal(
            binary, scoring, lambda evaluate: evaluate(p)
        )
        best_p, best_score = probabilities[0], scores[0]
    elif search == "exact" or n_bootstrap:
        probabilities, scores, best_p, best_score, values = _search_binary_exact(
            binary, scoring, n_bootstrap, rng
        )
        betas = {}
    else:
        probabilities, scores, values, betas = _search_binary_decimal(
            binary, scoring, _decimal_candidates
        )
    order = np.argsort(probabilities, kind="stable")
    probabilities, scores = probabilities[order], scores[order]
    shortfall = None
    if constraints is not None:
        values = values[:, order]
        shortfall = constraints.shortfall(values)
        if not np.any(shortfall == 0):
            raise constraints.error(values)
    if fixed is None and search != "exact" and not n_bootstrap:
        best = middle_of_best(scores, shortfall)
        best_p, best_score = probabilities[best], scores[best]
    results = binary_results(probabilities, scores, minority, shortfall)
    fold_betas = betas.get(best_p)
    fold_bias = (
        None
        if fold_betas is None
        else [np.array([-beta / 2, beta / 2]) for beta in fold_betas]
    )
    target = binary_target(class1_probability(best_p, minority))
    return target, best_score, results, fold_bias
