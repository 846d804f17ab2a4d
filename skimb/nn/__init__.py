"""Torch modules, losses, skorch networks and callbacks."""

from ._classifier import NetClassifier
from ._mlp import MLP

__all__ = ["MLP", "NetClassifier"]
