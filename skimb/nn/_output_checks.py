"""Checks of what a net's module and criterion return."""

import numpy as np


def check_logits_shape(y_pred, n_classes, net_name, members=False):
    """Refuse module outputs that are not one logit per class.

    ``(n_samples, n_classes)``; with ``members=True`` (training mode) also
    ``(n_samples, k, n_classes)``, the logits of an ensemble's ``k`` members.
    """
    ndims = (2, 3) if members else (2,)
    if y_pred.ndim not in ndims or y_pred.shape[-1] != n_classes:
        members_shape = (
            f", or (n_samples, k, {n_classes}) for the k members of an "
            "ensemble in training mode"
        )
        raise ValueError(
            f"The module returned outputs of shape {tuple(y_pred.shape)}; "
            f"{net_name} needs one logit per class, shape "
            f"(n_samples, {n_classes}){members_shape if members else ''} "
            f"(in {'training' if members else 'evaluation'} mode)."
        )


def check_scalar_loss(loss, criterion):
    """Refuse a criterion's loss that is not one number for the batch."""
    if loss.ndim != 0:
        raise ValueError(
            f"The criterion {type(criterion).__name__} returned a loss "
            f"of shape {tuple(loss.shape)}; the network trains on one number "
            "per batch. Use reduction='mean' or 'sum' (for example "
            "criterion__reduction='mean')."
        )


def check_finite_logits(logits):
    """Refuse logits with NaN or infinity rather than predict from them."""
    finite = np.isfinite(logits).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        raise ValueError(
            f"The network's outputs are not finite for {rows.size} of "
            f"{len(logits)} samples (first: row {rows[0]}): the features are "
            "too large for the network's float32 arithmetic, or training "
            "diverged (see history[:, 'train_loss']). Scale X, for example "
            "with StandardScaler, or lower lr."
        )
