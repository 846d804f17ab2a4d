"""Softmax focal loss (Lin et al., 2017)."""

import torch
from torch import nn
from torch.nn import functional as F

from ._loss_checks import check_non_negative, check_reduction, check_weight


class FocalLoss(nn.Module):
    """Cross entropy down-weighted on well-classified samples.

    The loss of logits ``z`` and label ``y`` is
    ``-alpha_y * (1 - p_y) ** gamma * log(p_y)`` with ``p = softmax(z)``. The
    modulator comes from the unweighted log-softmax (``1 - p_y`` computed as
    ``-expm1(log p_y)``, exact near ``p_y = 1``); the class weights ``alpha``
    multiply afterwards. Unlike the other losses here it needs no class
    counts: imbalance enters through ``weight`` only.

    Parameters
    ----------
    gamma : float >= 0, default=2.0
        Focusing parameter; ``0`` gives (weighted) cross entropy.
    weight : array-like of shape (n_classes,) or None, default=None
        Class weights ``alpha``.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` divides the sum by the sum of the weights of the batch's
        labels (the batch size when unweighted), as
        :class:`torch.nn.CrossEntropyLoss` does.

    See Also
    --------
    torchvision.ops.sigmoid_focal_loss : The binary, sigmoid detection variant.

    References
    ----------
    .. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollar, "Focal Loss
       for Dense Object Detection", ICCV 2017.

    Examples
    --------
    >>> import torch
    >>> from skimb.nn import FocalLoss
    >>> loss = FocalLoss(gamma=2.0)
    >>> round(loss(torch.zeros(1, 2), torch.tensor([0])).item(), 4)  # 0.25 log 2
    0.1733
    """

    def __init__(self, gamma=2.0, *, weight=None, reduction="mean"):
        super().__init__()
        self.gamma = check_non_negative("gamma", gamma)
        self.reduction = check_reduction(reduction)
        self.register_buffer("weight", check_weight(weight))

    def forward(self, logits, target):
        """Return the loss of ``logits`` (N, K) for integer labels ``target``."""
        nll = F.cross_entropy(logits, target, reduction="none")  # -log p_y
        # 1 - p_y, clamped away from 0 so that a gamma below 1 keeps a finite
        # gradient
        modulator = (-torch.expm1(-nll)).clamp_min(torch.finfo(nll.dtype).tiny)
        losses = modulator.pow(self.gamma) * nll
        if self.weight is not None:
            sample_weight = self.weight.to(logits.dtype)[target]
            losses = losses * sample_weight
        if self.reduction == "none":
            return losses
        if self.reduction == "sum":
            return losses.sum()
        if self.weight is None:
            return losses.mean()
        return losses.sum() / sample_weight.sum()
