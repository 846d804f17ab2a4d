"""Bias adjustment of a model's imbalance state to a user's metric."""

from ._solve import solve_bias

__all__ = ["solve_bias"]
