"""Search of the target imbalance state that is best for a metric.

Shared by :class:`~skimb.adjustment.BiasAdjustedClassifier` and the
:class:`~skimb.adjustment.BiasAdjustment` callback. A *fold* is a triple
``(train_logits, valid_logits, valid_y)``: the bias of a candidate target is
solved on the training logits (where the paper measures the imbalance state)
and the candidate is scored on the validation logits. Scores are pooled over
folds: the adjusted validation predictions of every fold are scored together,
so that a small minority does not make the search noisy. To measure the state
on held-out logits instead (``state_on="validation"``), pass one fold
``(pooled_valid_logits, pooled_valid_logits, pooled_valid_y)``.

With sample weights (a pair ``(train_weight, valid_weight)`` per fold) the
bias of a candidate reaches the weighted imbalance state of the training
logits and the candidate is scored with weighted confusion counts, or with
``sample_weight=`` given to the scorer; rows of zero weight are dropped
first, so that they change nothing.
"""

from inspect import Parameter, signature

import numpy as np
from sklearn.utils import check_array, check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets

from ..metrics import get_scorer
from ._binary_search import search_binary
from ._chunked_logits import is_chunked
from ._chunked_search import search_chunked
from ._constraints import check_constraints
from ._count_metrics import COUNT_METRICS
from ._logits import PrecomputedLogits
from ._multiclass_counts import confusion_score
from ._multiclass_search import search_multiclass
from ._solve import check_weights
from ._target import minority_index, resolve_fixed_target


def _accepts_sample_weight(scorer):
    """Whether ``scorer(estimator, X, y, sample_weight=w)`` uses the weights."""
    accepts = getattr(scorer, "_accept_sample_weight", None)
    if callable(accepts):  # a scikit-learn scorer: does its metric take them?
        return bool(accepts())
    try:
        parameters = signature(scorer).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(
        p.name == "sample_weight" or p.kind is Parameter.VAR_KEYWORD for p in parameters
    )


class _Scoring:
    """Scores adjusted validation logits: by counts when possible.

    ``valid_weights``: the validation rows' weights of each fold, or None;
    ``constraints``: the floors a candidate must meet
    (:class:`~skimb.adjustment._constraints.Constraints`), or None.
    """

    def __init__(
        self, scoring, scorer, classes, y_valid, valid_weights=None, constraints=None
    ):
        self.constraints = constraints
        self.count_metric = (
            COUNT_METRICS.get(scoring) if isinstance(scoring, str) else None
        )
        self.scorer = scorer
        self.holder = PrecomputedLogits(classes)
        self._classes, self._y_valid, self._y_labels = classes, y_valid, None
        self._kwargs = {}
        if valid_weights is not None:
            self._kwargs = {"sample_weight": np.concatenate(valid_weights)}
        self._counted = None  # 3+ classes: the confusion-matrix fast path
        if classes.size > 2:
            self._counted = confusion_score(
                scoring,
                scorer,
                classes,
                np.concatenate(y_valid),
                self._kwargs.get("sample_weight"),
            )

    def check_weights_accepted(self, scoring):
        """Raise if weights were given to a scorer that cannot take them."""
        if self._kwargs:
            check_weighted_scoring(scoring, self.scorer, n_classes=None)

    def score(self, logits):
        """The scorer's value on the pooled validation rows at ``logits``."""
        if self._counted is not None:
            value = self._counted(logits)
            if value is not None:
                return value
        if self._y_labels is None:  # only scorers need the labels
            self._y_labels = self._classes[np.concatenate(self._y_valid)]
        return float(self.scorer(self.holder, logits, self._y_labels, **self._kwargs))

    def score_line(self, logits, j, shifts):
        """The scores of ``logits`` with each of ``shifts`` added to column ``j``.

        One argmax for all of them on the confusion-matrix path
        (:meth:`ConfusionScore.line`); the scorer where that has no value.
        """
        values = np.full(len(shifts), np.nan)
        if self._counted is not None:
            values = self._counted.line(logits, j, shifts)
        for i in np.flatnonzero(np.isnan(values)):
            moved = logits.copy()
            moved[:, j] += shifts[i]
            values[i] = self.score(moved)
        return values.tolist()

    def constraint_values(self, logits):
        """The constrained metrics of the argmax of the pooled ``logits``."""
        y = np.concatenate(self._y_valid)
        pred = np.argmax(logits, axis=1)
        return self.constraints.values(y, pred, self._kwargs.get("sample_weight"))


def check_weighted_scoring(scoring, scorer, *, n_classes):
    """Raise if sample weights cannot weight ``scoring``.

    Two classes (``n_classes=2``) and a count scoring use weighted confusion
    counts; otherwise the scorer's metric must take ``sample_weight``.
    """
    counted = n_classes == 2 and isinstance(scoring, str) and scoring in COUNT_METRICS
    if not counted and not _accepts_sample_weight(scorer):
        raise ValueError(
            f"sample_weight was given, but the scorer of scoring={scoring!r} "
            f"does not accept sample_weight (its metric has no sample_weight "
            f"parameter), so the weights could not weight the validation "
            f"metric. Use a metric that takes sample_weight (for two classes, "
            f"the names {list(COUNT_METRICS)} are computed from weighted "
            f"confusion counts), or fit without weights."
        )


def _drop_zero_weights(folds, sample_weight):
    """Folds and weights without the rows of zero weight (weights as float64)."""
    kept_folds, kept_weights = [], []
    for (z_train, z_valid, y_valid), (w_train, w_valid) in zip(
        folds, sample_weight, strict=True
    ):
        w_train = (
            np.ones(len(z_train))
            if w_train is None
            else check_weights(w_train, len(z_train))
        )
        w_valid = (
            np.ones(len(z_valid))
            if w_valid is None
            else check_weights(w_valid, len(z_valid))
        )
        train, valid = w_train > 0, w_valid > 0
        kept_folds.append((z_train[train], z_valid[valid], np.asarray(y_valid)[valid]))
        kept_weights.append((w_train[train], w_valid[valid]))
    return kept_folds, kept_weights


def search_folds(
    folds,
    *,
    target,
    search,
    scoring,
    scorer,
    classes,
    prior,
    sample_weight=None,
    constraints=None,
    return_fold_bias=False,
    n_bootstrap=0,
    random_state=None,
):
    """Choose the target imbalance state for ``scoring`` on the folds.

    Parameters
    ----------
    folds : list of (train_logits, valid_logits, valid_y)
        Logits as float arrays with one column per class; ``valid_y`` holds
        class indices.
    target : "search", "balanced", "prior", float or array-like
        What to choose; anything but ``"search"`` is scored, not searched.
    search : {"decimal", "exact"}
        The search for ``target="search"``.
    scoring : str or callable
        The name given by the user (used to pick a count formula).
    scorer : callable
        ``scorer(estimator, X, y)``.
    classes : ndarray of shape (n_classes,)
        Class labels, for the scorer.
    prior : ndarray of shape (n_classes,)
        Training class frequencies (weighted ones with sample weights).
    sample_weight : list of (train_weight, valid_weight) or None, default=None
        Sample weights of the training and validation rows of each fold
        (an array, or None for equal weights); each part needs a positive
        sum. None weighs every row equally.
    constraints : Constraints or None, default=None
        Floors on per-class validation metrics
        (:func:`~skimb.adjustment._constraints.check_constraints`): the best
        candidate among those that meet them; a ValueError that reports the
        best values reachable when none does. Only with ``target="search"``.
    return_fold_bias : bool, default=False
        Also return the bias of the chosen target on each fold's training
        logits as the search solved it (binary decimal search or fixed
        target, above ``COMPRESS_ABOVE`` rows on the binned margins; the
        multiclass search of one fold, which moves the bias itself), or
        None where the search did not solve it.
    n_bootstrap : int, default=0
        Two classes and a confusion-count scoring only: the threshold is the
        mean of the exact search's best over this many stratified bootstrap
        resamples of the pooled validation rows (0: no bagging).
    random_state : int, RandomState instance or None, default=None
        Draws the bootstrap resamples.

    Returns
    -------
    target : ndarray of shape (n_classes,)
        The chosen target.
    score : float
        Its pooled validation score.
    results : dict
        ``"target"`` (n_candidates, n_classes) and ``"score"``; for binary
        problems also ``"minority_probability"``.
    fold_bias : list of ndarray or None
        Only with ``return_fold_bias=True``.
    """
    n_classes = classes.size
    if sample_weight is not None:
        folds, sample_weight = _drop_zero_weights(folds, sample_weight)
    name = scoring
    scoring = _Scoring(
        scoring,
        scorer,
        classes,
        [y for _, _, y in folds],
        None if sample_weight is None else [w for _, w in sample_weight],
        constraints,
    )
    fixed = resolve_fixed_target(target, n_classes, prior)
    if constraints is not None and fixed is not None:
        raise ValueError(
            f"constraints choose among the rules of target='search'; a fixed "
            f"target={target!r} is a single rule. Use target='search'."
        )
    if n_classes == 2:
        if scoring.count_metric is None:
            scoring.check_weights_accepted(name)
        chosen, score, results, fold_bias = search_binary(
            folds,
            scoring,
            fixed=fixed,
            search=search,
            prior=prior,
            weights=sample_weight,
            **_bagging(n_bootstrap, random_state, fixed, scoring.count_metric),
        )
    elif n_bootstrap:
        raise ValueError(
            f"n_bootstrap bags the threshold of a binary problem; got "
            f"{n_classes} classes. Use n_bootstrap=0."
        )
    elif search == "exact":
        raise ValueError(
            f"search='exact' is for binary problems; got {n_classes} classes. "
            f"Use search='decimal'."
        )
    else:
        scoring.check_weights_accepted(name)
        chosen, score, results, fold_bias = search_multiclass(
            folds,
            scoring,
            fixed=fixed,
            prior=prior,
            weights=None if sample_weight is None else [w for w, _ in sample_weight],
        )
    if return_fold_bias:
        return chosen, float(score), results, fold_bias
    return chosen, float(score), results


def _bagging(n_bootstrap, random_state, fixed, count_metric):
    """``search_binary``'s bagging arguments, checked (none without bagging)."""
    if not n_bootstrap or fixed is not None:
        return {}
    if count_metric is None:
        raise ValueError(
            f"n_bootstrap bags the exact search, which scores every threshold "
            f"from confusion counts: scoring must be one of "
            f"{list(COUNT_METRICS)}. Use n_bootstrap=0 for other scorers."
        )
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return {"n_bootstrap": int(n_bootstrap), "rng": np.random.default_rng(seed)}


def score_rule(valid_logits, valid_y, *, scoring, scorer, classes, sample_weight=None):
    """Pooled score of validation logits as they are (no bias).

    A binary count scoring is computed from the (weighted) confusion counts
    of the argmax, as the search scores (without weights, only where both
    classes occur, so that it equals the scorer); otherwise ``scorer`` on
    the rows, with ``sample_weight=`` where given.
    """
    pooled = _Scoring(
        scoring,
        scorer,
        classes,
        [valid_y],
        None if sample_weight is None else [sample_weight],
    )
    if pooled.count_metric is None or classes.size != 2:
        if sample_weight is not None:
            pooled.check_weights_accepted(scoring)
        return pooled.score(valid_logits)
    y = np.asarray(valid_y)
    # 2 * y + prediction (argmax, ties to class 0, as the scorer predicts)
    cell = 2 * (y == 1) + np.argmax(valid_logits, axis=1)
    tn, fp, fn, tp = np.bincount(cell, weights=sample_weight, minlength=4)
    if sample_weight is None and (tp + fn == 0 or fp + tn == 0):
        return pooled.score(valid_logits)  # one class: as the scorer defines it
    minority = minority_index([fp + tn, tp + fn])
    return float(pooled.count_metric(tp, fn, fp, tn, minority))


def search_target(
    y_true,
    logits,
    *,
    scoring="gmean",
    target="search",
    search="decimal",
    sample_weight=None,
    constraints=None,
):
    """Search the target imbalance state that is best for a metric on logits.

    The search of :class:`BiasAdjustedClassifier` with a frozen estimator:
    the bias of each candidate target is solved on ``logits`` (so that the
    mean softmax of ``logits + bias`` is the target) and the candidate is
    scored on the same rows. The candidates are those described in
    :class:`BiasAdjustedClassifier`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels; their sorted distinct values are the classes. A Dask
        array with Dask ``logits``.
    logits : array-like of shape (n_samples, n_classes) or (n_samples,), \
            Dask array, list of blocks or callable
        Scores of a model, one column per class in the order of the sorted
        labels; for two classes also the margin of the second over the first.
        Logits in chunks, as :func:`solve_bias` takes them (two classes, the
        decimal search of a confusion-count ``scoring``), are never held
        whole: each round of candidates costs the passes of its Newton solve
        and one pass that counts, each a map-reduce over the chunks; the
        result equals the in-memory search.
    scoring : str or callable, default="gmean"
        The metric to maximise, as for :func:`skimb.metrics.get_scorer`.
    target : "search", "balanced", "prior", float or array-like, \
            default="search"
        The target, as for :class:`BiasAdjustedClassifier`; anything but
        ``"search"`` is scored, not searched. ``"prior"`` and the minority of
        a float target follow the class frequencies of ``y_true``.
    search : {"decimal", "exact"}, default="decimal"
        The search for ``target="search"``.
    sample_weight : array-like of shape (n_samples,) or None, default=None
        Row weights (non-negative, finite, with a positive sum over every
        class): the state a bias reaches is the weighted mean softmax, the
        class frequencies behind ``"prior"`` and the minority are weighted,
        and the candidates are scored with weighted confusion counts (two
        classes and a count scoring) or with ``sample_weight=`` given to the
        scorer, whose metric must accept it. An integer weight acts as the
        row repeated, a zero weight as the row dropped. None weighs the rows
        equally.
    constraints : dict or None, default=None
        Floors on validation metrics, as for :class:`BiasAdjustedClassifier`:
        ``{"recall": 0.9}`` (the minority class) or
        ``{"recall": {label: 0.9}}`` (per class); metrics ``"recall"``,
        ``"precision"`` and ``"specificity"``.

    Returns
    -------
    target : ndarray of shape (n_classes,)
        The chosen target imbalance state.
    score : float
        Its score.
    results : dict of ndarray
        ``"target"`` (n_candidates, n_classes) and ``"score"`` of the scored
        candidates; for two classes also ``"minority_probability"``, the
        candidates sorted by it; with ``constraints`` also ``"feasible"``,
        whether each candidate meets the floors (the ``search_results_`` of
        :class:`BiasAdjustedClassifier`).

    See Also
    --------
    BiasAdjustedClassifier : The same search on held-out logits, then the bias.
    solve_bias : The bias of one target.

    Examples
    --------
    >>> import numpy as np
    >>> from skimb.adjustment import search_target
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random(500) < 0.1).astype(int)
    >>> margins = 2.0 * y + rng.normal(size=500) - 2.0
    >>> target, score, results = search_target(y, margins, search="exact")
    >>> bool(score > 0.8)
    True
    >>> sorted(results)
    ['minority_probability', 'score', 'target']

    The same search on logits in blocks of 100 rows:

    >>> blocks = [margins[i : i + 100, None] * [0, 1] for i in range(0, 500, 100)]
    >>> bool(np.allclose(search_target(y, blocks)[0], search_target(y, margins)[0]))
    True
    """
    if search not in ("decimal", "exact"):
        raise ValueError(f"search must be 'decimal' or 'exact'; got {search!r}.")
    if is_chunked(logits):
        if target != "search" or search != "decimal":
            raise ValueError(
                "chunked logits take target='search' with search='decimal'; got "
                f"target={target!r}, search={search!r}."
            )
        return search_chunked(
            y_true,
            logits,
            scoring=scoring,
            sample_weight=sample_weight,
            constraints=constraints,
        )
    y_true = column_or_1d(check_array(y_true, ensure_2d=False, dtype=None))
    check_classification_targets(y_true)
    classes, y_encoded = np.unique(y_true, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"y_true has {classes.size} class; at least two are needed.")
    z = check_array(logits, ensure_2d=False, dtype=np.float64, input_name="logits")
    if z.ndim == 1 and classes.size == 2:
        z = np.column_stack([np.zeros_like(z), z])
    if z.shape != (y_true.size, classes.size):
        raise ValueError(
            f"logits must have shape (n_samples, n_classes) = "
            f"{(y_true.size, classes.size)}; got {z.shape}."
        )
    weights = None
    prior = np.bincount(y_encoded, minlength=classes.size) / y_encoded.size
    if sample_weight is not None:
        weights = check_weights(sample_weight, y_true.size)
        sizes = np.bincount(y_encoded, weights=weights, minlength=classes.size)
        if not np.all(sizes > 0):
            raise ValueError(
                f"sample_weight sums to zero over class(es) "
                f"{classes[sizes <= 0].tolist()}; every class needs a positive "
                f"total weight."
            )
        prior = sizes / sizes.sum()
    checked = check_constraints(constraints, classes, minority_index(prior))
    return search_folds(
        [(z, z, y_encoded)],
        target=target,
        search=search,
        scoring=scoring,
        scorer=get_scorer(scoring),
        classes=classes,
        prior=prior,
        sample_weight=None if weights is None else [(weights, weights)],
        constraints=checked,
    )
