"""Logits of any classifier, and a classifier whose input rows are its logits."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..nn import LogitsPredictMixin


def raw_logits(estimator, X, n_classes):
    """Logits of a fitted classifier: its own, log-probabilities or decisions."""
    if hasattr(estimator, "logits"):
        z = estimator.logits(X)
    elif hasattr(estimator, "predict_proba"):
        proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        z = np.log(np.clip(proba, np.finfo(np.float64).tiny, None))
    else:
        z = np.asarray(estimator.decision_function(X), dtype=np.float64)
        if z.ndim == 1:
            z = np.column_stack([np.zeros_like(z), z])
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != n_classes:
        raise ValueError(
            f"{type(estimator).__name__} returned scores of shape {z.shape}; "
            f"expected one column per class ({n_classes})."
        )
    return z


class PrecomputedLogits(LogitsPredictMixin, ClassifierMixin, BaseEstimator):
    """A fitted classifier whose input rows *are* its logits.

    The searches hand it to a scorer with adjusted logits as ``X``, so that
    any ``scorer(estimator, X, y)`` scores precomputed outputs.
    """

    def __init__(self, classes):
        self.classes = classes
        self.classes_ = classes

    def fit(self, X=None, y=None):
        """Nothing to fit: the scores are given (for FrozenEstimator)."""
        return self

    def logits(self, X):
        return X
