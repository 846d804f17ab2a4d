"""Expected misclassification cost as a score, and its scorer."""

import numpy as np
from sklearn.metrics import confusion_matrix, make_scorer
from sklearn.utils._param_validation import validate_params
from sklearn.utils.multiclass import unique_labels


def _check_cost_matrix(cost_matrix):
    cost = np.asarray(cost_matrix, dtype=np.float64)
    if cost.ndim != 2 or cost.shape[0] != cost.shape[1] or cost.shape[0] < 2:
        raise ValueError(
            f"cost_matrix must be a square K x K array with K >= 2 (row: true "
            f"class, column: predicted class); got shape {cost.shape}."
        )
    if not np.isfinite(cost).all():
        raise ValueError("cost_matrix has NaN or infinite entries.")
    return cost


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "cost_matrix": ["array-like"],
        "labels": ["array-like", None],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def negative_expected_cost(
    y_true, y_pred, *, cost_matrix, labels=None, sample_weight=None
):
    """Minus the mean cost per row of the predictions.

    ``cost_matrix[i, j]`` is the cost of predicting class ``labels[j]`` for a
    row of true class ``labels[i]``. The score is
    ``-sum(C * cost_matrix) / sum(C)`` with ``C`` the (weighted) confusion
    matrix: higher is better, 0 is the best possible when correct
    predictions cost nothing.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    cost_matrix : array-like of shape (n_classes, n_classes)
        Cost of predicting column ``j`` for true row ``i``.
    labels : array-like of shape (n_classes,), default=None
        The classes of the rows and columns of ``cost_matrix``, in order.
        ``None`` takes the sorted labels of ``y_true`` and ``y_pred``, which
        must then be ``n_classes`` many.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    score : float
        Minus the mean cost per row.

    Examples
    --------
    >>> from skimb.metrics import negative_expected_cost
    >>> cost = [[0, 1], [10, 0]]  # a missed positive costs 10 false alarms
    >>> negative_expected_cost([0, 0, 1, 1], [0, 1, 1, 0], cost_matrix=cost)
    -2.75
    """
    cost = _check_cost_matrix(cost_matrix)
    if labels is None:
        labels = unique_labels(y_true, y_pred)
        if labels.size != cost.shape[0]:
            raise ValueError(
                f"cost_matrix is {cost.shape[0]} x {cost.shape[0]} but y_true and "
                f"y_pred hold {labels.size} labels {labels.tolist()}; pass labels= "
                f"to say which class each row and column is."
            )
    else:
        labels = np.asarray(labels)
        if labels.size != cost.shape[0]:
            raise ValueError(
                f"labels has {labels.size} entries for a {cost.shape[0]} x "
                f"{cost.shape[0]} cost_matrix."
            )
        unknown = np.setdiff1d(unique_labels(y_true, y_pred), labels)
        if unknown.size:
            raise ValueError(
                f"y_true or y_pred hold labels {unknown.tolist()} that are not in "
                f"labels={labels.tolist()}."
            )
    counts = confusion_matrix(
        y_true, y_pred, labels=labels, sample_weight=sample_weight
    )
    return float(-(counts * cost).sum() / counts.sum())


def make_cost_scorer(cost_matrix, *, labels=None):
    """Scorer of minus the expected misclassification cost.

    A scorer for :class:`~skimb.adjustment.BiasAdjustedClassifier`'s
    ``scoring``, :class:`~sklearn.model_selection.GridSearchCV` or
    :class:`~sklearn.model_selection.TunedThresholdClassifierCV`: higher is
    lower mean cost per row (see :func:`negative_expected_cost`).

    Parameters
    ----------
    cost_matrix : array-like of shape (n_classes, n_classes)
        ``cost_matrix[i, j]`` is the cost of predicting class ``j`` for a row
        of true class ``i`` (classes in sorted order, or in ``labels``'s).
    labels : array-like of shape (n_classes,), default=None
        The class of each row and column of ``cost_matrix``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)`` on ``estimator.predict(X)``. Its
        attributes ``cost_matrix`` (the validated float matrix) and
        ``labels`` (an array, or None) say what it scores, so that
        :class:`~skimb.adjustment.BiasAdjustedClassifier` scores a candidate
        rule of three or more classes from its confusion matrix.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skimb.metrics import make_cost_scorer
    >>> X, y = make_classification(weights=[0.9], random_state=0)
    >>> scorer = make_cost_scorer([[0, 1], [20, 0]])
    >>> model = LogisticRegression().fit(X, y)
    >>> scorer(model, X, y) <= 0
    True
    >>> scorer.cost_matrix
    array([[ 0.,  1.],
           [20.,  0.]])
    """
    cost = _check_cost_matrix(cost_matrix)
    if labels is not None:
        labels = np.asarray(labels)
    scorer = make_scorer(negative_expected_cost, cost_matrix=cost, labels=labels)
    scorer.cost_matrix, scorer.labels = cost, labels
    return scorer
