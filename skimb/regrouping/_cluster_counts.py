"""How many pseudo-classes each class is asked to split into."""

import warnings
from numbers import Integral

import numpy as np

# Default cap on the automatic number of pseudo-classes of one class: the seed
# paper's largest imbalance (binary CIFAR-100 at 99:1, K = IR = 99) and every
# benchmark here stay below it, while 10,000:1 no longer asks for 9,999.
MAX_CLUSTERS = 100


def requested_clusters(classes, sizes, *, n_clusters, min_class_size, max_clusters):
    """Number of clusters asked for each class, before the distinct-row cap.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The sorted class labels.
    sizes : ndarray of shape (n_classes,)
        Size of each class: a count, or a sum of sample weights.
    n_clusters : "auto", int or dict
        The classifier's ``n_clusters``. ``"auto"`` asks for
        ``ceil(n_j / min_class_size)`` clusters of a class larger than
        ``min_class_size``, capped at ``max_clusters``.
    min_class_size : int or None
        Size above which a class is split; ``None`` is the smallest size.
    max_clusters : int or None
        Cap on an ``"auto"`` count; a ``UserWarning``, raised at the caller
        of ``RegroupingClassifier.fit``, names the capped classes.

    Returns
    -------
    requested : ndarray of shape (n_classes,)
        Clusters asked for each class; ``1`` leaves a class whole.
    """
    if isinstance(n_clusters, dict):
        unknown = [k for k in n_clusters if k not in set(classes)]
        if unknown:
            raise ValueError(
                f"n_clusters names classes that are not in y: {unknown}; "
                f"the classes are {classes.tolist()}."
            )
        bad = {k: v for k, v in n_clusters.items() if not _is_count(v)}
        if bad:
            raise ValueError(f"n_clusters values must be integers >= 1, got {bad}.")
        return np.array([n_clusters.get(c, 1) for c in classes])
    size = sizes.min() if min_class_size is None else min_class_size
    # Rounded so that sums of float weights equal to a multiple of the
    # size do not ask for one cluster more.
    large = np.round(sizes / size, 9) > 1
    if n_clusters != "auto":
        return np.where(large, n_clusters, 1)
    auto = np.ceil(np.round(sizes / size, 9)).astype(np.int64)
    requested = np.where(large, auto, 1)
    if max_clusters is not None and requested.max() > max_clusters:
        capped = {
            label: int(k)
            for label, k in zip(classes.tolist(), requested)
            if k > max_clusters
        }
        warnings.warn(
            f"n_clusters='auto' asks for {capped} clusters (class: count), "
            f"more than max_clusters={max_clusters}; those classes are "
            f"split into {max_clusters}. Set max_clusters (None: no cap) "
            "or n_clusters to choose.",
            UserWarning,
            stacklevel=4,
        )
        requested = np.minimum(requested, max_clusters)
    return requested


def _is_count(value):
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1
