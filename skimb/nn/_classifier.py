"""NetClassifier: a skorch classifier that behaves like a scikit-learn one."""

import inspect
from contextlib import contextmanager
from numbers import Integral

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochScoring, ProgressBar

from ._batches import ArrayBatches
from ._mlp import MLP


def _resolve_device(device):
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _encoded_accuracy(net, X, y):
    """Accuracy on skorch's validation split, whose targets are encoded."""
    return float(np.mean(net.logits(X).argmax(axis=1) == np.asarray(y)))


def _accepts(factory, name):
    """Whether the class ``factory`` takes an ``__init__`` argument ``name``."""
    if not isinstance(factory, type):
        return False
    return name in inspect.signature(factory).parameters


class NetClassifier(NeuralNetClassifier):
    """Neural network classifier on skorch that behaves like a scikit-learn one.

    It closes the gaps skorch leaves to its users: labels of any type (strings,
    non-contiguous integers) are encoded in ``fit`` and decoded by ``predict``;
    float64, pandas and list input is validated the scikit-learn way and cast
    to float32; :meth:`predict_proba` is the softmax of the logits whatever the
    criterion; :meth:`logits` returns the raw outputs; ``device="auto"`` picks
    CUDA when it is there; ``random_state`` makes CPU fits reproducible. The
    module (``MLP`` by default) receives ``n_features`` and ``n_classes`` and a
    criterion whose class takes ``class_counts`` receives the training class
    counts, unless set explicitly through ``module__`` / ``criterion__``.

    Training batches are shuffled every epoch (skorch's DataLoader is not,
    unless told); ``iterator_train__shuffle=False`` turns it off.

    Every other skorch argument (``callbacks``, ``optimizer__weight_decay``,
    ``module__hidden_sizes``, ``iterator_train__num_workers`` ...) is accepted
    as keyword argument and tunable by ``GridSearchCV``.

    Parameters
    ----------
    module : torch module class or instance, default=MLP
        The network; it must return one logit per class.
    criterion : torch loss class, default=torch.nn.CrossEntropyLoss
        Loss on ``(logits, encoded_targets)``.
    optimizer : torch optimizer class, default=torch.optim.AdamW
        Optimizer of the module parameters.
    lr : float, default=3e-3
        Learning rate.
    max_epochs : int, default=40
        Number of passes over the training data.
    batch_size : int, default=128
        Mini-batch size for training and inference.
    train_split : callable or None, default=None
        skorch's validation split (for example
        ``skorch.dataset.ValidSplit(5, stratified=True)``); ``None`` trains on
        all data, as scikit-learn estimators do.
    device : str, default="auto"
        ``"auto"`` uses CUDA when ``torch.cuda.is_available()``, else the CPU;
        any torch device string is accepted.
    random_state : int or None, default=None
        Seeds weight initialisation, shuffling and dropout without touching
        torch's global random state. On CPU two fits with the same seed give
        identical predictions.
    verbose : int, default=0
        0 is silent, 1 prints skorch's epoch table, 2 also shows a progress bar.
    **kwargs
        Any other argument of :class:`skorch.NeuralNetClassifier`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    class_counts_ : ndarray of shape (n_classes,)
        Number of training samples of each class.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of the features, when X was a DataFrame with string column names.
    module_ : torch.nn.Module
        The trained network.
    history : skorch.History
        Per-epoch records (losses, callback scores).

    See Also
    --------
    skimb.nn.LogitAdjustedNet : NetClassifier trained with an imbalance loss.
    skorch.NeuralNetClassifier : The class this one extends.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from skimb.nn import NetClassifier
    >>> X, y = make_classification(n_samples=200, weights=[0.8], random_state=0)
    >>> labels = np.where(y == 1, "fraud", "ok")
    >>> net = NetClassifier(max_epochs=5, random_state=0).fit(X, labels)
    >>> net.classes_
    array(['fraud', 'ok'], dtype='<U5')
    >>> net.predict_proba(X[:2]).sum(axis=1).round(6)
    array([1., 1.], dtype=float32)
    """

    def __init__(
        self,
        module=MLP,
        *,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        lr=3e-3,
        max_epochs=40,
        batch_size=128,
        train_split=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            device=device,
            verbose=verbose,
            **kwargs,
        )
        self.random_state = random_state

    # -- device="auto": the user's value stays in ``__dict__`` (so get_params
    # -- and clone see it); skorch reads the resolved device through the property.
    @property
    def device(self):
        return _resolve_device(self.__dict__["device"])

    @device.setter
    def device(self, value):
        self.__dict__["device"] = value

    def _get_param_names(self):
        # skorch lists its private ``_params_to_validate`` too; __init__
        # rebuilds it from the keyword arguments, so it is no parameter.
        return [k for k in super()._get_param_names() if k != "_params_to_validate"]

    def get_params(self, deep=True, **kwargs):
        params = super().get_params(deep=deep, **kwargs)
        params["device"] = self.__dict__["device"]
        return params

    def __getstate__(self):
        state = super().__getstate__()
        state["_requested_device"] = state["device"]
        state["device"] = self.device  # skorch maps it to what the loader has
        return state

    def __setstate__(self, state):
        requested = state.pop("_requested_device", None)
        super().__setstate__(state)
        if requested == "auto":
            self.__dict__["device"] = "auto"

    # -- wiring of the data-dependent init arguments
    def get_params_for(self, prefix):
        params = super().get_params_for(prefix)
        if prefix == "iterator_train":
            # skorch's DataLoader does not shuffle unless told; SGD needs it.
            params.setdefault("shuffle", True)
            return params
        if prefix == "module":
            known = {"n_features": "n_features_in_", "n_classes": "classes_"}
        elif prefix == "criterion":
            known = {"class_counts": "class_counts_"}
        else:
            return params
        factory = getattr(self, prefix)
        for name, attribute in known.items():
            if name in params or not _accepts(factory, name):
                continue
            if hasattr(self, attribute):
                value = getattr(self, attribute)
                params[name] = len(value) if name == "n_classes" else value
        return params

    def get_iterator(self, dataset, training=False):
        """Batches of ``dataset``; in-memory arrays skip skorch's per-row fetch.

        With the default ``iterator_train`` / ``iterator_valid`` (DataLoader),
        no DataLoader argument but ``batch_size`` and ``shuffle`` and a
        positive ``batch_size`` (or -1), numpy data is batched by one indexing
        per batch (:class:`ArrayBatches`): the same batches, several times
        faster for tabular data. Anything else goes through skorch's
        DataLoader, which also refuses an invalid ``batch_size``.
        """
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        default_loader = getattr(self, prefix) is torch.utils.data.DataLoader
        if default_loader and set(kwargs) <= {"batch_size", "shuffle"}:
            batch_size = kwargs.get("batch_size", self.batch_size)
            if batch_size == -1:
                batch_size = len(dataset)
            valid = isinstance(batch_size, Integral) and not isinstance(
                batch_size, bool
            )
            if valid and batch_size > 0 and ArrayBatches.supports(dataset):
                return ArrayBatches(dataset, batch_size, kwargs.get("shuffle", False))
        return super().get_iterator(dataset, training=training)

    def get_default_callbacks(self):
        # skorch's valid_acc compares predict (labels) with the encoded targets
        # of its validation Dataset; score the encoded argmax instead.
        callbacks = [
            (name, EpochScoring(_encoded_accuracy, name=name, lower_is_better=False))
            if name == "valid_acc"
            else (name, callback)
            for name, callback in super().get_default_callbacks()
        ]
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    @property
    def classes_(self):
        check_is_fitted(self, "label_encoder_")
        return self.label_encoder_.classes_

    @contextmanager
    def _seeded(self, epochs_done=0):
        """Run the block under a private torch RNG seeded by ``random_state``.

        ``epochs_done`` shifts the seed so that successive ``partial_fit``
        calls do not repeat the same shuffles.
        """
        if self.random_state is None:
            yield
            return
        if isinstance(self.random_state, np.random.RandomState):
            seed = int(self.random_state.randint(np.iinfo(np.int32).max))
        else:
            seed = int(self.random_state) + epochs_done
        cuda = torch.device(self.device).type == "cuda"
        with torch.random.fork_rng(devices=[torch.device(self.device)] if cuda else []):
            torch.manual_seed(seed)
            yield

    def _validate_training_data(self, X, y, *, reset, classes=None):
        X, y = validate_data(self, X, y, dtype=np.float32, reset=reset)
        check_classification_targets(y)
        if reset:
            self.label_encoder_ = LabelEncoder().fit(y if classes is None else classes)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"y has a single class (1 class: {self.classes_[0]!r}); "
                    f"{type(self).__name__} needs at least two classes."
                )
        elif classes is not None and not np.array_equal(
            unique_labels(classes), self.classes_
        ):
            raise ValueError(
                f"classes={np.asarray(classes).tolist()!r} differs from the "
                f"classes the net was fitted on, {self.classes_.tolist()}; call "
                "fit to change the classes."
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels unknown to the classifier: {unknown.tolist()}; "
                f"known labels are {self.classes_.tolist()}."
            )
        y_encoded = self.label_encoder_.transform(y).astype(np.int64)
        if reset:
            self.class_counts_ = np.bincount(y_encoded, minlength=len(self.classes_))
        return X, y_encoded

    def fit(self, X, y, **fit_params):
        """Initialise and train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; cast to float32.
        y : array-like of shape (n_samples,)
            Class labels of any type.
        **fit_params : dict
            Passed to the module's ``forward`` and to ``train_split``.

        Returns
        -------
        self : NetClassifier
            The fitted classifier.
        """
        reset = not (self.warm_start and getattr(self, "initialized_", False))
        X, y = self._validate_training_data(X, y, reset=reset)
        with self._seeded(epochs_done=0 if reset else len(self.history)):
            if reset:
                self.initialize()
            NeuralNetClassifier.partial_fit(self, X, y, **fit_params)
        return self

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train the network further, initialising it on the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; cast to float32.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like or None, default=None
            All class labels, required on the first call when ``y`` may not
            contain every class; later calls may repeat them, not change them.
        **fit_params : dict
            Passed to the module's ``forward`` and to ``train_split``.

        Returns
        -------
        self : NetClassifier
            The fitted classifier.
        """
        reset = not getattr(self, "initialized_", False)
        X, y = self._validate_training_data(X, y, reset=reset, classes=classes)
        with self._seeded(epochs_done=0 if reset else len(self.history)):
            NeuralNetClassifier.partial_fit(self, X, y, **fit_params)
        return self

    def _forward_logits(self, X):
        check_is_fitted(self, "label_encoder_")
        # skorch's validation scoring (valid_acc) passes its torch Dataset.
        if not isinstance(X, torch.utils.data.Dataset):
            X = validate_data(self, X, dtype=np.float32, reset=False)
        return self.forward(X, training=False)

    def logits(self, X):
        """Return the raw outputs of the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        logits : ndarray of shape (n_samples, n_classes)
            One unnormalised score per class, in the order of ``classes_``.

        Raises
        ------
        ValueError
            If the network's outputs are not finite (inputs too large for
            float32 arithmetic, or diverged training), rather than returning
            NaN probabilities.
        """
        logits = self._forward_logits(X).numpy()
        finite = np.isfinite(logits).all(axis=1)
        if not finite.all():
            rows = np.flatnonzero(~finite)
            raise ValueError(
                f"The network's outputs are not finite for {rows.size} of "
                f"{len(logits)} samples (first: row {rows[0]}): the features are "
                "too large for the network's float32 arithmetic, or training "
                "diverged (see history[:, 'train_loss']). Scale X, for example "
                "with StandardScaler, or lower lr."
            )
        return logits

    def predict_proba(self, X):
        """Return class probabilities, the softmax of :meth:`logits`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        return torch.softmax(torch.as_tensor(self.logits(X)), dim=1).numpy()

    def predict(self, X):
        """Return the most probable class label of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels of the same type as the training labels.
        """
        return self.classes_[self.logits(X).argmax(axis=1)]
