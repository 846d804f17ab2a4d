"""skimb: deep and classical classifiers for imbalanced data, the scikit-learn way.

The four estimators and the network they share are importable from here;
everything else lives in the subpackages (``skimb.metrics``, ``skimb.nn``,
``skimb.adjustment``, ``skimb.regrouping``, ``skimb.difficulty``,
``skimb.datasets``, ``skimb.plotting``).
"""

from .adjustment import BiasAdjustedClassifier
from .difficulty import DifficultyResampler
from .nn import LogitAdjustedNet, NetClassifier
from .regrouping import RegroupingClassifier

__version__ = "0.1.0"

__all__ = [
    "BiasAdjustedClassifier",
    "DifficultyResampler",
    "LogitAdjustedNet",
    "NetClassifier",
    "RegroupingClassifier",
    "__version__",
]
