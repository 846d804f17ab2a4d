"""Logits of any classifier, and the predict methods built on logits."""

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin


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


class LogitsPredictMixin:
    """``decision_function``, ``predict_proba`` and ``predict`` from ``logits``."""

    def decision_function(self, X):
        """Return the decision values: the logits in scikit-learn's shape.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For binary problems the margin of ``classes_[1]`` over
            ``classes_[0]``, else the logits (scikit-learn's shape
            convention).
        """
        z = self.logits(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X):
        """Return the softmax of the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities in the order of ``classes_``.
        """
        return softmax(self.logits(X), axis=1)

    def predict(self, X):
        """Return the class of largest logit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        logits = self.logits(X)  # first: it checks that the model is fitted
        return self.classes_[np.argmax(logits, axis=1)]


class PrecomputedLogits(LogitsPredictMixin, ClassifierMixin, BaseEstimator):
    """A fitted classifier whose input rows *are* its logits.

    The searches hand it to a scorer with adjusted logits as ``X``, so that
    any ``scorer(estimator, X, y)`` scores precomputed outputs.
    """

    def __init__(self, classes):
        self.classes = classes
        self.classes_ = classes

    def logits(self, X):
        return X
