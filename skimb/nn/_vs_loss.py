"""Vector-scaling loss (Kini et al., 2021)."""

from torch import nn
from torch.nn import functional as F

from ._loss_checks import (
    check_class_counts,
    check_non_negative,
    check_reduction,
    check_weight,
)


class VSLoss(nn.Module):
    """Cross entropy on logits scaled and shifted per class.

    The loss of logits ``z`` and label ``y`` is the cross entropy of
    ``z_j * (n_j / n_max) ** gamma + tau * log(pi_j)``: a multiplicative
    adjustment that enlarges the margins of rare classes plus the additive one
    of logit adjustment. ``gamma=0`` gives :class:`LogitAdjustedLoss`. Predict
    with the raw ``z``.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Number of training samples of each class, all positive.
        :class:`~skimb.nn.NetClassifier` fills it in from the training labels.
    gamma : float >= 0, default=0.3
        Exponent of the multiplicative adjustment.
    tau : float >= 0, default=1.0
        Strength of the additive adjustment.
    weight : array-like of shape (n_classes,) or None, default=None
        Class weights, as in :class:`torch.nn.CrossEntropyLoss`.
    reduction : {"mean", "sum", "none"}, default="mean"
        As in :class:`torch.nn.CrossEntropyLoss`.

    Attributes
    ----------
    scales : torch.Tensor of shape (n_classes,)
        ``(n_j / n_max) ** gamma``, a float64 buffer.
    log_prior : torch.Tensor of shape (n_classes,)
        ``log(pi)``, a float64 buffer.

    See Also
    --------
    LogitAdjustedLoss : The additive part alone.

    References
    ----------
    .. [1] G. R. Kini, O. Paraskevas, S. Oymak and C. Thrampoulidis,
       "Label-Imbalanced and Group-Sensitive Classification under
       Overparameterization", NeurIPS 2021.

    Examples
    --------
    >>> import torch
    >>> from skimb.nn import VSLoss
    >>> loss = VSLoss([80, 20], gamma=0.5, tau=0.0)
    >>> loss.scales
    tensor([1.0000, 0.5000], dtype=torch.float64)
    >>> round(loss(torch.tensor([[0.0, 2.0]]), torch.tensor([1])).item(), 4)
    0.3133
    """

    def __init__(
        self, class_counts, *, gamma=0.3, tau=1.0, weight=None, reduction="mean"
    ):
        super().__init__()
        counts = check_class_counts(class_counts)
        self.gamma = check_non_negative("gamma", gamma)
        self.tau = check_non_negative("tau", tau)
        self.reduction = check_reduction(reduction)
        self.register_buffer("scales", (counts / counts.max()) ** self.gamma)
        self.register_buffer("log_prior", (counts / counts.sum()).log())
        self.register_buffer("weight", check_weight(weight, len(counts)))

    def forward(self, logits, target):
        """Return the loss of ``logits`` (N, K) for integer labels ``target``."""
        weight = None if self.weight is None else self.weight.to(logits.dtype)
        adjusted = logits * self.scales.to(logits.dtype) + self.tau * self.log_prior.to(
            logits.dtype
        )
        return F.cross_entropy(
            adjusted, target, weight=weight, reduction=self.reduction
        )
