"""Long-tailed subsampling with the exponential profile of long-tailed CIFAR."""

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_X_y


def _profile(n_tail, ratios):
    """Class sizes, head first, for a tail of ``n_tail`` rows."""
    return np.floor(n_tail * ratios + 0.5).astype(np.int64)


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
    class ``i`` of ``K`` keeps ``round(n_tail * imbalance_ratio ** ((K - 1 - i)
    / (K - 1)))`` samples, the profile ``n_max * mu**i`` with
    ``mu = imbalance_ratio ** (-1 / (K - 1))`` of long-tailed CIFAR (Cao et
    al., 2019) anchored at its tail. ``n_tail``, the size of the smallest
    class, is the largest number of rows for which every class can supply its
    share. The largest class then holds ``round(n_tail * imbalance_ratio)``
    rows, so the ratio obtained is the one asked for up to the rounding of
    the head, ``|n_max / n_tail - imbalance_ratio| <= 0.5 / n_tail``. A
    ratio that the classes cannot supply with at least one row in the tail is
    refused, and the error gives the largest ratio they can. On balanced input
    with ``imbalance_ratio=1`` every class keeps the size of the smallest.

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

    Raises
    ------
    ValueError
        If not even a tail of one row leaves every class enough rows for
        ``imbalance_ratio``; the message gives the largest ratio possible.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skimb.datasets import make_long_tailed
    >>> X, y = load_digits(return_X_y=True)
    >>> X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=10, random_state=0)
    >>> counts = np.bincount(y_lt)
    >>> int(counts.max()), int(counts.min())
    (180, 18)
    >>> counts = np.bincount(make_long_tailed(X, y, imbalance_ratio=150)[1])
    >>> int(counts.max()), int(counts.min())
    (150, 1)
    """
    X, y = check_X_y(X, y, accept_sparse="csr", dtype=None, ensure_all_finite=False)
    labels, y_index, counts = np.unique(y, return_inverse=True, return_counts=True)
    if labels.size < 2:
        raise ValueError("y has a single class; a long tail needs at least two.")
    order = np.argsort(-counts, kind="stable")
    available = counts[order]
    # Size of class i relative to the tail: imbalance_ratio ** ((K-1-i)/(K-1)).
    ratios = imbalance_ratio ** (np.arange(labels.size)[::-1] / (labels.size - 1))
    ratios[-1] = 1.0
    ratios[0] = imbalance_ratio

    def fits(n_tail):
        return bool(np.all(_profile(n_tail, ratios) <= available))

    if not fits(1):
        # Largest ratio with a one-row tail: class i needs ratio ** e_i
        # rows, e_i = (K-1-i)/(K-1), rounded; it can hold available[i] + 0.5.
        exponents = np.arange(labels.size)[::-1][:-1] / (labels.size - 1)
        best = float(np.min((available[:-1] + 0.5) ** (1 / exponents)))
        best = np.nextafter(best, 0)
        while not np.all(_profile(1, best ** np.r_[exponents, 0.0]) <= available):
            best = np.nextafter(best, 0)
        raise ValueError(
            f"imbalance_ratio={imbalance_ratio} cannot be reached: even with one "
            f"row in the smallest class, the classes (sizes "
            f"{available.tolist()}, largest first) cannot supply the profile; "
            f"the largest ratio they can give is {np.floor(best * 100) / 100:g}."
        )
    # Sizes grow with n_tail: bisect for the largest tail that fits.
    low, high = 1, int(available[-1]) + 1  # fits(low), not fits(high)
    while high - low > 1:
        mid = (low + high) // 2
        if fits(mid):
            low = mid
        else:
            high = mid
    sizes = _profile(low, ratios)
    rng = check_random_state(random_state)
    keep = np.concatenate(
        [
            rng.choice(np.flatnonzero(y_index == label), size, replace=False)
            for label, size in zip(order, sizes)
        ]
    )
    keep.sort()
    return X[keep], y[keep]
