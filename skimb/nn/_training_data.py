"""Validation of a net's training data and encoding of its labels."""

from functools import partial

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import _safe_indexing
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import (
    check_consistent_length,
    column_or_1d,
    validate_data,
)

from ._fit_checks import check_feature_scale, check_weights
from ._lazy_rows import (
    LazyRows,
    dataset_labels,
    fit_sample_rows,
    is_out_of_core,
    n_rows,
    read_rows,
)
from ._preprocessing import TabularPreprocessor


def _preprocess(net, X, *, reset):
    """X through the net's ``preprocessor_``, fitted first when ``reset``.

    Returns a float32 array: the numeric columns (transformed by the net's
    ``preprocessing``), then the codes of the categorical columns.
    """
    if reset:
        net.preprocessor_ = TabularPreprocessor(
            net.preprocessing, random_state=net.random_state
        )
        X = net.preprocessor_._fit_transform(X, net)
    else:
        X = net.preprocessor_._transform(X, net)
    numeric = net.preprocessor_.numeric_columns_
    names = getattr(net, "feature_names_in_", None)
    check_feature_scale(X[:, : len(numeric)], None if names is None else names[numeric])
    return X


def _in_memory_rows(net, X, y, sample_weight, *, reset):
    """X checked and preprocessed whole, y as 1-D; rows of weight zero dropped."""
    validate_data(net, X, reset=reset, skip_check_array=True)
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    check_classification_targets(y)
    if sample_weight is not None:
        sample_weight = check_weights(sample_weight, X)
        keep = sample_weight > 0
        if not keep.all():  # a zero weight drops the row
            X = _safe_indexing(X, np.flatnonzero(keep))
            y, sample_weight = y[keep], sample_weight[keep]
    X = _preprocess(net, X, reset=reset)
    return X, y, sample_weight


def _transform_block(net, block):
    return net.preprocessor_._transform(block, net)


def _out_of_core_rows(net, X, y, sample_weight, *, reset):
    """X as :class:`LazyRows`: checked on its first row, preprocessing fitted
    on (a sample of) its rows of positive weight, read a block at a time."""
    if y is None and isinstance(X, torch.utils.data.Dataset):
        y = dataset_labels(X)
    n = n_rows(X)
    first = read_rows(X, np.arange(min(n, 1)))
    if first.ndim != 2:
        raise ValueError(
            f"Each row of X must be a 1-D vector of features; got rows of shape "
            f"{first.shape[1:]} from {type(X).__name__}."
        )
    validate_data(net, first, reset=reset, skip_check_array=True)
    y = column_or_1d(np.asarray(y), warn=True)
    if len(y) != n:
        raise ValueError(
            f"X has {n} rows but y has {len(y)}; they must match one to one."
        )
    check_classification_targets(y)
    rows = None
    if sample_weight is not None:
        sample_weight = check_weights(sample_weight, y)
        keep = sample_weight > 0
        if not keep.all():
            rows = np.flatnonzero(keep)
            y, sample_weight = y[keep], sample_weight[keep]
    if reset:
        sample = fit_sample_rows(len(y), net.random_state)
        block = read_rows(X, sample if rows is None else rows[sample])
        _preprocess(net, block, reset=True)
    return LazyRows(X, partial(_transform_block, net), rows), y, sample_weight


def validate_training_data(net, X, y, sample_weight=None, *, reset, classes=None):
    """Validate X and y, drop rows of weight zero, preprocess X, encode the labels.

    X goes through the net's ``preprocessor_`` (a
    :class:`TabularPreprocessor` of its ``preprocessing``, fitted on the rows
    of positive weight when ``reset``); its feature names and count are
    checked the scikit-learn way.

    With ``reset`` the net's ``label_encoder_`` is fitted on ``classes`` (on
    ``y`` when None) and its ``class_counts_`` are the (weighted) counts of
    the encoded labels; otherwise ``classes``, if given, must be the fitted
    ones. Every label of ``y`` must be known.

    Out-of-core X (a numpy memmap, a Dask array, a torch Dataset) is not
    read whole: its preprocessing is fitted on its rows (a seeded sample of
    ``FIT_SAMPLE`` rows beyond that many) and it is returned as
    :class:`LazyRows`, read and transformed a block at a time.

    Returns ``X`` preprocessed (float32, or LazyRows), the encoded labels as
    int64 and the weights (None without).
    """
    if is_out_of_core(X):
        X, y, sample_weight = _out_of_core_rows(net, X, y, sample_weight, reset=reset)
    else:
        X, y, sample_weight = _in_memory_rows(net, X, y, sample_weight, reset=reset)
    if reset:
        net.label_encoder_ = LabelEncoder().fit(y if classes is None else classes)
        if len(net.classes_) < 2:
            source = "y" if classes is None else "classes"
            weighted = (
                " among the rows of positive sample_weight"
                if sample_weight is not None and classes is None
                else ""
            )
            raise ValueError(
                f"{source} has a single class{weighted} (1 class: "
                f"{net.classes_[0]!r}); {type(net).__name__} needs at least "
                "two classes."
            )
    elif classes is not None and not np.array_equal(
        unique_labels(classes), net.classes_
    ):
        raise ValueError(
            f"classes={np.asarray(classes).tolist()!r} differs from the "
            f"classes the net was fitted on, {net.classes_.tolist()}; call "
            "fit to change the classes."
        )
    unknown = np.setdiff1d(y, net.classes_)
    if unknown.size:
        raise ValueError(
            f"y contains labels unknown to the classifier: {unknown.tolist()}; "
            f"known labels are {net.classes_.tolist()}."
        )
    y_encoded = net.label_encoder_.transform(y).astype(np.int64)
    if reset:
        net.class_counts_ = np.bincount(
            y_encoded,
            weights=None if sample_weight is None else sample_weight.astype(float),
            minlength=len(net.classes_),
        )
    return X, y_encoded, sample_weight
