"""Search of the target imbalance state that is best for a metric.

Shared by :class:`~skimb.adjustment.BiasAdjustedClassifier` and the
:class:`~skimb.adjustment.BiasAdjustment` callback. A *fold* is a triple
``(train_logits, valid_logits, valid_y)``: the bias of a candidate target is
solved on the training logits (where the paper measures the imbalance state)
and the candidate is scored on the validation logits. Scores are pooled over
folds: the adjusted validation predictions of every fold are scored together,
so that a small minority does not make the search noisy. To measure the state
on held-out logits instead (``state_on="validation"``), pass one fold
``(pooled_valid_logits, pooled_valid_logits, pooled_valid_y)``.
"""

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin

from ._solve import MIN_TARGET, check_target, solve_bias

# Above this many rows, binary training margins are compressed into bins of
# width _BIN_WIDTH (each bin at the mean of its margins): the imbalance state
# then moves by less than 1e-7 (the curvature of the sigmoid is at most 0.1),
# and every pass costs the number of bins, not of rows.
_COMPRESS_ABOVE = 65_536
_BIN_WIDTH = 1e-3
# Target tolerance of the solves inside the search.
_SEARCH_TOL = 1e-8
# Candidates of the multiclass search: multipliers 10**(a * h) of one entry.
_MULTICLASS_STEPS = (0.5, 0.1, 0.02)
_MULTICLASS_SWEEPS = 3
# Thresholds of the exact search whose target is kept in search_results_.
_EXACT_RECORDED = 101


def _recall(hit, miss):
    return hit / np.maximum(hit + miss, 1)


def _f1(tp, fp, fn):
    return 2 * tp / np.maximum(2 * tp + fp + fn, 1)


# Binary metrics as functions of the confusion counts (tp, fn, fp, tn) of
# the class of index 1, vectorised over thresholds; ``minority`` is the index
# of the least frequent validation class (as in ``minority_f1_score``).
_COUNT_METRICS = {
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
EXACT_SCORINGS = tuple(sorted(_COUNT_METRICS))


def _slot_counts(cuts, others):
    """``bincount(searchsorted(cuts, others, "left"), minlength=cuts.size + 1)``.

    For many unsorted ``others`` a binary search per row is slow (a branch
    misprediction per step). Each row first takes the slot of its bin on a
    uniform grid of 4 bins per cut, read from a table; the slot is checked
    (``cuts[s - 1] < x <= cuts[s]``) and only the rows where it is wrong
    (in a bin that holds a cut, or NaN) are searched.
    """
    n = cuts.size
    if others.size < _COMPRESS_ABOVE or n < 2:
        return np.bincount(np.searchsorted(cuts, others, side="left"), minlength=n + 1)
    low, n_bins = cuts[0], 4 * n
    width = (cuts[-1] - low) / n_bins
    if not (np.isfinite(low) and np.isfinite(width) and width > 0):
        return np.bincount(np.searchsorted(cuts, others, side="left"), minlength=n + 1)
    table = np.searchsorted(cuts, low + width * np.arange(n_bins + 1), side="left")
    position = np.clip((others - low) / width, 0, n_bins)
    slots = table[np.nan_to_num(position, nan=0.0).astype(np.intp)]
    below = np.concatenate([[-np.inf], cuts])
    above = np.concatenate([cuts, [np.inf]])
    wrong = ~((below[slots] < others) & (others <= above[slots]))
    slots[wrong] = np.searchsorted(cuts, others[wrong], side="left")
    return np.bincount(slots, minlength=n + 1)


class _LogitsClassifier(ClassifierMixin, BaseEstimator):
    """A classifier whose input *is* its logits: scores precomputed outputs."""

    def __init__(self, classes):
        self.classes = classes
        self.classes_ = classes

    def predict(self, logits):
        return self.classes_[np.argmax(logits, axis=1)]

    def predict_proba(self, logits):
        return softmax(logits, axis=1)

    def decision_function(self, logits):
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits


class _Margins:
    """Binary margins ``z1 - z0`` of training logits and their 1-D solve."""

    def __init__(self, logits):
        margins = np.asarray(logits[:, 1], dtype=np.float64) - logits[:, 0]
        self.values, self.weights = margins, None
        if margins.size > _COMPRESS_ABOVE:
            low = margins.min()
            bins = ((margins - low) / _BIN_WIDTH).astype(np.int64)
            if bins.max() < 4 * margins.size:
                counts = np.bincount(bins)
                sums = np.bincount(bins, weights=margins)
                kept = counts > 0
                self.values = sums[kept] / counts[kept]
                self.weights = counts[kept] / margins.size
        self.state_at_zero = self.state(0.0)[0]

    def state(self, beta):
        """Mean probability of class 1 at bias ``beta`` and its derivative."""
        s = expit(self.values + beta)
        slope = s * (1 - s)
        if self.weights is None:
            return s.mean(), slope.mean()
        return (s * self.weights).sum(), (slope * self.weights).sum()

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
        """:meth:`solve` for many targets at once (vectorised Newton steps).

        ``known``: ``(targets, betas)`` solved before; new targets start from
        their interpolation in log-odds, which saves most Newton steps.
        """
        targets = np.asarray(targets, dtype=np.float64)
        log_odds = np.log(targets / (1 - targets))
        if known is not None and len(known[0]) >= 2:
            done, betas = np.asarray(known[0]), np.asarray(known[1])
            order = np.argsort(done)
            done_log_odds = np.log(done[order] / (1 - done[order]))
            beta = np.interp(log_odds, done_log_odds, betas[order])
        else:
            p0 = np.clip(self.state_at_zero, 1e-12, 1 - 1e-12)
            beta = log_odds - np.log(p0 / (1 - p0))
        low = np.full_like(beta, -np.inf)
        high = np.full_like(beta, np.inf)
        for _ in range(200):
            s = expit(self.values[None, :] + beta[:, None])
            state = np.average(s, axis=1, weights=self.weights)
            slope = np.average(s * (1 - s), axis=1, weights=self.weights)
            gap = state - targets
            open_ = np.abs(gap) > _SEARCH_TOL
            if not open_.any():
                break
            high = np.where(open_ & (gap > 0), beta, high)
            low = np.where(open_ & (gap <= 0), beta, low)
            bracketed = np.isfinite(low) & np.isfinite(high)
            # np.where evaluates both branches: silence the unused inf/nan ones.
            with np.errstate(divide="ignore", invalid="ignore"):
                new = np.where(slope > 0, beta - gap / slope, np.nan)
                step = np.where(gap > 0, beta - 8.0, beta + 8.0)
                fallback = np.where(bracketed, (low + high) / 2, step)
            new = np.where((low < new) & (new < high), new, fallback)
            beta = np.where(open_, new, beta)
        return beta

    def solve(self, target, beta=None):
        """The bias ``beta`` of class 1 (class 0 at 0) with state ``target``."""
        if beta is None:
            p0 = np.clip(self.state_at_zero, 1e-12, 1 - 1e-12)
            beta = np.log(target / (1 - target)) - np.log(p0 / (1 - p0))
        low, high = -np.inf, np.inf
        for _ in range(200):
            state, slope = self.state(beta)
            gap = state - target
            if abs(gap) <= _SEARCH_TOL:
                break
            if gap > 0:
                high = beta
            else:
                low = beta
            new = beta - gap / slope if slope > 0 else np.nan
            if not low < new < high:
                if np.isfinite(low) and np.isfinite(high):
                    new = (low + high) / 2
                else:
                    new = beta - 8.0 if gap > 0 else beta + 8.0
            beta = new
        return float(beta)


class _BinaryFolds:
    """Binary folds: margins, sorted validation margins per class, counts."""

    def __init__(self, folds, minority):
        self.minority = minority
        self.train = [_Margins(z_train) for z_train, _, _ in folds]
        self.valid = [
            np.asarray(z_valid[:, 1], dtype=np.float64) - z_valid[:, 0]
            for _, z_valid, _ in folds
        ]
        self.y = [np.asarray(y) for _, _, y in folds]
        self._sorted_by_class = None
        y_all = np.concatenate(self.y)
        self.n_pos = int(np.sum(y_all == 1))
        self.n_neg = y_all.size - self.n_pos
        # minority_f1_score's minority: the least frequent validation class.
        self.metric_minority = int(self.n_pos < self.n_neg)

    def counts(self, betas):
        """Pooled (tp, fn, fp, tn) when fold ``f`` has class-1 bias betas[f]."""
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

    def pooled_logits(self, betas):
        margins = np.concatenate(
            [m + beta for m, beta in zip(self.valid, betas, strict=True)]
        )
        return np.column_stack([np.zeros_like(margins), margins])


class _Scoring:
    """Scores adjusted validation logits: by counts when possible."""

    def __init__(self, scoring, scorer, classes, y_valid):
        self.count_metric = (
            _COUNT_METRICS.get(scoring) if isinstance(scoring, str) else None
        )
        self.scorer = scorer
        self.holder = _LogitsClassifier(classes)
        self._classes, self._y_valid, self._y_labels = classes, y_valid, None

    def logits(self, logits):
        if self._y_labels is None:  # only scorers need the labels
            self._y_labels = self._classes[np.concatenate(self._y_valid)]
        return float(self.scorer(self.holder, logits, self._y_labels))


def middle_of_best(scores):
    """Index of the middle of the best scores (ordered candidates).

    A validation score is flat over ranges of targets; the middle of the
    best range generalises better than its edge.
    """
    scores = np.asarray(scores)
    tied = np.flatnonzero(scores >= scores.max() - 1e-12)
    return int(tied[tied.size // 2])


def _binary_target(r1):
    return np.array([1.0 - r1, r1])


def _search_binary_decimal(folds, scoring, candidates_fn):
    """Score targets on the paper's decimal grid (or the given fixed ones)."""
    tried = {}
    solved = [([], []) for _ in folds.train]  # per fold: targets r1, betas

    def evaluate(probabilities):
        rounded = {round(p, 10) for p in probabilities}
        new = sorted(
            p for p in rounded if p not in tried and MIN_TARGET <= p <= 1 - MIN_TARGET
        )
        r1 = np.array([p if folds.minority == 1 else 1 - p for p in new])
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
                score = scoring.logits(folds.pooled_logits(betas))
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
        if scoring.count_metric is _COUNT_METRICS["minority_f1"]
        and (folds.metric_minority == 0)
        else 1
    )
    anchor_keys = keys if anchor == 1 else -keys
    cuts = np.sort(anchor_keys[y == anchor])
    others = anchor_keys[y != anchor]
    hits = np.arange(cuts.size + 1)
    hits[1:] = np.searchsorted(cuts, cuts, side="right")
    false = np.concatenate([[0], np.cumsum(_slot_counts(cuts, others))[:-1]])
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
    p_minority = r1 if folds.minority == 1 else 1 - r1
    return p_minority, recorded, p_minority[-1], scores[best]


def _search_multiclass(folds, scoring, starts):
    """Coordinate search over the simplex in log-space, coarse to fine.

    From the best of ``starts``, each entry of the target in turn is
    multiplied by ``10 ** (a * h)`` for ``a`` in (-2, -1, 0, 1, 2) and the
    target renormalised; the move goes to the middle of the best scores along
    that line (as the binary search does, so that a single validation row of
    a tiny class does not pull the target to the edge of a flat range).
    Sweeps over all classes repeat (at most 3) until the score stops
    improving, for ``h`` = 0.5, 0.1 and 0.02 in turn.
    """
    train = [z_train for z_train, _, _ in folds]
    valid = [z_valid for _, z_valid, _ in folds]
    records = []

    def evaluate(target, warm):
        biases = [
            solve_bias(z, target, tol=_SEARCH_TOL, bias0=b0)
            for z, b0 in zip(train, warm, strict=True)
        ]
        pooled = np.concatenate([z + b for z, b in zip(valid, biases, strict=True)])
        score = scoring.logits(pooled)
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


def search_target(folds, *, target, search, scoring, scorer, classes, prior):
    """Choose the target imbalance state for ``scoring`` on the folds.

    Parameters
    ----------
    folds : list of (train_logits, valid_logits, valid_y)
        Logits as float arrays with one column per class; ``valid_y`` holds
        class indices.
    target : "search", "balanced", "prior", float or array-like
        What to choose; anything but ``"search"`` is scored, not searched.
    search : {"decimal", "exact"}
        The search for ``target="search"``.
    scoring : str or callable
        The name given by the user (used to pick a count formula).
    scorer : callable
        ``scorer(estimator, X, y)``.
    classes : ndarray of shape (n_classes,)
        Class labels, for the scorer.
    prior : ndarray of shape (n_classes,)
        Training class frequencies.

    Returns
    -------
    target : ndarray of shape (n_classes,)
        The chosen target.
    score : float
        Its pooled validation score.
    results : dict
        ``"target"`` (n_candidates, n_classes) and ``"score"``; for binary
        problems also ``"minority_probability"``.
    """
    n_classes = classes.size
    scoring = _Scoring(scoring, scorer, classes, [y for _, _, y in folds])
    fixed = resolve_fixed_target(target, n_classes, prior)
    if n_classes == 2:
        minority = binary_minority(prior)
        binary = _BinaryFolds(folds, minority)
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
        r1 = probabilities if minority == 1 else 1 - probabilities
        targets = np.column_stack([1 - r1, r1])
        r1_best = best_p if minority == 1 else 1 - best_p
        results = {
            "target": targets,
            "score": scores,
            "minority_probability": probabilities,
        }
        return _binary_target(r1_best), float(best_score), results
    if search == "exact":
        raise ValueError(
            f"search='exact' is for binary problems; got {n_classes} classes. "
            f"Use search='decimal'."
        )
    folds = [(np.asarray(a, dtype=np.float64), b, y) for a, b, y in folds]
    if fixed is not None:
        pooled = np.concatenate([b + solve_bias(a, fixed) for a, b, _ in folds])
        score = scoring.logits(pooled)
        return fixed, score, {"target": fixed[None, :], "score": np.array([score])}
    states = np.mean([softmax(a, axis=1).mean(axis=0) for a, _, _ in folds], axis=0)
    starts = [
        np.full(n_classes, 1.0 / n_classes),
        _clip_to_simplex(prior),
        _clip_to_simplex(states),
    ]
    targets, scores, best_target, best_score = _search_multiclass(
        folds, scoring, starts
    )
    return best_target, float(best_score), {"target": targets, "score": scores}


def imbalance_state(logits, bias):
    """Mean softmax of ``logits + bias`` (a sigmoid of the margins for two)."""
    if logits.shape[1] == 2:
        p1 = float(np.mean(expit(logits[:, 1] - logits[:, 0] + bias[1] - bias[0])))
        return np.array([1 - p1, p1])
    return softmax(logits + bias, axis=1).mean(axis=0)


def warm_bias(logits, target):
    """A starting bias for :func:`solve_bias` (binary: from the 1-D solve)."""
    if logits.shape[1] != 2:
        return None
    beta = _Margins(logits).solve(target[1])
    return np.array([-beta / 2, beta / 2])


def binary_minority(prior):
    """Index of the minority class of a binary problem (1 on ties)."""
    return int(prior[1] <= prior[0])


def _clip_to_simplex(state):
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
            return _clip_to_simplex(prior)
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
        minority = binary_minority(prior)
        r = np.empty(2)
        r[minority], r[1 - minority] = p, 1 - p
        return r
    return check_target(target, n_classes)
