"""Scorers of three or more classes computed from the confusion matrix.

The fast path of the multiclass search: a candidate rule is scored from the
(weighted) confusion matrix ``C`` of its pooled validation predictions,
``C[i, j]`` the weight of the rows of class ``i`` predicted as ``j``, one
``np.bincount`` per candidate instead of a scikit-learn scorer call (label
checks, encoding, one confusion matrix per metric), and one argmax for the
candidates of a line of the search, which move one column of the logits
(:meth:`ConfusionScore.line`). Each formula equals the
scorer's value (to rounding) with and without sample weights, including its
conventions on classes that occur in the true or the predicted labels only:

- ``"accuracy"``, ``"balanced_accuracy"`` (the mean recall of the classes
  with true rows), ``"f1_macro"``, ``"f1_micro"``, ``"f1_weighted"``,
  ``"precision_macro"``, ``"recall_macro"`` (over the classes present in the
  true or the predicted labels, 0 where undefined, as scikit-learn's
  ``zero_division="warn"`` gives), ``"gmean"`` (imbalanced-learn's
  multiclass geometric mean of the recalls) and ``"minority_f1"`` (the F1 of
  the least frequent true class);
- the scorer of :func:`~skimb.metrics.make_cost_scorer`, through its
  ``cost_matrix`` and ``labels`` attributes.

Any other scorer keeps the scorer path.
"""

import numpy as np

from ._cost_rule import ordered_cost_matrix


def _ratio(numerator, denominator):
    """``numerator / denominator``, 0 where the denominator is 0."""
    out = np.zeros(np.shape(denominator))
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def _mean_over(values, mask):
    """The mean of ``values`` over the entries ``mask`` selects (last axis)."""
    return np.where(mask, values, 0.0).sum(axis=-1) / mask.sum(axis=-1)


# Each metric takes confusion matrices stacked on the leading axes, shape
# (..., K, K), and returns one value per matrix.


def _counts(C):
    """Per-class true positives, true rows, predicted rows and the present."""
    tp = np.diagonal(C, axis1=-2, axis2=-1)
    true, predicted = C.sum(axis=-1), C.sum(axis=-2)
    return tp, true, predicted, (true > 0) | (predicted > 0)


def _accuracy(C):
    return np.trace(C, axis1=-2, axis2=-1) / C.sum(axis=(-2, -1))


def _balanced_accuracy(C):
    # a class without true rows has tp 0: its recall is 0 / 1 = 0
    tp, true = np.diagonal(C, axis1=-2, axis2=-1), C.sum(axis=-1)
    present = true > 0
    return (tp / np.where(present, true, 1.0)).sum(axis=-1) / present.sum(axis=-1)


def _f1(C):
    """Per-class F1 (0 where absent), true rows and the present classes."""
    tp, true = np.diagonal(C, axis1=-2, axis2=-1), C.sum(axis=-1)
    both = true + C.sum(axis=-2)
    # present: true + predicted > 0 (the counts are not negative); an
    # absent class has tp 0, so its F1 is 0 / 1 = 0
    present = both > 0
    return 2 * tp / np.where(present, both, 1.0), true, present


def _f1_macro(C):
    f1, _, present = _f1(C)
    return f1.sum(axis=-1) / present.sum(axis=-1)


def _f1_weighted(C):
    f1, support, _ = _f1(C)  # a class with true rows is present
    return (f1 * support).sum(axis=-1) / support.sum(axis=-1)


def _precision_macro(C):
    tp, _, predicted, present = _counts(C)
    return _mean_over(_ratio(tp, predicted), present)


def _recall_macro(C):
    tp, true, _, present = _counts(C)
    return _mean_over(_ratio(tp, true), present)


def _gmean(C):
    tp, true, _, present = _counts(C)
    recall = np.where(present, _ratio(tp, true), 1.0)
    log_recall = np.log(recall, out=np.full(recall.shape, -np.inf), where=recall > 0)
    return np.exp(_mean_over(log_recall, present))


def _minority_f1(C):
    tp, true, predicted, _ = _counts(C)
    minority = np.argmin(np.where(true > 0, true, np.inf), axis=-1)[..., None]
    tp, true, predicted = (
        np.take_along_axis(a, minority, axis=-1)[..., 0] for a in (tp, true, predicted)
    )
    return _ratio(2 * tp, true + predicted)


# Named scorings as functions of the confusion matrix. ``minority_f1`` takes
# its minority from unweighted counts: it has no weighted form (its scorer
# refuses sample_weight), so it is only counted without weights.
CONFUSION_METRICS = {
    "accuracy": _accuracy,
    "balanced_accuracy": _balanced_accuracy,
    "f1_macro": _f1_macro,
    "f1_micro": _accuracy,  # single-label multiclass: micro F1 is accuracy
    "f1_weighted": _f1_weighted,
    "gmean": _gmean,
    "minority_f1": _minority_f1,
    "precision_macro": _precision_macro,
    "recall_macro": _recall_macro,
}


def _cost_metric(scorer, classes):
    """Minus the mean cost of ``C``, or None where the scorer path must run.

    The scorer raises where the cost matrix does not fit the labels; those
    cases, and labels that do not all name a class, keep the scorer path.
    """
    cost = ordered_cost_matrix(scorer, classes)
    if cost is None:
        return None

    def metric(C):
        value = -(C * cost).sum(axis=(-2, -1)) / C.sum(axis=(-2, -1))
        if scorer.labels is not None:
            return value
        # rows in sorted order: the scorer needs every class to occur
        present = (C.sum(axis=-2) > 0) | (C.sum(axis=-1) > 0)
        return np.where(present.all(axis=-1), value, np.nan)

    return metric


class ConfusionScore:
    """Score predictions from their confusion matrix, as ``scorer`` would.

    Parameters
    ----------
    metric : callable
        ``metric(C)`` of K x K confusion matrices stacked on the leading
        axes, one value each; NaN means "ask the scorer" for that matrix.
    y : ndarray of shape (n_samples,)
        True class indices, 0 to K - 1.
    n_classes : int
        K.
    sample_weight : ndarray of shape (n_samples,) or None
        Positive row weights, or None.
    """

    def __init__(self, metric, y, n_classes, sample_weight=None):
        self.metric = metric
        self.n_classes = n_classes
        self.sample_weight = sample_weight
        self._cells = np.asarray(y, dtype=np.intp) * n_classes
        self._rows = np.arange(self._cells.size)
        self._logits = self._best_two = None  # see line

    def confusion(self, pred):
        """The (weighted) confusion matrices of predicted class indices.

        ``pred`` of shape (n_samples,) gives one K x K matrix; of shape
        (B, n_samples), B of them stacked.
        """
        k, pred = self.n_classes, np.asarray(pred)
        stacked = pred.reshape(-1, pred.shape[-1])
        size = len(stacked)
        cells = stacked + self._cells
        if size > 1:
            cells += (k * k) * np.arange(size)[:, None]
        weights = self.sample_weight
        if weights is not None and size > 1:
            weights = np.tile(weights, size)
        counts = np.bincount(cells.ravel(), weights=weights, minlength=size * k * k)
        return counts.reshape(pred.shape[:-1] + (k, k)).astype(np.float64, copy=False)

    def __call__(self, logits):
        """The score of ``argmax(logits)``, or None for the scorer path."""
        value = float(self.metric(self.confusion(np.argmax(logits, axis=1))))
        return None if np.isnan(value) else value

    def line(self, logits, j, shifts):
        """Scores of ``argmax`` of ``logits`` with each shift added to column ``j``.

        The candidates of one line of the coordinate search without an
        argmax each: a row is predicted ``j`` where its shifted column beats
        its best other class (on a tie, where ``j`` comes first, as
        ``np.argmax`` breaks ties). That class is its best or, where ``j``
        is the best, its second best; both are kept for the logits of the
        last call (the same array, not modified in between: the lines of a
        sweep that move nothing share them). Returns an array of one score
        per shift, NaN where the scorer must be asked.
        """
        if logits is not self._logits:  # kept for the next line at these logits
            first = np.argmax(logits, axis=1)
            rest = logits.copy()
            rest[self._rows, first] = -np.inf
            second = np.argmax(rest, axis=1)
            top1, top2 = logits[self._rows, first], rest[self._rows, second]
            self._logits, self._best_two = logits, (first, second, top1, top2)
        first, second, top1, top2 = self._best_two
        is_first = first == j  # then the best other class is the second best
        other = np.where(is_first, second, first)
        top = np.where(is_first, top2, top1)
        column = logits[:, j] + np.asarray(shifts, dtype=np.float64)[:, None]
        wins = np.where(j < other, column >= top, column > top)  # a tie: j first
        return self.metric(self.confusion(np.where(wins, j, other)))


def confusion_score(scoring, scorer, classes, y, sample_weight=None):
    """A :class:`ConfusionScore` equal to ``scorer``, or None.

    Parameters
    ----------
    scoring : str or callable
        The user's ``scoring``: a name of :data:`CONFUSION_METRICS`, or the
        scorer of :func:`~skimb.metrics.make_cost_scorer`.
    scorer : callable
        ``get_scorer(scoring)``.
    classes : ndarray of shape (n_classes,)
        The class labels, in the order of the class indices of ``y``.
    y : ndarray of shape (n_samples,)
        True class indices of the scored rows.
    sample_weight : ndarray of shape (n_samples,) or None, default=None
        Their positive weights.

    Returns
    -------
    score : ConfusionScore or None
        None where the scorer has no confusion-matrix form here.
    """
    if isinstance(scoring, str):
        metric = CONFUSION_METRICS.get(scoring)
        if scoring == "minority_f1" and sample_weight is not None:
            metric = None
    else:
        metric = _cost_metric(scorer, classes)
    if metric is None:
        return None
    return ConfusionScore(metric, y, classes.size, sample_weight)
