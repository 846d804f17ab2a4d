"""Bundled imbalanced datasets and long-tailed dataset builders."""

from ._keel import list_keel, load_keel
from ._long_tailed import make_long_tailed

__all__ = ["list_keel", "load_keel", "make_long_tailed"]
