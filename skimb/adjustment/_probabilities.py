"""What BiasAdjustedClassifier's predict_proba returns: base, adjusted or calibrated.

The decision (``predict``, ``decision_function``) always reads the adjusted
logits; the probabilities are the base model's by default, as
:class:`~sklearn.model_selection.TunedThresholdClassifierCV` keeps them.
"""

import warnings

from scipy.special import softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from ._logits import PrecomputedLogits, raw_logits

# Values of ``probabilities`` that need no calibration.
_UNCALIBRATED = ("base", "adjusted")


class ProbabilitiesMixin:
    """``predict_proba`` of :class:`~skimb.adjustment.BiasAdjustedClassifier`.

    Reads ``probabilities``, ``per_epoch``, ``estimator_``, ``classes_`` and
    ``calibrator_``; put it before ``LogitsPredictMixin``, whose softmax of
    the adjusted logits is the ``"adjusted"`` choice.
    """

    def _check_probabilities(self):
        """Refuse a calibration where no validation logits are kept."""
        calibrated = self.probabilities not in _UNCALIBRATED
        if calibrated and self.per_epoch:
            raise ValueError(
                f"probabilities={self.probabilities!r} calibrates on validation "
                f"logits, which per_epoch=True does not keep; use "
                f"probabilities='base' or 'adjusted'."
            )

    def _fit_calibrator(self, z_valid, y_valid, w_valid):
        """Fit ``calibrator_`` on validation logits, for calibrated probabilities.

        ``sklearn.calibration.CalibratedClassifierCV`` with the method of
        ``probabilities``, on the base model's validation logits (no bias),
        as ``CalibratedClassifierCV(ensemble=False)`` calibrates the
        cross-validated predictions of a model refitted on all the rows.
        """
        if self.probabilities in _UNCALIBRATED:
            return
        holder = FrozenEstimator(PrecomputedLogits(self.classes_))
        params = {} if w_valid is None else {"sample_weight": w_valid}
        with warnings.catch_warnings():
            # The weights are for the calibration only: the holder is fixed.
            warnings.filterwarnings(
                "ignore", message="Since FrozenEstimator does not appear"
            )
            self.calibrator_ = CalibratedClassifierCV(
                holder, method=self.probabilities
            ).fit(z_valid, self.classes_[y_valid], **params)

    def predict_proba(self, X):
        """Return class probabilities, as ``probabilities`` says.

        ``predict`` does not read them: it is the argmax of the adjusted
        logits (:meth:`logits`), so with ``probabilities="base"`` (the
        default) or a calibration the most probable class need not be the
        predicted one, as with
        :class:`~sklearn.model_selection.TunedThresholdClassifierCV`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``. ``"base"``: the
            base model's ``predict_proba`` (the softmax of its scores when it
            has none); ``"adjusted"``: the softmax of the adjusted logits;
            ``"sigmoid"``, ``"isotonic"``, ``"temperature"``: the base
            model's scores through ``calibrator_``.
        """
        check_is_fitted(self)
        if self.probabilities == "adjusted":
            return super().predict_proba(X)
        if self.probabilities == "base" and hasattr(self.estimator_, "predict_proba"):
            return self.estimator_.predict_proba(X)
        z = raw_logits(self.estimator_, X, len(self.classes_))
        if self.probabilities == "base":  # scores without probabilities
            return softmax(z, axis=1)
        return self.calibrator_.predict_proba(z)
