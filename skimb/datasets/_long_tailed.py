"""Long-tailed subsampling with the exponential profile of long-tailed CIFAR."""

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_X_y


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "imbalance_ratio": [Interval(Real, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_long_tailed(X, y, *, imbalance_ratio, random_state=None):
    """Subsample ``(X, y)`` to an exponential long-tailed class profile.

    With the classes ranked by decreasing frequency (ties: sorted label order),
    class ``i`` of ``K`` keeps ``floor(n_max * mu**i)`` samples, where
    ``mu = imbalance_ratio ** (-1 / (K - 1))``, as in long-tailed CIFAR
    (Cao et al., 2019). ``n_max`` is the largest head size that every class can
    supply, so the profile is exact; on balanced input it is the class size.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features.
    y : array-like of shape (n_samples,)
        Labels, at least two classes.
    imbalance_ratio : float >= 1
        Size of the largest class over the size of the smallest.
    random_state : int, RandomState instance or None, default=None
        Which samples are kept.

    Returns
    -------
    X_lt : ndarray of shape (n_kept, n_features)
        The kept rows, in their original order.
    y_lt : ndarray of shape (n_kept,)
        Their labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skimb.datasets import make_long_tailed
    >>> X, y = load_digits(return_X_y=True)
    >>> X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=10, random_state=0)
    >>> counts = np.bincount(y_lt)
    >>> int(counts.max() // counts.min())
    10
    """
    X, y = check_X_y(X, y, accept_sparse="csr", dtype=None, ensure_all_finite=False)
    labels, y_index, counts = np.unique(y, return_inverse=True, return_counts=True)
    if labels.size < 2:
        raise ValueError("y has a single class; a long tail needs at least two.")
    order = np.argsort(-counts, kind="stable")
    mu = imbalance_ratio ** (-1.0 / (labels.size - 1))
    shares = mu ** np.arange(labels.size)
    n_max = np.min(counts[order] / shares)
    sizes = np.floor(n_max * shares + 1e-9).astype(int)
    if sizes[-1] < 1:
        raise ValueError(
            f"imbalance_ratio={imbalance_ratio} leaves the smallest class empty: "
            f"the largest class can hold at most {int(n_max)} samples."
        )
    rng = check_random_state(random_state)
    keep = np.concatenate(
        [
            rng.choice(np.flatnonzero(y_index == label), size, replace=False)
            for label, size in zip(order, sizes)
        ]
    )
    keep.sort()
    return X[keep], y[keep]
