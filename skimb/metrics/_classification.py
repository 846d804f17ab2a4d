"""Imbalance-aware metric functions."""

import numpy as np
from scipy.special import softmax
from sklearn.metrics import f1_score
from sklearn.utils._param_validation import HasMethods, validate_params
from sklearn.utils.multiclass import type_of_target, unique_labels


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "minority_label": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def minority_f1_score(y_true, y_pred, *, minority_label=None):
    """F1 score of the minority class.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    minority_label : label or None, default=None
        The class to score. ``None`` takes the least frequent class of
        ``y_true`` (the smallest label on ties).

    Returns
    -------
    score : float
        F1 of the minority class, in [0, 1].

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D binary or multiclass labels
        (a multilabel indicator matrix, continuous values), or
        ``minority_label`` is in neither.

    Examples
    --------
    >>> from skimb.metrics import minority_f1_score
    >>> minority_f1_score([0, 0, 0, 1, 1], [0, 0, 1, 1, 0])
    0.5
    """
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        y_type = type_of_target(y, input_name=name)
        if y_type not in ("binary", "multiclass"):
            raise ValueError(
                f"{name} must hold the labels of a binary or multiclass problem; "
                f"got a {y_type} target."
            )
    y_true = np.asarray(y_true)
    if minority_label is None:
        labels, counts = np.unique(y_true, return_counts=True)
        if labels.size == 0:
            raise ValueError("y_true is empty; the minority class is undefined.")
        minority_label = labels[np.argmin(counts)]
    elif minority_label not in unique_labels(y_true, y_pred):
        raise ValueError(
            f"minority_label={minority_label!r} is in neither y_true nor y_pred."
        )
    score = f1_score(
        y_true, y_pred, labels=[minority_label], average="macro", zero_division=0.0
    )
    return float(score)


@validate_params(
    {
        "estimator": [HasMethods(["predict_proba"])],
        "X": ["array-like", "sparse matrix"],
    },
    prefer_skip_nested_validation=True,
)
def model_imbalance_state(estimator, X):
    """Model imbalance state: the mean predicted probability of each class.

    The seed paper's MIS (Eq. 4): where a balanced model sits at the class
    priors of its training data, an imbalanced one drifts toward the majority.
    It is the state of the model's decision: for a model with ``logits``
    (skimb's networks and :class:`~skimb.adjustment.BiasAdjustedClassifier`)
    the softmax of its logits, which for
    :class:`~skimb.adjustment.BiasAdjustedClassifier` are the adjusted ones
    while its ``predict_proba`` is the base model's by default; for any
    other model its ``predict_proba``.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
        The model to measure.
    X : array-like of shape (n_samples, n_features)
        The data over which the probabilities are averaged.

    Returns
    -------
    state : ndarray of shape (n_classes,)
        Mean over rows of the softmax of ``estimator.logits(X)`` when the
        estimator has ``logits``, else of ``estimator.predict_proba(X)``;
        sums to one.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skimb.metrics import model_imbalance_state
    >>> X, y = make_classification(weights=[0.9], random_state=0)
    >>> state = model_imbalance_state(LogisticRegression().fit(X, y), X)
    >>> state.round(2)
    array([0.91, 0.09])
    """
    if hasattr(estimator, "logits"):
        z = np.asarray(estimator.logits(X), dtype=np.float64)
        return softmax(z, axis=1).mean(axis=0)
    return np.asarray(estimator.predict_proba(X), dtype=np.float64).mean(axis=0)
