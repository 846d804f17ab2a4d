import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_blobs, make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

from skimb.nn import NetClassifier
from skimb.regrouping import RegroupingClassifier
from skimb.regrouping import _pseudo_labels as pseudo_labels_module
from skimb.regrouping._aggregation import aggregate


@pytest.fixture
def multiclass():
    """Three classes of 120, 50 and 20 rows, labels as strings."""
    X, y = make_classification(
        n_samples=190,
        n_features=5,
        n_informative=4,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        weights=[120 / 190, 50 / 190, 20 / 190],
        flip_y=0,
        random_state=0,
    )
    return X, np.array(["a", "b", "c"])[y]


@pytest.fixture
def blobs_majority():
    """A majority of three far-apart blobs of 40 rows and a minority of 40.

    Returns X, y and the blob of every majority row.
    """
    centers = [[0, 0], [20, 0], [0, 20], [20, 20]]
    X, blob = make_blobs(
        n_samples=[40, 40, 40, 40], centers=centers, cluster_std=1.0, random_state=0
    )
    y = np.where(blob == 3, 1, 0)
    return X, y, blob


def _lr():
    return LogisticRegression(max_iter=1000)


def test_auto_split_sizes(multiclass):
    """Check that "auto" splits class j into ceil(n_j / smallest) clusters."""
    X, y = multiclass
    clf = RegroupingClassifier(_lr(), random_state=0).fit(X, y)
    labels, counts = np.unique(y, return_counts=True)
    np.testing.assert_array_equal(clf.classes_, labels)
    for label, count in zip(labels, counts):
        sizes = clf.cluster_sizes_[label]
        assert sizes.size == math.ceil(count / counts.min())
        assert sizes.sum() == count
    # Pseudo-labels map back to the real labels of the rows.
    np.testing.assert_array_equal(clf.pseudo_classes_[clf.pseudo_labels_], y)
    np.testing.assert_array_equal(
        np.bincount(clf.pseudo_labels_),
        np.concatenate([clf.cluster_sizes_[c] for c in labels]),
    )
    np.testing.assert_array_equal(
        clf.estimator_.classes_, np.arange(clf.pseudo_classes_.size)
    )


def test_min_class_size(multiclass):
    """Check that min_class_size sets which classes split and into how many."""
    X, y = multiclass
    clf = RegroupingClassifier(_lr(), min_class_size=30, random_state=0).fit(X, y)
    assert {k: v.size for k, v in clf.cluster_sizes_.items()} == {
        "a": math.ceil(120 / 30),
        "b": math.ceil(50 / 30),
        "c": 1,
    }


def test_int_and_dict_n_clusters(multiclass):
    """Check an int splits every large class and a dict only the named ones."""
    X, y = multiclass
    clf = RegroupingClassifier(_lr(), n_clusters=3, random_state=0).fit(X, y)
    assert {k: v.size for k, v in clf.cluster_sizes_.items()} == {
        "a": 3,
        "b": 3,
        "c": 1,
    }
    clf = RegroupingClassifier(_lr(), n_clusters={"b": 2, "c": 2}, random_state=0)
    clf.fit(X, y)
    assert {k: v.size for k, v in clf.cluster_sizes_.items()} == {
        "a": 1,
        "b": 2,
        "c": 2,
    }


@pytest.mark.parametrize("aggregation", ["max", "sum"])
def test_predict_proba_aggregates(multiclass, aggregation):
    """Check predict_proba against an independent per-class aggregation."""
    X, y = multiclass
    clf = RegroupingClassifier(_lr(), aggregation=aggregation, random_state=0)
    proba = clf.fit(X, y).predict_proba(X)
    pseudo = clf.estimator_.predict_proba(X)
    reduce = np.max if aggregation == "max" else np.sum
    expected = np.column_stack(
        [reduce(pseudo[:, clf.pseudo_classes_ == c], axis=1) for c in clf.classes_]
    )
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, expected)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[expected.argmax(1)])


def test_max_and_sum_decisions_differ():
    """Check the two rules on hand-made pseudo-class probabilities.

    Pseudo-classes 0, 1, 2 belong to class 0 and pseudo-class 3 to class 1:
    0.3, 0.3, 0.0 against 0.4 is class 1 by max and class 0 by sum.
    """
    X = np.zeros((4, 1))
    y = np.array([0, 0, 0, 1])
    clf = RegroupingClassifier(_lr(), n_clusters={0: 3}).fit(
        X + np.arange(4)[:, None], y
    )
    pseudo = np.array([[0.3, 0.3, 0.0, 0.4]])
    assert clf.pseudo_classes_.tolist() == [0, 0, 0, 1]
    parents = clf.pseudo_classes_
    assert aggregate(pseudo, parents, "max").argmax() == 1
    np.testing.assert_allclose(aggregate(pseudo, parents, "sum"), [[0.6, 0.4]])


def test_kmeans_recovers_structure_random_does_not(blobs_majority):
    """Check KMeans pseudo-classes follow the majority's blobs, random ones not."""
    X, y, blob = blobs_majority
    major = y == 0
    kmeans = RegroupingClassifier(_lr(), n_clusters=3, random_state=0).fit(X, y)
    assert adjusted_rand_score(blob[major], kmeans.pseudo_labels_[major]) == 1.0
    random = RegroupingClassifier(
        _lr(), n_clusters=3, clusterer="random", random_state=0
    ).fit(X, y)
    assert adjusted_rand_score(blob[major], random.pseudo_labels_[major]) < 0.2
    # Random groups are of equal size.
    np.testing.assert_array_equal(random.cluster_sizes_[0], [40, 40, 40])


def test_custom_clusterers(blobs_majority):
    """Check any clusterer works; one without n_clusters keeps its own count."""
    X, y, blob = blobs_majority
    major = y == 0
    clf = RegroupingClassifier(
        _lr(), n_clusters=3, clusterer=AgglomerativeClustering()
    ).fit(X, y)
    assert adjusted_rand_score(blob[major], clf.pseudo_labels_[major]) == 1.0
    # DBSCAN finds the three blobs by itself and marks a far point as noise.
    X_noise = np.vstack([X, [[100, 100]]])
    y_noise = np.append(y, 0)
    clf = RegroupingClassifier(_lr(), clusterer=DBSCAN(eps=3)).fit(X_noise, y_noise)
    assert sorted(clf.cluster_sizes_[0].tolist()) == [1, 40, 40, 40]
    np.testing.assert_array_equal(clf.pseudo_classes_[clf.pseudo_labels_], y_noise)


def test_encoder_output_is_clustered(multiclass):
    """Check the clusters come from the encoder, the estimator sees X."""
    X, y = multiclass
    first = FunctionTransformer(lambda X: X[:, :1])
    clf = RegroupingClassifier(_lr(), encoder=first, random_state=0).fit(X, y)
    assert clf.estimator_.n_features_in_ == X.shape[1]
    # KMeans in one dimension cuts intervals: the clusters of "a" do not overlap.
    rows = y == "a"
    ranges = sorted(
        (
            X[rows & (clf.pseudo_labels_ == p), 0].min(),
            X[rows & (clf.pseudo_labels_ == p), 0].max(),
        )
        for p in np.unique(clf.pseudo_labels_[rows])
    )
    assert all(high < low for (_, high), (low, _) in zip(ranges, ranges[1:]))


def _first_column_one_hot():
    """An encoder with sparse output: the one-hot code of X's first column."""
    return ColumnTransformer([("code", OneHotEncoder(), [0])])


def test_sparse_encoder_output_is_clustered(blobs_majority):
    """Check a sparse encoder output: each one-hot code becomes a pseudo-class."""
    X, y, blob = blobs_majority
    # The first column holds the blob of each row (3 for the minority).
    coded = np.c_[blob, X]
    encoder = _first_column_one_hot()
    assert sp.issparse(clone(encoder).fit_transform(coded))
    clf = RegroupingClassifier(
        _lr(), n_clusters={0: 3}, encoder=encoder, random_state=0
    ).fit(coded, y)
    assert adjusted_rand_score(blob[y == 0], clf.pseudo_labels_[y == 0]) == 1.0
    # More clusters than distinct codes: capped at the 3 codes, with a warning.
    with pytest.warns(UserWarning, match="3 distinct rows, fewer than the 5"):
        capped = RegroupingClassifier(
            _lr(), n_clusters={0: 5}, encoder=encoder, random_state=0
        ).fit(coded, y)
    assert capped.cluster_sizes_[0].size == 3


def test_dataframe_encoder_output_is_clustered(multiclass):
    """Check an encoder whose transform returns a DataFrame."""
    pytest.importorskip("pandas")
    X, y = multiclass
    encoder = StandardScaler().set_output(transform="pandas")
    clf = RegroupingClassifier(_lr(), encoder=encoder, random_state=0).fit(X, y)
    plain = RegroupingClassifier(_lr(), encoder=StandardScaler(), random_state=0)
    np.testing.assert_array_equal(clf.pseudo_labels_, plain.fit(X, y).pseudo_labels_)


def test_encoder_output_with_nan_raises(multiclass):
    """Check NaN in the encoder's output is named, not passed to the clusterer."""
    X, y = multiclass
    encoder = FunctionTransformer(lambda X: np.where(X > 1, np.nan, X))
    with pytest.raises(ValueError, match="the encoder's output contains NaN"):
        RegroupingClassifier(_lr(), encoder=encoder).fit(X, y)


def test_distinct_rows_of_sparse_and_dense_agree():
    """Check the sparse count ignores explicit zeros and entry order."""
    dense = np.array([[0, 1, 2], [0, 1, 2], [3, 0, 0], [0, 0, 0], [0, 0, 0]])
    # Row 1 stores its entries out of order, row 3 an explicit zero.
    data, indices = [1, 2, 2, 1, 3, 0], [1, 2, 2, 1, 0, 1]
    matrix = sp.csr_matrix((data, indices, [0, 2, 4, 5, 6, 6]), shape=(5, 3))
    np.testing.assert_array_equal(matrix.toarray(), dense)
    assert pseudo_labels_module.n_distinct_rows(matrix) == 3
    assert pseudo_labels_module.n_distinct_rows(dense) == 3


def test_frozen_encoder_is_not_refitted(multiclass):
    """Check a FrozenEstimator encoder keeps its pretrained state."""
    X, y = multiclass
    pretrained = KMeans(n_clusters=4, n_init=1, random_state=0).fit(X[:50])
    centers = pretrained.cluster_centers_.copy()
    clf = RegroupingClassifier(
        _lr(), encoder=FrozenEstimator(pretrained), random_state=0
    ).fit(X, y)
    np.testing.assert_array_equal(pretrained.cluster_centers_, centers)
    np.testing.assert_array_equal(clf.encoder_.transform(X), pretrained.transform(X))


def test_default_estimator_and_reproducibility(imbalanced_binary):
    """Check the default estimator is a seeded NetClassifier."""
    X, y = imbalanced_binary
    first = RegroupingClassifier(random_state=0).fit(X, y)
    second = RegroupingClassifier(random_state=0).fit(X, y)
    assert isinstance(first.estimator_, NetClassifier)
    np.testing.assert_array_equal(first.pseudo_labels_, second.pseudo_labels_)
    np.testing.assert_allclose(first.predict_proba(X), second.predict_proba(X))
    assert set(first.predict(X)) <= {"majority", "minority"}


def test_user_estimator_not_fitted(multiclass):
    """Check the user's estimator is cloned, not fitted in place."""
    X, y = multiclass
    estimator = _lr()
    RegroupingClassifier(estimator, random_state=0).fit(X, y)
    assert not hasattr(estimator, "coef_")


def test_estimator_without_predict_proba(multiclass):
    """Check predict maps pseudo-classes back when there is no predict_proba."""
    X, y = multiclass
    clf = RegroupingClassifier(LinearSVC(), random_state=0).fit(X, y)
    assert not hasattr(clf, "predict_proba")
    pseudo = clf.estimator_.predict(X)
    np.testing.assert_array_equal(clf.predict(X), clf.pseudo_classes_[pseudo])
    with pytest.raises(ValueError, match="aggregation='sum' needs an estimator"):
        RegroupingClassifier(LinearSVC(), aggregation="sum").fit(X, y)


def test_class_too_small_to_split_is_plain_estimator(multiclass):
    """Check nothing splits when every class is below min_class_size."""
    X, y = multiclass
    clf = RegroupingClassifier(_lr(), min_class_size=500).fit(X, y)
    assert all(sizes.size == 1 for sizes in clf.cluster_sizes_.values())
    plain = _lr().fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), plain.predict_proba(X))
    np.testing.assert_array_equal(clf.predict(X), plain.predict(X))


def test_more_clusters_than_samples(multiclass):
    """Check asking more clusters than rows gives one-row clusters and a warning."""
    X, y = multiclass
    with pytest.warns(UserWarning, match="'c' has 20 distinct rows, fewer than"):
        clf = RegroupingClassifier(_lr(), n_clusters={"c": 1000}).fit(X, y)
    np.testing.assert_array_equal(clf.cluster_sizes_["c"], np.ones(20))
    assert clf.predict_proba(X).shape == (len(X), 3)


def test_duplicate_rows():
    """Check classes of duplicated rows split into at most their distinct rows."""
    rng = np.random.RandomState(0)
    distinct = rng.normal(size=(3, 2))
    X = np.vstack([np.repeat(distinct, 20, axis=0), [[5.0, 5.0]] * 6])
    y = np.array([0] * 60 + [1] * 6)
    with pytest.warns(UserWarning, match="0 has 3 distinct rows"):
        clf = RegroupingClassifier(_lr(), random_state=0).fit(X, y)
    np.testing.assert_array_equal(np.sort(clf.cluster_sizes_[0]), [20, 20, 20])
    # A class of one repeated row stays whole even when asked to split.
    with pytest.warns(UserWarning, match="1 has 1 distinct rows"):
        clf = RegroupingClassifier(_lr(), n_clusters={1: 3}).fit(X, y)
    np.testing.assert_array_equal(clf.cluster_sizes_[1], [6])


def test_minibatch_for_large_classes(monkeypatch, multiclass):
    """Check classes above MINIBATCH_THRESHOLD rows use MiniBatchKMeans."""
    X, y = multiclass
    used = []

    class Spy(pseudo_labels_module.MiniBatchKMeans):
        def fit_predict(self, X, y=None, sample_weight=None):
            used.append(len(X))
            return super().fit_predict(X)

    monkeypatch.setattr(pseudo_labels_module, "MINIBATCH_THRESHOLD", 100)
    monkeypatch.setattr(pseudo_labels_module, "MiniBatchKMeans", Spy)
    RegroupingClassifier(_lr(), random_state=0).fit(X, y)
    assert used == [120]


class _NoFitPredict:
    def fit(self, X):
        return self


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_clusters": 0}, "'n_clusters' parameter.* Got 0"),
        ({"n_clusters": -2}, "'n_clusters' parameter.* Got -2"),
        ({"n_clusters": {"a": 0}}, r"integers >= 1, got \{'a': 0\}"),
        ({"n_clusters": {"z": 2}}, r"not in y: \['z'\]"),
        ({"aggregation": "mean"}, "'aggregation' parameter.* Got 'mean'"),
        ({"clusterer": _NoFitPredict()}, "'clusterer' parameter.*fit_predict"),
        ({"min_class_size": 0}, "'min_class_size' parameter.* Got 0"),
        ({"max_clusters": 0}, "'max_clusters' parameter.* Got 0"),
        ({"max_clusters": "many"}, "'max_clusters' parameter.* Got 'many'"),
        ({"verbose": -1}, "'verbose' parameter.* Got -1"),
        ({"verbose": "yes"}, "'verbose' parameter.* Got 'yes'"),
    ],
)
def test_bad_parameters(multiclass, params, match):
    """Check that bad parameters raise a ValueError naming the value."""
    X, y = multiclass
    with pytest.raises(ValueError, match=match):
        RegroupingClassifier(_lr(), **params).fit(X, y)


def test_single_class_raises():
    """Check that a single class raises a clear error."""
    with pytest.raises(ValueError, match="single class"):
        RegroupingClassifier(_lr()).fit(np.zeros((5, 2)), ["x"] * 5)


# --- extreme imbalance: the cap on "auto" -----------------------------------


@pytest.fixture
def extreme_binary():
    """1,000 majority rows against 4 minority rows (250:1)."""
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(1000, 3)), rng.normal(3, 1, size=(4, 3))])
    return X, np.r_[np.zeros(1000, int), np.ones(4, int)]


def test_max_clusters_caps_auto_with_a_warning(extreme_binary):
    """Check "auto" asks ceil(n_j / n_min) clusters but splits into max_clusters.

    Before the cap, 10,000:1 made 9,999 pseudo-classes of the majority.
    """
    X, y = extreme_binary
    with pytest.warns(UserWarning, match=r"asks for \{0: 250\}.*max_clusters=100"):
        clf = RegroupingClassifier(_lr(), clusterer="random", random_state=0)
        clf.fit(X, y)
    assert clf.cluster_sizes_[0].size == 100 and clf.cluster_sizes_[1].size == 1
    with pytest.warns(UserWarning, match="max_clusters=7"):
        clf.set_params(max_clusters=7).fit(X, y)
    assert clf.cluster_sizes_[0].size == 7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.set_params(max_clusters=None).fit(X, y)
        assert clf.cluster_sizes_[0].size == 250
        # An explicit count is the user's choice: not capped.
        clf.set_params(max_clusters=7, n_clusters=20).fit(X, y)
        assert clf.cluster_sizes_[0].size == 20


def test_max_clusters_does_not_bind_below_it(multiclass):
    """Check no warning and no change when "auto" asks fewer than the cap."""
    X, y = multiclass
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = RegroupingClassifier(_lr(), max_clusters=6, random_state=0).fit(X, y)
    assert clf.cluster_sizes_["a"].size == 6


class _ChunkRecorder(ClassifierMixin, BaseEstimator):
    """A LogisticRegression that records the rows of each predict_proba call."""

    def fit(self, X, y, sample_weight=None):
        self.model_ = LogisticRegression(max_iter=1000).fit(X, y, sample_weight)
        self.classes_ = self.model_.classes_
        self.calls_ = []
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        self.calls_.append(X.shape[0])
        return self.model_.predict_proba(X)


@pytest.mark.parametrize("aggregation", ["max", "sum"])
def test_predict_proba_in_bounded_memory(extreme_binary, aggregation):
    """Check predict_proba works by chunks of working_memory, same result.

    Before, the estimator's predict_proba ran on all rows at once, a rows x
    pseudo-classes array (12.8 GB at 10,000:1 on 100,000 rows).
    """
    X, y = extreme_binary
    clf = RegroupingClassifier(
        _ChunkRecorder(), clusterer="random", n_clusters={0: 50}, random_state=0
    )
    clf.set_params(aggregation=aggregation).fit(X, y)
    whole = clf.predict_proba(X)
    assert clf.estimator_.calls_ == [len(X)]
    pseudo = clf.estimator_.predict_proba(X)
    clf.estimator_.calls_ = []
    # 51 pseudo-classes x 16 bytes a row: 0.01 MiB holds 12 rows.
    with sklearn.config_context(working_memory=0.01):
        chunked = clf.predict_proba(X)
        np.testing.assert_array_equal(clf.predict(X), whole.argmax(1))
    rows = int(0.01 * 2**20) // (16 * 51)
    assert max(clf.estimator_.calls_[:-1]) == rows
    assert sum(clf.estimator_.calls_) == 2 * len(X)  # predict_proba and predict
    np.testing.assert_allclose(chunked, whole)
    reduce = np.max if aggregation == "max" else np.sum
    expected = np.column_stack(
        [reduce(pseudo[:, clf.pseudo_classes_ == c], axis=1) for c in clf.classes_]
    )
    np.testing.assert_allclose(chunked, expected / expected.sum(1, keepdims=True))


# --- X passes through to the encoder and the estimator ----------------------


def test_sparse_X_passes_through(blobs_majority):
    """Check a sparse X reaches the clusterer and the estimator as sparse."""
    X, y, _ = blobs_majority
    seen = []
    estimator = make_pipeline(
        FunctionTransformer(lambda Z: seen.append(sp.issparse(Z)) or Z),
        _lr(),
    )
    X_sparse = sp.csr_matrix(X)
    clf = RegroupingClassifier(estimator, random_state=0).fit(X_sparse, y)
    dense = RegroupingClassifier(_lr(), random_state=0).fit(X, y)
    assert all(seen) and seen
    np.testing.assert_array_equal(clf.pseudo_labels_, dense.pseudo_labels_)
    np.testing.assert_allclose(
        clf.predict_proba(X_sparse), dense.predict_proba(X), atol=1e-6
    )


def test_dataframe_with_string_columns_passes_through(multiclass):
    """Check a DataFrame with a string column reaches encoder and estimator.

    Before, validation turned X into a float array and refused the strings.
    """
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer

    X, y = multiclass
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["colour"] = np.where(X[:, 0] > 0, "red", "blue")

    def encoding():
        return make_column_transformer(
            (OneHotEncoder(), ["colour"]), remainder=StandardScaler()
        )

    clf = RegroupingClassifier(
        make_pipeline(encoding(), _lr()), encoder=encoding(), random_state=0
    ).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    assert clf.predict_proba(frame).shape == (len(frame), 3)
    assert clf.score(frame, y) > 0.8
    with pytest.raises(ValueError, match="must be numeric.*pass an encoder"):
        RegroupingClassifier(make_pipeline(encoding(), _lr())).fit(frame, y)


# --- sample_weight -----------------------------------------------------------


def _blob_data(n_per_blob=40):
    """Three far majority blobs and a minority blob, one-row-per-index weights."""
    centers = [[0, 0], [20, 0], [0, 20], [20, 20]]
    X, blob = make_blobs(
        n_samples=[n_per_blob] * 4, centers=centers, cluster_std=1.0, random_state=0
    )
    return X, np.where(blob == 3, 1, 0), blob


def _exact_lr():
    return LogisticRegression(C=0.1, tol=1e-12, max_iter=10_000)


def _assert_same_model(weighted, repeated, X):
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-6
    )
    np.testing.assert_array_equal(weighted.pseudo_classes_, repeated.pseudo_classes_)


def test_integer_weights_act_as_repeated_rows():
    """Check integer weights give the model of the repeated rows."""
    X, y, blob = _blob_data()
    w = np.random.RandomState(0).randint(1, 4, size=len(y))
    weighted = RegroupingClassifier(_exact_lr(), random_state=0)
    weighted.fit(X, y, sample_weight=w)
    rows = np.repeat(np.arange(len(y)), w)
    repeated = RegroupingClassifier(_exact_lr(), random_state=0).fit(X[rows], y[rows])
    # Sizes in weight: ceil(sum of majority weights / minority weights).
    k = math.ceil(w[y == 0].sum() / w[y == 1].sum())
    assert weighted.cluster_sizes_[0].size == repeated.cluster_sizes_[0].size == k
    majority = y == 0
    assert adjusted_rand_score(blob[majority], weighted.pseudo_labels_[majority]) == 1
    assert (
        adjusted_rand_score(weighted.pseudo_labels_[rows], repeated.pseudo_labels_) == 1
    )
    _assert_same_model(weighted, repeated, X)
    unweighted = RegroupingClassifier(_exact_lr(), random_state=0).fit(X, y)
    assert not np.allclose(unweighted.predict_proba(X), weighted.predict_proba(X))


def test_zero_weights_act_as_dropped_rows():
    """Check zero weights give the model of the data without those rows."""
    X, y, blob = _blob_data()
    w = np.ones(len(y))
    w[::3] = 0
    weighted = RegroupingClassifier(_exact_lr(), random_state=0)
    weighted.fit(X, y, sample_weight=w)
    kept = w > 0
    dropped = RegroupingClassifier(_exact_lr(), random_state=0).fit(X[kept], y[kept])
    assert (
        adjusted_rand_score(weighted.pseudo_labels_[kept], dropped.pseudo_labels_) == 1
    )
    _assert_same_model(weighted, dropped, X)


def test_weights_reach_clusterer_and_estimator():
    """Check the clusterer's and the estimator's fit receive the weights."""
    X, y, _ = _blob_data()
    w = np.linspace(0.5, 2, len(y))
    received = {}

    class Spy(KMeans):
        def fit_predict(self, X, y=None, sample_weight=None):
            received["clusterer"] = sample_weight
            return super().fit_predict(X, sample_weight=sample_weight)

    class SpyLR(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            received["estimator"] = sample_weight
            return super().fit(X, y, sample_weight=sample_weight)

    RegroupingClassifier(SpyLR(), clusterer=Spy(n_init=1), random_state=0).fit(
        X, y, sample_weight=w
    )
    np.testing.assert_array_equal(received["clusterer"], w[y == 0])
    np.testing.assert_array_equal(received["estimator"], w)


def _classic_and_routed_fits(X, y, w):
    """The same weighted RegroupingClassifier fitted in four ways."""
    direct = RegroupingClassifier(_exact_lr(), random_state=0)
    yield "direct", direct.fit(X, y, sample_weight=w)
    pipe = Pipeline([("scale", "passthrough"), ("rg", clone(direct))])
    yield "step__sample_weight", pipe.fit(X, y, rg__sample_weight=w)[-1]
    with sklearn.config_context(enable_metadata_routing=True):
        routed = clone(direct).set_fit_request(sample_weight=True)
        routed.set_score_request(sample_weight=True)
        pipe = Pipeline([("scale", "passthrough"), ("rg", routed)])
        yield "routed Pipeline", pipe.fit(X, y, sample_weight=w)[-1]
        search = GridSearchCV(
            clone(routed), {"aggregation": ["max"]}, cv=KFold(2), refit=True
        )
        yield "routed GridSearchCV", search.fit(X, y, sample_weight=w).best_estimator_


def test_weights_direct_classic_and_routed():
    """Check direct, step__sample_weight and routed weights give one model."""
    X, y, _ = _blob_data()
    w = np.random.RandomState(0).uniform(0.2, 3, size=len(y))
    fits = dict(_classic_and_routed_fits(X, y, w))
    for fitted in fits.values():
        _assert_same_model(fitted, fits["direct"], X)
    unweighted = RegroupingClassifier(_exact_lr(), random_state=0).fit(X, y)
    assert not np.allclose(unweighted.predict_proba(X), fits["direct"].predict_proba(X))


def test_routed_pipeline_estimator_takes_weights():
    """Check an estimator pipeline gets the weights when routing requests them."""
    X, y, _ = _blob_data()
    w = np.random.RandomState(0).uniform(0.2, 3, size=len(y))
    expected = RegroupingClassifier(_exact_lr(), random_state=0)
    expected.fit(X, y, sample_weight=w)
    with sklearn.config_context(enable_metadata_routing=True):
        inner = make_pipeline(
            FunctionTransformer(), _exact_lr().set_fit_request(sample_weight=True)
        )
        clf = RegroupingClassifier(inner, random_state=0).fit(X, y, sample_weight=w)
    _assert_same_model(clf, expected, X)
    with pytest.raises(ValueError, match="estimator Pipeline.*does not accept it"):
        RegroupingClassifier(make_pipeline(_lr())).fit(X, y, sample_weight=w)


@pytest.mark.parametrize(
    "params, weights, match",
    [
        ({"estimator": KNeighborsClassifier()}, None, "estimator KNeighbors"),
        (
            {"clusterer": AgglomerativeClustering()},
            None,
            "clusterer AgglomerativeClustering",
        ),
        ({}, "minority zero", r"sums to zero over class\(es\) \[1\]"),
        ({}, -np.ones(160), "Negative values in data passed to `sample_weight`"),
        ({}, np.ones(3), r"sample_weight.shape == \(3,\)"),
    ],
)
def test_bad_sample_weight(params, weights, match):
    """Check weights a step cannot take, or bad weights, raise naming them."""
    X, y, _ = _blob_data()
    w = np.ones(len(y)) if weights is None else weights
    if isinstance(weights, str):
        w = (y == 0).astype(float)
    clf = RegroupingClassifier(**{"estimator": _lr(), **params})
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y, sample_weight=w)


def test_weights_go_to_the_encoder_when_it_takes_them():
    """Check an encoder whose fit accepts sample_weight receives them."""
    X, y, _ = _blob_data()
    w = np.random.RandomState(0).uniform(0.2, 3, size=len(y))
    clf = RegroupingClassifier(_lr(), encoder=StandardScaler(), random_state=0)
    clf.fit(X, y, sample_weight=w)
    mean = np.average(X, axis=0, weights=w)
    np.testing.assert_allclose(clf.encoder_.mean_, mean)
    # An encoder without weights is fitted unweighted.
    ohe = make_pipeline(FunctionTransformer(np.round), StandardScaler())
    RegroupingClassifier(_lr(), encoder=ohe).fit(X, y, sample_weight=w)


# --- verbose -----------------------------------------------------------------


def test_verbose_progress_bar(multiclass, capsys):
    """Check verbose=1 shows a progress bar over the clustered classes."""
    X, y = multiclass
    RegroupingClassifier(_lr(), random_state=0).fit(X, y)
    assert capsys.readouterr().err == ""
    RegroupingClassifier(_lr(), verbose=1, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "RegroupingClassifier: clustering" in err and "2/2" in err
