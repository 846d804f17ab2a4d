"""The criterion and class weights that LogitAdjustedNet's parameters name."""

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight

from ._balanced_softmax_loss import BalancedSoftmaxLoss
from ._class_weights import class_balanced_weights
from ._focal_loss import FocalLoss
from ._ldam_loss import LDAMLoss
from ._logit_adjusted_loss import LogitAdjustedLoss
from ._net_params import check_params
from ._vs_loss import VSLoss

# Losses that adjust for the class prior themselves: a post-hoc adjustment on
# top of them would adjust twice.
_LOSS_ADJUSTED = ("balanced_softmax", "ldam", "vs")


def check_loss_params(net, *, check_epochs):
    """Check ``net``'s hyperparameters, then the rules that join them.

    ``check_epochs`` also checks that ``drw_epoch`` is below ``max_epochs``
    (a ``partial_fit`` may train for more epochs than one ``max_epochs``).
    """
    check_params(net)
    if net.adjustment == "posthoc" and net.loss in _LOSS_ADJUSTED:
        raise ValueError(
            f"adjustment='posthoc' with loss={net.loss!r} would adjust the "
            "logits twice: that loss already adjusts them during training. "
            "Use adjustment='loss', or loss='logit_adjusted', 'focal' or "
            "'cross_entropy' for a post-hoc adjustment."
        )
    if net.drw_epoch is not None and net.class_weight is None:
        raise ValueError(
            f"drw_epoch={net.drw_epoch} defers class weights, but "
            "class_weight is None; set class_weight='effective_number' "
            "(LDAM-DRW) or 'balanced'."
        )
    if check_epochs and net.drw_epoch is not None:
        if net.drw_epoch >= net.max_epochs:
            raise ValueError(
                f"drw_epoch={net.drw_epoch} is beyond the last epoch: with "
                f"max_epochs={net.max_epochs} the re-weighting would never "
                f"start; choose drw_epoch < {net.max_epochs}."
            )


def class_weights(class_weight, counts, classes, beta):
    """The class weights ``class_weight`` names for the class ``counts``, or None.

    ``"balanced"`` is ``N / (K n_j)``, ``"effective_number"``
    :func:`class_balanced_weights` with ``beta``, and a dict maps labels of
    ``classes`` to weights (absent labels get 1).
    """
    if class_weight is None:
        return None
    if isinstance(class_weight, str) and class_weight == "effective_number":
        return class_balanced_weights(counts, beta=beta)
    if isinstance(class_weight, str):  # "balanced": N / (K n_j)
        return counts.sum() / (len(counts) * counts)
    return compute_class_weight(class_weight, classes=classes, y=classes)


def loss_factory(net):
    """Return the criterion class ``net.loss`` names and its arguments."""
    counts = net.class_counts_
    if net.loss == "cross_entropy" or (
        net.loss == "logit_adjusted" and net.adjustment == "posthoc"
    ):
        return torch.nn.CrossEntropyLoss, {}
    if net.loss == "logit_adjusted":
        return LogitAdjustedLoss, {"class_counts": counts, "tau": net.tau}
    if net.loss == "balanced_softmax":
        return BalancedSoftmaxLoss, {"class_counts": counts}
    if net.loss == "ldam":
        return LDAMLoss, {
            "class_counts": counts,
            "max_m": net.ldam_max_m,
            "s": net.ldam_s,
        }
    if net.loss == "vs":
        return VSLoss, {
            "class_counts": counts,
            "gamma": net.vs_gamma,
            "tau": net.tau,
        }
    return FocalLoss, {"gamma": net.focal_gamma}


def prior_adjustment(adjustment, tau, counts):
    """``tau * log(pi)`` for ``adjustment="posthoc"``, else None."""
    if adjustment != "posthoc":
        return None
    return tau * np.log(counts / counts.sum())
