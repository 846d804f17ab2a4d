"""The memoised bases and the two baselines of ``bench_multiclass_decision.py``.

Not a benchmark. :class:`OvRThresholds` (per-class thresholds tuned one
class against the rest, predicting ``argmax(p - t)``) and :class:`WeightGrid`
(per-class weights of ``argmax(w * p)`` from a geometric grid) choose their
rule on the out-of-fold probabilities of ``StratifiedKFold(FOLDS)``, the
folds of ``BiasAdjustedClassifier``'s default ``cv=10``, then refit the base
on all rows. The
memoised bases (:class:`_harness.FitMemo`) train once per (parameters, X,
y) and count training time in ``_harness.FIT_CLOCK``, so that a method's rule
time excludes it. See the benchmark's
docstring for the exact rules.
"""

import time
from itertools import product

import numpy as np
from _harness import FitMemo
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from skimb.adjustment import BiasAdjustedClassifier
from skimb.metrics import get_scorer
from skimb.nn import LogitAdjustedNet, NetClassifier

GRID = 2.0 ** np.linspace(-4, 4, 17)
MAX_PRODUCT = 5000
N_THRESHOLDS = 100
FOLDS = 10  # BiasAdjustedClassifier's default cv


# -- memoised bases ---------------------------------------------------------------


class MemoNet(FitMemo, NetClassifier):
    """NetClassifier, memoised."""


class MemoHGB(FitMemo, HistGradientBoostingClassifier):
    """HistGradientBoostingClassifier, memoised."""


class MemoLANet(FitMemo, LogitAdjustedNet):
    """LogitAdjustedNet (the class-weighted network), memoised."""


class MemoLR(FitMemo, LogisticRegression):
    """LogisticRegression, memoised."""


class TimedBA(BiasAdjustedClassifier):
    """BiasAdjustedClassifier that times its search: ``search_seconds_``.

    The time of choosing the target on the validation logits (the search,
    the model's own score, the step-4 comparison), as ``search_seconds_``
    of the two baselines times choosing their rule on the probabilities.
    """

    def _choose_target(self, *args, **kwargs):
        start = time.perf_counter()
        keep_own = super()._choose_target(*args, **kwargs)
        self.search_seconds_ = time.perf_counter() - start
        return keep_own


# -- the two baselines written here ---------------------------------------------


class _Predictions(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose input rows are its predicted class indices."""

    def __init__(self, classes):
        self.classes = classes
        self.classes_ = classes

    def predict(self, X):
        return self.classes_[np.asarray(X)[:, 0]]


class _OutOfFoldRule(ClassifierMixin, BaseEstimator):
    """A rule chosen on out-of-fold probabilities of ``StratifiedKFold(FOLDS)``.

    Subclasses set ``_choose(proba, y_encoded)`` (returns the rule, stores
    ``n_candidates_``) and ``_apply(proba)`` (class indices).
    """

    def __init__(self, estimator, scoring, cost=None):
        self.estimator = estimator
        self.scoring = scoring
        self.cost = cost

    def fit(self, X, y):
        self.classes_, y_encoded = np.unique(y, return_inverse=True)
        proba = np.zeros((len(y), len(self.classes_)))
        for train, valid in StratifiedKFold(FOLDS).split(X, y_encoded):
            model = clone(self.estimator).fit(X[train], y[train])
            if len(model.classes_) != len(self.classes_):
                raise ValueError("a fold model lacks a class; use a smaller ratio")
            proba[valid] = model.predict_proba(X[valid])
        start = time.perf_counter()
        self.rule_ = self._choose(proba, y_encoded)
        self.search_seconds_ = time.perf_counter() - start
        self.estimator_ = clone(self.estimator).fit(X, y)
        return self

    def _score(self, pred, y_encoded):
        scorer = get_scorer(self.scoring)
        holder = _Predictions(self.classes_)
        return scorer(holder, pred[:, None], self.classes_[y_encoded])

    def predict(self, X):
        return self.classes_[self._apply(self.estimator_.predict_proba(X))]


class OvRThresholds(_OutOfFoldRule):
    """Per-class thresholds, each tuned one-vs-rest; predicts argmax(p - t)."""

    def _choose(self, proba, y_encoded):
        n_classes = proba.shape[1]
        # The cost of any error on a row of class i (the rule of cost_matrix).
        row_cost = None if self.cost is None else self.cost.max(axis=1)
        thresholds = np.zeros(n_classes)
        for k in range(n_classes):
            p = proba[:, k]
            candidates = np.unique(np.quantile(p, np.linspace(0, 1, N_THRESHOLDS)))
            flagged = p[:, None] >= candidates[None, :]
            positive = (y_encoded == k)[:, None]
            tp = (flagged & positive).sum(axis=0)
            fp = (flagged & ~positive).sum(axis=0)
            fn = positive.sum() - tp
            tn = (~positive).sum() - fp
            if self.scoring == "f1_macro":
                value = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
            elif self.scoring == "balanced_accuracy":
                value = tp / positive.sum() + tn / (~positive).sum()
            else:
                alarm = row_cost[y_encoded][:, None] * (flagged & ~positive)
                value = -(fn * row_cost[k] + alarm.sum(axis=0))
            thresholds[k] = candidates[_middle_argmax(value)]
        self.n_candidates_ = n_classes * N_THRESHOLDS
        return thresholds

    def _apply(self, proba):
        return np.argmax(proba - self.rule_, axis=1)


class WeightGrid(_OutOfFoldRule):
    """Per-class weights of argmax(w * p) from a geometric grid (see module)."""

    def _choose(self, proba, y_encoded):
        n_classes = proba.shape[1]
        log_p = np.log(np.clip(proba, 1e-300, None))

        def score(w):
            return self._score(np.argmax(log_p + np.log(w), axis=1), y_encoded)

        if len(GRID) ** (n_classes - 1) <= MAX_PRODUCT:
            # Ties go to the weights nearest 1 (sum of |log w|).
            combos = sorted(
                product(GRID, repeat=n_classes - 1),
                key=lambda c: np.abs(np.log(c)).sum(),
            )
            scores = [score(np.array([1.0, *c])) for c in combos]
            self.n_candidates_ = len(combos)
            return np.array([1.0, *combos[int(np.argmax(scores))]])
        w = np.ones(n_classes)
        best = score(w)
        n_candidates = 1
        for _ in range(3):
            improved = False
            for k in range(n_classes):
                for value in GRID:
                    if value == w[k]:
                        continue
                    trial = w.copy()
                    trial[k] = value
                    trial_score = score(trial)
                    n_candidates += 1
                    if trial_score > best + 1e-12:
                        best, w, improved = trial_score, trial, True
            if not improved:
                break
        self.n_candidates_ = n_candidates
        return w

    def _apply(self, proba):
        return np.argmax(np.log(np.clip(proba, 1e-300, None)) + np.log(self.rule_), 1)


def _middle_argmax(values):
    """Index in the middle of the (first run of the) largest values."""
    best = np.flatnonzero(np.isclose(values, np.max(values), rtol=0, atol=1e-12))
    return int(best[len(best) // 2])
