"""Checks of a net's training data, sample weights and training loss."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import _check_sample_weight

# Features whose largest magnitude is above this get a warning: an MLP
# initialised for unit-scale inputs saturates or diverges on them.
SCALE_LIMIT = 1e6

# A fit from scratch whose best later epoch's training loss is not at least
# this fraction below the first epoch's gets a ConvergenceWarning.
LOSS_TOLERANCE = 1e-2


def check_feature_scale(X, feature_names=None):
    """Warn about the columns of ``X`` whose magnitude exceeds ``SCALE_LIMIT``."""
    if X.shape[0] == 0:
        return
    peak = np.abs(X).max(axis=0)
    large = np.flatnonzero(peak > SCALE_LIMIT)
    if not large.size:
        return
    names = [str(i if feature_names is None else feature_names[i]) for i in large]
    more = f" and {large.size - 10} more" if large.size > 10 else ""
    warnings.warn(
        f"{large.size} feature(s) of X reach magnitudes above {SCALE_LIMIT:.0e} "
        f"(columns {', '.join(names[:10])}{more}; largest {peak.max():.3g}): a "
        "network trained on them saturates or stalls. Scale X first, e.g. "
        "make_pipeline(StandardScaler(), net), or QuantileTransformer for "
        "heavy-tailed features.",
        UserWarning,
        stacklevel=4,
    )


def check_weights(sample_weight, X):
    """Return ``sample_weight`` as float32, checked one finite number >= 0 a row."""
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float32, ensure_non_negative=True
    )
    if not np.all(np.isfinite(sample_weight)):
        raise ValueError(
            "sample_weight must be finite; got NaN or infinity at rows "
            f"{np.flatnonzero(~np.isfinite(sample_weight))[:10].tolist()}."
        )
    return sample_weight


def check_convergence(train_losses):
    """Warn when no epoch after the first lowered the training loss by 1%."""
    losses = np.array([np.nan if v is None else v for v in train_losses], float)
    if losses.size < 2:
        return
    first, best = losses[0], np.min(losses[1:])
    if np.isfinite(first) and np.isfinite(best):
        if first <= 1e-6 or best < first - LOSS_TOLERANCE * abs(first):
            return
    warnings.warn(
        f"The training loss did not go down over {losses.size} epochs (first "
        f"epoch {first:.6g}, best later epoch {best:.6g}): the network has "
        "not learned. Check lr, scale the features (StandardScaler), or train "
        "for more epochs.",
        ConvergenceWarning,
        stacklevel=4,
    )
