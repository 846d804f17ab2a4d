"""Regrouping: learn latent pseudo-classes of the large classes."""

from ._classifier import RegroupingClassifier

__all__ = ["RegroupingClassifier"]
