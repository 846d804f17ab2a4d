"""The hyperparameter rules of a net, checked when it fits."""

from numbers import Integral, Real

from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_parameter_constraints,
)

# NetClassifier's ``_parameter_constraints``, checked at fit by
# ``check_params`` (skorch's ``_validate_params``, which shadows
# scikit-learn's, checks argument names at initialisation).
NET_PARAMETER_CONSTRAINTS = {
    "module": [callable, StrOptions({"mlp", "tabm"})],
    "criterion": [callable],
    "optimizer": [callable],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [
        Interval(Integral, 1, None, closed="left"),
        Options(Integral, {-1}),
    ],
    "predict_batch_size": [
        None,
        Interval(Integral, 1, None, closed="left"),
        Options(Integral, {-1}),
    ],
    "train_split": [None, callable],
    "preprocessing": [
        None,
        StrOptions({"quantile", "robust"}),
        HasMethods(["fit", "transform"]),
    ],
    "early_stopping": ["boolean", StrOptions({"auto"})],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "lr_schedule": [None, StrOptions({"cosine", "plateau"})],
    "init_bias": [None, StrOptions({"prior"})],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "classes": [None, "array-like"],
}


def check_params(net):
    """Check the hyperparameters of ``net`` against its ``_parameter_constraints``."""
    for name in ("max_epochs", "batch_size", "predict_batch_size", "n_iter_no_change"):
        value = getattr(net, name)
        if isinstance(value, bool):  # an Integral to scikit-learn
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(net).__name__} must be an "
                f"int, not a bool. Got {value!r} instead."
            )
    validate_parameter_constraints(
        net._parameter_constraints,
        {
            name: getattr(net, name)
            for name in net._parameter_constraints
            if hasattr(net, name)
        },
        caller_name=type(net).__name__,
    )
