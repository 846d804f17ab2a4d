"""Scorers for imbalanced classification and the one scorer lookup of skimb."""

from imblearn.metrics import geometric_mean_score
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.metrics import get_scorer_names, make_scorer

from ._classification import minority_f1_score

# pos_label=None: G-mean uses every class, and any label type is valid.
gmean_scorer = make_scorer(geometric_mean_score, pos_label=None)
gmean_scorer.__doc__ = "Scorer of the geometric mean of the per-class recalls."

minority_f1_scorer = make_scorer(minority_f1_score)
minority_f1_scorer.__doc__ = "Scorer of the F1 score of the least frequent class."

_SKIMB_SCORERS = {"gmean": gmean_scorer, "minority_f1": minority_f1_scorer}


def get_scorer(scoring):
    """Return the scorer named ``scoring``.

    Parameters
    ----------
    scoring : str or callable
        ``"gmean"``, ``"minority_f1"``, any name of
        :func:`sklearn.metrics.get_scorer_names`, or a scorer callable
        ``scorer(estimator, X, y)``, returned as it is.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``, higher is better.

    Examples
    --------
    >>> from skimb.metrics import get_scorer
    >>> get_scorer("gmean")
    make_scorer(geometric_mean_score, response_method='predict', pos_label=None)
    """
    if callable(scoring):
        return scoring
    if isinstance(scoring, str):
        if scoring in _SKIMB_SCORERS:
            return _SKIMB_SCORERS[scoring]
        if scoring in get_scorer_names():
            return sklearn_get_scorer(scoring)
    options = sorted(_SKIMB_SCORERS) + [
        "any name of sklearn.metrics.get_scorer_names()"
    ]
    raise ValueError(
        f"Unknown scoring {scoring!r}; use a callable or one of {options}."
    )
