"""Argument checks shared by the imbalance losses."""

import numpy as np
import torch


def check_class_counts(class_counts):
    """Return ``class_counts`` as a float64 tensor, checked positive and 1-d."""
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size < 2 or not np.all(np.isfinite(counts)):
        raise ValueError(
            "class_counts must be a 1-d array with one count per class (at least "
            f"two); got {np.asarray(class_counts).tolist()}."
        )
    if not np.all(counts > 0):
        raise ValueError(
            f"class_counts must all be positive; got {counts.tolist()}. A class "
            "absent from the training data has no prior to adjust for."
        )
    return torch.as_tensor(counts)


def check_weight(weight, n_classes=None):
    """Return the class weights as a float64 tensor, or None.

    ``n_classes=None`` accepts any length.
    """
    if weight is None:
        return None
    weight = torch.as_tensor(np.asarray(weight, dtype=np.float64))
    shape = (n_classes,) if n_classes is not None else (weight.numel(),)
    if weight.shape != shape or not torch.all(torch.isfinite(weight)):
        raise ValueError(
            "weight must be a 1-d array with one finite number per class"
            f"{'' if n_classes is None else f' ({n_classes})'}; "
            f"got {weight.tolist()}."
        )
    if torch.any(weight < 0):
        raise ValueError(f"weight must be non-negative; got {weight.tolist()}.")
    return weight


def check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"reduction must be one of 'mean', 'sum', 'none'; got {reduction!r}."
        )
    return reduction


def check_non_negative(name, value):
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
    return float(value)


def check_positive(name, value):
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}.")
    return float(value)
