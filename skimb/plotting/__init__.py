"""Displays of imbalance states and per-epoch adjustment (matplotlib, lazily)."""

from ._epoch import EpochDisplay
from ._imbalance_state import ImbalanceStateDisplay

__all__ = ["EpochDisplay", "ImbalanceStateDisplay"]
