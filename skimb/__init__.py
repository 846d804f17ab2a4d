"""skimb: deep and classical classifiers for imbalanced data, the scikit-learn way."""

__version__ = "0.1.0"
