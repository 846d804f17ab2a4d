"""The loss of an ensemble's members: one row per (sample, member)."""

from collections.abc import Mapping

import torch
from skorch.utils import to_tensor

from ._weighted_rows import WEIGHT


def flatten_members(y_pred, y_true, X, device):
    """Give each of an ensemble's members the loss of every row.

    ``y_pred`` of shape ``(batch, k, n_classes)`` (the logits of ``k``
    members, as :class:`~skimb.nn.TabMBackbone` returns in training mode)
    becomes ``(batch * k, n_classes)``; the targets, and the rows'
    ``sample_weight`` carried in ``X``, are repeated ``k`` times to match.
    Any per-row loss then applies unchanged, and its mean (weighted, or
    with class weights) is the mean over the members of each member's
    loss of the batch.

    Returns
    -------
    y_pred, y_true, X
        The flattened logits, the repeated targets (a tensor on ``device``)
        and ``X`` with its weights repeated (``X`` itself when it carries
        none).
    """
    k = y_pred.shape[1]
    y_pred = y_pred.reshape(-1, y_pred.shape[2])
    y_true = to_tensor(y_true, device=device).repeat_interleave(k)
    if isinstance(X, Mapping) and X.get(WEIGHT) is not None:
        weight = torch.as_tensor(X[WEIGHT]).repeat_interleave(k)
        X = {**X, WEIGHT: weight}
    return y_pred, y_true, X
