"""``sample_weight`` carried with the rows through skorch's training loop."""

from collections.abc import Mapping

import numpy as np
from skorch.utils import to_tensor

from ._weighted_loss import weighted_loss

# Inside a fit with sample_weight, the training data is the mapping
# {DATA: X, WEIGHT: sample_weight}: skorch splits and batches it with the
# rows, the net's ``infer`` hands the module ``X`` alone and its ``get_loss``
# the weights.
DATA, WEIGHT = "X", "sample_weight"


class WeightedRowsMixin:
    """Train a skorch classifier on rows weighted by ``sample_weight``.

    ``fit_loop`` takes the weights as the fit parameter ``sample_weight``
    and carries them next to the rows of X, through skorch's Dataset, its
    validation split and the batches; the module never sees them, and each
    batch's loss is :func:`weighted_loss` of its rows.
    """

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """skorch's loop, with ``sample_weight`` carried next to the rows of X."""
        weight = fit_params.pop(WEIGHT, None)
        if weight is not None:
            X = {DATA: X, WEIGHT: np.asarray(weight, dtype=np.float32)}
        return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def infer(self, x, **fit_params):
        """Return the module's outputs for the batch ``x``.

        A batch of weighted training data, ``{"X": X, "sample_weight": w}``,
        reaches the module as ``X`` alone.
        """
        if isinstance(x, Mapping) and WEIGHT in x:
            x = x[DATA]
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Return the loss of a batch, weighted by its rows' ``sample_weight``.

        Without weights, the criterion's own value. With weights, the
        criterion's per-row losses (computed with ``reduction="none"``)
        combined as ``sum(w * l) / sum(w * c_y)`` for ``reduction="mean"``
        (``c_y`` the criterion's class weight of each row's label, 1 without)
        and ``sum(w * l)`` for ``reduction="sum"``.
        """
        weight = X.get(WEIGHT) if isinstance(X, Mapping) else None
        if weight is None:
            return super().get_loss(y_pred, y_true, X=X, training=training)
        return weighted_loss(
            self.criterion_,
            lambda: super(WeightedRowsMixin, self).get_loss(
                y_pred, y_true, X=X, training=training
            ),
            weight,
            to_tensor(y_true, device=self.device),
            len(self.classes_),
        )
