"""Balanced softmax cross entropy (Ren et al., 2020)."""

from torch import nn
from torch.nn import functional as F

from ._loss_checks import check_class_counts, check_reduction, check_weight


class BalancedSoftmaxLoss(nn.Module):
    """Cross entropy of the softmax reweighted by the training class counts.

    The loss of logits ``z`` and label ``y`` is
    ``-log(n_y exp(z_y) / sum_j n_j exp(z_j))``, the cross entropy of
    ``z + log(n)``: logit adjustment with ``tau=1``. Predict with the raw
    ``z``.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Number of training samples of each class, all positive.
        :class:`~skimb.nn.NetClassifier` fills it in from the training labels.
    weight : array-like of shape (n_classes,) or None, default=None
        Class weights, as in :class:`torch.nn.CrossEntropyLoss`.
    reduction : {"mean", "sum", "none"}, default="mean"
        As in :class:`torch.nn.CrossEntropyLoss`.

    Attributes
    ----------
    log_counts : torch.Tensor of shape (n_classes,)
        ``log(n)``, a float64 buffer (cast to the logits' dtype in forward).

    See Also
    --------
    LogitAdjustedLoss : The same with a tunable strength ``tau``.

    References
    ----------
    .. [1] J. Ren, C. Yu, S. Sheng, X. Ma, H. Zhao, S. Yi and H. Li, "Balanced
       Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020.

    Examples
    --------
    >>> import torch
    >>> from skimb.nn import BalancedSoftmaxLoss
    >>> loss = BalancedSoftmaxLoss([30, 10])
    >>> round(loss(torch.zeros(1, 2), torch.tensor([1])).item(), 4)  # -log(1/4)
    1.3863
    """

    def __init__(self, class_counts, *, weight=None, reduction="mean"):
        super().__init__()
        counts = check_class_counts(class_counts)
        self.reduction = check_reduction(reduction)
        self.register_buffer("log_counts", counts.log())
        self.register_buffer("weight", check_weight(weight, len(counts)))

    def forward(self, logits, target):
        """Return the loss of ``logits`` (N, K) for integer labels ``target``."""
        weight = None if self.weight is None else self.weight.to(logits.dtype)
        adjusted = logits + self.log_counts.to(logits.dtype)
        return F.cross_entropy(
            adjusted, target, weight=weight, reduction=self.reduction
        )
