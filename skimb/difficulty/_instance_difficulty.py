"""Per-instance learning and unlearning accumulators (Yu et al., 2022)."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_array, column_or_1d
from sklearn.utils._param_validation import Interval


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

    Each :meth:`update` costs O(N K) and the state holds two accumulators of
    length N besides the last predictions (N by K).

    Parameters
    ----------
    prior : float, default=1.0
        The prior ``c > 0`` added to both accumulators; larger values make the
        difficulty move more slowly away from 1.
    eps : float, default=1e-7
        Probabilities are clipped to ``[eps, 1]`` before the logarithms.

    Attributes
    ----------
    proba_ : ndarray of shape (n_samples, n_classes)
        The predictions of the last update (the reference of the next one).
    unlearning_ : ndarray of shape (n_samples,)
        Accumulated unlearning ``sum_s du_{i,s}``.
    learning_ : ndarray of shape (n_samples,)
        Accumulated learning ``sum_s dl_{i,s}``.
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
    array([1., 1.])
    >>> y = np.array([0, 0])
    >>> _ = state.update(np.array([[0.6, 0.2, 0.2], [0.2, 0.4, 0.4]]), y)
    >>> state.difficulty().round(3)  # the first instance learns, the second not
    array([0.773, 1.092])
    >>> state.weights().round(3)
    array([0.415, 0.585])
    """

    _parameter_constraints: dict = {
        "prior": [Interval(Real, 0, None, closed="neither")],
        "eps": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, *, prior=1.0, eps=1e-7):
        self.prior = prior
        self.eps = eps

    def start(self, proba=None, *, n_samples=None, n_classes=None):
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
            proba = np.full((n_samples, n_classes), 1.0 / n_classes)
        else:
            proba = self._check_proba(proba)
        self.proba_ = proba
        self.unlearning_ = np.zeros(len(proba))
        self.learning_ = np.zeros(len(proba))
        self.n_updates_ = 0
        return self

    def _check_proba(self, proba):
        # A copy: the state keeps it as the next reference, and callers may
        # refill the same buffer every epoch.
        proba = check_array(proba, dtype=np.float64, copy=True, input_name="proba")
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
        proba = self._check_proba(proba)
        if not hasattr(self, "proba_"):
            self.start(n_samples=proba.shape[0], n_classes=proba.shape[1])
        if proba.shape != self.proba_.shape:
            raise ValueError(
                f"proba has shape {proba.shape} but the previous predictions "
                f"have shape {self.proba_.shape}; call start() to reset."
            )
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
        new = np.clip(proba, self.eps, 1.0)
        old = np.clip(self.proba_, self.eps, 1.0)
        psi = (new - old) * np.log(new / old)
        # Moving away from the label: the true class falls or another rises.
        true_class = np.arange(new.shape[1]) == y[:, None]
        away = np.where(true_class, new < old, new > old)
        du = np.where(away, psi, 0.0).sum(axis=1)
        self.unlearning_ += du
        self.learning_ += psi.sum(axis=1) - du
        self.proba_ = proba
        self.n_updates_ += 1
        return self

    def difficulty(self):
        """Return the difficulty of every instance.

        Returns
        -------
        difficulty : ndarray of shape (n_samples,)
            ``(c + unlearning) / (c + learning)``; all ones before any update.
        """
        return (self.prior + self.unlearning_) / (self.prior + self.learning_)

    def weights(self):
        """Return the sampling weights, the difficulties normalised to sum to 1.

        Returns
        -------
        weights : ndarray of shape (n_samples,)
            Non-negative, summing to one.
        """
        difficulty = self.difficulty()
        return difficulty / difficulty.sum()
