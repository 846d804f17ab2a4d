"""RegroupingClassifier: learn latent pseudo-classes, answer with real classes."""

import warnings
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
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..nn import NetClassifier

# Classes with more rows than this are clustered by MiniBatchKMeans instead of
# KMeans when ``clusterer=None``: at 50,000 rows and hundreds of clusters
# Lloyd's iterations would cost as much as training the network.
MINIBATCH_THRESHOLD = 10_000


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
        Number of pseudo-classes per class. ``"auto"``: a class with ``n_j``
        rows, ``n_j > min_class_size``, is split into
        ``ceil(n_j / min_class_size)`` clusters. An int: every class larger
        than ``min_class_size`` is split into that many clusters. A dict
        ``{label: k}``: the named classes are split into ``k`` clusters
        whatever their size, the others stay whole. A count is capped at the
        number of distinct rows of the class (with a warning), so asking for
        more clusters than samples, or clustering duplicate rows, never fails;
        a class of one distinct row stays whole.
    min_class_size : int or None, default=None
        Target pseudo-class size and the size above which a class is split.
        ``None`` uses the size of the smallest class, so the smallest class is
        never split.
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
        from ``X``.
    aggregation : {"max", "sum"}, default="max"
        How pseudo-class probabilities become class probabilities: ``"max"``
        takes the largest pseudo-class probability of each class (a class wins
        if one of its pseudo-classes beats every other pseudo-class),
        ``"sum"`` their total. The scores are normalised to sum to one, which
        keeps their argmax.
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
        For each real label, the sizes of its pseudo-classes (one entry for a
        class left whole).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X was a DataFrame with string column names.

    Notes
    -----
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
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_clusters": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            dict,
        ],
        "min_class_size": [Interval(Integral, 1, None, closed="left"), None],
        "clusterer": [HasMethods(["fit_predict"]), StrOptions({"random"}), None],
        "encoder": [HasMethods(["fit", "transform"]), None],
        "aggregation": [StrOptions({"max", "sum"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        n_clusters="auto",
        min_class_size=None,
        clusterer=None,
        encoder=None,
        aggregation="max",
        random_state=None,
    ):
        self.estimator = estimator
        self.n_clusters = n_clusters
        self.min_class_size = min_class_size
        self.clusterer = clusterer
        self.encoder = encoder
        self.aggregation = aggregation
        self.random_state = random_state

    def _requested_clusters(self, counts):
        """Number of clusters asked for each class, before capping."""
        size = counts.min() if self.min_class_size is None else self.min_class_size
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
        large = counts > size
        if self.n_clusters == "auto":
            return np.where(large, np.ceil(counts / size).astype(int), 1)
        return np.where(large, self.n_clusters, 1)

    def _cluster(self, Z, n_clusters, rng):
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
        # Clusterers may skip labels (empty clusters) or use -1 (noise).
        return np.unique(clusterer.fit_predict(Z), return_inverse=True)[1]

    @_fit_context(
        # The encoder and clusterer are validated when they are fitted.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y):
        """Cluster the large classes, then fit the estimator on pseudo-classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : RegroupingClassifier
            The fitted classifier.
        """
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, y_index, counts = np.unique(
            y, return_inverse=True, return_counts=True
        )
        if self.classes_.size < 2:
            raise ValueError(
                f"y has a single class (1 class: {self.classes_[0]!r}); "
                "RegroupingClassifier needs at least two classes."
            )
        requested = self._requested_clusters(counts)
        if self.encoder is None:
            self.encoder_ = None
            Z = X
        else:
            self.encoder_ = clone(self.encoder)
            # A DataFrame or sparse output (OneHotEncoder, a text vectoriser)
            # becomes an array or CSR matrix whose rows can be indexed.
            Z = check_array(
                self.encoder_.fit(X, y).transform(X),
                accept_sparse="csr",
                input_name="the encoder's output",
            )
        rng = check_random_state(self.random_state)
        self.pseudo_labels_ = np.empty(len(y), dtype=np.intp)
        self.cluster_sizes_ = {}
        parents, offset = [], 0
        for j, label in enumerate(self.classes_.tolist()):
            rows = np.flatnonzero(y_index == j)
            k = requested[j]
            if k > 1:
                distinct = _n_distinct_rows(Z[rows])
                if k > distinct:
                    warnings.warn(
                        f"Class {label!r} has {distinct} distinct rows, fewer than "
                        f"the {k} clusters asked; it is split into {distinct}.",
                        UserWarning,
                        stacklevel=3,
                    )
                    k = distinct
            if k > 1:
                labels = self._cluster(Z[rows], k, rng)
            else:
                labels = np.zeros(len(rows), dtype=np.intp)
            sizes = np.bincount(labels)
            self.pseudo_labels_[rows] = offset + labels
            self.cluster_sizes_[label] = sizes
            parents.append(np.full(sizes.size, j))
            offset += sizes.size
        self.pseudo_classes_ = self.classes_[np.concatenate(parents)]

        if self.estimator is None:
            estimator = NetClassifier(random_state=rng.randint(np.iinfo(np.int32).max))
        else:
            estimator = clone(self.estimator)
        if self.aggregation == "sum" and not hasattr(estimator, "predict_proba"):
            raise ValueError(
                f"aggregation='sum' needs an estimator with predict_proba; "
                f"{estimator!r} has none."
            )
        self.estimator_ = estimator.fit(X, self.pseudo_labels_)
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

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities aggregated from the pseudo-class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``; the argmax of a row
            is the aggregation's decision.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self._aggregate(self.estimator_.predict_proba(X))

    def predict(self, X):
        """Class of each sample by the aggregation of its pseudo-classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Real class labels.
        """
        check_is_fitted(self)
        if hasattr(self.estimator_, "predict_proba"):
            return self.classes_[self.predict_proba(X).argmax(axis=1)]
        X = validate_data(self, X, reset=False)
        return self.pseudo_classes_[self.estimator_.predict(X)]


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
