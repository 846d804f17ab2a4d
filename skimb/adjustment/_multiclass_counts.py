"""Scorers of three or more classes computed from the confusion matrix.

The fast path of the multiclass search: a candidate rule is scored from the
(weighted) confusion matrix ``C`` of its pooled validation predictions,
``C[i, j]`` the weight of the rows of class ``i`` predicted as ``j``, one
``np.bincount`` per candidate instead of a scikit-learn scorer call (label
checks, encoding, one confusion matrix per metric). Each formula equals the
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


def _ratio(numerator, denominator):
    """``numerator / denominator``, 0 where the denominator is 0."""
    out = np.zeros(np.shape(denominator))
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def _counts(C):
    """Per-class true positives, true rows, predicted rows and the present."""
    tp = np.diag(C)
    true, predicted = C.sum(axis=1), C.sum(axis=0)
    return tp, true, predicted, (true > 0) | (predicted > 0)


def _accuracy(C):
    return np.trace(C) / C.sum()


def _balanced_accuracy(C):
    tp, true, _, _ = _counts(C)
    has_rows = true > 0
    return np.mean(tp[has_rows] / true[has_rows])


def _f1(C):
    tp, true, predicted, present = _counts(C)
    return _ratio(2 * tp, true + predicted)[present], true[present]


def _f1_macro(C):
    return np.mean(_f1(C)[0])


def _f1_weighted(C):
    f1, support = _f1(C)
    return np.average(f1, weights=support)


def _precision_macro(C):
    tp, _, predicted, present = _counts(C)
    return np.mean(_ratio(tp, predicted)[present])


def _recall_macro(C):
    tp, true, _, present = _counts(C)
    return np.mean(_ratio(tp, true)[present])


def _gmean(C):
    tp, true, _, present = _counts(C)
    recall = _ratio(tp, true)[present]
    if np.any(recall == 0):
        return 0.0
    return np.exp(np.mean(np.log(recall)))


def _minority_f1(C):
    tp, true, predicted, _ = _counts(C)
    minority = np.flatnonzero(true > 0)[np.argmin(true[true > 0])]
    return _ratio(2 * tp[minority], true[minority] + predicted[minority])


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
    cost = getattr(scorer, "cost_matrix", None)
    if cost is None or not hasattr(scorer, "labels"):
        return None
    cost = np.asarray(cost, dtype=np.float64)
    if cost.shape != (classes.size, classes.size):
        return None
    labels = scorer.labels
    if labels is None:  # rows in sorted order: all classes must occur

        def metric(C):
            if not np.all((C.sum(axis=0) > 0) | (C.sum(axis=1) > 0)):
                return None
            return -(C * cost).sum() / C.sum()

        return metric
    labels = np.asarray(labels)
    if labels.shape != (classes.size,):
        return None
    position = []
    for label in classes:
        found = np.flatnonzero(labels == label)
        if found.size != 1:
            return None
        position.append(found[0])
    ordered = cost[np.ix_(position, position)]
    return lambda C: -(C * ordered).sum() / C.sum()


class ConfusionScore:
    """Score predictions from their confusion matrix, as ``scorer`` would.

    Parameters
    ----------
    metric : callable
        ``metric(C)`` of a K x K confusion matrix; None means "ask the
        scorer" for that matrix.
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

    def confusion(self, pred):
        """The (weighted) confusion matrix of predicted class indices."""
        k = self.n_classes
        counts = np.bincount(
            self._cells + pred, weights=self.sample_weight, minlength=k * k
        )
        return counts.reshape(k, k).astype(np.float64, copy=False)

    def __call__(self, logits):
        """The score of ``argmax(logits)``, or None for the scorer path."""
        value = self.metric(self.confusion(np.argmax(logits, axis=1)))
        return None if value is None else float(value)


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
