"""RegroupingClassifier: learn latent pseudo-classes, answer with real classes."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils._tags import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    _check_y,
    _num_samples,
    check_array,
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)

from ..nn import NetClassifier
from ._aggregation import aggregate, row_chunks
from ._cluster_counts import MAX_CLUSTERS, requested_clusters
from ._pseudo_labels import make_pseudo_labels
from ._weights import check_weight_consumers


def _estimator_has(attr):
    """Check the fitted estimator if there is one, else the unfitted one."""

    def check(self):
        if hasattr(self, "estimator_"):
            return hasattr(self.estimator_, attr)
        return self.estimator is None or hasattr(self.estimator, attr)

    return check


class RegroupingClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Classifier trained on latent pseudo-classes of the large classes.

    Every class larger than ``min_class_size`` is split by a clusterer into
    pseudo-classes of about the size of the smallest class; the estimator
    learns the resulting balanced problem with its ordinary loss, and
    predictions are aggregated back to the real classes. The clusters carry
    structure of the large classes (sub-populations) that a single label hides;
    the seed paper shows that random regrouping of the same sizes does not help,
    so the gain is that structure, not the balance.

    Parameters
    ----------
    estimator : classifier or None, default=None
        Learns the pseudo-classes; cloned, never fitted in place. ``None`` uses
        :class:`~skimb.nn.NetClassifier` seeded with ``random_state``. The
        aggregations need ``predict_proba``; without it ``predict`` maps the
        predicted pseudo-class to its class (the ``"max"`` decision).
    n_clusters : "auto", int or dict, default="auto"
        Number of pseudo-classes per class. ``"auto"``: a class of size
        ``n_j > min_class_size`` is split into
        ``min(ceil(n_j / min_class_size), max_clusters)`` clusters. An int:
        every class larger than ``min_class_size`` is split into that many
        clusters. A dict ``{label: k}``: the named classes are split into
        ``k`` clusters whatever their size, the others stay whole. A count is
        capped at the number of distinct rows of the class (with a warning),
        so asking for more clusters than samples, or clustering duplicate
        rows, never fails; a class of one distinct row stays whole.
    max_clusters : int or None, default=100
        Cap on the number of pseudo-classes ``"auto"`` gives one class; a
        ``UserWarning`` names the classes it caps. The cost of regrouping
        grows with the number of pseudo-classes (k-means, the estimator's
        output layer, ``predict_proba``): uncapped, a binary task at
        10,000:1 asks for 9,999. 100 leaves the imbalances the seed paper
        studies (up to 99:1, ``K = 99``) untouched; above it, the large
        class's pseudo-classes are ``n_j / 100`` rows each, so the
        pseudo-class imbalance is the original one divided by 100. ``None``
        removes the cap. An int or dict ``n_clusters`` is not capped.
    min_class_size : int or None, default=None
        Target pseudo-class size and the size above which a class is split.
        ``None`` uses the size of the smallest class, so the smallest class is
        never split. With ``sample_weight``, sizes are sums of weights.
    clusterer : clusterer, "random" or None, default=None
        Any scikit-learn clusterer with ``fit_predict``, cloned for each class;
        its ``n_clusters`` is set to the class's count when it has one
        (clusterers that choose their own number, such as DBSCAN, keep theirs,
        and each label they return, noise included, is a pseudo-class).
        ``None`` uses ``KMeans(n_init="auto")``, or ``MiniBatchKMeans`` for
        classes of more than 10,000 rows, both seeded by ``random_state``.
        ``"random"`` splits each class into random groups of equal size, the
        seed paper's ablation.
    encoder : transformer or None, default=None
        Its output (an array, a DataFrame or a sparse matrix) is clustered
        instead of ``X`` (the seed paper clusters pretrained embeddings); it
        is cloned and fitted on ``(X, y)``, so wrap a pretrained one in
        :class:`sklearn.frozen.FrozenEstimator`. The estimator still learns
        from ``X``. Without an encoder, ``X`` itself is clustered and must be
        numeric.
    aggregation : {"max", "sum"}, default="max"
        How pseudo-class probabilities become class probabilities: ``"max"``
        takes the largest pseudo-class probability of each class (a class wins
        if one of its pseudo-classes beats every other pseudo-class),
        ``"sum"`` their total. The scores are normalised to sum to one, which
        keeps their argmax.
    verbose : int, default=0
        ``0`` is silent; ``1`` or more shows a progress bar (tqdm) over the
        classes being clustered, with the number of clusters of each.
    random_state : int, RandomState instance or None, default=None
        Seeds the default clusterer, the random regrouping and the default
        estimator.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The real class labels, sorted.
    estimator_ : classifier
        The fitted clone of ``estimator``; its classes are the pseudo-classes
        ``0 .. n_pseudo_classes - 1``.
    encoder_ : transformer or None
        The fitted clone of ``encoder``.
    pseudo_labels_ : ndarray of shape (n_samples,)
        Pseudo-class of each training row, an integer that indexes
        ``pseudo_classes_``.
    pseudo_classes_ : ndarray of shape (n_pseudo_classes,)
        The real label of each pseudo-class; the pseudo-classes of a class are
        consecutive, in the order of ``classes_``.
    cluster_sizes_ : dict
        For each real label, the number of rows of each of its pseudo-classes
        (one entry for a class left whole).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X was a DataFrame with string column names.

    Notes
    -----
    ``X`` reaches the estimator (and the encoder) as given: a sparse matrix or
    a DataFrame with string columns works when they accept it, for instance a
    pipeline that one-hot encodes; what is clustered (``X`` or the encoder's
    output) must be numeric. ``predict_proba`` aggregates by chunks of rows
    sized by scikit-learn's ``working_memory``, so its memory does not grow
    with rows times pseudo-classes.

    ``sample_weight`` acts as in scikit-learn: an integer weight like the row
    repeated, a zero weight like the row dropped. Class sizes (for
    ``"auto"`` and ``min_class_size``) are sums of weights; the weights go to
    the clusterer's ``fit`` (KMeans, MiniBatchKMeans and DBSCAN accept them;
    another clusterer raises, ``"random"`` ignores them), to the encoder's
    ``fit`` when it accepts them, and to the estimator's ``fit``, which must
    accept them (a pipeline does with metadata routing enabled and a step
    that requests them).

    Edge cases: a class no larger than ``min_class_size`` stays one
    pseudo-class; a count above the number of distinct rows of a class
    (duplicates included) is capped with a ``UserWarning``, so a class can end
    as one-row pseudo-classes, which the estimator must accept (NetClassifier
    and scikit-learn's classifiers do; an estimator with an inner stratified
    split may not). k-means clusters what it is given: scale ``X`` first (or
    pass an ``encoder``), and treat ``n_clusters`` as a hyperparameter.
    Regrouping helps models too simple for the large classes' shape: in
    ``benchmarks/results/regrouping_letter.md`` (each letter against the
    other 25 at IR 99) it raised a logistic regression's mean minority
    average precision from 0.448 to 0.561 (0.468 for random groups). It did
    not help a network on any benchmark here (0.809 against 0.920 there;
    0.876 against 0.898 on 7 KEEL sets and two digits tasks in
    ``regrouping.md``), even with ``n_clusters`` tuned or an encoder; with the
    25 true letters as its pseudo-classes the network only tied (0.920).
    At 100,000 rows and 10,000:1 (``benchmarks/results/regrouping_scale.md``)
    the capped default made 101 pseudo-classes and took 1.6 times the fit
    CPU time of the plain 10-epoch network (k-means: 7 s of the 11 s more)
    and 128 MB more peak memory, where uncapped it had made 9,742 in 596 s
    and 12.8 GB.

    See Also
    --------
    skimb.nn.NetClassifier : The default estimator.
    sklearn.cluster.KMeans : The default clusterer.

    References
    ----------
    .. [1] "Mining latent labels for imbalance classification: a regrouping
       perspective" (the regrouping seed paper).
    .. [2] J. Wu, H. Xiong and J. Chen, "COG: local decomposition for rare class
       analysis", Data Mining and Knowledge Discovery, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skimb.regrouping import RegroupingClassifier
    >>> X, y = make_classification(n_samples=200, weights=[0.8], random_state=0)
    >>> clf = RegroupingClassifier(LogisticRegression(), random_state=0).fit(X, y)
    >>> clf.cluster_sizes_[0].size, clf.cluster_sizes_[1].size
    (4, 1)
    >>> clf.pseudo_classes_
    array([0, 0, 0, 0, 1])
    >>> clf.predict_proba(X[:2]).sum(axis=1).round(6)
    array([1., 1.])

    Weights, here doubling the minority rows, halve the number of clusters:

    >>> w = np.where(y == 1, 2.0, 1.0)
    >>> clf = RegroupingClassifier(LogisticRegression(), random_state=0)
    >>> clf.fit(X, y, sample_weight=w).cluster_sizes_[0].size
    2
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_clusters": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            dict,
        ],
        "max_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "min_class_size": [Interval(Integral, 1, None, closed="left"), None],
        "clusterer": [HasMethods(["fit_predict"]), StrOptions({"random"}), None],
        "encoder": [HasMethods(["fit", "transform"]), None],
        "aggregation": [StrOptions({"max", "sum"})],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        n_clusters="auto",
        max_clusters=MAX_CLUSTERS,
        min_class_size=None,
        clusterer=None,
        encoder=None,
        aggregation="max",
        verbose=0,
        random_state=None,
    ):
        self.estimator = estimator
        self.n_clusters = n_clusters
        self.max_clusters = max_clusters
        self.min_class_size = min_class_size
        self.clusterer = clusterer
        self.encoder = encoder
        self.aggregation = aggregation
        self.verbose = verbose
        self.random_state = random_state

    def _check_X(self, X, reset):
        """Validate feature counts and names; convert only plain arrays.

        Sparse matrices and DataFrames pass through to the encoder and the
        estimator as given; lists and arrays become arrays (any dtype).
        """
        if not (sp.issparse(X) or hasattr(X, "iloc")):
            X = check_array(X, dtype=None, estimator=self)
        validate_data(self, X, reset=reset, skip_check_array=True)
        return X

    @_fit_context(
        # The encoder and clusterer are validated when they are fitted.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None):
        """Cluster the large classes, then fit the estimator on pseudo-classes.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training data, passed to the encoder and the estimator as given.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Row weights for the class sizes, the clusterer, the encoder (when
            its fit accepts them) and the estimator; see Notes.

        Returns
        -------
        self : RegroupingClassifier
            The fitted classifier.
        """
        X = self._check_X(X, reset=True)
        y = _check_y(y, estimator=self)
        check_classification_targets(y)
        if _num_samples(X) != len(y):
            raise ValueError(f"X has {_num_samples(X)} rows but y has {len(y)} labels.")
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(
                f"y has a single class (1 class: {self.classes_[0]!r}); "
                "RegroupingClassifier needs at least two classes."
            )
        rng = check_random_state(self.random_state)
        if self.estimator is None:
            estimator = NetClassifier(random_state=rng.randint(np.iinfo(np.int32).max))
        else:
            estimator = clone(self.estimator)
        if self.aggregation == "sum" and not hasattr(estimator, "predict_proba"):
            raise ValueError(
                f"aggregation='sum' needs an estimator with predict_proba; "
                f"{estimator!r} has none."
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, y, ensure_non_negative=True
            )
            check_weight_consumers(estimator, self.clusterer)
            sizes = np.bincount(y_index, weights=sample_weight)
            empty = self.classes_[sizes <= 0]
            if empty.size:
                raise ValueError(
                    f"sample_weight sums to zero over class(es) {empty.tolist()}; "
                    "a class needs a positive total weight."
                )
        else:
            sizes = np.bincount(y_index)
        requested = requested_clusters(
            self.classes_,
            sizes,
            n_clusters=self.n_clusters,
            min_class_size=self.min_class_size,
            max_clusters=self.max_clusters,
        )
        if self.encoder is None:
            self.encoder_ = None
            try:
                Z = check_array(X, accept_sparse="csr", estimator=self)
            except ValueError as error:
                raise ValueError(
                    f"X is clustered as given when encoder is None and must be "
                    f"numeric ({error}); pass an encoder that makes it numeric, "
                    "for instance a OneHotEncoder in a ColumnTransformer."
                ) from error
        else:
            self.encoder_ = clone(self.encoder)
            encoder_params = {}
            if sample_weight is not None and has_fit_parameter(
                self.encoder_, "sample_weight"
            ):
                encoder_params["sample_weight"] = sample_weight
            # A DataFrame or sparse output (OneHotEncoder, a text vectoriser)
            # becomes an array or CSR matrix whose rows can be indexed.
            Z = check_array(
                self.encoder_.fit(X, y, **encoder_params).transform(X),
                accept_sparse="csr",
                input_name="the encoder's output",
            )
        self.pseudo_labels_, self.pseudo_classes_, self.cluster_sizes_ = (
            make_pseudo_labels(
                Z,
                y_index,
                self.classes_,
                requested,
                clusterer=self.clusterer,
                rng=rng,
                sample_weight=sample_weight,
                verbose=self.verbose,
            )
        )

        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_ = estimator.fit(X, self.pseudo_labels_, **fit_params)
        return self

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities aggregated from the pseudo-class probabilities.

        The estimator is called on chunks of rows sized so that their
        pseudo-class probabilities fit in scikit-learn's ``working_memory``
        (``sklearn.set_config``; 1 GiB by default): the memory needed is
        bounded by that and by the output, rows x classes.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input data, passed to the estimator as given.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``; the argmax of a row
            is the aggregation's decision.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        n_rows = _num_samples(X)
        proba = np.empty((n_rows, self.classes_.size))
        parents = np.searchsorted(
            self.classes_, self.pseudo_classes_[self.estimator_.classes_]
        )
        for rows in row_chunks(n_rows, self.pseudo_classes_.size):
            chunk = X if rows == slice(0, n_rows) else _safe_indexing(X, rows)
            pseudo_proba = self.estimator_.predict_proba(chunk)
            proba[rows] = aggregate(pseudo_proba, parents, self.aggregation)
        return proba

    def predict(self, X):
        """Class of each sample by the aggregation of its pseudo-classes.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input data, passed to the estimator as given.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Real class labels.
        """
        check_is_fitted(self)
        if hasattr(self.estimator_, "predict_proba"):
            return self.classes_[self.predict_proba(X).argmax(axis=1)]
        X = self._check_X(X, reset=False)
        return self.pseudo_classes_[self.estimator_.predict(X)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = self.estimator if self.estimator is not None else NetClassifier()
        base_tags = get_tags(base)
        sparse = base_tags.input_tags.sparse
        if self.encoder is not None:
            sparse = sparse and get_tags(self.encoder).input_tags.sparse
        tags.input_tags.sparse = sparse
        tags.input_tags.string = base_tags.input_tags.string
        return tags
