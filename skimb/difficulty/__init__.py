"""Instance difficulty and difficulty-based resampling."""

from ._callback import DifficultySampling
from ._instance_difficulty import InstanceDifficulty
from ._resampler import DifficultyResampler

__all__ = ["DifficultyResampler", "DifficultySampling", "InstanceDifficulty"]
