"""Pseudo-labels: each class's rows clustered into pseudo-classes."""

import warnings
from inspect import signature

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.cluster import KMeans, MiniBatchKMeans
from tqdm import tqdm

# Classes with more rows than this are clustered by MiniBatchKMeans instead of
# KMeans when ``clusterer=None``: at 50,000 rows and hundreds of clusters
# Lloyd's iterations would cost as much as training the network.
MINIBATCH_THRESHOLD = 10_000


def make_pseudo_labels(
    Z, y_index, classes, requested, *, clusterer, rng, sample_weight, verbose
):
    """Split each class with more than one requested cluster into pseudo-classes.

    A count above the number of distinct rows of its class (zero-weight rows
    left out) is lowered to that number with a ``UserWarning``.

    Parameters
    ----------
    Z : ndarray or CSR matrix of shape (n_samples, n_features)
        What is clustered: ``X`` or the encoder's output.
    y_index : ndarray of shape (n_samples,)
        Class of each row, as an index into ``classes``.
    classes : ndarray of shape (n_classes,)
        The class labels.
    requested : ndarray of shape (n_classes,)
        Clusters asked for each class.
    clusterer : clusterer, "random" or None
        The classifier's ``clusterer``; see :func:`cluster_rows`.
    rng : RandomState
        Seeds the clusterers.
    sample_weight : ndarray of shape (n_samples,) or None
        Row weights, passed to the clusterer.
    verbose : int
        Above 0, a progress bar over the classes that are split.

    Returns
    -------
    pseudo_labels : ndarray of shape (n_samples,)
        Pseudo-class of each row; the pseudo-classes of a class are
        consecutive, in the order of ``classes``.
    pseudo_classes : ndarray of shape (n_pseudo_classes,)
        The class label of each pseudo-class.
    cluster_sizes : dict
        For each class label, the row count of each of its pseudo-classes.
    """
    pseudo_labels = np.empty(len(y_index), dtype=np.intp)
    cluster_sizes = {}
    parents, offset = [], 0
    split = int(np.sum(requested > 1))
    progress = tqdm(
        total=split,
        desc="RegroupingClassifier: clustering",
        unit="class",
        disable=verbose <= 0 or split == 0,
    )
    for j, label in enumerate(classes.tolist()):
        rows = np.flatnonzero(y_index == j)
        k = int(requested[j])
        weights = None if sample_weight is None else sample_weight[rows]
        if k > 1:
            progress.set_postfix(cls=label, n_clusters=k, rows=len(rows))
            # Zero-weight rows count as dropped: they are not distinct rows.
            kept = rows if weights is None else rows[weights > 0]
            distinct = n_distinct_rows(Z[kept])
            if k > distinct:
                warnings.warn(
                    f"Class {label!r} has {distinct} distinct rows, fewer than "
                    f"the {k} clusters asked; it is split into {distinct}.",
                    UserWarning,
                    stacklevel=4,
                )
                k = distinct
            if k > 1:
                labels = cluster_rows(clusterer, Z[rows], k, rng, weights)
            progress.update()
        if k <= 1:
            labels = np.zeros(len(rows), dtype=np.intp)
        sizes_j = np.bincount(labels)
        pseudo_labels[rows] = offset + labels
        cluster_sizes[label] = sizes_j
        parents.append(np.full(sizes_j.size, j))
        offset += sizes_j.size
    progress.close()
    return pseudo_labels, classes[np.concatenate(parents)], cluster_sizes


def cluster_rows(clusterer, Z, n_clusters, rng, sample_weight):
    """Cluster labels ``0 .. k-1`` of the rows ``Z`` of one class.

    ``clusterer="random"`` deals the rows into ``n_clusters`` groups of equal
    size; ``None`` uses ``KMeans`` (``MiniBatchKMeans`` above
    ``MINIBATCH_THRESHOLD`` rows); a clusterer is cloned and given
    ``n_clusters`` when it has that parameter. The labels it returns (noise
    ``-1`` and skipped labels included) are renumbered ``0 .. k-1``.
    """
    if clusterer == "random":
        return rng.permutation(Z.shape[0]) % n_clusters
    if clusterer is None:
        factory = MiniBatchKMeans if Z.shape[0] > MINIBATCH_THRESHOLD else KMeans
        clusterer = factory(
            n_clusters=n_clusters,
            n_init="auto",
            random_state=rng.randint(np.iinfo(np.int32).max),
        )
    else:
        clusterer = clone(clusterer)
        if "n_clusters" in clusterer.get_params():
            clusterer.set_params(n_clusters=n_clusters)
    if sample_weight is None:
        labels = clusterer.fit_predict(Z)
    elif "sample_weight" in signature(clusterer.fit_predict).parameters:
        labels = clusterer.fit_predict(Z, sample_weight=sample_weight)
    else:
        labels = clusterer.fit(Z, sample_weight=sample_weight).labels_
    # Clusterers may skip labels (empty clusters) or use -1 (noise).
    return np.unique(labels, return_inverse=True)[1]


def n_distinct_rows(Z):
    """Number of distinct rows of an array or CSR matrix."""
    if not sp.issparse(Z):
        return len(np.unique(Z, axis=0))
    Z = Z.copy()
    Z.sum_duplicates()  # canonical: sorted indices, no repeated entries
    Z.eliminate_zeros()
    bounds = zip(Z.indptr[:-1], Z.indptr[1:])
    return len({(Z.indices[a:b].tobytes(), Z.data[a:b].tobytes()) for a, b in bounds})
