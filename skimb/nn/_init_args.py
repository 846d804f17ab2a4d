"""Arguments a net gives its module and criterion classes unless set."""

import inspect

from ._mlp import MLP
from ._tabm_backbone import TabMBackbone

# The modules a net's ``module`` may name.
MODULES = {"mlp": MLP, "tabm": TabMBackbone}


def resolve_module(module):
    """The class ``module`` names (``"mlp"``, ``"tabm"``), else ``module`` itself."""
    if isinstance(module, str):
        return MODULES[module]
    return module


def accepts(factory, name):
    """Whether the class ``factory`` takes an ``__init__`` argument ``name``."""
    factory = resolve_module(factory)
    if not isinstance(factory, type):
        return False
    return name in inspect.signature(factory).parameters


def add_defaults(params, factory, defaults):
    """Add to ``params`` each of ``defaults`` it lacks and ``factory`` takes."""
    for name, value in defaults.items():
        if name not in params and accepts(factory, name):
            params[name] = value
    return params
