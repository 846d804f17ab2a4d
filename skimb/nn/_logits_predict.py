"""The predict methods of a classifier that has ``logits``."""

import numpy as np
import torch


class LogitsPredictMixin:
    """``decision_function``, ``predict_proba`` and ``predict`` from ``logits``.

    A classifier with a ``logits(X)`` method (one score per class, in the
    order of ``classes_``) and a ``classes_`` attribute gets the three
    scikit-learn prediction methods, all read from the same scores ``z``:

    - ``decision_function``: ``z1 - z0`` for two classes, else ``z``;
    - ``predict_proba``: ``softmax(z)_k = exp(z_k) / sum_j exp(z_j)``;
    - ``predict``: ``classes_[argmax_k z_k]``.

    Put it before the classes whose methods it replaces, for instance
    ``class Net(LogitsPredictMixin, NeuralNetClassifier)``.

    See Also
    --------
    NetClassifier : Its logits are the network's outputs.

    Examples
    --------
    >>> import numpy as np
    >>> from skimb.nn import LogitsPredictMixin
    >>> class Scores(LogitsPredictMixin):
    ...     classes_ = np.array(["a", "b"])
    ...
    ...     def logits(self, X):
    ...         return np.asarray(X, dtype=np.float64)
    >>> X = [[0.0, 1.0], [2.0, 2.0]]
    >>> Scores().decision_function(X)
    array([1., 0.])
    >>> Scores().predict_proba(X).round(3)
    array([[0.269, 0.731],
           [0.5  , 0.5  ]])
    >>> Scores().predict(X)
    array(['b', 'a'], dtype='<U1')
    """

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
        """Return class probabilities, the softmax of the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``; the dtype of the
            logits.
        """
        return torch.softmax(torch.as_tensor(self.logits(X)), dim=1).numpy()

    def predict(self, X):
        """Return the class of largest logit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels of the same type as ``classes_``.
        """
        logits = self.logits(X)  # first: it checks that the model is fitted
        return self.classes_[np.argmax(logits, axis=1)]
