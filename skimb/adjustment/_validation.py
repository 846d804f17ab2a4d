"""Checks and splits of BiasAdjustedClassifier.fit."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit, check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import _routing_enabled, process_routing
from sklearn.utils.validation import _check_sample_weight, has_fit_parameter
from skorch import NeuralNet
from skorch.dataset import ValidSplit
from tqdm import tqdm

from ..metrics import get_scorer
from ._logits import raw_logits

_SCORE_METHODS = ("logits", "predict_proba", "decision_function")
# Metrics of how a model orders the rows: a bias moves no row past another
# in a binary problem, so every candidate rule scores the same.
_RANKING_METRICS = ("roc_auc_score", "average_precision_score")


def check_decision_scorer(scoring):
    """The scorer of ``scoring``; a ranking metric is refused with the reason."""
    scorer = get_scorer(scoring)
    name = getattr(getattr(scorer, "_score_func", None), "__name__", None)
    if name in _RANKING_METRICS:
        raise ValueError(
            f"scoring={scoring!r} ({name}) is a ranking metric: it scores how "
            f"the model orders the rows, which the decision rule does not "
            f"change, so every target would score the same and the search "
            f"would choose nothing. BiasAdjustedClassifier tunes a decision: "
            f"use a threshold-dependent metric such as 'gmean', "
            f"'minority_f1', 'balanced_accuracy', 'f1', 'recall', or a cost "
            f"(skimb.metrics.make_cost_scorer). To rank well, use the base "
            f"model itself."
        )
    return scorer


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
    # A class needs a row in the training part of every split and in the
    # pooled validation rows: two rows. With stratified k folds a class of
    # fewer rows than folds is missing from some validation parts only
    # (every training part keeps one of its rows): warned, as
    # StratifiedKFold does, and fitted.
    kfold = isinstance(splitter, StratifiedKFold)
    counts = np.bincount(y, minlength=len(classes))
    j = int(np.argmin(counts))
    if counts[j] < 2:
        raise ValueError(
            f"Class {classes[j].tolist()!r} has {counts[j]} sample and needs at "
            f"least 2 (one for training, one for validation) for cv={cv!r}; "
            f"collect more rows of it or merge it with another class."
        )
    if kfold and counts[j] < splitter.n_splits:
        warnings.warn(
            f"Class {classes[j].tolist()!r} has {counts[j]} samples, fewer than "
            f"the {splitter.n_splits} folds of cv={cv!r}: "
            f"{splitter.n_splits - counts[j]} validation folds lack it, and it "
            f"is validated on {counts[j]} pooled rows only.",
            UserWarning,
            stacklevel=4,  # BiasAdjustedClassifier.fit's caller
        )
    with warnings.catch_warnings():
        # Said above, with the class named.
        warnings.filterwarnings("ignore", message="The least populated class")
        splits = list(splitter.split(X, y))
    if not refit and len(splits) > 1:
        raise ValueError(
            f"refit=False keeps the model of a single validation split; cv="
            f"{cv!r} gives {len(splits)} splits. Use a float cv, a "
            f"FrozenEstimator or refit=True."
        )
    n_classes = len(classes)
    parts = [("training", train) for train, _ in splits]
    if not kfold:  # stratified folds validate every row once, by design
        parts += [("validation", valid) for _, valid in splits]
    for name, part in parts:
        present = np.bincount(y[part], minlength=n_classes) > 0
        if not present.all():
            missing = np.flatnonzero(~present)
            raise ValueError(
                f"A {name} split of cv={cv!r} lacks class(es) "
                f"{classes[missing].tolist()}; use a larger "
                f"validation fraction or fewer folds."
            )
    return splits


def check_weights(sample_weight, y_encoded, classes):
    """Sample weights as float64 and the weighted class sizes.

    The weights must be finite and non-negative, one per row, with a
    positive sum over every class.
    """
    sample_weight = _check_sample_weight(
        sample_weight, y_encoded, dtype=np.float64, ensure_non_negative=True
    )
    sizes = np.bincount(y_encoded, weights=sample_weight, minlength=len(classes))
    if np.any(sizes <= 0):
        raise ValueError(
            f"sample_weight sums to zero over class(es) "
            f"{classes[sizes <= 0].tolist()}; every class needs a positive "
            f"total weight."
        )
    return sample_weight, sizes


def estimator_fit_params(meta, base, sample_weight):
    """The parameters of the estimator's ``fit``: the weights, if it takes them.

    With metadata routing enabled they are routed as the estimator requests
    (``set_fit_request``); otherwise they go to an estimator whose ``fit``
    takes ``sample_weight``, and any other estimator is refused. A frozen
    estimator is not fitted: the weights only weight the validation data.
    """
    if _routing_enabled():
        routed = process_routing(meta, "fit", sample_weight=sample_weight)
        return dict(routed.estimator.fit)
    if sample_weight is None or isinstance(base, FrozenEstimator):
        return {}
    if not has_fit_parameter(base, "sample_weight"):
        raise ValueError(
            f"sample_weight was given, but the estimator {type(base).__name__} "
            f"does not accept sample_weight: its fit has no sample_weight "
            f"parameter. For a pipeline or another meta-estimator, enable "
            f"metadata routing (sklearn.set_config(enable_metadata_routing=True)) "
            f"and request the weights on the step that takes them "
            f"(step.set_fit_request(sample_weight=True)); else use an estimator "
            f"whose fit takes sample_weight, or a FrozenEstimator (the weights "
            f"then weight the validation data only)."
        )
    return {"sample_weight": sample_weight}


def fold_logits(
    estimator,
    base,
    X,
    y,
    y_encoded,
    *,
    train_logits,
    fit_params=None,
    sample_weight=None,
):
    """Fit a clone of ``base`` per split of ``estimator.cv``; their logits.

    Returns the folds ``(train_logits or None, valid_logits, valid_y)``, the
    models of the splits (the last is the final model when ``refit=False``
    and the fold models are kept with ``ensemble=True``) and the
    weights ``(train_weight, valid_weight)`` of each fold (None without
    ``sample_weight``). Each fit gets ``fit_params`` (per-row arrays: the
    weights) restricted to its training rows.
    """
    n_classes = len(estimator.classes_)
    splits = validation_splits(
        estimator.cv,
        X,
        y_encoded,
        estimator.classes_,
        refit=estimator.refit or estimator.ensemble,
        random_state=estimator.random_state,
    )
    folds, models = [], []
    fit_params = fit_params or {}
    progress = tqdm(
        splits,
        desc="BiasAdjustedClassifier: validation fits",
        unit="fit",
        disable=not estimator.verbose,
    )
    for train, valid in progress:
        params = {
            key: _safe_indexing(value, train) for key, value in fit_params.items()
        }
        model = clone(base).fit(_safe_indexing(X, train), y[train], **params)
        z_valid = raw_logits(model, _safe_indexing(X, valid), n_classes)
        z_train = (
            raw_logits(model, _safe_indexing(X, train), n_classes)
            if train_logits
            else None
        )
        folds.append((z_train, z_valid, y_encoded[valid]))
        models.append(model)
    weights = None
    if sample_weight is not None:
        weights = [
            (sample_weight[train], sample_weight[valid]) for train, valid in splits
        ]
    return folds, models, weights


def per_epoch_split(cv, random_state):
    """The net's ``train_split`` made from ``cv`` for ``per_epoch=True``."""
    # skorch refuses a random_state unless the split is a fraction.
    fraction = isinstance(cv, Real) and not isinstance(cv, Integral)
    seed = {"random_state": random_state} if fraction else {}
    # Folds and fractions are stratified; a splitter is used as given
    # (skorch refuses stratified=True with a non-stratified one).
    stratified = cv is None or isinstance(cv, Real)
    return ValidSplit(cv, stratified=stratified, **seed)
