"""Logits that live in row blocks: a Dask array or a re-iterable of blocks.

A pass of the bias solve over such logits is a map-reduce: each block gives
fixed-size sums (of the weights, the log-sum-exps, the softmax probabilities,
their outer products, or the sigmoids of the binary margins) and the sums of
all blocks are added. A Dask array is reduced by ``map_blocks`` and ``sum``,
computed once per pass on whatever scheduler is active (a
``distributed.Client`` included); an iterable is read block after block. The
whole array is never held: the extra memory is that of one block.
"""

from collections.abc import Iterator

import numpy as np
import torch
from scipy.special import expit

# Sigmoids per piece in the binary margin sums (as the in-memory solve).
_PIECE = 1 << 20


def is_dask_array(x):
    """Whether ``x`` is a Dask array (without importing dask otherwise)."""
    return type(x).__module__.split(".")[0] == "dask" and hasattr(x, "map_blocks")


def _is_block(x):
    return isinstance(x, (np.ndarray, torch.Tensor)) and x.ndim == 2


def is_chunked(logits):
    """Whether ``logits`` are given in chunks rather than as one array.

    Chunks are a Dask array, a callable returning an iterator of 2-D
    blocks, or a list or tuple of 2-D numpy arrays or torch tensors. A
    one-shot iterator (a generator) is refused: each Newton pass re-reads
    the blocks.
    """
    if is_dask_array(logits) or callable(logits):
        return True
    if isinstance(logits, Iterator):
        raise ValueError(
            "logits given as an iterator can be read only once, and each Newton "
            "pass re-reads them; pass a list of blocks or a callable returning a "
            f"new iterator of blocks (got {type(logits).__name__})."
        )
    return (
        isinstance(logits, (list, tuple))
        and len(logits) > 0
        and all(_is_block(b) for b in logits)
    )


def _as_float64(block, n_classes):
    """A block as a float64 numpy array, checked: 2-D, numeric, finite."""
    if isinstance(block, torch.Tensor):
        block = block.detach().cpu().numpy()
    block = np.asarray(block)
    if not np.issubdtype(block.dtype, np.number) or block.ndim != 2:
        raise ValueError(
            "every block of logits must be a numeric 2-D array (rows, n_classes); "
            f"got dtype {block.dtype} and shape {block.shape}."
        )
    if n_classes is not None and block.shape[1] != n_classes:
        raise ValueError(
            f"every block of logits must have {n_classes} columns; got a block "
            f"of shape {block.shape}."
        )
    block = block.astype(np.float64, copy=False)
    if not np.isfinite(block).all():
        raise ValueError("logits contain NaN or infinite values.")
    return block


def _check_block_weights(w):
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64).ravel()
    if not (np.isfinite(w).all() and (w >= 0).all()):
        raise ValueError("sample_weight must be finite and non-negative.")
    return w


def softmax_sums(z, w, bias, hessian):
    """``[sum w, sum w lse(z + b), sum w p (K), sum w p p^T (K*K)]`` of a block."""
    z = z + bias
    z_max = z.max(axis=1, keepdims=True)
    e = np.exp(z - z_max)
    s = e.sum(axis=1, keepdims=True)
    p = e / s
    lse = np.log(s[:, 0]) + z_max[:, 0]
    if w is None:
        parts = [[len(z), lse.sum()], p.sum(axis=0)]
        if hessian:
            parts.append((p.T @ p).ravel())
    else:
        parts = [[w.sum(), w @ lse], w @ p]
        if hessian:
            parts.append(((p * w[:, None]).T @ p).ravel())
    return np.concatenate(parts)


def margin_sums(z, w, betas):
    """``[sum w, sum w s (T), sum w s (1 - s) (T)]``, ``s = expit(z1 - z0 + beta)``."""
    m = z[:, 1] - z[:, 0]
    state, slope = np.empty(betas.size), np.empty(betas.size)
    step = max(1, _PIECE // max(m.size, 1))
    for start in range(0, betas.size, step):
        piece = slice(start, start + step)
        s = expit(m[None, :] + betas[piece, None])
        if w is None:
            state[piece], slope[piece] = s.sum(axis=1), (s * (1 - s)).sum(axis=1)
        else:
            state[piece], slope[piece] = s @ w, (s * (1 - s)) @ w
    return np.concatenate([[m.size if w is None else w.sum()], state, slope])


class ChunkedLogits:
    """Logits in row blocks, reduced block by block.

    Parameters
    ----------
    logits : dask array, list or tuple of 2-D blocks, or callable
        A Dask array of shape (n_samples, n_classes), any row chunks; a list
        or tuple of 2-D numpy arrays or torch tensors; or a callable
        returning a new iterator of such blocks each time it is called.
    sample_weight : array-like of shape (n_samples,), dask array or None
        Row weights in the row order of the blocks; a numpy array is sliced
        block by block, a 1-D Dask array (for Dask logits) rechunked to the
        logits' rows.
    """

    def __init__(self, logits, sample_weight=None):
        self.logits = logits
        self.sample_weight = sample_weight

    def prepare(self):
        """Check what can be checked without a pass; return the number of classes."""
        if is_dask_array(self.logits):
            if self.logits.ndim != 2:
                raise ValueError(
                    "logits must be 2-D (n_samples, n_classes); got a Dask array "
                    f"of shape {self.logits.shape}."
                )
            if not np.issubdtype(self.logits.dtype, np.number):
                raise ValueError(
                    f"logits must be numeric; got dtype {self.logits.dtype}."
                )
            # One chunk across the classes: each block holds whole rows.
            self.array_ = self.logits.rechunk({1: -1})
            self.weights_ = self._dask_weights()
            return int(self.logits.shape[1])
        self.array_ = None
        first = next(iter(self._blocks()), None)
        if first is None:
            raise ValueError("logits must have at least one block; got none.")
        self.weights_ = None
        if self.sample_weight is not None:
            if is_dask_array(self.sample_weight):
                raise ValueError(
                    "a Dask sample_weight goes with Dask logits; with blocks, "
                    "pass sample_weight as one array of all rows."
                )
            self.weights_ = _check_block_weights(self.sample_weight)
        return _as_float64(first, None).shape[1]

    def _blocks(self):
        return self.logits() if callable(self.logits) else iter(self.logits)

    def _dask_weights(self):
        import dask.array as da

        w = self.sample_weight
        if w is None:
            return None
        rows = self.array_.chunks[0]
        if not is_dask_array(w):
            w = np.asarray(w)
            if w.shape != (self.array_.shape[0],):
                raise ValueError(
                    f"sample_weight must have one entry per row, shape "
                    f"({self.array_.shape[0]},); got shape {w.shape}."
                )
            return da.from_array(w, chunks=(rows,))
        if w.ndim != 1 or w.shape[0] != self.array_.shape[0]:
            raise ValueError(
                f"sample_weight must have one entry per row, shape "
                f"({self.array_.shape[0]},); got shape {w.shape}."
            )
        return w.rechunk((rows,))

    def reduce(self, sums, size):
        """Sum of ``sums(z, w)`` (a vector of ``size``) over the blocks.

        ``z`` is a float64 block, ``w`` its weights or None. Returns the sum,
        whose entry 0 must be the total weight (rows without weights),
        checked to be positive.
        """
        if self.array_ is not None:
            total = self._reduce_dask(sums, size)
        else:
            total = self._reduce_blocks(sums, size)
        if not total[0] > 0:
            raise ValueError(
                "sample_weight sums to zero; the weighted mean softmax is undefined."
            )
        return total

    def _reduce_dask(self, sums, size):
        import dask.array as da

        n_classes = self.array_.shape[1]

        def block_sums(z, w=None):
            z = _as_float64(z, n_classes)
            return sums(z, _check_block_weights(w))[None, :]

        args = [self.array_]
        if self.weights_ is not None:
            args.append(self.weights_[:, None])
        reduced = da.map_blocks(
            block_sums,
            *args,
            chunks=((1,) * self.array_.numblocks[0], (size,)),
            dtype=np.float64,
        )
        return np.asarray(reduced.sum(axis=0).compute(), dtype=np.float64)

    def _reduce_blocks(self, sums, size):
        total, offset, n_classes = np.zeros(size), 0, None
        for block in self._blocks():
            z = _as_float64(block, n_classes)
            n_classes = z.shape[1]
            w = None
            if self.weights_ is not None:
                w = self.weights_[offset : offset + len(z)]
                if len(w) != len(z):
                    raise ValueError(
                        f"sample_weight has {len(self.weights_)} entries but the "
                        f"blocks of logits have more rows."
                    )
            total += sums(z, w)
            offset += len(z)
        if self.weights_ is not None and offset != len(self.weights_):
            raise ValueError(
                f"sample_weight has {len(self.weights_)} entries but the blocks "
                f"of logits have {offset} rows."
            )
        if offset == 0:
            raise ValueError("logits must have at least one row; got none.")
        return total

    def softmax_pass(self, bias, *, hessian):
        """Objective, mean softmax and Hessian part at ``bias``, in one pass.

        The contract of the in-memory passes of the K-class Newton solve.
        """
        k = len(bias)
        size = 2 + k + (k * k if hessian else 0)
        total = self.reduce(lambda z, w: softmax_sums(z, w, bias, hessian), size)
        weight = total[0]
        outer = total[2 + k :].reshape(k, k) if hessian else np.zeros((k, k))
        return total[1] / weight, total[2 : 2 + k] / weight, outer / weight

    def margin_states(self, betas):
        """Mean class-1 probability and its derivative at each of ``betas``."""
        t = betas.size
        total = self.reduce(lambda z, w: margin_sums(z, w, betas), 1 + 2 * t)
        return total[1 : 1 + t] / total[0], total[1 + t :] / total[0]
