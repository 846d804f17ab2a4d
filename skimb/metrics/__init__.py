"""Metrics and scorers for imbalanced classification."""

from ._classification import minority_f1_score, model_imbalance_state
from ._scorer import get_scorer, gmean_scorer, minority_f1_scorer

__all__ = [
    "get_scorer",
    "gmean_scorer",
    "minority_f1_score",
    "minority_f1_scorer",
    "model_imbalance_state",
]
