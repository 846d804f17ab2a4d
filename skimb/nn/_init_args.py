"""Arguments a net gives its module and criterion classes unless set."""

import inspect


def accepts(factory, name):
    """Whether the class ``factory`` takes an ``__init__`` argument ``name``."""
    if not isinstance(factory, type):
        return False
    return name in inspect.signature(factory).parameters


def add_defaults(params, factory, defaults):
    """Add to ``params`` each of ``defaults`` it lacks and ``factory`` takes."""
    for name, value in defaults.items():
        if name not in params and accepts(factory, name):
            params[name] = value
    return params
