"""The loss of a batch of weighted rows."""

import torch


def weighted_loss(criterion, per_row_loss, weight, y_true, n_classes):
    """Combine a criterion's per-row losses with the rows' weights.

    ``per_row_loss()`` evaluates ``criterion`` on the batch; it is called
    with ``criterion.reduction`` set to ``"none"``. For ``reduction="mean"``
    the result is ``sum(w * l) / sum(w * c_y)``: the per-row losses ``l``
    already include the class weight ``c_y`` of a criterion whose ``weight``
    has one entry per class (torch's cross entropy and skimb's losses), whose
    mean divides by ``sum(c_y)``. A row of weight k and k copies of the row
    then give the same loss. ``reduction="sum"`` gives ``sum(w * l)``.
    """
    reduction = getattr(criterion, "reduction", None)
    if reduction not in ("mean", "sum"):
        raise ValueError(
            "sample_weight needs a criterion with a reduction attribute of "
            "'mean' or 'sum' that computes per-sample losses with "
            f"reduction='none'; {type(criterion).__name__} has "
            f"reduction={reduction!r}."
        )
    criterion.reduction = "none"
    try:
        losses = per_row_loss()
    finally:
        criterion.reduction = reduction
    if losses.shape != (len(weight),):
        raise ValueError(
            f"With reduction='none' the criterion {type(criterion).__name__} "
            f"returned a loss of shape {tuple(losses.shape)}; sample_weight "
            f"needs one loss per sample, shape ({len(weight)},)."
        )
    weight = weight.to(device=losses.device, dtype=losses.dtype)
    total = (weight * losses).sum()
    if reduction == "sum":
        return total
    norm = weight
    class_weight = getattr(criterion, "weight", None)
    if isinstance(class_weight, torch.Tensor) and class_weight.shape == (n_classes,):
        norm = weight * class_weight.to(weight)[y_true.to(losses.device)]
    # A batch whose weights are all zero has zero loss (not 0 / 0).
    return total / norm.sum().clamp_min(torch.finfo(norm.dtype).tiny)
