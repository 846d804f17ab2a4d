"""Checks and splits of BiasAdjustedClassifier.fit."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit, check_cv
from sklearn.utils import _safe_indexing
from skorch import NeuralNet
from skorch.dataset import ValidSplit

from ._logits import raw_logits

_SCORE_METHODS = ("logits", "predict_proba", "decision_function")


def encode_labels(y):
    """Classes, class indices and class counts of 1-D labels, in one pass.

    Non-negative integer labels are counted with ``bincount`` (no sort, no
    search); others go through ``np.unique`` and one ``searchsorted``.
    """
    if y.dtype.kind in "iu" and y.size and y.min() >= 0 and y.max() < 2 * y.size:
        counts = np.bincount(y)
        present = np.flatnonzero(counts)
        if present.size == counts.size:
            y_encoded = y.astype(np.intp, copy=False)
        else:
            index = np.cumsum(counts > 0) - 1
            y_encoded = index[y]
        return present.astype(y.dtype), y_encoded, counts[present]
    classes = np.unique(y)
    y_encoded = np.searchsorted(classes, y)
    return classes, y_encoded, np.bincount(y_encoded, minlength=classes.size)


def check_base_estimator(base, classes, *, per_epoch):
    """Refuse an estimator without scores, with other classes, or not a net."""
    if not any(hasattr(base, name) for name in _SCORE_METHODS):
        raise ValueError(
            f"The estimator {type(base).__name__} has neither predict_proba "
            f"nor decision_function (nor logits): it gives no scores to "
            f"adjust."
        )
    frozen = isinstance(base, FrozenEstimator)
    frozen_classes = getattr(base, "classes_", None) if frozen else None
    if frozen_classes is not None and not np.array_equal(frozen_classes, classes):
        raise ValueError(
            f"y has classes {classes.tolist()}, but the frozen estimator "
            f"was fitted on {np.asarray(frozen_classes).tolist()}; its score "
            f"columns would be given the wrong labels."
        )
    if per_epoch and (frozen or not isinstance(base, NeuralNet)):
        raise ValueError(
            f"per_epoch=True needs a skorch NeuralNet estimator to train; "
            f"got {type(base).__name__}."
        )


def validation_splits(cv, X, y, classes, *, refit, random_state):
    """The (train, valid) index pairs of ``cv``; each part holds every class."""
    if isinstance(cv, Real) and not isinstance(cv, Integral):
        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=cv, random_state=random_state
        )
    else:
        splitter = check_cv(cv, y, classifier=True)
    # A class needs a row in the training and in the validation part of
    # every split: two rows for a holdout, one per fold for k folds.
    kfold = isinstance(splitter, StratifiedKFold)
    needed = max(2, splitter.n_splits) if kfold else 2
    counts = np.bincount(y, minlength=len(classes))
    if counts.min() < needed:
        j = int(np.argmin(counts))
        per_fold = (
            f"one per validation fold of {splitter.n_splits}"
            if kfold
            else "one for training, one for validation"
        )
        raise ValueError(
            f"Class {classes[j].tolist()!r} has {counts[j]} sample"
            f"{'s' if counts[j] != 1 else ''} and needs at least {needed} "
            f"({per_fold}) for cv={cv!r}; collect more rows of it, "
            f"merge it with another class or use fewer folds."
        )
    splits = list(splitter.split(X, y))
    if not refit and len(splits) > 1:
        raise ValueError(
            f"refit=False keeps the model of a single validation split; cv="
            f"{cv!r} gives {len(splits)} splits. Use a float cv, a "
            f"FrozenEstimator or refit=True."
        )
    n_classes = len(classes)
    for train, valid in splits:
        for name, part in (("validation", valid), ("training", train)):
            present = np.bincount(y[part], minlength=n_classes) > 0
            if not present.all():
                missing = np.flatnonzero(~present)
                raise ValueError(
                    f"A {name} split of cv={cv!r} lacks class(es) "
                    f"{classes[missing].tolist()}; use a larger "
                    f"validation fraction or fewer folds."
                )
    return splits


def fold_logits(estimator, base, X, y, y_encoded, *, train_logits):
    """Fit a clone of ``base`` per split of ``estimator.cv``; their logits.

    Returns the folds ``(train_logits or None, valid_logits, valid_y)`` and
    the model of the last split (the final model when ``refit=False``).
    """
    n_classes = len(estimator.classes_)
    splits = validation_splits(
        estimator.cv,
        X,
        y_encoded,
        estimator.classes_,
        refit=estimator.refit,
        random_state=estimator.random_state,
    )
    folds, model = [], None
    for train, valid in splits:
        model = clone(base).fit(_safe_indexing(X, train), y[train])
        z_valid = raw_logits(model, _safe_indexing(X, valid), n_classes)
        z_train = (
            raw_logits(model, _safe_indexing(X, train), n_classes)
            if train_logits
            else None
        )
        folds.append((z_train, z_valid, y_encoded[valid]))
    return folds, model


def per_epoch_split(cv, random_state):
    """The net's ``train_split`` made from ``cv`` for ``per_epoch=True``."""
    # skorch refuses a random_state unless the split is a fraction.
    fraction = isinstance(cv, Real) and not isinstance(cv, Integral)
    seed = {"random_state": random_state} if fraction else {}
    # Folds and fractions are stratified; a splitter is used as given
    # (skorch refuses stratified=True with a non-stratified one).
    stratified = cv is None or isinstance(cv, Real)
    return ValidSplit(cv, stratified=stratified, **seed)
