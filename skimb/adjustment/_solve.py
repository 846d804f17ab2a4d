"""Exact bias solve: the bias that moves a model's imbalance state to a target."""

import numbers
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import _check_sample_weight

from ._chunked_logits import ChunkedLogits, is_chunked, is_dask_array
from ._margin_solve import solve_binary
from ._newton_solve import solve_multiclass

# Smallest accepted target entry: below it the minimiser runs off to -inf.
MIN_TARGET = 1e-4


def check_target(target, n_classes):
    """Validate a target model imbalance state and return it as float64.

    Parameters
    ----------
    target : array-like of shape (n_classes,)
        Mean class probabilities to reach.
    n_classes : int
        Expected length.

    Returns
    -------
    target : ndarray of shape (n_classes,)
        The target as float64.
    """
    if isinstance(target, torch.Tensor):
        target = target.detach().cpu().numpy()
    target = np.asarray(target, dtype=np.float64)
    if target.ndim != 1 or target.shape[0] != n_classes:
        raise ValueError(
            f"target must have one entry per class ({n_classes}); got shape "
            f"{target.shape}."
        )
    if not np.all(np.isfinite(target)) or np.any(target < MIN_TARGET):
        raise ValueError(
            f"Every target entry must be at least {MIN_TARGET} (a zero or "
            f"negative entry has no finite bias); got {target.tolist()}."
        )
    if abs(target.sum() - 1.0) > 1e-6:
        raise ValueError(
            f"target must sum to 1 (a point of the simplex); got sum "
            f"{target.sum():.8g} for {target.tolist()}."
        )
    return target / target.sum()


def solve_bias(
    logits,
    target,
    *,
    tol=1e-6,
    max_iter=50,
    bias0=None,
    return_n_passes=False,
    sample_weight=None,
):
    """Return the bias that moves the mean softmax of ``logits`` to ``target``.

    The bias ``b`` minimises the convex function
    ``f(b) = mean_x logsumexp(z_x + b) - target . b``, whose gradient is the
    model imbalance state ``P(b) = mean_x softmax(z_x + b)`` minus the target:
    at the minimum ``P(b) == target`` exactly. Newton's method from the warm
    start ``b0 = ln target - ln P(0)``, with a backtracking line search on
    ``f``, converges in a handful of passes over the logits. Each pass streams
    the logits in chunks, so the extra memory is a chunk, never a copy of all
    the logits, and no autograd graph is built.

    Logits that do not fit in memory can be given in chunks: a Dask array
    (chunked along the rows) or a re-iterable of 2-D blocks. Each pass is
    then a map-reduce over the chunks (per chunk, the sums of the softmax
    probabilities and of their Jacobian terms; the sums are added), so the
    whole array is never held and a Dask array is reduced where its chunks
    live (on a ``distributed`` cluster when a client is active). The bias
    equals the in-memory solve's to rounding.

    With two classes only the margin ``beta = b1 - b0`` matters: the state is
    ``mean_x expit(z_x1 - z_x0 + beta)``, increasing in ``beta``, and Newton's
    method safeguarded by bisection solves it for many targets at once (one
    pass over the margins per step, whatever the number of targets).

    Parameters
    ----------
    logits : ndarray, torch.Tensor, dask array, list or callable
        Raw scores of a model, of shape (n_samples, n_classes) (float32 or
        float64; a tensor on any torch device). In chunks: a Dask array
        (dask is an optional dependency); a list or tuple of 2-D blocks
        (numpy arrays or tensors) stacked along the rows; or a callable
        returning a new iterator of such blocks each time it is called (for
        blocks read from disk). Each pass re-reads the chunks, so a one-shot
        iterator such as a generator is refused: pass the function that
        makes it. Chunks are checked as they are read.
    target : array-like of shape (n_classes,) or (n_targets, n_classes)
        Mean class probabilities to reach; entries at least 1e-4, summing
        to 1. A 2-D array gives one bias per row (vectorised for two
        classes, one solve after the other otherwise).
    tol : float, default=1e-6
        Stop when ``max |P(b) - target| <= tol``.
    max_iter : int, default=50
        Maximum number of Newton steps (per target).
    bias0 : array-like of the shape of ``target`` or None, default=None
        Starting bias (for example the solution for a nearby target); None
        starts from ``ln target - ln P(0)``, which costs one more pass.
    return_n_passes : bool, default=False
        Also return the number of passes over the logits.
    sample_weight : array-like of shape (n_samples,) or None, default=None
        Row weights: the state is then the weighted mean softmax
        ``sum_x w_x softmax(z_x + b) / sum_x w_x`` (and ``f`` the weighted
        mean likewise), so an integer weight acts as the row repeated and a
        zero weight as the row dropped. Non-negative, finite, with a positive
        sum. None weighs the rows equally. With logits in blocks, one array
        of all rows in the blocks' order; with a Dask array, a numpy or a
        1-D Dask array.

    Returns
    -------
    bias : ndarray or torch.Tensor of the shape of ``target``
        The bias, with the gauge ``sum(bias) == 0``, as float64: a numpy
        array for numpy input and for logits in chunks, a tensor on the
        logits' device for torch input.
    n_passes : int
        Passes over the logits (without ``bias0``, the first one computes
        ``P(0)``); only when ``return_n_passes=True``.

    Raises
    ------
    ValueError
        If the logits are not a finite 2-D array, the target is not a
        point of the simplex with entries at least 1e-4, ``bias0`` is not
        a finite array of one entry per class, or ``sample_weight`` is not
        one finite non-negative weight per row with a positive sum.

    See Also
    --------
    skimb.adjustment.BiasAdjustedClassifier : Searches the target that is best
        for a metric and applies the bias.

    References
    ----------
    .. [1] "Regulating imbalanced deep models with user-specified metrics",
       Eq. 4-5: the model imbalance state and the bias objective, here solved
       exactly by Newton's method instead of gradient descent.

    Examples
    --------
    >>> import numpy as np
    >>> from skimb.adjustment import solve_bias
    >>> rng = np.random.default_rng(0)
    >>> logits = rng.normal(size=(1000, 3)) + [2.0, 0.0, -1.0]
    >>> bias = solve_bias(logits, [0.2, 0.3, 0.5])
    >>> z = logits + bias
    >>> p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    >>> p.mean(axis=0).round(6)
    array([0.2, 0.3, 0.5])

    Many binary targets at once:

    >>> binary = rng.normal(size=(1000, 2))
    >>> solve_bias(binary, [[0.9, 0.1], [0.5, 0.5]]).shape
    (2, 2)

    The same logits in blocks of 100 rows give the same bias:

    >>> blocks = [logits[i : i + 100] for i in range(0, 1000, 100)]
    >>> chunked = solve_bias(blocks, [0.2, 0.3, 0.5])
    >>> bool(np.allclose(chunked, bias, rtol=0, atol=1e-10))
    True
    """
    if not isinstance(tol, numbers.Real) or tol <= 0:
        raise ValueError(f"tol must be a positive float; got {tol!r}.")
    if not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}.")
    if is_chunked(logits):
        chunks = ChunkedLogits(logits, sample_weight)
        bias, n_passes = _solve(
            chunks, chunks.prepare(), target, tol, max_iter, bias0, None
        )
        return (bias, n_passes) if return_n_passes else bias
    if is_dask_array(sample_weight):
        raise ValueError(
            "a Dask sample_weight needs Dask logits; got logits of type "
            f"{type(logits).__name__}."
        )
    is_torch = isinstance(logits, torch.Tensor)
    if not is_torch:
        logits = np.asarray(logits)
        if not np.issubdtype(logits.dtype, np.number):
            raise ValueError(f"logits must be numeric; got dtype {logits.dtype}.")
    if logits.ndim != 2 or logits.shape[0] == 0:
        raise ValueError(
            f"logits must be 2-D (n_samples, n_classes) with at least one row; "
            f"got shape {tuple(logits.shape)}."
        )
    finite = bool(torch.isfinite(logits).all()) if is_torch else None
    if finite is None:
        finite = bool(np.isfinite(logits).all())
    if not finite:
        raise ValueError("logits contain NaN or infinite values.")
    weights = check_weights(sample_weight, logits.shape[0])
    bias, n_passes = _solve(
        logits, logits.shape[1], target, tol, max_iter, bias0, weights
    )
    if is_torch:
        bias = torch.as_tensor(bias, dtype=torch.float64, device=logits.device)
    return (bias, n_passes) if return_n_passes else bias


def _solve(logits, n_classes, target, tol, max_iter, bias0, weights):
    """The bias and the number of passes, for checked logits (or chunks)."""
    if isinstance(target, torch.Tensor):
        target = target.detach().cpu().numpy()
    many = np.ndim(target) == 2
    targets = np.array(
        [check_target(t, n_classes) for t in np.atleast_2d(target)]
    ).reshape(-1, n_classes)
    if bias0 is not None:
        if isinstance(bias0, torch.Tensor):
            bias0 = bias0.detach().cpu().numpy()
        # numpy checks, not check_array: the searches pass bias0 in a loop
        bias0 = np.array(np.atleast_2d(bias0), dtype=np.float64)  # a copy
        if np.isnan(bias0).any():
            raise ValueError("Input bias0 contains NaN.")
        if np.isinf(bias0).any():
            raise ValueError("Input bias0 contains infinity.")
        if bias0.shape != targets.shape:
            raise ValueError(
                f"bias0 must have one entry per class ({n_classes}) for each "
                f"target; got shape {np.shape(bias0)}."
            )
    if n_classes == 2:
        bias, n_passes, gaps = solve_binary(
            logits, targets, bias0, tol, max_iter, weights
        )
    else:
        solves = [
            solve_multiclass(
                logits, t, None if bias0 is None else bias0[i], tol, max_iter, weights
            )
            for i, t in enumerate(targets)
        ]
        bias = np.array([b for b, _, _ in solves])
        n_passes = sum(n for _, n, _ in solves)
        gaps = np.array([g for _, _, g in solves])
    if np.max(gaps) > tol:
        warnings.warn(
            f"solve_bias did not reach tol={tol} in max_iter={max_iter} Newton "
            f"steps (max |P(b) - target| = {np.max(gaps):.3g}).",
            ConvergenceWarning,
            stacklevel=3,
        )
    if not many:
        bias = bias[0]
    return bias, n_passes


def check_weights(sample_weight, n_rows):
    """Sample weights as float64 (None stays None): finite, non-negative, sum > 0."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, torch.Tensor):
        sample_weight = sample_weight.detach().cpu().numpy()
    weights = _check_sample_weight(
        sample_weight,
        np.empty((n_rows, 0)),
        dtype=np.float64,
        ensure_non_negative=True,
        copy=True,
    )  # also refuses weights that are all zero
    return weights
