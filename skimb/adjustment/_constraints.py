"""Floors on per-class validation metrics: the ``constraints`` of the search.

A constraint is a floor on a one-vs-rest metric of one class, measured on the
pooled validation predictions of a candidate rule:

- ``"recall"``: the fraction of the class's rows predicted as the class;
- ``"precision"``: the fraction of the rows predicted as the class that are
  of the class (0 when none is predicted);
- ``"specificity"``: the fraction of the other classes' rows not predicted as
  the class.

The searches rank candidates by a *key*: a rule that meets every floor beats
one that does not; among those that meet them the scoring decides, among
those that do not the smallest total shortfall does (so that a search that
starts far from the floors moves toward them).
"""

from numbers import Real

import numpy as np

CONSTRAINT_METRICS = ("recall", "precision", "specificity")
# Slack of a floor: counts divided by counts need not be exact in floats.
_TOL = 1e-12


def _ratio(numerator, denominator):
    """``numerator / denominator``, 0 where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def _metric(name, tp, fn, fp, tn):
    """A one-vs-rest metric from the class's confusion counts (vectorised)."""
    if name == "recall":
        return _ratio(tp, tp + fn)
    if name == "precision":
        return _ratio(tp, tp + fp)
    return _ratio(tn, tn + fp)  # specificity


class Constraints:
    """Validated floors ``(metric, class index, floor)`` of a search.

    Parameters
    ----------
    items : list of (str, int, float)
        The metric name, the index of its class in ``classes`` and the floor.
    classes : ndarray of shape (n_classes,)
        Class labels (for messages).
    """

    def __init__(self, items, classes):
        self.items = items
        self.classes = classes
        self.floors = np.array([floor for _, _, floor in items], dtype=np.float64)

    def __len__(self):
        return len(self.items)

    def names(self):
        """``"recall of class 1"``, ... in the order of the items."""
        return [
            f"{metric} of class {self.classes[k].tolist()!r}"
            for metric, k, _ in self.items
        ]

    def as_dict(self, values):
        """``{metric: {label: value}}`` of one rule's values."""
        out = {}
        for (metric, k, _), value in zip(self.items, values, strict=True):
            out.setdefault(metric, {})[self.classes[k].tolist()] = float(value)
        return out

    def binary_values(self, tp, fn, fp, tn):
        """Values of a binary problem from the counts of class 1 (vectorised).

        Returns an array of shape ``(n_constraints,) + tp.shape``.
        """
        values = []
        for metric, k, _ in self.items:
            counts = (tp, fn, fp, tn) if k == 1 else (tn, fp, fn, tp)
            values.append(_metric(metric, *counts))
        return np.array(values, dtype=np.float64)

    def values(self, y, pred, sample_weight=None):
        """Values of predictions ``pred`` (class indices) of rows ``y``.

        Returns an array of shape ``(n_constraints,)``.
        """
        w = np.ones(len(y)) if sample_weight is None else sample_weight
        out = []
        for metric, k, _ in self.items:
            true, predicted = y == k, pred == k
            tp = w[true & predicted].sum()
            fn = w[true & ~predicted].sum()
            fp = w[~true & predicted].sum()
            tn = w[~true & ~predicted].sum()
            out.append(float(_metric(metric, tp, fn, fp, tn)))
        return np.array(out)

    def shortfall(self, values):
        """Total amount by which ``values`` miss their floors (0: all met)."""
        values = np.asarray(values, dtype=np.float64)
        floors = self.floors.reshape((-1,) + (1,) * (values.ndim - 1))
        return np.maximum(floors - values - _TOL, 0.0).sum(axis=0)

    def error(self, values):
        """The ValueError of floors that no candidate meets.

        ``values``: shape ``(n_constraints, n_candidates)``, every candidate
        tried. For each floor it reports the best value reachable, among the
        candidates that meet the other floors when some do.
        """
        values = np.asarray(values, dtype=np.float64).reshape(len(self), -1)
        met = values >= self.floors[:, None] - _TOL
        parts = []
        for i, name in enumerate(self.names()):
            others = np.delete(met, i, axis=0).all(axis=0)
            if len(self) > 1 and others.any():
                where = " where the other floors hold"
                best = values[i, others].max()
            else:
                where, best = "", values[i].max()
            parts.append(
                f"{name} >= {self.floors[i]:g} reaches at most {best:.4f}{where}"
            )
        return ValueError(
            f"No decision rule meets the constraints on the validation data "
            f"({values.shape[1]} candidate rules scored): " + "; ".join(parts) + ". "
            "Lower the floor(s), give more validation data, or use "
            "search='exact' (binary), which tries every threshold."
        )


def rank_key(score, shortfall):
    """Sort key of a candidate: feasible first, by score, else by shortfall."""
    if shortfall is None or shortfall == 0:
        return (1, float(score))
    return (0, -float(shortfall))


def check_constraints(constraints, classes, minority):
    """Validate the ``constraints`` parameter into :class:`Constraints`.

    Parameters
    ----------
    constraints : dict or None
        ``{metric: floor}`` (a floor on the minority class) or
        ``{metric: {label: floor}}`` (per class); metrics in
        ``CONSTRAINT_METRICS``, floors in [0, 1].
    classes : ndarray of shape (n_classes,)
        Class labels.
    minority : int
        Index of the minority class (the fewest training rows).

    Returns
    -------
    constraints : Constraints or None
        None when there is no floor.
    """
    if constraints is None:
        return None
    if not isinstance(constraints, dict):
        raise ValueError(
            f"constraints must be a dict such as {{'recall': 0.9}} or "
            f"{{'recall': {{label: 0.9}}}}, or None; got {constraints!r}."
        )
    labels = classes.tolist()
    items = []
    for metric, spec in constraints.items():
        if metric not in CONSTRAINT_METRICS:
            raise ValueError(
                f"Unknown constraint metric {metric!r}; use one of "
                f"{list(CONSTRAINT_METRICS)}."
            )
        per_class = spec if isinstance(spec, dict) else {None: spec}
        for label, floor in per_class.items():
            if label is None:
                k = minority
            elif label in labels:
                k = labels.index(label)
            else:
                raise ValueError(
                    f"constraints[{metric!r}] names label {label!r}, which is "
                    f"not a class of y; the classes are {labels}."
                )
            if (
                isinstance(floor, bool)
                or not isinstance(floor, Real)
                or not 0 <= floor <= 1
            ):
                raise ValueError(
                    f"The floor of constraints[{metric!r}] must be a number in "
                    f"[0, 1]; got {floor!r}."
                )
            items.append((metric, k, float(floor)))
    return Constraints(items, classes) if items else None
