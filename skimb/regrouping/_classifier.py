"""RegroupingClassifier: learn latent pseudo-classes, answer with real classes."""

import warnings
from inspect import signature
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.utils import _safe_indexing, check_random_state, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._metadata_requests import _routing_enabled
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils._tags import get_tags
from sklearn.utils.metadata_routing import get_routing_for_object
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
from tqdm import tqdm

from ..nn import NetClassifier

# Classes with more rows than this are clustered by MiniBatchKMeans instead of
# KMeans when ``clusterer=None``: at 50,000 rows and hundreds of clusters
# Lloyd's iterations would cost as much as training the network.
MINIBATCH_THRESHOLD = 10_000

# Default cap on the automatic number of pseudo-classes of one class: the seed
# paper's largest imbalance (binary CIFAR-100 at 99:1, K = IR = 99) and every
# benchmark here stay below it, while 10,000:1 no longer asks for 9,999.
MAX_CLUSTERS = 100


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

    def _requested_clusters(self, sizes):
        """Number of clusters asked for each class, before the distinct cap."""
        if isinstance(self.n_clusters, dict):
            unknown = [k for k in self.n_clusters if k not in set(self.classes_)]
            if unknown:
                raise ValueError(
                    f"n_clusters names classes that are not in y: {unknown}; "
                    f"the classes are {self.classes_.tolist()}."
                )
            bad = {k: v for k, v in self.n_clusters.items() if not _is_count(v)}
            if bad:
                raise ValueError(f"n_clusters values must be integers >= 1, got {bad}.")
            return np.array([self.n_clusters.get(c, 1) for c in self.classes_])
        size = sizes.min() if self.min_class_size is None else self.min_class_size
        # Rounded so that sums of float weights equal to a multiple of the
        # size do not ask for one cluster more.
        large = np.round(sizes / size, 9) > 1
        if self.n_clusters != "auto":
            return np.where(large, self.n_clusters, 1)
        auto = np.ceil(np.round(sizes / size, 9)).astype(np.int64)
        requested = np.where(large, auto, 1)
        if self.max_clusters is not None and requested.max() > self.max_clusters:
            capped = {
                label: int(k)
                for label, k in zip(self.classes_.tolist(), requested)
                if k > self.max_clusters
            }
            warnings.warn(
                f"n_clusters='auto' asks for {capped} clusters (class: count), "
                f"more than max_clusters={self.max_clusters}; those classes are "
                f"split into {self.max_clusters}. Set max_clusters (None: no cap) "
                "or n_clusters to choose.",
                UserWarning,
                stacklevel=4,
            )
            requested = np.minimum(requested, self.max_clusters)
        return requested

    def _cluster(self, Z, n_clusters, rng, sample_weight):
        """Cluster labels ``0 .. k-1`` of the rows ``Z`` of one class."""
        if self.clusterer == "random":
            return rng.permutation(Z.shape[0]) % n_clusters
        if self.clusterer is None:
            factory = MiniBatchKMeans if Z.shape[0] > MINIBATCH_THRESHOLD else KMeans
            clusterer = factory(
                n_clusters=n_clusters,
                n_init="auto",
                random_state=rng.randint(np.iinfo(np.int32).max),
            )
        else:
            clusterer = clone(self.clusterer)
            if "n_clusters" in clusterer.get_params():
                clusterer.set_params(n_clusters=n_clusters)
        if sample_weight is None:
            labels = clusterer.fit_predict(Z)
        elif _accepts(clusterer.fit_predict, "sample_weight"):
            labels = clusterer.fit_predict(Z, sample_weight=sample_weight)
        else:
            labels = clusterer.fit(Z, sample_weight=sample_weight).labels_
        # Clusterers may skip labels (empty clusters) or use -1 (noise).
        return np.unique(labels, return_inverse=True)[1]

    def _check_X(self, X, reset):
        """Validate feature counts and names; convert only plain arrays.

        Sparse matrices and DataFrames pass through to the encoder and the
        estimator as given; lists and arrays become arrays (any dtype).
        """
        if not (sp.issparse(X) or hasattr(X, "iloc")):
            X = check_array(X, dtype=None, estimator=self)
        validate_data(self, X, reset=reset, skip_check_array=True)
        return X

    def _check_weight_consumers(self, estimator):
        """Raise before any work if a step cannot take ``sample_weight``."""
        if not _passes_weights(estimator):
            raise ValueError(
                f"sample_weight was given but the estimator {estimator!r} does "
                "not accept it: its fit has no sample_weight parameter (for a "
                "pipeline, enable metadata routing and request sample_weight "
                "on a step with set_fit_request)."
            )
        clusterer = self.clusterer
        if clusterer is not None and not isinstance(clusterer, str):
            if not has_fit_parameter(clusterer, "sample_weight"):
                raise ValueError(
                    f"sample_weight was given but the clusterer {clusterer!r} "
                    "does not accept it (its fit has no sample_weight "
                    "parameter); use clusterer=None (KMeans), a clusterer "
                    "whose fit takes sample_weight, or 'random'."
                )

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
            self._check_weight_consumers(estimator)
            sizes = np.bincount(y_index, weights=sample_weight)
            empty = self.classes_[sizes <= 0]
            if empty.size:
                raise ValueError(
                    f"sample_weight sums to zero over class(es) {empty.tolist()}; "
                    "a class needs a positive total weight."
                )
        else:
            sizes = np.bincount(y_index)
        requested = self._requested_clusters(sizes)
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
        self.pseudo_labels_ = np.empty(len(y), dtype=np.intp)
        self.cluster_sizes_ = {}
        parents, offset = [], 0
        split = int(np.sum(requested > 1))
        progress = tqdm(
            total=split,
            desc="RegroupingClassifier: clustering",
            unit="class",
            disable=self.verbose <= 0 or split == 0,
        )
        for j, label in enumerate(self.classes_.tolist()):
            rows = np.flatnonzero(y_index == j)
            k = int(requested[j])
            weights = None if sample_weight is None else sample_weight[rows]
            if k > 1:
                progress.set_postfix(cls=label, n_clusters=k, rows=len(rows))
                # Zero-weight rows count as dropped: they are not distinct rows.
                kept = rows if weights is None else rows[weights > 0]
                distinct = _n_distinct_rows(Z[kept])
                if k > distinct:
                    warnings.warn(
                        f"Class {label!r} has {distinct} distinct rows, fewer than "
                        f"the {k} clusters asked; it is split into {distinct}.",
                        UserWarning,
                        stacklevel=3,
                    )
                    k = distinct
                if k > 1:
                    labels = self._cluster(Z[rows], k, rng, weights)
                progress.update()
            if k <= 1:
                labels = np.zeros(len(rows), dtype=np.intp)
            sizes_j = np.bincount(labels)
            self.pseudo_labels_[rows] = offset + labels
            self.cluster_sizes_[label] = sizes_j
            parents.append(np.full(sizes_j.size, j))
            offset += sizes_j.size
        progress.close()
        self.pseudo_classes_ = self.classes_[np.concatenate(parents)]

        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_ = estimator.fit(X, self.pseudo_labels_, **fit_params)
        return self

    def _aggregate(self, pseudo_proba):
        """Class scores from pseudo-class scores, normalised to sum to one."""
        parents = np.searchsorted(
            self.classes_, self.pseudo_classes_[self.estimator_.classes_]
        )
        starts = np.flatnonzero(np.r_[True, np.diff(parents) != 0])
        reduce = np.maximum if self.aggregation == "max" else np.add
        scores = reduce.reduceat(np.asarray(pseudo_proba, dtype=float), starts, 1)
        return scores / scores.sum(axis=1, keepdims=True)

    def _row_chunks(self, n_rows):
        """Row batches whose pseudo-class probabilities fit ``working_memory``."""
        n_pseudo = self.pseudo_classes_.size
        # The estimator's float64 output plus the reduce's copy, per row.
        size = get_chunk_n_rows(
            row_bytes=2 * 8 * n_pseudo,
            max_n_rows=n_rows,
            working_memory=get_config()["working_memory"],
        )
        return gen_batches(n_rows, max(size, 1))

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
        for rows in self._row_chunks(n_rows):
            chunk = X if rows == slice(0, n_rows) else _safe_indexing(X, rows)
            proba[rows] = self._aggregate(self.estimator_.predict_proba(chunk))
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


def _accepts(method, name):
    """Whether a callable has a parameter ``name`` (not only ``**kwargs``)."""
    return name in signature(method).parameters


def _passes_weights(estimator):
    """Whether ``estimator.fit(X, y, sample_weight=w)`` takes the weights.

    True when ``fit`` names the parameter, or, with metadata routing on, when
    the estimator (a pipeline, a meta-estimator) routes it to a step that
    requested it.
    """
    if has_fit_parameter(estimator, "sample_weight"):
        return True
    if not _routing_enabled():
        return False
    try:
        routing = get_routing_for_object(estimator)
        return "sample_weight" in routing.consumes(
            method="fit", params={"sample_weight"}
        )
    except Exception:  # an object without routing information
        return False


def _n_distinct_rows(Z):
    """Number of distinct rows of an array or CSR matrix."""
    if not sp.issparse(Z):
        return len(np.unique(Z, axis=0))
    Z = Z.copy()
    Z.sum_duplicates()  # canonical: sorted indices, no repeated entries
    Z.eliminate_zeros()
    bounds = zip(Z.indptr[:-1], Z.indptr[1:])
    return len({(Z.indices[a:b].tobytes(), Z.data[a:b].tobytes()) for a, b in bounds})


def _is_count(value):
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1
