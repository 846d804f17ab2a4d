"""Binary metrics computed from confusion counts, vectorised over thresholds."""

import numpy as np


def _ratio(numerator, denominator):
    """``numerator / denominator``, 0 where the denominator is 0.

    Counts may be sums of sample weights, so no lower bound of 1 is assumed.
    """
    denominator = np.asarray(denominator)
    out = np.zeros(denominator.shape)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def _recall(hit, miss):
    return _ratio(hit, hit + miss)


def _f1(tp, fp, fn):
    return _ratio(2 * tp, 2 * tp + fp + fn)


# Binary metrics as functions of the confusion counts (tp, fn, fp, tn) of
# the class of index 1, vectorised over thresholds; ``minority`` is the index
# of the least frequent validation class (as in ``minority_f1_score``).
# With sample weights the counts are sums of the weights of their rows.
COUNT_METRICS = {
    "gmean": lambda tp, fn, fp, tn, minority: np.sqrt(
        _recall(tp, fn) * _recall(tn, fp)
    ),
    "balanced_accuracy": lambda tp, fn, fp, tn, minority: (
        (_recall(tp, fn) + _recall(tn, fp)) / 2
    ),
    "accuracy": lambda tp, fn, fp, tn, minority: (tp + tn) / (tp + fn + fp + tn),
    "minority_f1": lambda tp, fn, fp, tn, minority: (
        _f1(tp, fp, fn) if minority == 1 else _f1(tn, fn, fp)
    ),
}
EXACT_SCORINGS = tuple(sorted(COUNT_METRICS))
