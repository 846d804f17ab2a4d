"""DifficultyResampler: Algorithm 1 of Yu et al. (2022) as an imblearn sampler."""

from inspect import signature
from numbers import Integral, Real

import numpy as np
from imblearn.base import BaseSampler
from sklearn.base import clone
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import _check_sample_weight
from tqdm import tqdm

from ..nn import NetClassifier
from ._instance_difficulty import InstanceDifficulty


class DifficultyResampler(BaseSampler):
    """Resample the training set by instance difficulty (Yu et al., 2022).

    Runs Algorithm 1 of the paper: the estimator is trained epoch by epoch
    (one ``partial_fit`` call per epoch); after each epoch it predicts every
    training instance, the :class:`InstanceDifficulty` of each instance is
    updated from how its prediction moved, and the next epoch trains on ``N``
    instances drawn with replacement with probabilities proportional to the
    difficulties. The first epoch trains on the data as given. ``fit_resample``
    returns a sample drawn by the difficulties after the last epoch, so that
    the sampler can sit in an :class:`imblearn.pipeline.Pipeline` before any
    classifier; the estimator trained by the algorithm itself is kept in
    ``estimator_``. That last draw is stratified: each class gets its
    expected number of rows, ``N`` times its share of the total difficulty
    (rounded by largest remainder, at least one row), drawn within the class
    by difficulty. The class totals are those of the paper's draws on
    average, and a small class is never left out of the sample a downstream
    classifier learns from.

    Parameters
    ----------
    estimator : classifier or None, default=None
        A classifier with ``partial_fit`` and ``predict_proba``; it is cloned.
        ``None`` uses ``NetClassifier(max_epochs=1)``. An estimator with a
        ``max_epochs`` parameter (a skorch net) is set to one epoch per call.
    n_epochs : int, default=20
        Number of training epochs (at least 1).
    prior : float, default=1.0
        The prior ``c > 0`` of the difficulty ratio.
    verbose : int, default=0
        ``0`` is silent; ``1`` or more shows a progress bar (tqdm) over the
        epochs.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws and the default NetClassifier. A given estimator keeps
        its own ``random_state``.

    Attributes
    ----------
    estimator_ : classifier
        The estimator trained by the algorithm.
    difficulty_ : ndarray of shape (n_samples,)
        The difficulty of each instance after the last epoch.
    sample_indices_ : ndarray of shape (n_samples,)
        Indices of the returned sample in the input, drawn by difficulty,
        sorted.
    sampling_strategy_ : str
        Always ``"auto"``: imbalanced-learn's ``"bypass"`` sampling type; the
        class proportions of the sample follow from the difficulties.
    n_features_in_ : int
        Number of features seen during ``fit_resample``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit_resample``, when strings.

    See Also
    --------
    skimb.difficulty.InstanceDifficulty : The difficulty state.
    skimb.difficulty.DifficultySampling : The same inside a skorch training loop.
    imblearn.over_sampling.RandomOverSampler : Class-level random resampling.

    Notes
    -----
    ``fit_resample(X, y, sample_weight=w)`` consumes the weights, with the
    meaning scikit-learn gives them (an integer weight like the row
    repeated, a zero weight like the row dropped): the first epoch passes
    them to the estimator's ``partial_fit`` when it takes ``sample_weight``
    (otherwise it trains on ``N`` rows drawn with probabilities proportional
    to ``w``), and every later draw, the returned sample included, picks a
    row with probability proportional to ``w * difficulty``; a row of zero
    weight is never drawn. The sample has ``N`` rows whatever the weights
    (their scale does not matter), and it already carries the weights: its
    rows are drawn from the weighted data, so the next step of a pipeline
    must not receive them again. imbalanced-learn's ``Pipeline`` calls
    ``fit_resample`` for the two outputs ``X, y`` and has no way to pass
    resampled weights on (imbalanced-learn issue #457), and it routes the
    original, unresampled ``sample_weight`` to any later step that requests
    it. With metadata routing, request the weights for the sampler only:
    ``DifficultyResampler(...).set_fit_resample_request(sample_weight=True)``
    and ``set_fit_request(sample_weight=False)`` on the final estimator.
    Without routing, imbalanced-learn 0.14 drops ``step__sample_weight``
    given for a sampler step, so weights reach a sampler in a pipeline only
    through routing. ``sample_indices_`` maps the sample back to the input
    rows (``w[sampler.sample_indices_]`` are the weights of its rows).

    References
    ----------
    .. [1] S. Yu, J. Guo, R. Zhang, Y. Fan, Z. Wang and X. Cheng, "A
       Re-Balancing Strategy for Class-Imbalanced Classification Based on
       Instance Difficulty", CVPR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from imblearn.pipeline import make_pipeline
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression, SGDClassifier
    >>> from skimb.difficulty import DifficultyResampler
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> sgd = SGDClassifier(loss="log_loss", random_state=0)
    >>> sampler = DifficultyResampler(sgd, n_epochs=5, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> X_res.shape, sampler.difficulty_.shape
    ((300, 20), (300,))
    >>> model = make_pipeline(sampler, LogisticRegression()).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)

    Rows of zero weight are never drawn:

    >>> w = np.where(np.arange(300) < 100, 0.0, 1.0)
    >>> _ = sampler.fit_resample(X, y, sample_weight=w)
    >>> int(sampler.sample_indices_.min()) >= 100
    True
    """

    _sampling_type = "bypass"

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["partial_fit", "predict_proba"]), None],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "prior": [Interval(Real, 0, None, closed="neither")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self, estimator=None, *, n_epochs=20, prior=1.0, verbose=0, random_state=None
    ):
        super().__init__()
        self.estimator = estimator
        self.n_epochs = n_epochs
        self.prior = prior
        self.verbose = verbose
        self.random_state = random_state

    def fit_resample(self, X, y, *, sample_weight=None):
        """Train by difficulty, then draw a sample by the final difficulties.

        Parameters
        ----------
        X : {array-like, dataframe, sparse matrix} of shape (n_samples, n_features)
            The data to resample.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Non-negative row weights, consumed by the sampler (see Notes): the
            sample is drawn from the weighted data and needs no weights.

        Returns
        -------
        X_resampled : {ndarray, dataframe, sparse matrix} of shape (n_samples, \
n_features)
            The rows ``sample_indices_`` of ``X``.
        y_resampled : ndarray of shape (n_samples,)
            Their labels.
        """
        return super().fit_resample(X, y, sample_weight=sample_weight)

    def _make_estimator(self, rng):
        if self.estimator is None:
            seed = int(rng.randint(np.iinfo(np.int32).max))
            return NetClassifier(max_epochs=1, random_state=seed)
        estimator = clone(self.estimator)
        if "max_epochs" in estimator.get_params(deep=False):
            estimator.set_params(max_epochs=1)
        return estimator

    def _fit_resample(self, X, y, sample_weight=None):
        rng = check_random_state(self.random_state)
        self.estimator_ = self._make_estimator(rng)
        classes, y_index = np.unique(y, return_inverse=True)
        n_samples = len(y)
        state = InstanceDifficulty(prior=self.prior)
        sample, first_params = np.arange(n_samples), {}
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, ensure_non_negative=True
            )
            if not sample_weight.sum() > 0:
                raise ValueError("sample_weight sums to zero; no row can be drawn.")
            if "sample_weight" in signature(self.estimator_.partial_fit).parameters:
                first_params = {"sample_weight": sample_weight}
            else:
                p = sample_weight / sample_weight.sum()
                sample = rng.choice(n_samples, size=n_samples, p=p)
        for epoch in tqdm(
            range(self.n_epochs),
            desc="DifficultyResampler",
            unit="epoch",
            disable=self.verbose <= 0,
        ):
            self.estimator_.partial_fit(
                _safe_indexing(X, sample),
                y[sample],
                classes=classes,
                **(first_params if epoch == 0 else {}),
            )
            proba = self.estimator_.predict_proba(X)
            # partial_fit(classes=classes) orders proba's columns as classes.
            state.update(proba, y_index)
            if epoch < self.n_epochs - 1:
                p = _draw_weights(state, sample_weight)
                sample = rng.choice(n_samples, size=n_samples, p=p)
        self.difficulty_ = state.difficulty()
        sample = _draw_per_class(_draw_weights(state, sample_weight), y_index, rng)
        self.sample_indices_ = sample
        return _safe_indexing(X, sample), y[sample]


def _draw_weights(state, sample_weight):
    """Draw probabilities: difficulty weights, times the row weights if any."""
    if sample_weight is None:
        return state.weights()
    p = state.difficulty() * sample_weight
    return p / p.sum()


def _draw_per_class(weights, y_index, rng):
    """Draw ``len(weights)`` rows with replacement, class totals fixed.

    Class ``c`` gets ``N * weights[class c].sum()`` rows, rounded by largest
    remainder and at least one (taken from the largest class) unless its
    weights are all zero, drawn within the class with probabilities
    proportional to ``weights``; sorted.
    """
    n_samples = len(weights)
    mass = np.bincount(y_index, weights=weights)
    expected = n_samples * mass / mass.sum()
    counts = np.floor(expected).astype(int)
    by_remainder = np.argsort(counts - expected, kind="stable")
    counts[by_remainder[: n_samples - counts.sum()]] += 1
    empty = (counts == 0) & (mass > 0)
    counts[empty] = 1
    counts[np.argmax(counts)] -= empty.sum()
    draws = []
    for c, size in enumerate(counts):
        if size == 0:
            continue
        members = np.flatnonzero(y_index == c)
        draws.append(rng.choice(members, size=size, p=weights[members] / mass[c]))
    return np.sort(np.concatenate(draws))
