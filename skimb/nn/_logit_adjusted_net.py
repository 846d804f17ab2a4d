"""LogitAdjustedNet: a NetClassifier trained with an imbalance loss."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._classifier import NetClassifier
from ._init_args import add_defaults
from ._loss_choice import (
    check_loss_params,
    class_weights,
    loss_factory,
    prior_adjustment,
)
from ._mlp import MLP

_CRITERION_REFUSED = (
    "LogitAdjustedNet got criterion={!r}, but it builds its criterion from "
    "loss= ('logit_adjusted', 'ldam', 'vs', 'balanced_softmax', 'focal' or "
    "'cross_entropy'); set loss=, pass the loss's own arguments as "
    "criterion__<name>, or use NetClassifier(criterion=...) for a criterion "
    "of your own."
)


class LogitAdjustedNet(NetClassifier):
    """Neural network classifier trained with a loss for imbalanced classes.

    A :class:`NetClassifier` whose criterion is chosen by ``loss`` and built
    from the class counts of the training labels at each fit:

    - ``"logit_adjusted"``: :class:`LogitAdjustedLoss` (cross entropy on
      ``z + tau * log(pi)``), or with ``adjustment="posthoc"`` plain cross
      entropy and predictions from ``z - tau * log(pi)``;
    - ``"ldam"``: :class:`LDAMLoss` on the cosine head it assumes
      (``module__cosine=True, module__scale=ldam_s`` are set unless given);
    - ``"vs"``: :class:`VSLoss`; ``"balanced_softmax"``:
      :class:`BalancedSoftmaxLoss`; ``"focal"``: :class:`FocalLoss`;
    - ``"cross_entropy"``: :class:`torch.nn.CrossEntropyLoss`.

    ``class_weight`` adds class weights to any of them, from the first epoch
    or, with ``drw_epoch``, from that epoch on (deferred re-weighting, as in
    LDAM-DRW). In loss mode predictions use the raw logits; in post-hoc mode
    :meth:`logits`, :meth:`predict_proba` and :meth:`predict` all use the
    adjusted ones.

    With an ensemble module (:class:`TabMBackbone`), every member is trained
    with the loss (the batch's loss is the mean of the members' losses) and
    the logits that predictions, the post-hoc correction, bias adjustment
    and the difficulty measure read are the mean of the members' logits.

    ``sample_weight`` in :meth:`fit` weighs each row's loss on top of the
    class weights, and the class counts that build the loss (and
    ``class_weight``) are the weighted counts: an integer weight acts like
    repeating the row, a zero weight like dropping it.

    Everything else (training, inference batches, ``random_state``,
    ``device``, validation of the hyperparameters, the warnings about
    unscaled features and a training loss that does not go down) is
    :class:`NetClassifier`'s, whose documentation applies.

    Parameters
    ----------
    module : torch module class or instance, default=MLP
        The network; it must return one logit per class.
    loss : {"logit_adjusted", "ldam", "vs", "balanced_softmax", "focal", \
"cross_entropy"}, default="logit_adjusted"
        The training loss.
    tau : float >= 0, default=1.0
        Strength of the logit adjustment: of the loss for ``"logit_adjusted"``
        and ``"vs"``, of the post-hoc correction with ``adjustment="posthoc"``.
    adjustment : {"loss", "posthoc"}, default="loss"
        Where the prior correction happens. ``"posthoc"`` trains without it
        (cross entropy for ``"logit_adjusted"``, the focal loss for
        ``"focal"``) and subtracts ``tau * log(pi)`` from the logits at
        prediction. Never both: ``"posthoc"`` is refused for the losses that
        adjust themselves (``"ldam"``, ``"vs"``, ``"balanced_softmax"``).
    class_weight : dict, {"balanced", "effective_number"} or None, \
default=None
        Class weights of the loss: ``"balanced"`` is ``N / (K n_j)`` and a
        dict maps labels to weights (absent labels get 1), as in
        :func:`sklearn.utils.class_weight.compute_class_weight`;
        ``"effective_number"`` is :func:`class_balanced_weights` with
        ``beta``. The losses average the weighted terms by the sum of the
        batch's weights, as :class:`torch.nn.CrossEntropyLoss` does.
    beta : float in [0, 1), default=0.9999
        Hyperparameter of ``class_weight="effective_number"``.
    drw_epoch : int >= 0 or None, default=None
        Deferred re-weighting: the class weights apply only from this (0-based)
        epoch on; ``None`` applies them from the start. Needs ``class_weight``
        and must be below ``max_epochs``. Cao et al. use 160 of 200 epochs.
    ldam_max_m : float in (0, 2], default=0.5
        Largest LDAM margin, in cosine units.
    ldam_s : float > 0, default=30.0
        Scale of the LDAM cosine head (it lives in the head, so that
        :meth:`predict_proba` is the softmax of what the loss saw).
    vs_gamma : float >= 0, default=0.3
        Exponent of the VS loss's multiplicative adjustment.
    focal_gamma : float >= 0, default=2.0
        Focusing parameter of the focal loss.
    init_bias : "prior" or None, default=None
        As for :class:`NetClassifier`, whose default (``"prior"``: the output
        bias starts at the log class shares) suits plain cross-entropy.
        These losses already account for the prior (the logit-adjusted loss
        trains ``logits + tau * log(prior)``), so here the module keeps its
        own initialisation unless asked.
    optimizer, lr, max_epochs, batch_size, predict_batch_size, train_split, \
device, random_state, verbose, **kwargs
        The parameters of :class:`NetClassifier`, with its defaults and
        meaning (``module__hidden_sizes``, ``criterion__reduction`` and every
        other skorch argument included). The criterion itself is chosen by
        ``loss``: ``criterion=`` is refused.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    class_counts_ : ndarray of shape (n_classes,)
        Number of training samples of each class (the loss's class counts),
        the sum of their ``sample_weight`` when given: of the first call to
        :meth:`partial_fit`, or of the first :meth:`fit` with
        ``warm_start=True``, which keeps the network and its loss.
    class_weight_ : ndarray of shape (n_classes,) or None
        The class weights in use (from ``drw_epoch`` on, if set).
    logit_adjustment_ : ndarray of shape (n_classes,) or None
        ``tau * log(pi)``, subtracted from the outputs by :meth:`logits` in
        post-hoc mode; ``None`` in loss mode.
    n_features_in_ : int
        Number of features seen during fit.
    criterion_ : torch.nn.Module
        The loss built for the last fit.
    module_ : torch.nn.Module
        The trained network.
    history : skorch.History
        Per-epoch records.

    See Also
    --------
    NetClassifier : The same network with a criterion of your choice.

    References
    ----------
    .. [1] A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit and
       S. Kumar, "Long-tail learning via logit adjustment", ICLR 2021.
    .. [2] K. Cao, C. Wei, A. Gaidon, N. Arechiga and T. Ma, "Learning
       Imbalanced Datasets with Label-Distribution-Aware Margin Loss",
       NeurIPS 2019.
    .. [3] Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced
       Loss Based on Effective Number of Samples", CVPR 2019.
    .. [4] G. R. Kini, O. Paraskevas, S. Oymak and C. Thrampoulidis,
       "Label-Imbalanced and Group-Sensitive Classification under
       Overparameterization", NeurIPS 2021.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skimb.nn import LogitAdjustedNet
    >>> X, y = make_classification(
    ...     n_samples=300, n_classes=3, n_informative=4, weights=[0.8, 0.15],
    ...     random_state=0)
    >>> net = LogitAdjustedNet(max_epochs=5, random_state=0).fit(X, y)
    >>> net.class_counts_
    array([240,  45,  15])
    >>> type(net.criterion_).__name__
    'LogitAdjustedLoss'
    >>> ldam = LogitAdjustedNet(
    ...     loss="ldam", class_weight="effective_number", drw_epoch=3,
    ...     max_epochs=5, random_state=0).fit(X, y)
    >>> ldam.module_.cosine, ldam.class_weight_.sum().round(6)
    (True, np.float64(3.0))

    With ``sample_weight`` the loss is built from the weighted class counts:

    >>> import numpy as np
    >>> weighted = LogitAdjustedNet(max_epochs=5, random_state=0).fit(
    ...     X, y, sample_weight=np.where(y == 0, 0.5, 1.0))
    >>> weighted.class_counts_
    array([120.,  45.,  15.])
    """

    _parameter_constraints = {
        **NetClassifier._parameter_constraints,
        "criterion": [None],
        "loss": [
            StrOptions(
                {
                    "logit_adjusted",
                    "ldam",
                    "vs",
                    "balanced_softmax",
                    "focal",
                    "cross_entropy",
                }
            )
        ],
        "tau": [Interval(Real, 0, None, closed="left")],
        "adjustment": [StrOptions({"loss", "posthoc"})],
        "class_weight": [None, dict, StrOptions({"balanced", "effective_number"})],
        "beta": [Interval(Real, 0, 1, closed="left")],
        "drw_epoch": [None, Interval(Integral, 0, None, closed="left")],
        "ldam_max_m": [Interval(Real, 0, 2, closed="right")],
        "ldam_s": [Interval(Real, 0, None, closed="neither")],
        "vs_gamma": [Interval(Real, 0, None, closed="left")],
        "focal_gamma": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        module=MLP,
        *,
        loss="logit_adjusted",
        tau=1.0,
        adjustment="loss",
        class_weight=None,
        beta=0.9999,
        drw_epoch=None,
        ldam_max_m=0.5,
        ldam_s=30.0,
        vs_gamma=0.3,
        focal_gamma=2.0,
        init_bias=None,
        optimizer=torch.optim.AdamW,
        lr=3e-3,
        max_epochs=40,
        batch_size=128,
        predict_batch_size=8192,
        train_split=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        if "criterion" in kwargs:
            raise TypeError(_CRITERION_REFUSED.format(kwargs["criterion"]))
        super().__init__(
            module,
            criterion=None,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            predict_batch_size=predict_batch_size,
            train_split=train_split,
            init_bias=init_bias,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )
        self.loss = loss
        self.tau = tau
        self.adjustment = adjustment
        self.class_weight = class_weight
        self.beta = beta
        self.drw_epoch = drw_epoch
        self.ldam_max_m = ldam_max_m
        self.ldam_s = ldam_s
        self.vs_gamma = vs_gamma
        self.focal_gamma = focal_gamma

    def _get_param_names(self):
        # The criterion follows from ``loss``: it is no parameter of its own.
        return [k for k in super()._get_param_names() if k != "criterion"]

    def set_params(self, **params):
        if "criterion" in params:
            raise ValueError(_CRITERION_REFUSED.format(params["criterion"]))
        return super().set_params(**params)

    def fit(self, X, y, sample_weight=None, **fit_params):
        """Check the loss parameters, then initialise and train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; cast to float32.
        y : array-like of shape (n_samples,)
            Class labels of any type; their (weighted) counts build the loss.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Non-negative weight of each row's loss, combined with the class
            weights; an integer weight acts like repeating the row, a zero
            weight like dropping it.
        **fit_params : dict
            Passed to the module's ``forward`` and to ``train_split``.

        Returns
        -------
        self : LogitAdjustedNet
            The fitted classifier.
        """
        check_loss_params(self, check_epochs=True)
        return super().fit(X, y, sample_weight=sample_weight, **fit_params)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **fit_params):
        """Train the network further, initialising it on the first call.

        The class counts of the first call build the loss; ``drw_epoch``
        counts the epochs of all calls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; cast to float32.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like or None, default=None
            All class labels; each must occur in the first call's ``y``, since
            the losses need positive class counts.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Non-negative weight of each row's loss, as in :meth:`fit`.
        **fit_params : dict
            Passed to the module's ``forward`` and to ``train_split``.

        Returns
        -------
        self : LogitAdjustedNet
            The fitted classifier.
        """
        check_loss_params(self, check_epochs=False)
        return super().partial_fit(
            X, y, classes=classes, sample_weight=sample_weight, **fit_params
        )

    def get_params_for(self, prefix):
        params = super().get_params_for(prefix)
        if prefix == "module" and self.loss == "ldam":
            defaults = {"cosine": True, "scale": self.ldam_s}
            return add_defaults(params, self.module, defaults)
        return params

    def initialize_criterion(self):
        """Build the criterion named by ``loss`` from the training class counts."""
        if not hasattr(self, "class_counts_"):
            raise ValueError(
                f"{type(self).__name__} builds its loss from the class counts of "
                "the training labels: call fit or partial_fit, not initialize."
            )
        counts = self.class_counts_
        if not np.all(counts > 0):
            raise ValueError(
                f"classes {self.classes_[counts == 0].tolist()} have no training "
                f"sample; {type(self).__name__} needs every class in y (in the "
                "first call of partial_fit) to build its loss from the counts."
            )
        self.class_weight_ = class_weights(
            self.class_weight, counts, self.classes_, self.beta
        )
        self.logit_adjustment_ = prior_adjustment(self.adjustment, self.tau, counts)
        factory, params = loss_factory(self)
        self.criterion_ = factory(**params, **self.get_params_for("criterion"))
        return self

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )
        if self.class_weight_ is None:
            return
        # len(history) is the 1-based number of the epoch that starts now.
        if self.drw_epoch is None or len(self.history) > self.drw_epoch:
            self.criterion_.weight = torch.as_tensor(
                self.class_weight_, dtype=torch.float32, device=self.device
            )
        else:
            self.criterion_.weight = None

    def logits(self, X):
        """Return the logits used for prediction.

        In post-hoc mode these are the network's outputs minus
        ``logit_adjustment_`` (``tau * log(pi)``); otherwise the raw outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        logits : ndarray of shape (n_samples, n_classes)
            One score per class, in the order of ``classes_``;
            :meth:`predict_proba` is their softmax.
        """
        z = super().logits(X)
        if self.logit_adjustment_ is None:
            return z
        return (z - self.logit_adjustment_).astype(z.dtype)
