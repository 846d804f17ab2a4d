"""BiasAdjustment: per-epoch bias adjustment and best-epoch checkpoint."""

import numpy as np
import torch
from skorch.callbacks import Callback

from ..metrics import get_scorer
from ..nn import ArrayBatches
from ._search import search_folds
from ._solve import solve_bias
from ._target import SEARCH_TOL, imbalance_state

# Rows per forward pass when computing the training logits.
_INFERENCE_ROWS = 8192


class BiasAdjustment(Callback):
    """Adjust the bias after every epoch and keep the best epoch.

    The seed paper's training strategy (Section 3.3): the network trains with
    its own loss; after every epoch the target imbalance state that is best
    for ``scoring`` is searched, its bias solved on the logits of the training
    split and scored on the validation split. At the end of training the
    module parameters of the best epoch are restored; the callback keeps the
    best epoch's bias in ``bias_`` (add it to ``net``'s logits, as
    :class:`~skimb.adjustment.BiasAdjustedClassifier` with
    ``per_epoch=True`` does). Like skorch's ``EarlyStopping``, it keeps its
    state on itself: find it in ``net.callbacks_``. The copy of the best
    module's parameters is released once restored, and never pickled.

    The validation logits are those skorch computes for the validation loss
    (cached batch by batch, no second pass); the training logits take one
    inference pass over the training split in large batches, with the module
    in evaluation mode.

    Parameters
    ----------
    scoring : str or callable, default="gmean"
        Metric to maximise, as for :func:`skimb.metrics.get_scorer`.
    target : "search", "balanced", "prior", float or array-like, \
            default="search"
        The target imbalance state, as for
        :class:`~skimb.adjustment.BiasAdjustedClassifier`.
    search : {"decimal", "exact"}, default="decimal"
        The search for ``target="search"``.

    Attributes
    ----------
    best_epoch_ : int
        Epoch (1-based, as in ``net.history``) of the best score.
    best_score_ : float
        The best validation score.
    bias_ : ndarray of shape (n_classes,)
        The best epoch's bias (sums to zero), solved on its training logits.
    target_ : ndarray of shape (n_classes,)
        The best epoch's target imbalance state.
    search_results_ : dict of ndarray
        The best epoch's candidates and scores, as the ``search_results_``
        of :class:`~skimb.adjustment.BiasAdjustedClassifier`.
    imbalance_state_ : dict
        ``"before"`` and ``"after"``: the best epoch's training-split state
        without and with ``bias_``.

    Notes
    -----
    Each epoch records ``ba_target``, ``ba_bias``, ``ba_score`` and
    ``ba_best`` (whether it is the best so far) in ``net.history``.

    See Also
    --------
    skimb.adjustment.BiasAdjustedClassifier : The estimator that uses it.
    skorch.callbacks.Checkpoint : Best-epoch checkpoints to disk.

    References
    ----------
    .. [1] "Regulating imbalanced deep models with user-specified metrics",
       Section 3.3.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skorch.dataset import ValidSplit
    >>> from skimb.adjustment import BiasAdjustment
    >>> from skimb.nn import NetClassifier
    >>> X, y = make_classification(n_samples=400, weights=[0.85], random_state=0)
    >>> net = NetClassifier(
    ...     max_epochs=4,
    ...     train_split=ValidSplit(4, stratified=True),
    ...     callbacks=[BiasAdjustment(scoring="gmean")],
    ...     random_state=0,
    ... ).fit(X, y)
    >>> len(net.history[:, "ba_score"])
    4
    >>> callback = dict(net.callbacks_)["BiasAdjustment"]
    >>> callback.bias_.shape
    (2,)
    """

    def __init__(self, scoring="gmean", target="search", search="decimal"):
        self.scoring = scoring
        self.target = target
        self.search = search

    def initialize(self):
        self.scorer_ = get_scorer(self.scoring)
        self.best_epoch_ = None
        self.best_score_ = -np.inf
        self.bias_ = self.target_ = None
        self.search_results_ = self.imbalance_state_ = None
        self._best_module = None
        self._valid_logits, self._valid_y = [], []
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if net.train_split is None:
            raise ValueError(
                "BiasAdjustment needs a validation split: set the net's "
                "train_split, e.g. skorch.dataset.ValidSplit(5, stratified=True)."
            )
        self.initialize()

    def __getstate__(self):
        # As skorch's EarlyStopping: the best module is the net's own once
        # restored; a pickle taken mid-training does not carry a copy.
        # Nor the batches of an epoch, nor the scorer (initialize makes it).
        state = self.__dict__.copy()
        state.pop("scorer_", None)
        state["_best_module"] = None
        state["_valid_logits"], state["_valid_y"] = [], []
        return state

    def on_epoch_begin(self, net, **kwargs):
        self._valid_logits, self._valid_y = [], []

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if not training:
            self._valid_logits.append(y_pred.detach())
            self._valid_y.append(batch[1])

    def _train_arrays(self, net, dataset):
        # In-memory arrays go in large inference batches; anything else
        # through the net's own iterator.
        if ArrayBatches.supports(dataset):
            batches = ArrayBatches(dataset, _INFERENCE_ROWS, shuffle=False)
        else:
            batches = net.get_iterator(dataset, training=False)
        logits, ys = [], []
        for Xb, yb in batches:
            logits.append(net.evaluation_step((Xb, yb), training=False))
            ys.append(torch.as_tensor(yb))
        return torch.cat(logits), torch.cat(ys)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if not self._valid_logits:
            raise ValueError(
                "BiasAdjustment found no validation batches this epoch; the "
                "net's train_split must return a non-empty validation set."
            )
        z_valid = torch.cat(self._valid_logits).cpu().numpy().astype(np.float64)
        y_valid = torch.cat([torch.as_tensor(y) for y in self._valid_y])
        z_train, y_train = self._train_arrays(net, dataset_train)
        z_train = z_train.detach().cpu().numpy().astype(np.float64)
        n_classes = z_train.shape[1]
        y_valid = y_valid.cpu().numpy().astype(np.int64)
        y_train = y_train.cpu().numpy().astype(np.int64)
        classes = getattr(net, "classes_", None)
        classes = np.arange(n_classes) if classes is None else np.asarray(classes)
        prior = np.bincount(y_train, minlength=n_classes) / y_train.size
        target, score, results = search_folds(
            [(z_train, z_valid, y_valid)],
            target=self.target,
            search=self.search,
            scoring=self.scoring,
            scorer=self.scorer_,
            classes=classes,
            prior=prior,
        )
        bias = solve_bias(z_train, target, tol=SEARCH_TOL)
        is_best = score > self.best_score_
        net.history.record("ba_target", target.tolist())
        net.history.record("ba_bias", bias.tolist())
        net.history.record("ba_score", score)
        net.history.record("ba_best", bool(is_best))
        self._valid_logits, self._valid_y = [], []
        if is_best:
            self.best_epoch_ = len(net.history)
            self.best_score_, self.bias_, self.target_ = score, bias, target
            self.search_results_ = results
            self.imbalance_state_ = {
                "before": imbalance_state(z_train, np.zeros(n_classes)),
                "after": imbalance_state(z_train, bias),
            }
            self._best_module = {
                k: v.detach().clone() for k, v in net.module_.state_dict().items()
            }

    def on_train_end(self, net, **kwargs):
        if self._best_module is not None:
            net.module_.load_state_dict(self._best_module)
            self._best_module = None
