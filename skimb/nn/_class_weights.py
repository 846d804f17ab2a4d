"""Class-balanced weights from the effective number of samples."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params


@validate_params(
    {
        "counts": ["array-like"],
        "beta": [Interval(Real, 0, 1, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def class_balanced_weights(counts, beta=0.9999):
    """Class weights inversely proportional to the effective number of samples.

    The effective number of a class of ``n`` samples is
    ``E_n = (1 - beta**n) / (1 - beta)``; class ``j`` gets the weight
    ``1 / E_{n_j}``, and the weights are normalised to sum to the number of
    classes (Cui et al., 2019). ``beta=0`` gives all ones; ``beta`` close to 1
    approaches inverse class frequency.

    Parameters
    ----------
    counts : array-like of shape (n_classes,)
        Number of training samples of each class, all positive.
    beta : float in [0, 1), default=0.9999
        Hyperparameter of the effective number; the paper uses 0.9, 0.99,
        0.999 or 0.9999.

    Returns
    -------
    weights : ndarray of shape (n_classes,)
        Positive float64 weights that sum to ``n_classes``.

    See Also
    --------
    sklearn.utils.class_weight.compute_class_weight : Inverse-frequency weights.
    skimb.nn.LogitAdjustedNet : Uses these weights for
        ``class_weight="effective_number"``.

    References
    ----------
    .. [1] Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced
       Loss Based on Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> from skimb.nn import class_balanced_weights
    >>> class_balanced_weights([100, 10, 1], beta=0.0)
    array([1., 1., 1.])
    >>> w = class_balanced_weights([100, 10, 1], beta=0.99)
    >>> w.round(3), float(w.sum())
    (array([0.042, 0.28 , 2.678]), 3.0)
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size < 1 or not np.all(counts > 0):
        raise ValueError(
            "counts must be a 1-d array of positive class counts; "
            f"got {counts.tolist()}."
        )
    weights = (1.0 - beta) / (1.0 - np.power(beta, counts))
    return weights * (counts.size / weights.sum())
