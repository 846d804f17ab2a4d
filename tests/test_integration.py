"""Every public estimator where a scikit-learn user puts it.

``ESTIMATORS`` maps a name to a factory of a small, fast, seeded
configuration; every test below runs over all of them.
"""

import hashlib
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from scipy import sparse
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb import (
    BiasAdjustedClassifier,
    DifficultyResampler,
    LogitAdjustedNet,
    NetClassifier,
    RegroupingClassifier,
)
from skimb.metrics import gmean_scorer, minority_f1_scorer


def small_net():
    return NetClassifier(max_epochs=8, lr=0.01, random_state=0)


ESTIMATORS = {
    "NetClassifier": small_net,
    "BiasAdjustedClassifier": lambda: BiasAdjustedClassifier(
        small_net(), cv=2, random_state=0
    ),
    "LogitAdjustedNet": lambda: LogitAdjustedNet(max_epochs=8, lr=0.01, random_state=0),
    "RegroupingClassifier": lambda: RegroupingClassifier(small_net(), random_state=0),
    "DifficultyResampler+NetClassifier": lambda: make_imb_pipeline(
        DifficultyResampler(n_epochs=3, random_state=0), small_net()
    ),
}
# A parameter of each estimator to grid-search over, with two values.
GRIDS = {
    "NetClassifier": {"lr": [0.003, 0.01]},
    "BiasAdjustedClassifier": {"search": ["decimal", "exact"]},
    "LogitAdjustedNet": {"tau": [0.5, 1.0]},
    "RegroupingClassifier": {"aggregation": ["max", "sum"]},
    "DifficultyResampler+NetClassifier": {"difficultyresampler__prior": [0.5, 1.0]},
}


def same_params(a, b):
    """Whether two estimators have equal parameters, nested estimators included."""
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    if pa.keys() != pb.keys():
        return False
    for key, value in pa.items():
        if hasattr(value, "get_params") and not isinstance(value, type):
            if type(value) is not type(pb[key]) or not same_params(value, pb[key]):
                return False
        elif isinstance(value, list) and value and isinstance(value[0], tuple):
            if [n for n, _ in value] != [n for n, _ in pb[key]]:
                return False
            if not all(same_params(x, y) for (_, x), (_, y) in zip(value, pb[key])):
                return False
        elif value is not pb[key] and value != pb[key]:
            return False
    return True


def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    n = 240
    y = np.where(rng.rand(n) < 0.2, "fraud", "ok")
    X = rng.normal(size=(n, 5))
    X[y == "fraud", :2] += 2.0
    return X, y


names = pytest.mark.parametrize("name", sorted(ESTIMATORS))


@names
def test_sklearn_pipeline_after_scaler(name, data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), ESTIMATORS[name]()).fit(X, y)
    proba = pipe.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(1), 1, atol=1e-5)
    assert set(pipe.predict(X)) <= {"fraud", "ok"}


@names
def test_imblearn_pipeline_after_smote(name, data):
    X, y = data
    pipe = make_imb_pipeline(SMOTE(random_state=0), ESTIMATORS[name]()).fit(X, y)
    assert pipe.predict_proba(X).shape == (len(y), 2)


@names
def test_imblearn_pipeline_after_difficulty_resampler(name, data):
    X, y = data
    sampler = DifficultyResampler(n_epochs=2, random_state=0)
    pipe = make_imb_pipeline(sampler, ESTIMATORS[name]()).fit(X, y)
    assert pipe.predict_proba(X).shape == (len(y), 2)


@names
@pytest.mark.parametrize(
    "scoring, refit",
    [
        (gmean_scorer, True),
        (minority_f1_scorer, True),
        ({"gmean": gmean_scorer, "f1": minority_f1_scorer}, "f1"),
    ],
    ids=["gmean", "minority_f1", "multi-metric"],
)
def test_grid_search(name, data, scoring, refit):
    X, y = data
    grid = GridSearchCV(
        ESTIMATORS[name](), GRIDS[name], scoring=scoring, refit=refit, cv=2
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 2
    assert set(grid.predict(X)) <= {"fraud", "ok"}


@names
def test_cross_validate_and_clone(name, data):
    X, y = data
    estimator = ESTIMATORS[name]()
    scores = cross_validate(estimator, X, y, cv=3, scoring=gmean_scorer)
    assert np.all((scores["test_score"] >= 0) & (scores["test_score"] <= 1))
    assert same_params(clone(estimator), estimator)


@names
def test_pandas_input_records_feature_names(name, data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    fitted = ESTIMATORS[name]().fit(frame, pd.Series(y))
    assert list(fitted.feature_names_in_) == list(frame.columns)
    assert fitted.predict_proba(frame).shape == (len(y), 2)


@names
def test_pickle_and_joblib_round_trips(name, data, tmp_path):
    X, y = data
    fitted = ESTIMATORS[name]().fit(X, y)
    expected = fitted.predict_proba(X)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(fitted)).predict_proba(X), expected
    )
    joblib.dump(fitted, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").predict_proba(X), expected
    )


@names
def test_same_random_state_same_predictions(name, data):
    X, y = data
    a = ESTIMATORS[name]().fit(X, y).predict_proba(X)
    b = ESTIMATORS[name]().fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def _with(X, index, value):
    X = X.astype(object if isinstance(value, str) else float)
    X[index] = value
    return X


# name, how to break (X, y) at fit, the error it must raise
BAD_FIT_INPUT = [
    ("nan", lambda X, y: (_with(X, (0, 0), np.nan), y), "NaN"),
    ("inf", lambda X, y: (_with(X, (0, 0), np.inf), y), "infinity"),
    ("empty", lambda X, y: (X[:0], y[:0]), "0 sample"),
    (
        "one sample",
        lambda X, y: (X[:1], y[:1]),
        "1 sample|1 class|one class|single class",
    ),
    (
        "one class",
        lambda X, y: (X, np.full_like(y, "ok")),
        "1 class|single class|one class",
    ),
    ("1-D X", lambda X, y: (X[:, 0], y), "2D array"),
    (
        "object dtype",
        lambda X, y: (_with(X, (0, 0), "a"), y),
        "could not convert|string",
    ),
    ("sparse", lambda X, y: (sparse.csr_matrix(X), y), "[Ss]parse"),
]


@names
@pytest.mark.parametrize(
    "case, corrupt, match", BAD_FIT_INPUT, ids=[c[0] for c in BAD_FIT_INPUT]
)
def test_bad_input_at_fit(name, data, case, corrupt, match):
    """Check each bad input raises its documented error and mutates nothing."""
    X, y = data
    X_bad, y_bad = corrupt(X, y)
    dense = X_bad.toarray() if sparse.issparse(X_bad) else X_bad
    before = digest(np.asarray(dense, dtype=object).astype(str), y_bad)
    with pytest.raises((ValueError, TypeError), match=match):
        ESTIMATORS[name]().fit(X_bad, y_bad)
    assert digest(np.asarray(dense, dtype=object).astype(str), y_bad) == before


@names
def test_bad_input_at_predict(name, data):
    X, y = data
    fitted = ESTIMATORS[name]().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict_proba(_with(X, (1, 1), np.nan))


# What each estimator must do with a minority of 2 rows (200:2) and of one row
# (1000:1): fit (None) or raise this error with this message.
EXTREME = {
    ("BiasAdjustedClassifier", 1): (
        ValueError,
        r"Class 1 has 1 sample and needs at least 2 \(one for training, one for "
        r"validation\) for cv=2",
    ),
}


@names
@pytest.mark.parametrize("n_minority", [2, 1])
def test_extreme_imbalance(name, n_minority):
    """Check each estimator fits, or raises as EXTREME lists, at 200:2 and 1000:1."""
    rng = np.random.RandomState(0)
    n_majority = 200 if n_minority == 2 else 1000
    X = rng.normal(size=(n_majority + n_minority, 3))
    y = np.r_[np.zeros(n_majority, int), np.ones(n_minority, int)]
    expected = EXTREME.get((name, n_minority))
    if expected is not None:
        error, message = expected
        with pytest.raises(error, match=message):
            ESTIMATORS[name]().fit(X, y)
        return
    proba = ESTIMATORS[name]().fit(X, y).predict_proba(X)
    assert proba.shape == (X.shape[0], 2)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


@names
def test_grid_search_parallel_jobs(name, data):
    X, y = data
    grid = GridSearchCV(
        ESTIMATORS[name](), GRIDS[name], scoring=gmean_scorer, cv=2, n_jobs=2
    ).fit(X, y)
    serial = GridSearchCV(
        ESTIMATORS[name](), GRIDS[name], scoring=gmean_scorer, cv=2
    ).fit(X, y)
    np.testing.assert_allclose(
        grid.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


@pytest.mark.slow
def test_grid_search_on_dask_cluster(data):
    """Check GridSearchCV runs every estimator on a Dask LocalCluster via joblib."""
    distributed = pytest.importorskip("distributed")
    X, y = data
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        for name in sorted(ESTIMATORS):
            with joblib.parallel_backend("dask"):
                grid = GridSearchCV(
                    ESTIMATORS[name](),
                    GRIDS[name],
                    scoring=gmean_scorer,
                    cv=2,
                    n_jobs=-1,
                ).fit(X, y)
            assert len(grid.cv_results_["params"]) == 2, name


def test_net_saved_with_cuda_device_loads_on_cpu(data):
    """Check a pickle whose net asks for CUDA loads on a CPU-only machine."""
    X, y = data
    net = NetClassifier(max_epochs=2, device="cpu", random_state=0).fit(X, y)
    net.device = "cuda"  # as if fitted on a GPU machine with device="cuda"
    payload = pickle.dumps(net)
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the mapping to CPU is not exercised")
    with pytest.warns(UserWarning, match="cpu"):
        loaded = pickle.loads(payload)
    assert str(loaded.get_params()["device"]) == "cpu"
    net.device = "cpu"
    np.testing.assert_allclose(loaded.predict_proba(X), net.predict_proba(X))


@pytest.mark.gpu
def test_device_auto_uses_cuda(data):
    X, y = data
    net = NetClassifier(max_epochs=1).fit(X, y)
    assert next(net.module_.parameters()).is_cuda
    cpu_copy = pickle.loads(pickle.dumps(net))
    assert cpu_copy.predict_proba(X).shape == (len(y), 2)
    assert torch.cuda.is_available()
