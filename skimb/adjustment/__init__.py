"""Bias adjustment of a model's imbalance state to a user's metric."""

from ._callback import BiasAdjustment
from ._classifier import BiasAdjustedClassifier
from ._ensemble import FoldEnsemble
from ._search import search_target
from ._solve import solve_bias

__all__ = [
    "BiasAdjustedClassifier",
    "BiasAdjustment",
    "FoldEnsemble",
    "search_target",
    "solve_bias",
]
