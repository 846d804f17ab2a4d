"""Exact bias solve: the bias that moves a model's imbalance state to a target."""

import numbers
import warnings
from functools import partial

import numpy as np
import torch
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array
from sklearn.utils.validation import _check_sample_weight

# Rows per chunk: a chunk of logits holds about this many entries, so the
# extra memory of a pass stays small whatever the number of rows.
_CHUNK_ENTRIES = 1 << 20
# Smallest accepted target entry: below it the minimiser runs off to -inf.
MIN_TARGET = 1e-4
# Largest change of one bias entry in the first Newton step (a factor e**8);
# the cap doubles after every full capped step the line search accepts (the
# binary solve's reach, while its bracket is open, doubles likewise), so
# logits of any scale are reached in a few dozen steps.
_MAX_STEP = 8.0


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


def _chunks(n_rows, n_classes):
    step = max(1, _CHUNK_ENTRIES // max(n_classes, 1))
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


def _margin_states(values, betas, weights):
    """Mean class-1 probability and its derivative at each bias in ``betas``.

    Biases go in chunks of about ``_CHUNK_ENTRIES`` sigmoids, so the extra
    memory stays that of a chunk, or of one row of ``values``.
    """
    state, slope = np.empty(betas.size), np.empty(betas.size)
    step = max(1, _CHUNK_ENTRIES // max(values.size, 1))
    for start in range(0, betas.size, step):
        chunk = slice(start, start + step)
        s = expit(values[None, :] + betas[chunk, None])
        state[chunk] = np.average(s, axis=1, weights=weights)
        slope[chunk] = np.average(s * (1 - s), axis=1, weights=weights)
    return state, slope


def solve_margins(values, targets, beta0, *, weights=None, tol, max_iter):
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
    reach = np.full_like(beta, _MAX_STEP)
    for n_passes in range(1, max_iter + 2):
        state, slope = _margin_states(values, beta, weights)
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


def _margins(logits):
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

    With two classes only the margin ``beta = b1 - b0`` matters: the state is
    ``mean_x expit(z_x1 - z_x0 + beta)``, increasing in ``beta``, and Newton's
    method safeguarded by bisection solves it for many targets at once (one
    pass over the margins per step, whatever the number of targets).

    Parameters
    ----------
    logits : ndarray or torch.Tensor of shape (n_samples, n_classes)
        Raw scores of a model (float32 or float64; on any torch device).
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
        sum. None weighs the rows equally.

    Returns
    -------
    bias : ndarray or torch.Tensor of the shape of ``target``
        The bias, with the gauge ``sum(bias) == 0``, as float64: a numpy
        array for numpy input, a tensor on the logits' device for torch input.
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
    """
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
    if not isinstance(tol, numbers.Real) or tol <= 0:
        raise ValueError(f"tol must be a positive float; got {tol!r}.")
    if not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}.")
    n_classes = logits.shape[1]
    weights = check_weights(sample_weight, logits.shape[0])
    if isinstance(target, torch.Tensor):
        target = target.detach().cpu().numpy()
    many = np.ndim(target) == 2
    targets = np.array(
        [check_target(t, n_classes) for t in np.atleast_2d(target)]
    ).reshape(-1, n_classes)
    if bias0 is not None:
        if isinstance(bias0, torch.Tensor):
            bias0 = bias0.detach().cpu().numpy()
        bias0 = check_array(
            np.atleast_2d(bias0), dtype=np.float64, copy=True, input_name="bias0"
        )
        if bias0.shape != targets.shape:
            raise ValueError(
                f"bias0 must have one entry per class ({n_classes}) for each "
                f"target; got shape {np.shape(bias0)}."
            )
    if n_classes == 2:
        bias, n_passes, gaps = _solve_binary(
            logits, targets, bias0, tol, max_iter, weights
        )
    else:
        solves = [
            _solve_multiclass(
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
            stacklevel=2,
        )
    if not many:
        bias = bias[0]
    if is_torch:
        bias = torch.as_tensor(bias, dtype=torch.float64, device=logits.device)
    return (bias, n_passes) if return_n_passes else bias


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


def _solve_binary(logits, targets, bias0, tol, max_iter, weights=None):
    """Two classes: the 1-D margin solve, vectorised over the targets."""
    values = _margins(logits)
    n_passes = 0
    if bias0 is None:
        n_passes += 1
        state = (
            expit(values).mean()
            if weights is None
            else np.average(expit(values), weights=weights)
        )
        beta0 = log_odds_start(targets[:, 1], state)
    else:
        beta0 = bias0[:, 1] - bias0[:, 0]
    beta, passes, gap = solve_margins(
        values, targets[:, 1], beta0, weights=weights, tol=tol, max_iter=max_iter
    )
    return np.column_stack([-beta / 2, beta / 2]), n_passes + passes, np.abs(gap)


def _solve_multiclass(logits, target, bias0, tol, max_iter, weights=None):
    """Newton's method on the convex objective, with a line search."""
    n_classes = logits.shape[1]
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
    max_step = _MAX_STEP
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
