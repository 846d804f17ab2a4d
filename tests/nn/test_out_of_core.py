"""Nets on data left on disk: memmaps, Dask, torch Datasets."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from skimb.nn import LogitAdjustedNet, NetClassifier, _batches, _classifier, _lazy_rows
from skimb.nn._lazy_rows import LazyRows, is_out_of_core

da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=600, n_features=6, weights=[0.85], random_state=0
    )
    return (X * 100 + 7).astype(np.float32), y


@pytest.fixture
def memmap(data, tmp_path):
    X = data[0]
    path = tmp_path / "X.f32"
    out = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    out[:] = X
    out.flush()
    return np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)


def _net(cls=NetClassifier, **params):
    return cls(**{"max_epochs": 4, "random_state": 0, **params})


def _dataset(X, y):
    return torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))


def test_out_of_core_sources_are_recognised(data, memmap):
    X, y = data
    assert is_out_of_core(memmap)
    assert is_out_of_core(da.from_array(X))
    assert is_out_of_core(_dataset(X, y))
    assert not is_out_of_core(X)
    assert not is_out_of_core(np.asarray(memmap))


@pytest.mark.parametrize("cls", [NetClassifier, LogitAdjustedNet])
@pytest.mark.parametrize("source", ["memmap", "dask", "dataset"])
def test_fit_and_predict_equal_the_in_memory_path(data, memmap, cls, source):
    """Same batches, same preprocessing, so the same fitted net."""
    X, y = data
    X_source = {
        "memmap": memmap,
        "dask": da.from_array(X, chunks=128),
        "dataset": _dataset(X, y),
    }[source]
    y_source = None if source == "dataset" else y
    expected = _net(cls).fit(X, y)
    net = _net(cls).fit(X_source, y_source)
    np.testing.assert_array_equal(net.class_counts_, expected.class_counts_)
    np.testing.assert_array_equal(
        net.predict_proba(X_source), expected.predict_proba(X)
    )
    np.testing.assert_array_equal(net.predict(X_source), expected.predict(X))


def test_fit_and_predict_read_blocks_not_the_whole_array(data, memmap, monkeypatch):
    """Training reads whole batches, up to READ_ROWS rows; predict its batch size."""
    X, y = data
    monkeypatch.setattr(_batches, "READ_ROWS", 100)
    sizes = {"fit": [], "predict": []}

    def spy(read, name):
        def counted(source, rows):
            block = read(source, rows)
            sizes[name].append(len(block))
            return block

        return counted

    monkeypatch.setattr(_lazy_rows, "read_rows", spy(_lazy_rows.read_rows, "fit"))
    monkeypatch.setattr(_classifier, "read_rows", spy(_classifier.read_rows, "predict"))
    net = _net(batch_size=32, max_epochs=2, predict_batch_size=64)
    net.fit(memmap, y)
    net.predict_proba(memmap)
    assert max(sizes["fit"]) == 96  # three whole batches of 32 per read
    assert sum(sizes["fit"]) == 2 * len(X)
    assert max(sizes["predict"]) == 64
    assert sum(sizes["predict"]) == len(X) + 1  # the first row, checked first


def test_fit_sample_limits_the_preprocessing_read(data, memmap, monkeypatch):
    """Beyond FIT_SAMPLE rows the preprocessing is fitted on a seeded sample."""
    X, y = data
    monkeypatch.setattr(_lazy_rows, "FIT_SAMPLE", 200)
    a = _net(max_epochs=1).fit(memmap, y)
    b = _net(max_epochs=1).fit(memmap, y)
    assert a.preprocessor_.numeric_.n_quantiles_ == 200
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_sample_weight_and_zero_weights(data, memmap):
    X, y = data
    w = np.random.RandomState(0).randint(0, 3, len(y)).astype(float)
    expected = _net().fit(X, y, sample_weight=w)
    net = _net().fit(memmap, y, sample_weight=w)
    np.testing.assert_array_equal(net.class_counts_, expected.class_counts_)
    np.testing.assert_array_equal(net.predict_proba(memmap), expected.predict_proba(X))


def test_early_stopping_split_and_partial_fit(data, memmap):
    X, y = data
    expected = _net(early_stopping=True).fit(X, y)
    net = _net(early_stopping=True).fit(memmap, y)
    np.testing.assert_array_equal(net.predict_proba(X), expected.predict_proba(X))
    expected.partial_fit(X, y)
    net.partial_fit(memmap, y)
    np.testing.assert_array_equal(net.predict_proba(X), expected.predict_proba(X))


def test_fitted_net_pickles_without_the_data(data, memmap):
    """The fitted net keeps no reference to the rows it read."""
    X, y = data
    net = _net().fit(memmap, y)
    clone = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(clone.predict_proba(X), net.predict_proba(X))
    in_memory = len(pickle.dumps(_net().fit(X, y)))
    assert abs(len(pickle.dumps(net)) - in_memory) < 1000


def test_nan_in_a_block_is_named(data, tmp_path):
    X, y = data
    X = X.copy()
    X[500, 2] = np.nan
    path = tmp_path / "nan.f32"
    out = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    out[:] = X
    with pytest.raises(ValueError, match="NaN"):
        _net().fit(out, y)


def test_bad_shapes_and_lengths_are_refused(data, memmap):
    X, y = data
    with pytest.raises(ValueError, match="y has 599"):
        _net().fit(memmap, y[:-1])
    flat = torch.utils.data.TensorDataset(torch.zeros(10, 2, 3), torch.zeros(10))
    with pytest.raises(ValueError, match="1-D vector of features"):
        _net().fit(flat, np.r_[np.zeros(5), np.ones(5)])
    unlabeled = torch.utils.data.TensorDataset(torch.zeros(10, 3))
    with pytest.raises(ValueError, match="not \\(features, label\\) pairs"):
        _net().fit(unlabeled, None)
    net = _net(max_epochs=1).fit(memmap, y)
    with pytest.raises(ValueError, match="features"):
        net.predict_proba(da.from_array(np.zeros((4, 3), np.float32)))


def test_lazy_rows_keep_the_order_asked_for(data, memmap):
    X = data[0]
    rows = LazyRows(memmap, lambda block: block * 2, rows=np.arange(100, 200))
    wanted = np.array([5, 3, 3, 90, 0])
    np.testing.assert_array_equal(rows[wanted], X[100 + wanted] * 2)
    np.testing.assert_array_equal(rows[7], X[107] * 2)
    np.testing.assert_array_equal(rows[2:4], X[102:104] * 2)
    assert len(rows) == 100
