"""Training data that stays on disk: read and preprocessed a block at a time."""

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import Subset

# Rows the preprocessing of out-of-core data is fitted on: all of them up to
# this many (then the fit equals the in-memory one), else a seeded sample.
FIT_SAMPLE = 100_000


def _is_dask(X):
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "compute")


def is_out_of_core(X):
    """Whether X is data that is read a block at a time rather than whole.

    A numpy memmap, a Dask array or a torch ``Dataset`` of ``(features,
    label)`` items (skorch's own Dataset and Subsets of it excepted: they hold
    a net's prepared rows).
    """
    if isinstance(X, (Dataset, Subset)):
        return False
    return (
        isinstance(X, np.memmap)
        or _is_dask(X)
        or isinstance(X, torch.utils.data.Dataset)
    )


def _item_features(item):
    """The features of a torch Dataset item: the first of a pair, or the item."""
    if isinstance(item, (tuple, list)):
        item = item[0]
    if isinstance(item, torch.Tensor):
        item = item.detach().cpu().numpy()
    return np.asarray(item)


def read_rows(source, rows):
    """Rows ``rows`` (sorted unique indices, or a slice) of ``source`` in memory."""
    if isinstance(source, torch.utils.data.Dataset):
        if isinstance(rows, slice):
            rows = range(*rows.indices(len(source)))
        return np.stack([_item_features(source[int(i)]) for i in rows])
    block = source[rows]
    return np.asarray(block.compute() if _is_dask(block) else block)


def n_rows(source):
    """The number of rows of ``source``."""
    return source.shape[0] if hasattr(source, "shape") else len(source)


def dataset_labels(dataset):
    """The labels of a torch Dataset of ``(features, label)`` items, one pass."""
    labels = []
    for i in range(len(dataset)):
        item = dataset[i]
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise ValueError(
                "y is None and the torch Dataset's items are not (features, "
                "label) pairs; pass y, or a Dataset whose items are pairs."
            )
        label = item[1]
        labels.append(label.item() if isinstance(label, torch.Tensor) else label)
    return np.asarray(labels)


def fit_sample_rows(n, random_state):
    """Sorted rows (of ``n``) the preprocessing is fitted on: all up to FIT_SAMPLE."""
    if n <= FIT_SAMPLE:
        return np.arange(n)
    seed = random_state if isinstance(random_state, int) else None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, FIT_SAMPLE, replace=False))


class LazyRows:
    """Rows of out-of-core data, read and transformed when indexed.

    Indexing with an integer array reads those rows of ``source`` in sorted
    order (disk order, and the sorted indices that HDF5-like stores require),
    passes them through ``transform`` and returns them in the order asked
    for, so a batch holds what the in-memory path would give.

    Parameters
    ----------
    source : numpy.memmap, Dask array or torch Dataset
        The data, ``(n_rows, n_features)``.
    transform : callable
        Maps a block of raw rows to the float32 rows the module takes.
    rows : ndarray of int or None, default=None
        The rows of ``source`` these rows are (e.g. those of positive weight);
        None for all of them.
    """

    def __init__(self, source, transform, rows=None):
        self.source = source
        self.transform = transform
        self.rows = rows

    def __len__(self):
        return n_rows(self.source) if self.rows is None else len(self.rows)

    def __getitem__(self, index):
        wanted = np.arange(len(self))[index] if isinstance(index, slice) else index
        wanted = np.asarray(wanted)
        scalar = wanted.ndim == 0
        wanted = np.atleast_1d(wanted)
        physical = wanted if self.rows is None else self.rows[wanted]
        unique, inverse = np.unique(physical, return_inverse=True)
        block = self.transform(read_rows(self.source, unique))[inverse]
        return block[0] if scalar else block
