"""Mini-batches of in-memory arrays, or of out-of-core rows, by indexing."""

import math
from numbers import Integral

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import Subset

from ._lazy_rows import LazyRows

# Out-of-core rows are read (and preprocessed) this many rows at a time, in
# whole batches, then cut into batches.
READ_ROWS = 8192


def _is_array_data(X):
    """Whether X is a numpy array or LazyRows, or a dict of them."""
    values = X.values() if isinstance(X, dict) else [X]
    return bool(values) and all(isinstance(v, (np.ndarray, LazyRows)) for v in values)


def _is_lazy(X):
    values = X.values() if isinstance(X, dict) else [X]
    return any(isinstance(v, LazyRows) for v in values)


def _rows(X, batch):
    """Rows ``batch`` of X (an array, LazyRows or a dict of them) as arrays."""
    if isinstance(X, dict):
        return {key: value[batch] for key, value in X.items()}
    return X[batch]


def _tensors(X):
    if isinstance(X, dict):
        return {key: torch.from_numpy(value) for key, value in X.items()}
    return torch.from_numpy(X)


def _take(X, batch):
    """Rows ``batch`` of X (an array or a dict of arrays) as tensors."""
    return _tensors(_rows(X, batch))


def _arrays(dataset):
    """``(X, y, rows)`` behind a plain skorch Dataset or a Subset of one, else None.

    ``rows`` are the Subset's indices (None for the whole Dataset). X is a
    numpy array or a dict of them (a net's weighted training data). Read at
    every iteration, so callbacks that swap a Subset's indices or a Dataset's
    arrays between epochs (``DifficultySampling``) are followed.
    """
    rows = None
    if isinstance(dataset, Subset):
        dataset, rows = dataset.dataset, np.asarray(dataset.indices)
    if type(dataset) is not Dataset:  # a subclass may transform its rows
        return None
    X, y = dataset.X, dataset.y
    if not _is_array_data(X) or not (y is None or isinstance(y, np.ndarray)):
        return None
    return X, y, rows


def _dataloader_permutation(n):
    """The order a shuffling ``DataLoader`` (no generator) would draw.

    A DataLoader iteration draws its base seed, then its RandomSampler draws
    a seed for a private generator that makes the permutation; drawing the
    same numbers from torch's stream keeps seeded fits identical to skorch's
    DataLoader path.
    """
    torch.empty((), dtype=torch.int64).random_()
    seed = int(torch.empty((), dtype=torch.int64).random_().item())
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()


class ArrayBatches:
    """Iterate over a skorch Dataset of numpy arrays in mini-batches.

    What ``torch.utils.data.DataLoader(dataset, batch_size, shuffle)`` yields,
    without fetching and collating one row at a time: each batch is one
    fancy-indexing of the arrays (of each array, for a dict of arrays such as
    a net's ``{"X": X, "sample_weight": w}``). Shuffling draws the same permutation from
    torch's random stream as the DataLoader would. Out-of-core rows
    (:class:`LazyRows`) are read ``READ_ROWS`` rows at a time, the next
    batches' rows in one read, so that each read and preprocessing call
    serves many batches; the batches are the same.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset
        Holding numpy arrays (see ``ArrayBatches.supports``).
    batch_size : int
        Rows per batch; the last one may be smaller.
    shuffle : bool
        Draw a new order of the rows at every iteration.
    """

    def __init__(self, dataset, batch_size, shuffle):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle

    @staticmethod
    def supports(dataset):
        """Whether ``dataset`` holds numpy arrays this iterator can batch."""
        return _arrays(dataset) is not None

    @classmethod
    def for_loader_params(cls, dataset, params, batch_size):
        """The batches a default DataLoader with ``params`` would give, or None.

        Only for ``params`` with no DataLoader argument but ``batch_size``
        (defaulting to ``batch_size``; -1 is all rows) and ``shuffle``, a
        positive ``batch_size`` and a dataset this iterator ``supports``; with
        None the DataLoader batches, and refuses an invalid ``batch_size``.
        """
        if not set(params) <= {"batch_size", "shuffle"}:
            return None
        batch_size = params.get("batch_size", batch_size)
        if batch_size == -1:
            batch_size = len(dataset)
        valid = isinstance(batch_size, Integral) and not isinstance(batch_size, bool)
        if valid and batch_size > 0 and cls.supports(dataset):
            return cls(dataset, batch_size, params.get("shuffle", False))
        return None

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        X, y, rows = _arrays(self.dataset)
        n = len(self.dataset)
        order = _dataloader_permutation(n) if self.shuffle else np.arange(n)
        if rows is not None:
            order = rows[order]
        size = self.batch_size
        if _is_lazy(X):
            size *= max(1, READ_ROWS // self.batch_size)
        for start in range(0, n, size):
            rows = order[start : start + size]
            Xr = _rows(X, rows)
            for at in range(0, len(rows), self.batch_size):
                cut = slice(at, at + self.batch_size)
                batch = rows[cut]
                yb = (
                    torch.zeros(len(batch)) if y is None else torch.from_numpy(y[batch])
                )
                yield _tensors(_rows(Xr, cut)), yb
