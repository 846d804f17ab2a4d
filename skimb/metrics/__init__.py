"""Metrics and scorers for imbalanced classification."""

from ._classification import minority_f1_score, model_imbalance_state
from ._cost import make_cost_scorer, negative_expected_cost
from ._scorer import get_scorer, gmean_scorer, minority_f1_scorer

__all__ = [
    "get_scorer",
    "gmean_scorer",
    "make_cost_scorer",
    "minority_f1_score",
    "minority_f1_scorer",
    "model_imbalance_state",
    "negative_expected_cost",
]
