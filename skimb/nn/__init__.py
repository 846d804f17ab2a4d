"""Torch modules, losses, skorch networks and callbacks."""

from ._balanced_softmax_loss import BalancedSoftmaxLoss
from ._bias_adjustment import BiasAdjustment
from ._class_weights import class_balanced_weights
from ._classifier import NetClassifier
from ._difficulty_sampling import DifficultySampling
from ._focal_loss import FocalLoss
from ._ldam_loss import LDAMLoss
from ._logit_adjusted_loss import LogitAdjustedLoss
from ._logit_adjusted_net import LogitAdjustedNet
from ._mlp import MLP
from ._vs_loss import VSLoss

__all__ = [
    "BalancedSoftmaxLoss",
    "BiasAdjustment",
    "DifficultySampling",
    "FocalLoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "LogitAdjustedNet",
    "MLP",
    "NetClassifier",
    "VSLoss",
    "class_balanced_weights",
]
