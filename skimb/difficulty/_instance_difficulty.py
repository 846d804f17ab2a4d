"""Per-instance learning and unlearning accumulators (Yu et al., 2022)."""

from numbers import Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_array, column_or_1d
from sklearn.utils._param_validation import Interval

# Rows per block of an update: its temporaries (a few float32 arrays of
# BLOCK_ROWS x K) stay a few MB whatever the number of rows.
BLOCK_ROWS = 1 << 16


def _unlearning_learning(proba, previous, y, eps):
    """``du`` and ``dl`` of a block of rows (numpy or torch, float32)."""
    if isinstance(proba, torch.Tensor):
        new, old = proba.clamp(eps, 1.0), previous.clamp(eps, 1.0)
        psi = (new - old) * torch.log(new / old)
        true_class = torch.arange(new.shape[1], device=new.device) == y[:, None]
        away = torch.where(true_class, new < old, new > old)
        du = torch.where(away, psi, torch.zeros((), device=psi.device)).sum(dim=1)
        return du, psi.sum(dim=1) - du
    new = np.clip(proba, eps, 1.0)
    old = np.clip(previous, eps, 1.0)
    psi = (new - old) * np.log(new / old)
    # Moving away from the label: the true class falls or another rises.
    true_class = np.arange(new.shape[1]) == y[:, None]
    away = np.where(true_class, new < old, new > old)
    du = np.where(away, psi, np.float32(0)).sum(axis=1)
    return du, psi.sum(axis=1) - du


class InstanceDifficulty(BaseEstimator):
    """Instance difficulty from how the predictions move between epochs.

    After each epoch the predicted probabilities ``p_t`` of every training
    instance are compared with those of the previous epoch, class by class,
    with the PSI term ``d_j = (p_t[j] - p_{t-1}[j]) * ln(p_t[j] / p_{t-1}[j])``
    (never negative). A move towards the true label (its probability rises,
    another class's falls) counts as learning ``dl``; a move away (the true
    class falls, another rises) counts as unlearning ``du``, so that
    ``du + dl`` is the PSI distance between the two predictions. The
    difficulty of instance ``i`` after ``t`` updates is

    ``D_i = (c + sum_s du_{i,s}) / (c + sum_s dl_{i,s})``,

    which starts at 1, grows for instances the model keeps forgetting and
    shrinks for instances it learns steadily. The sampling weights are the
    difficulties normalised to sum to one.

    Each :meth:`update` costs O(N K). The state is float32, where the
    predictions are: numpy arrays, or torch tensors on their device (a GPU
    keeps the state of a network's training rows next to its predictions).
    Memory per row: ``4 K + 8`` bytes of state (the last predictions and
    the two accumulators; 16 bytes for two classes), plus, during an
    update, the ``4 K`` bytes of the new predictions that become the next
    reference; the update's temporaries are bounded by a block of rows
    (``BLOCK_ROWS``), whatever N. :meth:`weights` adds ``8`` bytes per row
    (float64, so that they sum to one to the precision sampling needs).

    Parameters
    ----------
    prior : float, default=1.0
        The prior ``c > 0`` added to both accumulators; larger values make the
        difficulty move more slowly away from 1.
    eps : float, default=1e-7
        Probabilities are clipped to ``[eps, 1]`` before the logarithms.

    Attributes
    ----------
    proba_ : ndarray or torch.Tensor of shape (n_samples, n_classes)
        The predictions of the last update (the reference of the next one),
        float32.
    unlearning_ : ndarray or torch.Tensor of shape (n_samples,)
        Accumulated unlearning ``sum_s du_{i,s}``, float32.
    learning_ : ndarray or torch.Tensor of shape (n_samples,)
        Accumulated learning ``sum_s dl_{i,s}``, float32.
    n_updates_ : int
        Number of updates since :meth:`start`.

    See Also
    --------
    skimb.difficulty.DifficultyResampler : Resampling by difficulty, as an
        imbalanced-learn sampler.
    skimb.difficulty.DifficultySampling : The same inside a skorch training loop.

    References
    ----------
    .. [1] S. Yu, J. Guo, R. Zhang, Y. Fan, Z. Wang and X. Cheng, "A
       Re-Balancing Strategy for Class-Imbalanced Classification Based on
       Instance Difficulty", CVPR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skimb.difficulty import InstanceDifficulty
    >>> state = InstanceDifficulty().start(n_samples=2, n_classes=3)
    >>> state.difficulty()
    array([1., 1.], dtype=float32)
    >>> y = np.array([0, 0])
    >>> _ = state.update(np.array([[0.6, 0.2, 0.2], [0.2, 0.4, 0.4]]), y)
    >>> state.difficulty().round(3)  # the first instance learns, the second not
    array([0.773, 1.092], dtype=float32)
    >>> state.weights().round(3)
    array([0.415, 0.585])

    On torch tensors the state stays on their device:

    >>> import torch
    >>> state = InstanceDifficulty().start(n_samples=2, n_classes=3, device="cpu")
    >>> _ = state.update(torch.tensor([[0.6, 0.2, 0.2], [0.2, 0.4, 0.4]]), y)
    >>> state.difficulty()
    tensor([0.7734, 1.0924])
    """

    _parameter_constraints: dict = {
        "prior": [Interval(Real, 0, None, closed="neither")],
        "eps": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, *, prior=1.0, eps=1e-7):
        self.prior = prior
        self.eps = eps

    def start(self, proba=None, *, n_samples=None, n_classes=None, device=None):
        """Reset the accumulators and set the reference predictions ``p_0``.

        Parameters
        ----------
        proba : array-like of shape (n_samples, n_classes) or None, default=None
            Predictions before training. ``None`` uses the uniform ``1 / K``
            for ``n_samples`` instances and ``n_classes`` classes.
        n_samples : int or None, default=None
            Number of instances, when ``proba`` is None.
        n_classes : int or None, default=None
            Number of classes, when ``proba`` is None.
        device : str, torch.device or None, default=None
            With ``proba`` None, keep the state as torch tensors on this
            device; None keeps it in numpy. A ``proba`` tensor keeps it on
            the tensor's device.

        Returns
        -------
        self : InstanceDifficulty
            The reset state; every difficulty is 1.
        """
        self._validate_params()
        if proba is None:
            if n_samples is None or n_classes is None or n_classes < 2:
                raise ValueError(
                    "start needs proba, or n_samples and n_classes >= 2; got "
                    f"n_samples={n_samples!r}, n_classes={n_classes!r}."
                )
            shape = (n_samples, n_classes)
            if device is None:
                proba = np.full(shape, 1.0 / n_classes, dtype=np.float32)
            else:
                proba = torch.full(shape, 1.0 / n_classes, device=device)
        else:
            proba = self._check_proba(proba)
        self.proba_ = proba
        if isinstance(proba, torch.Tensor):
            self.unlearning_ = torch.zeros(len(proba), device=proba.device)
            self.learning_ = torch.zeros(len(proba), device=proba.device)
        else:
            self.unlearning_ = np.zeros(len(proba), dtype=np.float32)
            self.learning_ = np.zeros(len(proba), dtype=np.float32)
        self.n_updates_ = 0
        return self

    def _check_proba(self, proba, like=None):
        # A copy: the state keeps it as the next reference, and callers may
        # refill the same buffer every epoch.
        if isinstance(like, torch.Tensor) or (
            like is None and isinstance(proba, torch.Tensor)
        ):
            return self._check_proba_tensor(proba, like)
        if isinstance(proba, torch.Tensor):
            proba = proba.detach().cpu().numpy()
        proba = check_array(proba, dtype=np.float32, copy=True, input_name="proba")
        if proba.shape[1] < 2:
            raise ValueError(
                f"proba must have one column per class, at least 2; got shape "
                f"{proba.shape}."
            )
        outside = (proba < -1e-6) | (proba > 1 + 1e-6)
        if outside.any():
            i, j = np.argwhere(outside)[0]
            raise ValueError(
                f"proba must hold probabilities in [0, 1]; proba[{i}, {j}] = "
                f"{proba[i, j]:.6g}."
            )
        sums = proba.sum(axis=1)
        bad = np.flatnonzero(np.abs(sums - 1) > 1e-3)
        if bad.size:
            raise ValueError(
                f"proba rows must sum to 1; row {bad[0]} sums to {sums[bad[0]]:.6g}."
            )
        return proba

    def _check_proba_tensor(self, proba, like):
        """The tensor checks of :meth:`_check_proba`, on the state's device."""
        device = proba.device if like is None else like.device
        proba = torch.as_tensor(proba).detach()
        proba = proba.to(device=device, dtype=torch.float32, copy=True)
        if proba.ndim != 2 or proba.shape[1] < 2:
            raise ValueError(
                f"proba must have one column per class, at least 2; got shape "
                f"{tuple(proba.shape)}."
            )
        if not bool(torch.isfinite(proba).all()):
            raise ValueError("proba contains NaN or infinite values.")
        outside = (proba < -1e-6) | (proba > 1 + 1e-6)
        if bool(outside.any()):
            i, j = (int(v) for v in torch.nonzero(outside)[0])
            raise ValueError(
                f"proba must hold probabilities in [0, 1]; proba[{i}, {j}] = "
                f"{float(proba[i, j]):.6g}."
            )
        sums = proba.sum(dim=1)
        bad = torch.nonzero((sums - 1).abs() > 1e-3)
        if len(bad):
            row = int(bad[0, 0])
            raise ValueError(
                f"proba rows must sum to 1; row {row} sums to {float(sums[row]):.6g}."
            )
        return proba

    def update(self, proba, y):
        """Accumulate the learning and unlearning of one epoch.

        Parameters
        ----------
        proba : array-like of shape (n_samples, n_classes)
            The predicted probabilities after the epoch, rows on the simplex.
            Before the first update the reference is the one given to
            :meth:`start`, or the uniform ``1 / K`` if it was not called.
        y : array-like of shape (n_samples,)
            The true class of each instance, as a column index of ``proba``
            (``0 .. n_classes - 1``).

        Returns
        -------
        self : InstanceDifficulty
            The updated state.
        """
        self._validate_params()
        proba = self._check_proba(proba, getattr(self, "proba_", None))
        if not hasattr(self, "proba_"):
            device = proba.device if isinstance(proba, torch.Tensor) else None
            self.start(
                n_samples=proba.shape[0], n_classes=proba.shape[1], device=device
            )
        if proba.shape != self.proba_.shape:
            raise ValueError(
                f"proba has shape {proba.shape} but the previous predictions "
                f"have shape {self.proba_.shape}; call start() to reset."
            )
        if isinstance(y, torch.Tensor):
            y = y.detach().cpu().numpy()
        y = column_or_1d(y, warn=True)
        if len(y) != len(proba) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                f"y must hold {len(proba)} integer class indices; got dtype "
                f"{y.dtype} and length {len(y)}."
            )
        wrong = (y < 0) | (y >= proba.shape[1])
        if wrong.any():
            raise ValueError(
                f"y must be a column index of proba in [0, {proba.shape[1] - 1}]; "
                f"got {y[wrong][0]}."
            )
        if isinstance(proba, torch.Tensor):
            y = torch.as_tensor(y, device=proba.device)
        for start in range(0, len(proba), BLOCK_ROWS):
            rows = slice(start, start + BLOCK_ROWS)
            du, dl = _unlearning_learning(
                proba[rows], self.proba_[rows], y[rows], self.eps
            )
            self.unlearning_[rows] += du
            self.learning_[rows] += dl
        self.proba_ = proba
        self.n_updates_ += 1
        return self

    def difficulty(self):
        """Return the difficulty of every instance.

        Returns
        -------
        difficulty : ndarray or torch.Tensor of shape (n_samples,)
            ``(c + unlearning) / (c + learning)``, float32 like the state;
            all ones before any update.
        """
        return (self.prior + self.unlearning_) / (self.prior + self.learning_)

    def weights(self):
        """Return the sampling weights, the difficulties normalised to sum to 1.

        Returns
        -------
        weights : ndarray or torch.Tensor of shape (n_samples,)
            Non-negative, summing to one; float64 (the state's float32 would
            not sum to one closely enough to sample from at millions of
            rows).
        """
        difficulty = self.difficulty()
        if isinstance(difficulty, torch.Tensor):
            difficulty = difficulty.to(torch.float64)
        else:
            difficulty = difficulty.astype(np.float64)
        return difficulty / difficulty.sum()
