"""The K-class bias solve: Newton's method on a convex objective, in chunks.

The bias ``b`` minimises ``f(b) = mean_x logsumexp(z_x + b) - target . b``,
whose gradient is the model imbalance state ``P(b) = mean_x softmax(z_x + b)``
minus the target and whose Hessian is ``diag(P) - mean_x p_x p_x^T``. A pass
streams the logits (numpy, or torch on their device) in chunks of about
``CHUNK_ENTRIES`` entries; logits already in chunks
(:class:`~skimb.adjustment._chunked_logits.ChunkedLogits`, a Dask array or
blocks) are reduced chunk by chunk.
"""

from functools import partial

import numpy as np
import torch

from ._chunked_logits import ChunkedLogits

# Rows per chunk: a chunk of logits holds about this many entries, so the
# extra memory of a pass stays small whatever the number of rows.
CHUNK_ENTRIES = 1 << 20
# Largest change of one bias entry in the first Newton step (a factor e**8);
# the cap doubles after every full capped step the line search accepts (the
# binary solve's reach, while its bracket is open, doubles likewise), so
# logits of any scale are reached in a few dozen steps.
MAX_STEP = 8.0


def _chunks(n_rows, n_classes):
    step = max(1, CHUNK_ENTRIES // max(n_classes, 1))
    return range(0, n_rows, step), step


def _pass_numpy(logits, bias, *, hessian, weights=None):
    """Objective, mean softmax and Hessian part at ``bias`` in one pass.

    With ``weights``, the means are weighted means over the rows.
    """
    n_rows, n_classes = logits.shape
    total_lse = 0.0
    mean_p = np.zeros(n_classes)
    outer = np.zeros((n_classes, n_classes))
    starts, step = _chunks(n_rows, n_classes)
    for start in starts:
        z = logits[start : start + step].astype(np.float64) + bias
        z_max = z.max(axis=1, keepdims=True)
        e = np.exp(z - z_max)
        s = e.sum(axis=1, keepdims=True)
        p = e / s
        if weights is not None:
            w = weights[start : start + step]
            total_lse += float(w @ (np.log(s[:, 0]) + z_max[:, 0]))
            mean_p += w @ p
            if hessian:
                outer += (p * w[:, None]).T @ p
            continue
        total_lse += float(np.sum(np.log(s)) + np.sum(z_max))
        mean_p += p.sum(axis=0)
        if hessian:
            outer += p.T @ p
    total = n_rows if weights is None else float(weights.sum())
    return total_lse / total, mean_p / total, outer / total


def _pass_torch(logits, bias, *, hessian, weights=None):
    n_rows, n_classes = logits.shape
    if weights is not None:
        weights = torch.as_tensor(weights, dtype=torch.float64, device=logits.device)
    b = torch.as_tensor(bias, dtype=torch.float64, device=logits.device)
    total_lse = torch.zeros((), dtype=torch.float64, device=logits.device)
    mean_p = torch.zeros(n_classes, dtype=torch.float64, device=logits.device)
    outer = torch.zeros(
        (n_classes, n_classes), dtype=torch.float64, device=logits.device
    )
    starts, step = _chunks(n_rows, n_classes)
    with torch.no_grad():
        for start in starts:
            z = logits[start : start + step].to(torch.float64) + b
            lse = torch.logsumexp(z, dim=1)
            p = torch.exp(z - lse[:, None])
            if weights is not None:
                w = weights[start : start + step]
                total_lse += w @ lse
                mean_p += w @ p
                if hessian:
                    outer += (p * w[:, None]).T @ p
                continue
            total_lse += lse.sum()
            mean_p += p.sum(dim=0)
            if hessian:
                outer += p.T @ p
    total = n_rows if weights is None else float(weights.sum())
    return (
        float(total_lse) / total,
        mean_p.cpu().numpy() / total,
        outer.cpu().numpy() / total,
    )


def solve_multiclass(logits, target, bias0, tol, max_iter, weights=None):
    """Newton's method on the convex objective, with a line search.

    Steps solve ``(H + 11^T / K) d = -(P(b) - target)``: the Hessian ``H`` is
    singular along the all-ones direction, and the projector added makes the
    step sum to zero. Each step changes no entry by more than a cap that
    starts at ``MAX_STEP`` and doubles after each full capped step, and
    backtracks until Armijo's condition holds (or the gradient shrinks).

    Parameters
    ----------
    logits : ndarray, torch.Tensor of shape (n_samples, n_classes) or ChunkedLogits
        Finite logits; in chunks (with their own weights), each pass is a
        map-reduce over them.
    target : ndarray of shape (n_classes,)
        A checked target.
    bias0 : ndarray of shape (n_classes,) or None
        Starting bias; None starts from ``ln target - ln P(0)`` (one pass).
    tol : float
        Stop when ``max |P(b) - target| <= tol``.
    max_iter : int
        Maximum number of Newton steps.
    weights : ndarray of shape (n_samples,) or None, default=None
        Checked sample weights.

    Returns
    -------
    bias : ndarray of shape (n_classes,)
        The bias, with ``sum(bias) == 0``.
    n_passes : int
        Passes over the logits.
    gap : float
        ``max |P(b) - target|`` at the bias.
    """
    n_classes = len(target)
    if isinstance(logits, ChunkedLogits):
        run_pass = ChunkedLogits.softmax_pass
    else:
        run_pass = partial(
            _pass_torch if isinstance(logits, torch.Tensor) else _pass_numpy,
            weights=weights,
        )
    n_passes = 0
    if bias0 is None:
        _, state, _ = run_pass(logits, np.zeros(n_classes), hessian=False)
        n_passes += 1
        # Warm start: exact when the softmax moves every row alike.
        bias = np.log(target) - np.log(np.maximum(state, 1e-12))
    else:
        bias = bias0.copy()
    bias -= bias.mean()
    value, state, outer = run_pass(logits, bias, hessian=True)
    value -= target @ bias
    n_passes += 1
    ones = np.full((n_classes, n_classes), 1.0 / n_classes)
    max_step = MAX_STEP
    for _ in range(max_iter):
        gradient = state - target
        if np.max(np.abs(gradient)) <= tol:
            break
        # The Hessian is singular along the all-ones direction (the gauge);
        # adding the projector on it makes the step sum to zero.
        # A tiny ridge keeps it invertible when a class's probabilities
        # underflow; steps are capped so that such a class cannot overshoot.
        hessian = np.diag(state) - outer + ones + 1e-12 * np.eye(n_classes)
        step = -np.linalg.solve(hessian, gradient)
        capped = np.abs(step).max() > max_step
        if capped:
            step *= max_step / np.abs(step).max()
        slope = gradient @ step
        length = 1.0
        while True:
            candidate = bias + length * step
            new_value, new_state, new_outer = run_pass(logits, candidate, hessian=True)
            new_value -= target @ candidate
            n_passes += 1
            # Armijo condition; near the minimum f is flat to rounding, so a
            # smaller gradient is accepted too.
            armijo = new_value <= value + 1e-4 * length * slope
            closer = np.abs(new_state - target).max() < np.abs(gradient).max()
            if armijo or closer or length < 1e-6:
                break
            length /= 2
        bias, value, state, outer = candidate, new_value, new_state, new_outer
        if capped and length == 1.0:
            max_step *= 2
    return bias - bias.mean(), n_passes, np.max(np.abs(state - target))
