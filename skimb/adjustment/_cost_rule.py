"""The Bayes rule of a cost matrix, where it is a bias of the logits.

With calibrated probabilities ``p`` the rule of least expected cost predicts
``argmin_j sum_i p_i C[i, j]`` (Elkan, 2001). When every row of ``C`` has one
cost off the diagonal, ``C[i, j] = a_i`` for ``j != i`` (always so for two
classes), the expected cost of predicting ``j`` is
``sum_i p_i a_i - p_j (a_j - C[j, j])``, so the rule is
``argmax_j p_j (a_j - C[j, j])``: the logits plus the bias
``log(a_j - C[j, j])``. For two classes with ``C = [[0, 1], [10, 0]]`` it is
the threshold ``p_1 > 1/11``.
"""

import numpy as np


def ordered_cost_matrix(scorer, classes):
    """The cost matrix of ``scorer`` with rows and columns in ``classes``' order.

    None where ``scorer`` is not one of
    :func:`~skimb.metrics.make_cost_scorer`, or where its matrix or labels
    do not name each class once (its ``labels=None`` means the sorted
    classes).
    """
    cost = getattr(scorer, "cost_matrix", None)
    if cost is None or not hasattr(scorer, "labels"):
        return None
    cost = np.asarray(cost, dtype=np.float64)
    if cost.shape != (classes.size, classes.size):
        return None
    if scorer.labels is None:
        return cost
    labels = np.asarray(scorer.labels)
    if labels.shape != (classes.size,):
        return None
    position = []
    for label in classes:
        found = np.flatnonzero(labels == label)
        if found.size != 1:
            return None
        position.append(found[0])
    return cost[np.ix_(position, position)]


def cost_rule_bias(scorer, classes):
    """The bias of the Bayes rule of ``scorer``'s cost matrix, or None.

    None where the scorer has no cost matrix for ``classes``, where a row
    has more than one cost off the diagonal, or where an error costs no more
    than the correct prediction of its class (the rule is then no bias).
    """
    cost = ordered_cost_matrix(scorer, classes)
    if cost is None:
        return None
    off = ~np.eye(classes.size, dtype=bool)
    error = np.where(off, cost, np.nan)
    if not np.allclose(np.nanmin(error, axis=1), np.nanmax(error, axis=1)):
        return None
    gain = np.nanmax(error, axis=1) - np.diag(cost)
    if np.any(gain <= 0):
        return None
    bias = np.log(gain)
    return bias - bias.mean()
