"""The fold models of BiasAdjustedClassifier's validation, kept as one model."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..nn import LogitsPredictMixin
from ._logits import raw_logits


class FoldEnsemble(LogitsPredictMixin, ClassifierMixin, BaseEstimator):
    """Fitted fold models that predict together, as one classifier.

    ``BiasAdjustedClassifier(ensemble=True)`` keeps the models its
    validation folds trained instead of refitting one on all the rows, as
    :class:`~sklearn.calibration.CalibratedClassifierCV` keeps its fold
    models with ``ensemble=True``. The rule chosen on their pooled validation
    logits is then applied to the very models that produced them.

    - ``logits``: the mean of the models' scores (their ``logits``, the log of
      ``predict_proba`` or ``decision_function``, as
      ``BiasAdjustedClassifier`` reads a model), where the bias is added;
    - ``predict_proba``: the softmax of ``logits`` (for models read through
      ``predict_proba``, the normalised geometric mean of their
      probabilities), so that it ranks the rows as ``decision_function``
      does.

    Parameters
    ----------
    estimators : list of fitted classifiers
        The fold models, fitted on the same classes.
    classes : ndarray of shape (n_classes,)
        The class labels, in the order of the models' columns.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skimb import BiasAdjustedClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = BiasAdjustedClassifier(LogisticRegression(), cv=3, ensemble=True)
    >>> ensemble = clf.fit(X, y).estimator_
    >>> len(ensemble.estimators), ensemble.predict_proba(X[:1]).shape
    (3, (1, 2))
    """

    def __init__(self, estimators, classes):
        self.estimators = estimators
        self.classes = classes

    def fit(self, X=None, y=None):
        """Nothing to train: record ``classes_`` of the fitted fold models."""
        self.classes_ = np.asarray(self.classes)
        return self

    def logits(self, X):
        """Return the mean of the fold models' scores, one column per class."""
        check_is_fitted(self)
        n_classes = len(self.classes_)
        return np.mean([raw_logits(m, X, n_classes) for m in self.estimators], axis=0)
