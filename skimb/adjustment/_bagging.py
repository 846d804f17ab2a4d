"""Bagged binary threshold: the mean of the best threshold over bootstraps.

The best threshold of the pooled validation rows is the argmax of a score
curve that a few minority rows make noisy: on 12 held-out imbalanced sets it
predicted more minority rows on validation than the refitted model did on new
rows (``benchmarks/results/bias_transfer.md``). Bagging averages that argmax
over stratified bootstrap resamples of the pooled validation rows, which
lowers its variance (``benchmarks/results/bias_rules.md``).

The exact search's thresholds are cuts between *anchor keys*
(:func:`~skimb.adjustment._binary_search._search_binary_exact`): a resample
changes only how many rows each key stands for, so that the scores of every
threshold of a resample cost one pass over the anchor rows. Without weights
the other class's rows are resampled per slot between anchor keys (a
multinomial over the slots), so a resample costs ``O(n_anchor)``.
"""

import numpy as np
from scipy.special import expit, logit

from ._count_metrics import COUNT_METRICS

# Resamples of n_bootstrap="auto" where bagging applies.
AUTO_RESAMPLES = 100
# Keys of the multi-fold search are critical targets in [0, 1]; they are
# averaged in log-odds, clipped to this distance from 0 and 1.
_KEY_CLIP = 1e-12


class AnchorRows:
    """Pooled validation rows as anchor keys, for scoring every threshold.

    Threshold ``k`` (0 to ``n_anchor``) predicts the anchor class for the
    rows whose anchor key is at most ``values[k]`` (``values[0] = -inf``).
    ``log_odds``: the keys are critical targets (averaged in log-odds);
    ``slots``: without weights, the number of other-class rows between
    consecutive cuts (``_slot_counts``), when already computed.
    """

    def __init__(self, anchor_keys, y, w, anchor, log_odds, slots=None):
        self.anchor, self.log_odds = anchor, log_odds
        is_anchor = y == anchor
        order = np.argsort(anchor_keys[is_anchor], kind="stable")
        self.cuts = anchor_keys[is_anchor][order]
        self.others = anchor_keys[~is_anchor]
        self.anchor_w = None if w is None else w[is_anchor][order]
        self.other_w = None if w is None else w[~is_anchor]
        n = self.cuts.size
        # rows of anchor keys <= values[k], for each k
        self.hits = np.concatenate(
            [[0], np.searchsorted(self.cuts, self.cuts, "right")]
        )
        self.values = np.concatenate([[-np.inf], self.cuts])
        if w is None and slots is not None:
            self.slots = np.asarray(slots, dtype=np.float64)
        else:
            self.other_slot = np.searchsorted(self.cuts, self.others, side="left")
            self.slots = np.bincount(
                self.other_slot, weights=self.other_w, minlength=n + 1
            )
        order = np.argsort(self.others, kind="stable")
        self._sorted_others = self.others[order]
        other_w = np.ones(self.others.size) if w is None else self.other_w[order]
        self._other_cumulative = np.concatenate([[0.0], np.cumsum(other_w)])
        anchor_w = np.ones(n) if w is None else self.anchor_w
        self._anchor_cumulative = np.concatenate([[0.0], np.cumsum(anchor_w)])
        # each threshold's position: midway (in the averaging coordinate)
        # between its cut and the next key above it, one unit beyond the ends
        every = np.sort(np.concatenate([self.cuts, self.others]))
        u = self.coordinate(every)
        above = np.searchsorted(every, self.values, side="right")
        low = np.concatenate([[u[0] - 2.0], self.coordinate(self.cuts)])
        high = np.where(
            above < every.size, u[np.minimum(above, every.size - 1)], np.inf
        )
        self.middles = np.where(np.isfinite(high), (low + high) / 2, low + 1.0)

    def coordinate(self, anchor_keys):
        """The averaging coordinate of anchor keys (increasing with them)."""
        if not self.log_odds:
            return np.asarray(anchor_keys, dtype=np.float64)
        sign = 1.0 if self.anchor == 1 else -1.0
        keys = np.clip(sign * np.asarray(anchor_keys), _KEY_CLIP, 1 - _KEY_CLIP)
        return sign * logit(keys)

    def key_at(self, u):
        """The key (not the anchor key) of averaging coordinate ``u``."""
        sign = 1.0 if self.anchor == 1 else -1.0
        anchor_key = sign * expit(sign * u) if self.log_odds else u
        return float(sign * anchor_key)

    def counts(self, anchor_w, slot_w):
        """(tp, fn, fp, tn) of class 1 at every threshold."""
        hits = np.concatenate([[0.0], np.cumsum(anchor_w)])[self.hits]
        false = np.concatenate([[0.0], np.cumsum(slot_w)[:-1]])
        n_anchor, n_other = hits[-1], float(np.sum(slot_w))
        if self.anchor == 1:
            tp, fp, n_pos, n_neg = hits, false, n_anchor, n_other
        else:
            tp, fp, n_pos, n_neg = n_other - false, n_anchor - hits, n_other, n_anchor
        return tp, n_pos - tp, fp, n_neg - fp

    def pooled_counts(self):
        """(tp, fn, fp, tn) of the pooled rows at every threshold."""
        anchor_w = np.ones(self.cuts.size) if self.anchor_w is None else self.anchor_w
        return self.counts(anchor_w, self.slots)

    def counts_at(self, u):
        """(tp, fn, fp, tn) of the pooled rows at averaging coordinate ``u``."""
        sign = 1.0 if self.anchor == 1 else -1.0
        anchor_key = sign * self.key_at(u)
        hits = self._anchor_cumulative[
            np.searchsorted(self.cuts, anchor_key, side="right")
        ]
        false = self._other_cumulative[
            np.searchsorted(self._sorted_others, anchor_key, side="right")
        ]
        n_anchor, n_other = self._anchor_cumulative[-1], self._other_cumulative[-1]
        if self.anchor == 1:
            tp, fp, n_pos, n_neg = hits, false, n_anchor, n_other
        else:
            tp, fp, n_pos, n_neg = n_other - false, n_anchor - hits, n_other, n_anchor
        return tuple(np.array([v]) for v in (tp, n_pos - tp, fp, n_neg - fp))

    def resample(self, rng):
        """The counts of one stratified bootstrap resample of the rows."""
        n_a, n_o = self.cuts.size, self.others.size
        drawn = np.bincount(rng.integers(0, n_a, n_a), minlength=n_a).astype(float)
        if self.anchor_w is not None:
            drawn *= self.anchor_w
        if self.other_w is None:
            slot_w = rng.multinomial(n_o, self.slots / max(n_o, 1)).astype(float)
        else:
            other = np.bincount(rng.integers(0, n_o, n_o), minlength=n_o)
            slot_w = np.bincount(
                self.other_slot, weights=other * self.other_w, minlength=n_a + 1
            )
        return self.counts(drawn, slot_w)


def _best(scores, feasible):
    """Middle of the best feasible thresholds, or None when none is feasible."""
    if not feasible.any():
        return None
    best = np.where(feasible, scores, -np.inf).max()
    tied = np.flatnonzero(feasible & (scores >= best - 1e-12))
    return int(tied[tied.size // 2])


def bagged_threshold(rows, score_fn, constraints, n_bootstrap, rng):
    """Mean over resamples of the best threshold; its key, score and values.

    ``score_fn(tp, fn, fp, tn)`` scores counts; ``constraints`` (or None)
    restricts each resample's best to its feasible thresholds. The mean
    threshold is scored on the pooled rows; with constraints, a mean that
    misses the floors there moves to the nearest threshold that meets them.
    Returns the key, the pooled score and the constraint values (or None).
    """
    middles = []
    for _ in range(n_bootstrap):
        counts = rows.resample(rng)
        scores = score_fn(*counts)
        feasible = np.ones(scores.shape, dtype=bool)
        if constraints is not None:
            met = constraints.binary_values(*counts)
            feasible = constraints.shortfall(met) == 0
        best = _best(scores, feasible)
        if best is not None:
            middles.append(rows.middles[best])
    pooled = rows.pooled_counts()
    pooled_scores = score_fn(*pooled)
    feasible = np.ones(pooled_scores.shape, dtype=bool)
    if constraints is not None:
        feasible = constraints.shortfall(constraints.binary_values(*pooled)) == 0
    if not middles:  # no resample met the floors: the pooled best
        u = float(rows.middles[_best(pooled_scores, feasible)])
    else:
        u = float(np.mean(middles))
    counts = rows.counts_at(u)
    met = None if constraints is None else constraints.binary_values(*counts)
    if met is not None and constraints.shortfall(met)[0] > 0:
        # the nearest threshold that meets the floors on the pooled rows
        choices = np.flatnonzero(feasible)
        u = float(rows.middles[choices[np.argmin(np.abs(rows.middles[choices] - u))]])
        counts = rows.counts_at(u)
        met = constraints.binary_values(*counts)
    score = float(score_fn(*counts)[0])
    return rows.key_at(u), score, None if met is None else met[:, 0]


def resolve_bootstrap(n_bootstrap, n_classes, searched, per_epoch, scoring):
    """The resamples of ``BiasAdjustedClassifier(n_bootstrap=...)``, checked."""
    reasons = []
    if n_classes != 2:
        reasons.append(f"y has {n_classes} classes, not 2")
    if not searched:
        reasons.append("the target is fixed, not searched")
    if per_epoch:
        reasons.append("per_epoch=True searches in the callback")
    if not (isinstance(scoring, str) and scoring in COUNT_METRICS):
        reasons.append(
            f"scoring={scoring!r} is not a confusion-count scoring "
            f"({list(COUNT_METRICS)})"
        )
    if n_bootstrap == "auto":
        return 0 if reasons else AUTO_RESAMPLES
    if n_bootstrap and reasons:
        raise ValueError(
            f"n_bootstrap={n_bootstrap} bags the exact search of a binary "
            f"threshold, but {'; '.join(reasons)}. Use n_bootstrap=0."
        )
    return int(n_bootstrap)
