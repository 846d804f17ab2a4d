"""BiasAdjustedClassifier: move a model's imbalance state to the best one."""

from numbers import Integral, Real

from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags, indexable
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ..metrics import get_scorer
from ..nn import LogitsPredictMixin, NetClassifier
from ._bagging import resolve_bootstrap
from ._constraints import check_constraints
from ._fit_modes import FitModesMixin
from ._logits import raw_logits
from ._probabilities import ProbabilitiesMixin
from ._search import check_weighted_scoring
from ._target import minority_index, resolve_fixed_target
from ._validation import (
    check_base_estimator,
    check_decision_scorer,
    check_weights,
    encode_labels,
    estimator_fit_params,
)


class BiasAdjustedClassifier(
    ProbabilitiesMixin,
    LogitsPredictMixin,
    FitModesMixin,
    ClassifierMixin,
    BaseEstimator,
):
    """Classifier whose bias moves its imbalance state to the best one.

    A classifier trained on imbalanced data leans toward the majority: the
    mean of its predicted probabilities, its *model imbalance state* (MIS),
    sits near the class priors. Adding a bias ``b`` to its logits moves the
    MIS and nothing else. This meta-estimator chooses the target MIS that
    maximises the user's metric on validation data, solves the bias that
    reaches it exactly (:func:`solve_bias`) and predicts with the adjusted
    logits, as in the seed paper.

    How it fits, exactly:

    1. Validation. With ``cv`` folds (an int or a splitter) a clone of the
       estimator is trained on each training part; with a float, on one
       stratified holdout split; with an already fitted estimator wrapped in
       :class:`~sklearn.frozen.FrozenEstimator` (as ``estimator`` or as
       ``cv``) nothing is trained and the data given to :meth:`fit` is the
       validation data.
    2. Search. For a candidate target the bias is solved on the logits where
       the model imbalance state is measured (``state_on``) and applied to the
       validation logits; the adjusted validation predictions of all folds
       are pooled and scored once, so that a small minority does not make
       the choice noisy.

       - ``state_on="validation"`` (the default): the validation logits of
         all fold models are pooled; the bias is solved on them and the
         candidate scored on them plus that bias.
       - ``state_on="train"`` (the paper's choice): the bias of each fold
         model is solved on the logits of its own training part and applied
         to the logits of its validation part.

       With a frozen estimator both settings measure the state on the data
       given to :meth:`fit`. The searches:

       - ``search="decimal"``, binary: the paper's grid of minority
         probabilities 0.1, ..., 0.9, then steps of 0.01 around the best,
         then steps of 0.001 around the new best.
       - ``search="exact"``, binary: every decision the target can make.
         Each validation row changes class at one *critical target*; one
         sort gives the pooled score at every threshold, and the chosen
         target lies midway between two critical targets. Ties among the
         decimal candidates go to the middle of the best range.
       - three or more classes (``search="decimal"``): a coordinate search
         in log-space from the best of the uniform target, the training
         prior and the model's own MIS; each entry in turn is multiplied by
         ``10 ** (a * h)``, ``a`` in (-2, -1, 1, 2), and the move is kept
         when the score improves; sweeps repeat until none improves, with
         ``h`` = 0.5, then 0.1, then 0.02. On one fold (the default
         ``state_on="validation"``) a move multiplies the class's odds, its
         bias, by ``10 ** (a * h)`` and the target is the state it reaches,
         so no candidate needs a solve.
    3. Final model. With ``ensemble=True`` (the default) the fold models
       are kept and predict together (the mean of their logits); else with
       ``refit=True`` the estimator is trained on all the data, else (one
       validation split only) the model of that split is kept. With
       ``state_on="train"`` the bias is solved for the chosen target on the
       final model's logits of the data it was fitted on (all the data, or
       the training part of the split). With ``state_on="validation"`` the
       bias solved on the pooled validation logits is kept and transferred
       to the final model, as
       :class:`~sklearn.model_selection.TunedThresholdClassifierCV` transfers
       a threshold.
    4. Do no harm. The searched rule is compared with the fixed rules: the
       model's own rule (no bias, as it predicts on its own) and, for three
       or more classes, its prior corrections, the bias
       ``-tau * log(prior)`` for ``tau`` in 0.25, 0.5, 0.75 and 1 (the
       post-hoc logit adjustment of Menon et al., for ``tau=1`` the rule of
       the best balanced accuracy of a calibrated model), and, for the
       scorer of :func:`~skimb.metrics.make_cost_scorer`, the Bayes rule of
       its cost matrix where that is a bias (the least expected cost of a
       calibrated model; always for two classes, ``p_1 > 1/11`` for
       ``[[0, 1], [10, 0]]``; for more, when each row has one cost off the
       diagonal). The best of the
       few hundred candidates on a few validation rows of a small class has
       a score inflated by those rows' noise, so the gain is *cross-fitted*:
       the pooled validation rows (of each fold) are halved, stratified, and
       the rule searched on one half and the fixed rule best on that half are
       scored on the other; ``search_gain_`` is the mean difference over both
       halves of two halvings (fixed seeds). When it is at most
       ``min_improvement`` the best fixed rule on all the rows is used
       instead (``decision_rule_`` names it).
       With constraints, or when every class has at least 1,000 validation
       rows, the gain is the in-sample one (the best score minus the best
       fixed rule's). The cross-fit costs four searches on half the rows.
       On 12 held-out binary sets and 4 multiclass sets it turned the losses
       against the plain model into ties (``benchmarks/results/
       decision_layer.md``, ``multiclass_decision.md``).

    Bagging (``n_bootstrap``). The best threshold of a binary problem is the
    argmax of a score curve that a few validation minority rows make noisy:
    it overfits them and predicts more minority rows on validation than the
    refitted model does on new rows. With ``n_bootstrap`` resamples the
    threshold is the mean of the exact search's best threshold over
    stratified bootstrap resamples of the pooled validation rows (in margins
    with ``state_on="validation"``, in log-odds of the critical target with
    ``"train"``), each row keeping its weight; ``best_score_`` is its pooled
    score and step 4 compares it with the own rule. With constraints each
    resample's best meets the floors on the resample, and a mean that misses
    them on the pooled rows moves to the nearest threshold that meets them.
    Each resample costs one pass over the rows of one class. It lowers the
    variance of the threshold, but on 12 held-out sets it moved the mean
    test G-mean and minority F1 by -0.003 to +0.004 (two bases, three
    bootstrap seeds; ``benchmarks/results/bias_rules.md``), so it is off by
    default.

    Constraints. With ``constraints`` (floors on validation metrics, e.g.
    ``{"recall": 0.9}``: catch 90% of the minority) the search maximises
    ``scoring`` among the rules whose pooled validation predictions meet
    every floor; the exact binary search does so over every threshold. A
    fixed rule is kept (step 4) only when it meets them too. When no
    rule tried meets them, :meth:`fit` raises a ValueError that reports the
    best value reachable for each floor. The values reached are
    ``constraint_values_``; on new data they hold as well as the validation
    rows represent it.

    Probabilities. :meth:`predict` and :meth:`decision_function` use the
    adjusted logits (:meth:`logits`); :meth:`predict_proba` returns the base
    model's probabilities by default (``probabilities="base"``), as
    :class:`~sklearn.model_selection.TunedThresholdClassifierCV` keeps them
    and moves only the decision: the bias moves the predicted probabilities
    to the target state, which is right for the decision and wrong as an
    estimate of how likely each class is. ``"adjusted"`` returns the softmax
    of the adjusted logits (skimb 0.1.0's behaviour);
    ``"sigmoid"``, ``"isotonic"`` and ``"temperature"`` recalibrate the base
    model's scores on the pooled validation logits with
    :class:`~sklearn.calibration.CalibratedClassifierCV`. On 17 held-out
    datasets the base probabilities of a network had a Brier score within
    0.001 of every recalibration and the adjusted softmax almost twice it
    (``benchmarks/results/calibration.md``), hence the default.

    With ``per_epoch=True`` and a skorch network, the network is trained once
    with the :class:`skimb.adjustment.BiasAdjustment` callback, which runs the
    search after every epoch on its validation split (its ``train_split``,
    made from ``cv`` when unset) and keeps the best epoch and its bias
    (the paper's training strategy); ``refit`` and ``state_on`` are then
    ignored (the callback measures the state on its training split).

    :meth:`fit` takes ``sample_weight`` with scikit-learn's meaning (an
    integer weight acts as the row repeated, a zero weight as the row
    dropped): the weights go to every fit of the estimator (directly, or
    routed with metadata routing enabled) and weight the class frequencies,
    the imbalance state where the bias is solved and the validation metric.

    Parameters
    ----------
    estimator : classifier or None, default=None
        The base model; ``None`` means :class:`skimb.nn.NetClassifier`. Its
        scores are its ``logits`` when it has them, else the logarithm of
        ``predict_proba``, else ``decision_function``.
    scoring : str or callable, default="gmean"
        The metric to maximise; any name of :func:`skimb.metrics.get_scorer`
        or a scorer ``scorer(estimator, X, y)``.
    target : "search", "balanced", "prior", float or array-like, \
            default="search"
        The target MIS: searched, uniform, the training class frequencies, a
        float (the minority-class probability of a binary problem; the
        minority has the fewest training rows, ``classes_[0]`` on a tie) or
        an array on the simplex in the order of ``classes_`` (entries at
        least 1e-4).
    search : {"decimal", "exact"}, default="decimal"
        The search for ``target="search"``; ``"exact"`` is for binary
        problems and the scorings "accuracy", "balanced_accuracy", "gmean"
        and "minority_f1", which are computed from confusion counts.
    cv : int, float, cross-validation generator, iterable or \
            FrozenEstimator, default=10
        The validation, as described above. An int is a number of stratified
        folds; a float in (0, 1) the fraction of one stratified holdout. Ten
        folds train each fold model on 90 % of the rows, closer to the refit
        model the chosen rule is transferred to than 5 folds (80 %): on 26
        held-out sets, two bases and three metrics it beat the plain model on
        as many or more sets in every one of the 12 cases
        (``benchmarks/bench_bias_folds.py``), at 11 fits instead of 6.
    per_epoch : bool, default=False
        Adjust after every epoch of a skorch network and keep the best one.
    refit : bool, default=True
        Train the final model on all the data (needs no single split).
    ensemble : bool, default=True
        Keep the fold models of the validation as the final model instead of
        a refit, as :class:`~sklearn.calibration.CalibratedClassifierCV`
        does with ``ensemble=True``: ``estimator_`` is a
        :class:`~skimb.adjustment.FoldEnsemble` whose logits are the mean of
        theirs and whose probabilities their softmax (with one split,
        a float ``cv``, the model of that split), and ``refit`` is ignored.
        The rule is then applied to the models it was chosen on, and
        averaging them lowers the variance of each one's scores; it costs one
        fit fewer, and ``cv`` predictions per row instead of one. On 17
        held-out sets ``BiasAdjustedClassifier(scoring="minority_f1")`` of
        the default network was above the plain network on 13 (10 with the
        refit) and below it on 2 (4), at the same mean F1 (0.607 against
        0.608), with step 4's previous in-sample check; with the cross-fit,
        12 and 2, mean 0.605 (``benchmarks/results/recommended.md``).
    state_on : {"validation", "train"}, default="validation"
        Where the model imbalance state is measured when the bias of a target
        is solved. ``"train"`` is the paper's choice: each model's logits of
        its own training data. A model trained on little data is
        overconfident on its training rows, so the bias that reaches a target
        there need not reach it on new data, and the target chosen on
        validation rows does not transfer. ``"validation"`` measures the
        state on held-out logits (the pooled validation logits of the fold
        models), the rows the candidate is scored on, and transfers that
        bias to the final model. With a frozen estimator both are the data
        given to :meth:`fit`. ``"validation"`` is the default; the user
        guide's measured results compare the two.
    min_improvement : float, default=0.0
        The gain over the best fixed rule (``search_gain_``, cross-fitted as
        step 4 above says) that the searched rule needs to be used; ``0``
        uses it on any strict gain, ``-inf`` always (and skips the
        cross-fit's searches: ``search_gain_`` is then the in-sample
        gain). Only for ``target="search"`` and ``per_epoch=False``.
    constraints : dict or None, default=None
        Floors on the pooled validation metrics of the chosen rule (see
        Constraints above): ``{metric: floor}`` for the minority class (the
        fewest training rows) or ``{metric: {label: floor}}`` per class,
        with metrics ``"recall"``, ``"precision"`` and ``"specificity"``
        (one class against the rest) and floors in [0, 1]. For instance
        ``{"recall": 0.9}`` with ``scoring="precision"``: the most precise
        rule that catches 90% of the minority. Only with
        ``target="search"`` and ``per_epoch=False``.
    probabilities : {"base", "adjusted", "sigmoid", "isotonic", \
            "temperature"}, default="base"
        What :meth:`predict_proba` returns (see Probabilities above):
        the base model's probabilities, the softmax of the adjusted logits,
        or the base model's scores recalibrated on the pooled validation
        logits by that method of
        :class:`~sklearn.calibration.CalibratedClassifierCV` (not with
        ``per_epoch=True``). :meth:`predict` is the argmax of the adjusted
        logits whatever this is.
    n_bootstrap : int or "auto", default=0
        Bootstrap resamples of the threshold's bagging (see Bagging above),
        whatever ``search``; ``0`` for none. Only for two classes,
        ``target="search"``, ``per_epoch=False`` and the scorings
        "accuracy", "balanced_accuracy", "gmean" and "minority_f1" (else a
        ValueError); ``"auto"`` is 100 there and 0 elsewhere.
    verbose : int, default=0
        ``0`` is silent; ``1`` or more shows a progress bar (tqdm) over the
        fits of the validation models.
    random_state : int, RandomState instance or None, default=None
        Seeds the holdout split when ``cv`` is a float and the bootstrap
        resamples of ``n_bootstrap``.

    Attributes
    ----------
    estimator_ : classifier
        The fitted base model (the frozen one as given; with
        ``ensemble=True`` the :class:`~skimb.adjustment.FoldEnsemble` of the
        fold models).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    bias_ : ndarray of shape (n_classes,)
        Bias added to the model's logits (sums to zero).
    target_ : ndarray of shape (n_classes,)
        The chosen target MIS.
    imbalance_state_ : dict
        ``"before"`` and ``"after"``: the MIS without and with ``bias_`` on
        the logits where the bias is solved: with ``state_on="train"`` the
        final model's logits of its training data, with
        ``state_on="validation"`` the pooled validation logits of the fold
        models, with a frozen estimator the data given to :meth:`fit`.
    best_score_ : float
        Pooled validation score of the rule used (the chosen target, or the
        fixed rule step 4 keeps).
    own_score_ : float
        Pooled validation score of the model's own rule (zero bias); not
        set with ``per_epoch=True``.
    search_gain_ : float or None
        Step 4's gain of the searched rule over the best fixed rule
        (cross-fitted, or in sample as step 4 says); None with a fixed
        ``target`` or when no fixed rule meets the constraints; not set with
        ``per_epoch=True``.
    decision_rule_ : str
        The rule ``predict`` applies: ``"search"`` (the searched target),
        ``"target"`` (a fixed ``target``), or the fixed rule that step 4
        keeps, ``"own"`` (the model's own rule), ``"prior correction"`` or
        ``"cost"`` (the Bayes rule of the cost matrix); not set with
        ``per_epoch=True``.
    prior_correction_ : float or None
        The ``tau`` of the prior correction that step 4 keeps (``0.0``: the
        model's own rule), None otherwise; not set with ``per_epoch=True``.
    constraint_values_ : dict
        With ``constraints``: ``{metric: {label: value}}``, the pooled
        validation values of the rule used, each at least its floor.
    calibrator_ : CalibratedClassifierCV
        With a calibrating ``probabilities``: the calibration of the base
        model's scores, fitted on the pooled validation logits (its input
        is the base model's scores, one column per class).
    search_results_ : dict of ndarray
        ``"target"`` (n_candidates, n_classes) and ``"score"``
        (n_candidates,) of the candidates scored (the pooled validation
        score of each target, its bias solved as ``state_on`` says); with
        ``constraints`` also ``"feasible"``, whether each meets the floors;
        for binary problems also
        ``"minority_probability"``, and candidates sorted by it. The exact
        search records about 100 evenly spaced thresholds (each at the
        target where its last row changes class) and the best one.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit; only when ``X`` has string
        column names.

    See Also
    --------
    skimb.adjustment.solve_bias : The exact bias solve.
    skimb.adjustment.search_target : The search on given logits.
    skimb.adjustment.BiasAdjustment : The per-epoch callback.
    sklearn.model_selection.TunedThresholdClassifierCV : Tunes a binary
        decision threshold by the same kind of validation.

    References
    ----------
    .. [1] "Regulating imbalanced deep models with user-specified metrics":
       model imbalance state (Eq. 4), bias adjustment (Eq. 5), the decimal
       search and the per-epoch training strategy (Section 3.3).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skimb.adjustment import BiasAdjustedClassifier
    >>> X, y = make_classification(n_samples=600, weights=[0.9], random_state=0)
    >>> clf = BiasAdjustedClassifier(LogisticRegression(), cv=3).fit(X, y)
    >>> clf.target_  # minority probability 0.197 maximises the G-mean
    array([0.803, 0.197])
    >>> clf.imbalance_state_["before"].round(3)  # held out, without the bias
    array([0.901, 0.099])
    >>> clf.imbalance_state_["after"].round(3)  # held out, with the bias
    array([0.803, 0.197])

    The most precise rule that catches 90% of the minority on validation:

    >>> clf = BiasAdjustedClassifier(
    ...     LogisticRegression(), cv=3, scoring="precision", constraints={"recall": 0.9}
    ... ).fit(X, y)
    >>> round(clf.constraint_values_["recall"][1], 3)  # pooled validation recall
    0.902
    >>> round(clf.best_score_, 3)  # its pooled validation precision
    0.833

    The G-mean threshold bagged over 100 bootstrap resamples of the pooled
    validation rows, and its pooled score (the plain search's: 0.955):

    >>> clf = BiasAdjustedClassifier(
    ...     LogisticRegression(), cv=3, n_bootstrap=100, random_state=0
    ... ).fit(X, y)
    >>> clf.target_.round(3), round(clf.best_score_, 3)
    (array([0.81, 0.19]), 0.947)

    ``predict_proba`` is the base model's (``probabilities="base"``), here the
    softmax of the mean logits of the 3 fold models it keeps
    (``ensemble=True``):

    >>> len(clf.estimator_.estimators)
    3
    >>> clf.predict_proba(X[:2]).round(3)
    array([[1.  , 0.  ],
           [0.98, 0.02]])
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "scoring": [str, callable],
        "target": [
            StrOptions({"search", "balanced", "prior"}),
            Interval(Real, 0, 1, closed="neither"),
            "array-like",
        ],
        "search": [StrOptions({"decimal", "exact"})],
        "cv": [
            "cv_object",
            Interval(Real, 0, 1, closed="neither"),
            FrozenEstimator,
        ],
        "per_epoch": ["boolean"],
        "refit": ["boolean"],
        "ensemble": ["boolean"],
        "state_on": [StrOptions({"validation", "train"})],
        "min_improvement": [Interval(Real, None, None, closed="both")],
        "constraints": [dict, None],
        "probabilities": [
            StrOptions({"base", "adjusted", "sigmoid", "isotonic", "temperature"})
        ],
        "n_bootstrap": [
            StrOptions({"auto"}),
            Interval(Integral, 0, None, closed="left"),
        ],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        scoring="gmean",
        target="search",
        search="decimal",
        cv=10,
        per_epoch=False,
        refit=True,
        ensemble=True,
        state_on="validation",
        min_improvement=0.0,
        constraints=None,
        probabilities="base",
        n_bootstrap=0,
        verbose=0,
        random_state=None,
    ):
        self.estimator = estimator
        self.scoring = scoring
        self.target = target
        self.search = search
        self.cv = cv
        self.per_epoch = per_epoch
        self.refit = refit
        self.ensemble = ensemble
        self.state_on = state_on
        self.min_improvement = min_improvement
        self.constraints = constraints
        self.probabilities = probabilities
        self.n_bootstrap = n_bootstrap
        self.verbose = verbose
        self.random_state = random_state

    def _base_estimator(self):
        if isinstance(self.cv, FrozenEstimator):
            return self.cv
        return NetClassifier() if self.estimator is None else self.estimator

    @_fit_context(
        # the estimator's parameters are validated when it is fitted
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None):
        """Fit the model(s), choose the target and solve the bias.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Training data (validation data with a frozen estimator), passed
            to the estimator as given: a DataFrame keeps its columns, for a
            pipeline that selects them by name.
        y : array-like of shape (n_samples,)
            Class labels; with a frozen estimator, exactly the classes it was
            fitted on.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Row weights (finite, non-negative, a positive sum over every
            class): an integer weight acts as the row repeated, a zero weight
            as the row dropped. They go to every fit of the estimator (the
            fold models and the refit, each with its rows' weights), which
            must accept them: directly when its ``fit`` takes
            ``sample_weight``, or, with metadata routing enabled, as the
            estimator requests them (``set_fit_request``; a pipeline routes
            them to the step that requests them). They also weight the
            training class frequencies (``"prior"``, the minority), the
            imbalance state where the bias is solved and the validation
            metric (weighted confusion counts for two classes and a count
            scoring, else ``sample_weight=`` given to the scorer, whose
            metric must accept it). With a frozen estimator they weight the
            validation data only; with ``per_epoch=True`` they go to the
            network's ``fit`` (the callback's per-epoch search is not
            weighted).

        Returns
        -------
        self : BiasAdjustedClassifier
            The fitted classifier.
        """
        # X reaches the estimator as given (a pipeline may select DataFrame
        # columns by name, encode strings or impute NaN); only its number of
        # features and their names are recorded here.
        validate_data(self, X, y, skip_check_array=True)
        X, y = indexable(X, y)
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y", estimator=self)
        y = column_or_1d(y, warn=True)
        self.classes_, y_encoded, counts = encode_labels(y)
        # y is 1-D here, so its target type is that of its distinct values.
        check_classification_targets(self.classes_)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                f"y has 1 class ({self.classes_[0]!r}); "
                f"{type(self).__name__} needs at least two classes."
            )
        prior = counts / y_encoded.size
        if sample_weight is not None:
            sample_weight, sizes = check_weights(
                sample_weight, y_encoded, self.classes_
            )
            prior = sizes / sizes.sum()
        # An unknown name or a ranking metric fails before any training.
        check_decision_scorer(self.scoring)
        if sample_weight is not None:  # before any training
            check_weighted_scoring(
                self.scoring, get_scorer(self.scoring), n_classes=n_classes
            )
        resolve_fixed_target(self.target, n_classes, prior)
        self._check_options(n_classes, prior)
        if self.search == "exact" and n_classes > 2:
            raise ValueError(
                f"search='exact' is for binary problems; y has {n_classes} "
                f"classes. Use search='decimal'."
            )
        base = self._base_estimator()
        check_base_estimator(base, self.classes_, per_epoch=self.per_epoch)
        fit_params = estimator_fit_params(self, base, sample_weight)
        if self.per_epoch:
            return self._fit_per_epoch(base, X, y, fit_params)
        if isinstance(base, FrozenEstimator):
            return self._fit_frozen(base, X, y_encoded, prior, sample_weight)
        if self.state_on == "validation":
            return self._fit_validation_state(
                base, X, y, y_encoded, prior, fit_params, sample_weight
            )
        return self._fit_training_state(
            base, X, y, y_encoded, prior, fit_params, sample_weight
        )

    def _check_options(self, n_classes, prior):
        """Check ``constraints`` and ``probabilities`` against the other options.

        Sets ``_constraints``, the validated floors (or None).
        """
        self._constraints = check_constraints(
            self.constraints, self.classes_, minority_index(prior)
        )
        searched = isinstance(self.target, str) and self.target == "search"
        if self._constraints is not None and not searched:
            raise ValueError(
                f"constraints choose among the rules of target='search'; a "
                f"fixed target={self.target!r} is a single rule. Use "
                f"target='search'."
            )
        if self._constraints is not None and self.per_epoch:
            raise ValueError(
                "constraints are not supported with per_epoch=True (the "
                "BiasAdjustment callback searches without floors); use "
                "per_epoch=False."
            )
        self._check_probabilities()
        self._n_bootstrap = resolve_bootstrap(
            self.n_bootstrap, n_classes, searched, self.per_epoch, self.scoring
        )

    def logits(self, X):
        """Return the adjusted logits: the model's scores plus ``bias_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        logits : ndarray of shape (n_samples, n_classes)
            Adjusted scores in the order of ``classes_``.
        """
        check_is_fitted(self)
        # The estimator validates X (its features and their names), as in
        # scikit-learn's meta-estimators.
        return raw_logits(self.estimator_, X, len(self.classes_)) + self.bias_

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        See scikit-learn's metadata routing user guide for how the routing
        mechanism works. ``sample_weight`` given to :meth:`fit` is used by the
        classifier itself (the search and the bias) and routed to the
        estimator's ``fit`` as the estimator requests it.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            encapsulating routing information.
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                estimator=self._base_estimator(),
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = self._base_estimator()
        base_tags = get_tags(base)
        tags.input_tags.sparse = base_tags.input_tags.sparse
        tags.input_tags.allow_nan = base_tags.input_tags.allow_nan
        return tags
