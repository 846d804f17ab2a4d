"""The two-class bias solve: a safeguarded 1-D Newton on the margins.

With two classes only the margin ``beta = b1 - b0`` of the bias matters: the
state ``mean_x expit(z_x1 - z_x0 + beta)`` increases with ``beta``, so each
target is solved by Newton's method kept inside a bracket, vectorised over
many targets at once (one pass over the margins per step).
"""

import numpy as np
import torch
from scipy.special import expit

from ._chunked_logits import ChunkedLogits
from ._newton_solve import CHUNK_ENTRIES, MAX_STEP


def _margin_states(values, betas, weights):
    """Mean class-1 probability and its derivative at each bias in ``betas``.

    Biases go in chunks of about ``CHUNK_ENTRIES`` sigmoids, so the extra
    memory stays that of a chunk, or of one row of ``values``.
    """
    state, slope = np.empty(betas.size), np.empty(betas.size)
    step = max(1, CHUNK_ENTRIES // max(values.size, 1))
    for start in range(0, betas.size, step):
        chunk = slice(start, start + step)
        s = expit(values[None, :] + betas[chunk, None])
        state[chunk] = np.average(s, axis=1, weights=weights)
        slope[chunk] = np.average(s * (1 - s), axis=1, weights=weights)
    return state, slope


def solve_margins(values, targets, beta0, *, weights=None, tol, max_iter, states=None):
    """Class-1 biases that move the mean sigmoid of binary margins to targets.

    The one-dimensional form of :func:`solve_bias`, vectorised over targets:
    for each target ``t`` it finds ``beta`` with
    ``average(expit(values + beta), weights) == t``. The function increases
    with ``beta``, so each target keeps a bracket ``[low, high]``; a Newton
    step is taken when it stays inside the bracket, else the bracket is
    bisected, or (one side still open) the bias moves by a reach that starts
    at 8 and doubles each time it is used, so margins of any scale are
    reached in a few dozen passes.

    Parameters
    ----------
    values : ndarray of shape (n_values,)
        Margins ``z1 - z0`` (float64), or the centres of bins of margins.
    targets : ndarray of shape (n_targets,)
        Mean class-1 probabilities to reach, in (0, 1).
    beta0 : ndarray of shape (n_targets,)
        Starting biases.
    weights : ndarray of shape (n_values,) or None, default=None
        Non-negative weights of ``values`` (sample weights, or bin shares),
        with a positive sum; None weighs them equally.
    tol : float
        Stop a target when ``|state - target| <= tol``.
    max_iter : int
        Maximum number of steps.
    states : callable or None, default=None
        ``states(betas) -> (state, slope)``, the mean class-1 probability
        and its derivative at each bias (one pass); it replaces ``values``
        and ``weights`` (margins in chunks). None uses ``values``.

    Returns
    -------
    beta : ndarray of shape (n_targets,)
        The biases of class 1 (class 0 at 0).
    n_passes : int
        Passes over ``values`` (one per step, plus the final check).
    gap : ndarray of shape (n_targets,)
        ``state - target`` at ``beta``.
    """
    targets = np.asarray(targets, dtype=np.float64)
    beta = np.array(beta0, dtype=np.float64)
    low = np.full_like(beta, -np.inf)
    high = np.full_like(beta, np.inf)
    reach = np.full_like(beta, MAX_STEP)
    if states is None:

        def states(betas):
            return _margin_states(values, betas, weights)

    for n_passes in range(1, max_iter + 2):
        state, slope = states(beta)
        gap = state - targets
        open_ = np.abs(gap) > tol
        if not open_.any() or n_passes > max_iter:
            break
        high = np.where(open_ & (gap > 0), beta, high)
        low = np.where(open_ & (gap <= 0), beta, low)
        bracketed = np.isfinite(low) & np.isfinite(high)
        # np.where evaluates both branches: silence the unused inf/nan ones.
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = np.where(slope > 0, beta - gap / slope, np.nan)
            inside = (low < newton) & (newton < high)
            step = np.where(gap > 0, beta - reach, beta + reach)
            new = np.where(inside, newton, np.where(bracketed, (low + high) / 2, step))
        reach = np.where(open_ & ~inside & ~bracketed, 2 * reach, reach)
        beta = np.where(open_, new, beta)
    return beta, n_passes, gap


def margins(logits):
    """Binary margins ``z1 - z0`` in float64 numpy (torch: computed in place)."""
    if isinstance(logits, torch.Tensor):
        with torch.no_grad():
            z = logits.to(torch.float64)
            return (z[:, 1] - z[:, 0]).cpu().numpy()
    return np.asarray(logits[:, 1], dtype=np.float64) - logits[:, 0]


def log_odds_start(targets, state):
    """Biases exact when every margin is alike: log-odds of target minus state."""
    p0 = np.clip(state, 1e-12, 1 - 1e-12)
    return np.log(targets / (1 - targets)) - np.log(p0 / (1 - p0))


def solve_binary(logits, targets, bias0, tol, max_iter, weights=None):
    """Two classes: the 1-D margin solve, vectorised over the targets.

    Parameters
    ----------
    logits : ndarray, torch.Tensor of shape (n_samples, 2) or ChunkedLogits
        Finite logits; in chunks, each pass is a map-reduce over them.
    targets : ndarray of shape (n_targets, 2)
        Checked targets; column 1 is solved for.
    bias0 : ndarray of shape (n_targets, 2) or None
        Starting biases; None starts from :func:`log_odds_start` (one pass).
    tol, max_iter : float, int
        As in :func:`solve_margins`.
    weights : ndarray of shape (n_samples,) or None, default=None
        Checked sample weights.

    Returns
    -------
    bias : ndarray of shape (n_targets, 2)
        ``(-beta / 2, beta / 2)``: the gauge ``sum(bias) == 0``.
    n_passes : int
        Passes over the margins.
    gap : ndarray of shape (n_targets,)
        ``|state - target|`` at the bias.
    """
    chunked = isinstance(logits, ChunkedLogits)
    values = None if chunked else margins(logits)
    states = logits.margin_states if chunked else None
    n_passes = 0
    if bias0 is None:
        n_passes += 1
        if chunked:
            state = states(np.zeros(1))[0][0]
        elif weights is None:
            state = expit(values).mean()
        else:
            state = np.average(expit(values), weights=weights)
        beta0 = log_odds_start(targets[:, 1], state)
    else:
        beta0 = bias0[:, 1] - bias0[:, 0]
    beta, passes, gap = solve_margins(
        values,
        targets[:, 1],
        beta0,
        weights=weights,
        tol=tol,
        max_iter=max_iter,
        states=states,
    )
    return np.column_stack([-beta / 2, beta / 2]), n_passes + passes, np.abs(gap)
