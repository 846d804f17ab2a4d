"""Class probabilities from pseudo-class probabilities, by chunks of rows."""

import numpy as np
from sklearn import get_config
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows


def aggregate(pseudo_proba, parents, aggregation):
    """Class scores from pseudo-class scores, normalised to sum to one.

    Parameters
    ----------
    pseudo_proba : array-like of shape (n_samples, n_pseudo_classes)
        The estimator's pseudo-class probabilities.
    parents : ndarray of shape (n_pseudo_classes,)
        Class index of each column; a class's columns are consecutive.
    aggregation : {"max", "sum"}
        ``"max"``: a class scores its largest pseudo-class probability;
        ``"sum"``: their total.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        ``s_c / sum_c' s_c'`` with ``s_c`` the max or sum over ``c``'s columns.
    """
    starts = np.flatnonzero(np.r_[True, np.diff(parents) != 0])
    reduce = np.maximum if aggregation == "max" else np.add
    scores = reduce.reduceat(np.asarray(pseudo_proba, dtype=float), starts, 1)
    return scores / scores.sum(axis=1, keepdims=True)


def row_chunks(n_rows, n_pseudo):
    """Row batches whose pseudo-class probabilities fit ``working_memory``."""
    # The estimator's float64 output plus the reduce's copy, per row.
    size = get_chunk_n_rows(
        row_bytes=2 * 8 * n_pseudo,
        max_n_rows=n_rows,
        working_memory=get_config()["working_memory"],
    )
    return gen_batches(n_rows, max(size, 1))
