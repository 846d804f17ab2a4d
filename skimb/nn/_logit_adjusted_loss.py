"""Logit-adjusted cross entropy (Menon et al., 2021)."""

from torch import nn
from torch.nn import functional as F

from ._loss_checks import (
    check_class_counts,
    check_non_negative,
    check_reduction,
    check_weight,
)


class LogitAdjustedLoss(nn.Module):
    """Cross entropy on logits shifted by the scaled log class priors.

    The loss of logits ``z`` and label ``y`` is the cross entropy of
    ``z + tau * log(pi)``, with ``pi_j = n_j / N`` the training class priors.
    Training this way and predicting with the raw ``z`` targets the balanced
    error: rare classes must win by a larger margin during training.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Number of training samples of each class, all positive.
        :class:`~skimb.nn.NetClassifier` fills it in from the training labels.
    tau : float >= 0, default=1.0
        Strength of the adjustment; ``0`` gives plain cross entropy.
    weight : array-like of shape (n_classes,) or None, default=None
        Class weights, as in :class:`torch.nn.CrossEntropyLoss`.
    reduction : {"mean", "sum", "none"}, default="mean"
        As in :class:`torch.nn.CrossEntropyLoss`; a weighted mean divides by the
        sum of the weights of the batch's labels.

    Attributes
    ----------
    log_prior : torch.Tensor of shape (n_classes,)
        ``log(pi)``, a float64 buffer (cast to the logits' dtype in forward).

    See Also
    --------
    BalancedSoftmaxLoss : The same adjustment with ``tau=1``.
    VSLoss : Adds a multiplicative per-class logit scale.
    LogitAdjustedNet : Trains a network with this loss or adjusts post hoc.

    References
    ----------
    .. [1] A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit and
       S. Kumar, "Long-tail learning via logit adjustment", ICLR 2021.

    Examples
    --------
    >>> import torch
    >>> from skimb.nn import LogitAdjustedLoss
    >>> loss = LogitAdjustedLoss([90, 10])
    >>> logits, y = torch.zeros(2, 2), torch.tensor([0, 1])
    >>> round(loss(logits, y).item(), 4)  # mean of -log(0.9) and -log(0.1)
    1.204
    """

    def __init__(self, class_counts, *, tau=1.0, weight=None, reduction="mean"):
        super().__init__()
        counts = check_class_counts(class_counts)
        self.tau = check_non_negative("tau", tau)
        self.reduction = check_reduction(reduction)
        self.register_buffer("log_prior", (counts / counts.sum()).log())
        self.register_buffer("weight", check_weight(weight, len(counts)))

    def forward(self, logits, target):
        """Return the loss of ``logits`` (N, K) for integer labels ``target``."""
        weight = None if self.weight is None else self.weight.to(logits.dtype)
        adjusted = logits + self.tau * self.log_prior.to(logits.dtype)
        return F.cross_entropy(
            adjusted, target, weight=weight, reduction=self.reduction
        )
