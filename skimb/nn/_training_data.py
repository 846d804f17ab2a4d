"""Validation of a net's training data and encoding of its labels."""

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import validate_data

from ._fit_checks import check_feature_scale, check_weights


def validate_training_data(net, X, y, sample_weight=None, *, reset, classes=None):
    """Validate X and y, drop rows of weight zero and encode the labels.

    With ``reset`` the net's ``label_encoder_`` is fitted on ``classes`` (on
    ``y`` when None) and its ``class_counts_`` are the (weighted) counts of
    the encoded labels; otherwise ``classes``, if given, must be the fitted
    ones. Every label of ``y`` must be known.

    Returns ``X`` as float32, the encoded labels as int64 and the weights
    (None without).
    """
    X, y = validate_data(net, X, y, dtype=np.float32, reset=reset)
    check_classification_targets(y)
    if sample_weight is not None:
        sample_weight = check_weights(sample_weight, X)
        keep = sample_weight > 0
        if not keep.all():  # a zero weight drops the row
            X, y, sample_weight = X[keep], y[keep], sample_weight[keep]
    check_feature_scale(X, getattr(net, "feature_names_in_", None))
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
