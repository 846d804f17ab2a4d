"""Torch modules, losses, batching and skorch networks: the ground floor."""

from ._accelerate import AccelerateMixin
from ._balanced_softmax_loss import BalancedSoftmaxLoss
from ._batches import ArrayBatches
from ._class_weights import class_balanced_weights
from ._classifier import NetClassifier
from ._focal_loss import FocalLoss
from ._ldam_loss import LDAMLoss
from ._logit_adjusted_loss import LogitAdjustedLoss
from ._logit_adjusted_net import LogitAdjustedNet
from ._logits_predict import LogitsPredictMixin
from ._mlp import MLP
from ._preprocessing import TabularPreprocessor
from ._tabm_backbone import TabMBackbone
from ._vs_loss import VSLoss

__all__ = [
    "AccelerateMixin",
    "ArrayBatches",
    "BalancedSoftmaxLoss",
    "FocalLoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "LogitAdjustedNet",
    "LogitsPredictMixin",
    "MLP",
    "NetClassifier",
    "TabMBackbone",
    "TabularPreprocessor",
    "VSLoss",
    "class_balanced_weights",
]
