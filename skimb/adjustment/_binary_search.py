"""Binary target search: the decimal grid and the exact search over thresholds.

A binary *fold* holds the margins ``z1 - z0`` of its training logits (where
the bias of a candidate target is solved, as :class:`_Margins`) and of its
validation rows (where the candidate is scored). Metrics that are functions
of the confusion counts are scored from sorted margins, without predictions.
"""

import numpy as np
from scipy.special import expit

from ._solve import MIN_TARGET, log_odds_start, solve_margins
from ._target import (
    SEARCH_TOL,
    binary_target,
    class1_probability,
    middle_of_best,
    minority_index,
)

# Above this many rows, binary training margins are compressed into bins of
# width _BIN_WIDTH (each bin at the mean of its margins): the imbalance state
# then moves by less than 1e-7 (the curvature of the sigmoid is at most 0.1),
# and every pass costs the number of bins, not of rows.
_COMPRESS_ABOVE = 65_536
_BIN_WIDTH = 1e-3
# Thresholds of the exact search whose target is kept in search_results_.
_EXACT_RECORDED = 101
# Steps of the 1-D solves of the search (each a pass over the margins).
_SEARCH_MAX_ITER = 200


def _ratio(numerator, denominator):
    """``numerator / denominator``, 0 where the denominator is 0.

    Counts may be sums of sample weights, so no lower bound of 1 is assumed.
    """
    denominator = np.asarray(denominator)
    out = np.zeros(denominator.shape)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def _recall(hit, miss):
    return _ratio(hit, hit + miss)


def _f1(tp, fp, fn):
    return _ratio(2 * tp, 2 * tp + fp + fn)


# Binary metrics as functions of the confusion counts (tp, fn, fp, tn) of
# the class of index 1, vectorised over thresholds; ``minority`` is the index
# of the least frequent validation class (as in ``minority_f1_score``).
# With sample weights the counts are sums of the weights of their rows.
COUNT_METRICS = {
    "gmean": lambda tp, fn, fp, tn, minority: np.sqrt(
        _recall(tp, fn) * _recall(tn, fp)
    ),
    "balanced_accuracy": lambda tp, fn, fp, tn, minority: (
        (_recall(tp, fn) + _recall(tn, fp)) / 2
    ),
    "accuracy": lambda tp, fn, fp, tn, minority: (tp + tn) / (tp + fn + fp + tn),
    "minority_f1": lambda tp, fn, fp, tn, minority: (
        _f1(tp, fp, fn) if minority == 1 else _f1(tn, fn, fp)
    ),
}
EXACT_SCORINGS = tuple(sorted(COUNT_METRICS))


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
    if others.size < _COMPRESS_ABOVE or n < 2:
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


class _Margins:
    """Binary margins ``z1 - z0`` of training logits and their 1-D solve.

    ``weights``: positive sample weights of the rows, or None.
    """

    def __init__(self, logits, weights=None):
        margins = np.asarray(logits[:, 1], dtype=np.float64) - logits[:, 0]
        self.values = margins
        self.weights = None if weights is None else weights / weights.sum()
        if margins.size > _COMPRESS_ABOVE:
            low = margins.min()
            bins = ((margins - low) / _BIN_WIDTH).astype(np.int64)
            if bins.max() < 4 * margins.size:
                counts = np.bincount(bins, weights=weights)
                sums = np.bincount(
                    bins, weights=margins if weights is None else margins * weights
                )
                kept = counts > 0
                self.values = sums[kept] / counts[kept]
                total = margins.size if weights is None else weights.sum()
                self.weights = counts[kept] / total
        s = expit(self.values)
        self.state_at_zero = (
            s.mean() if self.weights is None else (s * self.weights).sum()
        )

    def states(self, betas):
        """Mean probability of class 1 at each of ``betas`` (chunked)."""
        betas = np.asarray(betas, dtype=np.float64)
        out = np.empty(betas.size)
        step = max(1, (1 << 22) // self.values.size)
        for start in range(0, betas.size, step):
            s = expit(self.values[None, :] + betas[start : start + step, None])
            out[start : start + step] = np.average(s, axis=1, weights=self.weights)
        return out

    def solve_many(self, targets, known=None):
        """Class-1 biases that reach each of ``targets`` (:func:`solve_margins`).

        ``known``: ``(targets, betas)`` solved before; new targets start from
        their interpolation in log-odds, which saves most Newton steps.
        """
        targets = np.asarray(targets, dtype=np.float64)
        if known is not None and len(known[0]) >= 2:
            done, betas = np.asarray(known[0]), np.asarray(known[1])
            order = np.argsort(done)
            done_log_odds = np.log(done[order] / (1 - done[order]))
            log_odds = np.log(targets / (1 - targets))
            beta = np.interp(log_odds, done_log_odds, betas[order])
        else:
            beta = log_odds_start(targets, self.state_at_zero)
        beta, _, _ = solve_margins(
            self.values,
            targets,
            beta,
            weights=self.weights,
            tol=SEARCH_TOL,
            max_iter=_SEARCH_MAX_ITER,
        )
        return beta


class _BinaryFolds:
    """Binary folds: margins, sorted validation margins per class, counts.

    ``weights``: ``(train_weight, valid_weight)`` of each fold, positive
    sample weights, or None; with weights every count is a sum of weights.
    """

    def __init__(self, folds, minority, weights=None):
        self.minority = minority
        train_weights = [None] * len(folds) if weights is None else weights
        self.train = [
            _Margins(z_train, None if w is None else w[0])
            for (z_train, _, _), w in zip(folds, train_weights, strict=True)
        ]
        self.valid = [
            np.asarray(z_valid[:, 1], dtype=np.float64) - z_valid[:, 0]
            for _, z_valid, _ in folds
        ]
        self.y = [np.asarray(y) for _, _, y in folds]
        self.valid_weights = None if weights is None else [w for _, w in weights]
        self._sorted_by_class = None
        y_all = np.concatenate(self.y)
        if self.valid_weights is None:
            self.n_pos = int(np.sum(y_all == 1))
            self.n_neg = y_all.size - self.n_pos
        else:
            w_all = np.concatenate(self.valid_weights)
            self.n_pos = float(w_all[y_all == 1].sum())
            self.n_neg = float(w_all[y_all == 0].sum())
        # minority_f1_score's minority: that of the scored (validation) rows.
        self.metric_minority = minority_index([self.n_neg, self.n_pos])

    def counts(self, betas):
        """Pooled (tp, fn, fp, tn) when fold ``f`` has class-1 bias betas[f]."""
        if self.valid_weights is not None:
            return self._weighted_counts(betas)
        if self._sorted_by_class is None:
            self._sorted_by_class = [
                (np.sort(m[y == 1]), np.sort(m[y == 0]))
                for m, y in zip(self.valid, self.y, strict=True)
            ]
        tp = fp = 0
        for (pos, neg), beta in zip(self._sorted_by_class, betas, strict=True):
            # A row is predicted class 1 when its margin + beta > 0.
            tp += pos.size - np.searchsorted(pos, -beta, side="right")
            fp += neg.size - np.searchsorted(neg, -beta, side="right")
        return tp, self.n_pos - tp, fp, self.n_neg - fp

    def _weighted_counts(self, betas):
        """:meth:`counts` as sums of weights (cumulative weights of sorted rows)."""
        if self._sorted_by_class is None:
            self._sorted_by_class = []
            for m, y, w in zip(self.valid, self.y, self.valid_weights, strict=True):
                fold = []
                for label in (1, 0):
                    order = np.argsort(m[y == label], kind="stable")
                    cumulative = np.concatenate(
                        [[0.0], np.cumsum(w[y == label][order])]
                    )
                    fold.append((m[y == label][order], cumulative))
                self._sorted_by_class.append(fold)
        tp = fp = 0.0
        for fold, beta in zip(self._sorted_by_class, betas, strict=True):
            (pos, pos_w), (neg, neg_w) = fold
            tp += pos_w[-1] - pos_w[np.searchsorted(pos, -beta, side="right")]
            fp += neg_w[-1] - neg_w[np.searchsorted(neg, -beta, side="right")]
        return tp, self.n_pos - tp, fp, self.n_neg - fp

    def pooled_logits(self, betas):
        margins = np.concatenate(
            [m + beta for m, beta in zip(self.valid, betas, strict=True)]
        )
        return np.column_stack([np.zeros_like(margins), margins])


def _search_binary_decimal(folds, scoring, candidates_fn):
    """Score targets on the paper's decimal grid (or the given fixed ones)."""
    tried = {}
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
            if scoring.count_metric is not None:
                score = float(
                    scoring.count_metric(*folds.counts(betas), folds.metric_minority)
                )
            else:
                score = scoring.score(folds.pooled_logits(betas))
            tried[p] = (p, score)
        probabilities, scores = zip(*sorted(tried.values()), strict=True)
        return probabilities[middle_of_best(scores)]

    candidates_fn(evaluate)
    probabilities = np.array([p for p, _ in tried.values()])
    scores = np.array([s for _, s in tried.values()])
    return probabilities, scores


def _decimal_candidates(evaluate):
    best = evaluate([a / 10 for a in range(1, 10)])
    for step in (0.01, 0.001):
        best = evaluate([best + a * step for a in range(-9, 10) if a])


def _search_binary_exact(folds, scoring):
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
    if w is None:
        false = np.concatenate([[0], np.cumsum(_slot_counts(cuts, others))[:-1]])
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
    best = int(np.argmax(scores))
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
    p_minority = class1_probability(r1, folds.minority)
    return p_minority, recorded, p_minority[-1], scores[best]


def search_binary(folds, scoring, *, fixed, search, prior, weights=None):
    """Choose the target of a binary problem (see ``search_target``).

    ``weights``: ``(train_weight, valid_weight)`` of each fold, or None.
    """
    minority = minority_index(prior)
    binary = _BinaryFolds(folds, minority, weights)
    if fixed is not None:
        p = [fixed[minority]]
        probabilities, scores = _search_binary_decimal(
            binary, scoring, lambda evaluate: evaluate(p)
        )
        best_p, best_score = probabilities[0], scores[0]
    elif search == "exact":
        probabilities, scores, best_p, best_score = _search_binary_exact(
            binary, scoring
        )
    else:
        probabilities, scores = _search_binary_decimal(
            binary, scoring, _decimal_candidates
        )
    order = np.argsort(probabilities, kind="stable")
    probabilities, scores = probabilities[order], scores[order]
    if fixed is None and search != "exact":
        best = middle_of_best(scores)
        best_p, best_score = probabilities[best], scores[best]
    r1 = class1_probability(probabilities, minority)
    results = {
        "target": np.column_stack([1 - r1, r1]),
        "score": scores,
        "minority_probability": probabilities,
    }
    return binary_target(class1_probability(best_p, minority)), best_score, results
