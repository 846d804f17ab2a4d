"""Torch modules, losses, skorch networks and callbacks."""

from ._classifier import NetClassifier
from ._difficulty_sampling import DifficultySampling
from ._mlp import MLP

__all__ = ["DifficultySampling", "MLP", "NetClassifier"]
