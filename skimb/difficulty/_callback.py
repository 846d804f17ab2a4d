"""DifficultySampling: per-epoch instance-difficulty sampling as a skorch callback."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state, gen_batches
from skorch.callbacks import Callback
from skorch.utils import multi_indexing
from torch.utils.data import Subset

from ..nn import NetClassifier
from ._instance_difficulty import InstanceDifficulty


class DifficultySampling(Callback):
    """Draw each epoch's training sample by instance difficulty.

    After every epoch the callback predicts the probabilities of the training
    instances (the validation part of skorch's ``train_split`` is left out),
    updates their :class:`~skimb.difficulty.InstanceDifficulty` and draws the
    next epoch's sample, ``N`` instances with replacement, with probabilities
    proportional to the difficulties. The first epoch sees the training data
    as it is. The state persists across ``partial_fit`` calls on the same
    data and is reset when the net is (re-)initialised.

    Parameters
    ----------
    prior : float, default=1.0
        The prior ``c > 0`` of the difficulty ratio.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws; an int makes them reproducible across fits.
    batch_size : int, default=4096
        Rows per forward pass when a :class:`~skimb.nn.NetClassifier` scores
        its training instances (directly on tensors, without a data loader);
        other skorch nets score through their ``predict_proba``.

    Attributes
    ----------
    state_ : InstanceDifficulty
        The accumulators of the training instances, float32, on the net's
        device for a :class:`~skimb.nn.NetClassifier` (in numpy for other
        nets): ``4 K + 8`` bytes a training row.
    difficulty_ : ndarray of shape (n_train,)
        The difficulty of each training instance after the last epoch
        (float32, on the CPU).
    train_indices_ : ndarray of shape (n_train,)
        Positions in the fitted ``X`` of the training instances (all rows when
        ``train_split`` is None). A NetClassifier fitted with ``sample_weight``
        drops the rows of zero weight first: positions then count the others.
    sample_indices_ : ndarray of shape (n_train,)
        Positions in the fitted ``X`` of the sample drawn for the next epoch.

    See Also
    --------
    skimb.difficulty.DifficultyResampler : The same algorithm as an
        imbalanced-learn sampler around any ``partial_fit`` classifier.
    skimb.difficulty.InstanceDifficulty : The difficulty state.

    Notes
    -----
    The callback keeps its state on itself, as skorch's callbacks do; it
    writes nothing onto the net but the history's ``difficulty_max`` and
    ``difficulty_min`` each epoch. The references it holds to the training
    data during a fit are released when training ends and left out when it
    is pickled (a net saved by a checkpoint during training does not carry
    its training data twice). Scoring the training instances costs one
    inference pass per epoch. With ``net.fit(X, y, sample_weight=w)`` each
    drawn row keeps its own weight in the net's weighted loss, so a row's
    expected share of an epoch's loss is proportional to ``w * difficulty``.
    For a progress display use skorch's
    ``ProgressBar`` callback or the net's ``verbose``.

    References
    ----------
    .. [1] S. Yu, J. Guo, R. Zhang, Y. Fan, Z. Wang and X. Cheng, "A
       Re-Balancing Strategy for Class-Imbalanced Classification Based on
       Instance Difficulty", CVPR 2022.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skimb.difficulty import DifficultySampling
    >>> from skimb.nn import NetClassifier
    >>> X, y = make_classification(n_samples=200, weights=[0.9], random_state=0)
    >>> sampling = DifficultySampling(random_state=0)
    >>> net = NetClassifier(max_epochs=3, callbacks=[sampling], random_state=0,
    ...                     early_stopping=False)
    >>> net = net.fit(X, y)
    >>> sampling.difficulty_.shape, sampling.sample_indices_.shape
    ((200,), (200,))
    >>> len(net.history[:, "difficulty_max"])
    3
    """

    # Each epoch trains on another sample, so the training losses of two
    # epochs are not comparable: NetClassifier skips its convergence check.
    resamples_epochs = True

    def __init__(self, *, prior=1.0, random_state=None, batch_size=4096):
        self.prior = prior
        self.random_state = random_state
        self.batch_size = batch_size

    def initialize(self):
        if not (isinstance(self.prior, Real) and self.prior > 0):
            raise ValueError(f"prior must be a number > 0; got prior={self.prior!r}.")
        if not (isinstance(self.batch_size, Integral) and self.batch_size > 0):
            raise ValueError(
                f"batch_size must be an int > 0; got batch_size={self.batch_size!r}."
            )
        self.rng_ = check_random_state(self.random_state)
        for name in ("state_", "difficulty_", "train_indices_", "sample_indices_"):
            self.__dict__.pop(name, None)
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if y is None:
            raise ValueError(
                "DifficultySampling needs the labels y passed to fit; got y=None."
            )
        self.fit_data_ = (X, np.asarray(y))
        self.dataset_ = None

    def _bind(self, dataset):
        """Remember the un-resampled training part of a new training dataset."""
        X, y = self.fit_data_
        if isinstance(dataset, Subset):
            base = np.asarray(dataset.indices)
        elif hasattr(dataset, "X") and hasattr(dataset, "y"):
            base = np.arange(len(y))
            self.original_data_ = (dataset.X, dataset.y)
        else:
            raise TypeError(
                "DifficultySampling needs a skorch Dataset or a torch Subset as "
                f"training data; got {type(dataset).__name__}."
            )
        self.dataset_ = dataset
        self.X_train_ = multi_indexing(X, base) if isinstance(dataset, Subset) else X
        self.y_train_ = y[base]
        if not np.array_equal(getattr(self, "train_indices_", None), base):
            # New training data: fresh accumulators, uniform reference p_0.
            self.state_ = InstanceDifficulty(prior=self.prior)
            self.__dict__.pop("sample_indices_", None)
        self.train_indices_ = base

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if dataset_train is not self.dataset_:
            self._bind(dataset_train)
        if not hasattr(self, "sample_indices_"):
            return
        if isinstance(dataset_train, Subset):
            dataset_train.indices = self.sample_indices_
        else:
            X, y = self.original_data_
            draw = self.sample_indices_
            dataset_train.X = multi_indexing(X, draw, dataset_train.X_indexing)
            dataset_train.y = multi_indexing(y, draw, dataset_train.y_indexing)

    def _predict_proba(self, net):
        # A net trained through accelerate gathers its predictions from
        # every process in predict_proba; evaluation_step alone would not.
        if not isinstance(net, NetClassifier) or hasattr(net, "accelerator"):
            return net.predict_proba(self.X_train_)
        # NetClassifier: predict_proba is the softmax of the module's outputs,
        # kept on the net's device with the state.
        X = torch.as_tensor(self.X_train_)
        logits = [
            net.evaluation_step((X[rows], None))
            for rows in gen_batches(len(X), self.batch_size)
        ]
        return torch.softmax(torch.cat(logits).float(), dim=1)

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        self.state_.update(self._predict_proba(net), self.y_train_)
        difficulty = self.state_.difficulty()
        if isinstance(difficulty, torch.Tensor):
            difficulty = difficulty.cpu().numpy()
        self.difficulty_ = difficulty
        p = difficulty.astype(np.float64)  # sums to 1 closely enough to draw
        n_train = len(self.train_indices_)
        draw = self.rng_.choice(n_train, size=n_train, p=p / p.sum())
        self.sample_indices_ = self.train_indices_[draw]
        net.history.record("difficulty_max", float(self.difficulty_.max()))
        net.history.record("difficulty_min", float(self.difficulty_.min()))

    def on_train_end(self, net, X=None, y=None, **kwargs):
        for name in _TRANSIENT:
            self.__dict__.pop(name, None)

    def __getstate__(self):
        # A net pickled during training (skorch's Checkpoint, TrainEndCheckpoint)
        # must not carry the training data the callback refers to while a
        # fit runs; the next fit binds it again.
        state = self.__dict__.copy()
        for name in _TRANSIENT:
            state.pop(name, None)
        return state


# References to the data of the running fit, dropped when it ends or pickled.
_TRANSIENT = ("fit_data_", "dataset_", "original_data_", "X_train_", "y_train_")
