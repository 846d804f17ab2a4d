"""Label-distribution-aware margin loss (Cao et al., 2019)."""

from torch import nn
from torch.nn import functional as F

from ._loss_checks import (
    check_class_counts,
    check_positive,
    check_reduction,
    check_weight,
)


class LDAMLoss(nn.Module):
    """Cross entropy with a class-dependent margin on the true-class cosine.

    Class ``j`` gets the margin ``m_j = max_m * (n_min / n_j) ** (1/4)``, so
    the rarest class has ``max_m``. With ``c`` the cosines of a cosine
    classifier, the reference loss is the cross entropy of
    ``s * (c - m_y e_y)``: the margin is subtracted from the true class only.

    This module expects the logits ``z = s * c`` of a cosine head that already
    applies the scale (``MLP(cosine=True, scale=s)``) and computes the cross
    entropy of ``z - s * m_y e_y``, the same number. Putting ``s`` in the head
    keeps ``softmax(z)`` a meaningful probability at prediction time, where no
    margin applies. On ordinary linear logits the default ``s=30`` is wrong.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Number of training samples of each class, all positive.
        :class:`~skimb.nn.NetClassifier` fills it in from the training labels.
    max_m : float > 0, default=0.5
        Margin of the rarest class, in cosine units.
    s : float > 0, default=30.0
        Scale of the cosine head that produced the logits.
    weight : array-like of shape (n_classes,) or None, default=None
        Class weights, as in :class:`torch.nn.CrossEntropyLoss` (deferred
        re-weighting switches them on late in training).
    reduction : {"mean", "sum", "none"}, default="mean"
        As in :class:`torch.nn.CrossEntropyLoss`.

    Attributes
    ----------
    margins : torch.Tensor of shape (n_classes,)
        ``m_j`` in cosine units, a float64 buffer.

    See Also
    --------
    MLP : Its ``cosine=True, scale=s`` head is the one LDAM assumes.
    LogitAdjustedNet : ``loss="ldam"`` wires the head, the loss and DRW.

    References
    ----------
    .. [1] K. Cao, C. Wei, A. Gaidon, N. Arechiga and T. Ma, "Learning
       Imbalanced Datasets with Label-Distribution-Aware Margin Loss",
       NeurIPS 2019.

    Examples
    --------
    >>> import torch
    >>> from skimb.nn import LDAMLoss
    >>> loss = LDAMLoss([160, 10], max_m=0.5, s=30.0)
    >>> loss.margins
    tensor([0.2500, 0.5000], dtype=torch.float64)
    >>> cosines = torch.tensor([[0.0, 0.5]])
    >>> round(loss(30 * cosines, torch.tensor([1])).item(), 4)  # log(2)
    0.6931
    """

    def __init__(
        self, class_counts, *, max_m=0.5, s=30.0, weight=None, reduction="mean"
    ):
        super().__init__()
        counts = check_class_counts(class_counts)
        self.max_m = check_positive("max_m", max_m)
        self.s = check_positive("s", s)
        self.reduction = check_reduction(reduction)
        self.register_buffer("margins", self.max_m * (counts.min() / counts) ** 0.25)
        self.register_buffer("weight", check_weight(weight, len(counts)))
        # -s * m_j, computed once (float64, like the margins).
        self.register_buffer("_shift", -self.s * self.margins, persistent=False)

    def forward(self, logits, target):
        """Return the loss of the scaled cosine logits (N, K) for ``target``."""
        weight = None if self.weight is None else self.weight.to(logits.dtype)
        # subtract s * m_y from the true-class logit only, out of place
        shift = self._shift.to(logits.dtype)[target, None]
        adjusted = logits.scatter_add(1, target[:, None], shift)
        return F.cross_entropy(
            adjusted, target, weight=weight, reduction=self.reduction
        )
