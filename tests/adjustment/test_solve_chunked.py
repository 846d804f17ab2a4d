"""Tests of solve_bias on logits in chunks: Dask arrays and iterables of blocks."""

import numpy as np
import pytest
import torch

from skimb.adjustment import solve_bias

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
from dask.callbacks import Callback  # noqa: E402


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def _logits(n_rows, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    shift = rng.normal(scale=2.0, size=n_classes)
    return rng.normal(scale=2.0, size=(n_rows, n_classes)) + shift


def _target(n_classes):
    t = np.arange(1, n_classes + 1, dtype=float)
    return t / t.sum()


def _blocks(logits, rows):
    return [logits[i : i + rows] for i in range(0, len(logits), rows)]


FORMS = {
    "dask": lambda z: da.from_array(z, chunks=(613, z.shape[1])),
    "dask-column-chunks": lambda z: da.from_array(z, chunks=(900, 1)),
    "list": lambda z: _blocks(z, 577),
    "tuple-of-float32-tensors": lambda z: tuple(
        torch.as_tensor(b, dtype=torch.float32) for b in _blocks(z, 1000)
    ),
    "callable": lambda z: lambda: iter(_blocks(z, 401)),
}


def _in_memory(z, form):
    """The logits the in-memory solve must see for the same chunks."""
    if form == "tuple-of-float32-tensors":
        return z.astype(np.float32)
    return z


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_chunked_solve_equals_in_memory(form, n_classes, weighted):
    """Check that chunked logits give the in-memory bias to 1e-8, same passes."""
    z = _logits(5000, n_classes, seed=n_classes)
    w = np.random.default_rng(1).uniform(0, 3, size=len(z)) if weighted else None
    target = _target(n_classes)
    expected, passes = solve_bias(
        _in_memory(z, form), target, sample_weight=w, return_n_passes=True
    )
    bias, chunked_passes = solve_bias(
        FORMS[form](z), target, sample_weight=w, return_n_passes=True
    )
    assert isinstance(bias, np.ndarray) and bias.shape == (n_classes,)
    np.testing.assert_allclose(bias, expected, rtol=0, atol=1e-8)
    assert chunked_passes == passes


@pytest.mark.parametrize("n_classes", [2, 3])
def test_chunked_solve_many_targets_and_bias0(n_classes):
    """Check that 2-D targets and bias0 match the in-memory solve."""
    z = _logits(3000, n_classes)
    rng = np.random.default_rng(2)
    targets = rng.dirichlet(np.ones(n_classes), size=4) * 0.9 + 0.1 / n_classes
    bias0 = rng.normal(size=targets.shape)
    expected = solve_bias(z, targets, bias0=bias0)
    for chunks in (da.from_array(z, chunks=(700, n_classes)), _blocks(z, 700)):
        bias = solve_bias(chunks, targets, bias0=bias0)
        assert bias.shape == targets.shape
        np.testing.assert_allclose(bias, expected, rtol=0, atol=1e-8)


def test_dask_sample_weight_as_dask_array():
    """Check that a 1-D Dask sample_weight with other chunks is aligned to the rows."""
    z = _logits(4000, 3)
    w = np.random.default_rng(3).integers(0, 4, size=len(z)).astype(float)
    expected = solve_bias(z, _target(3), sample_weight=w)
    bias = solve_bias(
        da.from_array(z, chunks=(1000, 3)),
        _target(3),
        sample_weight=da.from_array(w, chunks=1500),
    )
    np.testing.assert_allclose(bias, expected, rtol=0, atol=1e-8)


class _LargestResult(Callback):
    """Record the size of every task's result."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def _posttask(self, key, result, dsk, state, worker_id):
        self.largest = max(self.largest, getattr(result, "nbytes", 0))


@pytest.mark.parametrize("n_classes", [2, 5])
def test_dask_chunks_are_reduced_never_gathered(n_classes):
    """Check that no task of the solve holds more than one chunk of logits.

    The array is generated chunk by chunk (``da.random``), so a task holding
    the whole array would have to concatenate the chunks.
    """
    rows = 2000
    logits = da.random.default_rng(0).normal(
        size=(20 * rows, n_classes), chunks=(rows, n_classes)
    )
    chunk_bytes = rows * n_classes * 8
    with _LargestResult() as recorder:
        bias = solve_bias(logits, _target(n_classes))
    assert 0 < recorder.largest <= chunk_bytes
    # The reduction is still right: the state at the bias is the target.
    z = logits.compute() + bias
    p = np.exp(z - z.max(axis=1, keepdims=True))
    state = (p / p.sum(axis=1, keepdims=True)).mean(axis=0)
    np.testing.assert_allclose(state, _target(n_classes), rtol=0, atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_callable_is_read_once_per_pass(n_classes):
    """Check that a callable of blocks is called once per pass, plus the peek."""
    z = _logits(2000, n_classes)
    calls = []

    def blocks():
        calls.append(1)
        return iter(_blocks(z, 300))

    _, n_passes = solve_bias(blocks, _target(n_classes), return_n_passes=True)
    assert len(calls) == n_passes + 1  # the first call reads the class count


def _generator(z):
    yield from _blocks(z, 100)


BAD = [
    (lambda z: _generator(z), None, ValueError, "iterator can be read only once"),
    (lambda z: [z[:10], z[10:20, :1]], None, ValueError, "must have 2 columns"),
    (lambda z: [z[:10], np.full((3, 2), np.nan)], None, ValueError, "NaN"),
    (lambda z: [z[:10], z[10:20].astype(str)], None, ValueError, "numeric 2-D"),
    (lambda z: da.from_array(z[:, 0], chunks=50), None, ValueError, "must be 2-D"),
    (
        lambda z: da.from_array(np.where(np.arange(len(z))[:, None] == 7, np.inf, z)),
        None,
        ValueError,
        "NaN or infinite",
    ),
    (lambda z: _blocks(z, 30), np.ones(10), ValueError, "sample_weight has 10"),
    (lambda z: _blocks(z, 30), np.ones(1000), ValueError, "sample_weight has 1000"),
    (lambda z: _blocks(z, 30), -np.ones(200), ValueError, "non-negative"),
    (lambda z: _blocks(z, 30), np.zeros(200), ValueError, "sums to zero"),
    (lambda z: da.from_array(z), np.ones(3), ValueError, "one entry per row"),
    (lambda z: z, da.ones(200), ValueError, "Dask sample_weight needs Dask"),
    (
        lambda z: _blocks(z, 30),
        da.ones(200),
        ValueError,
        "Dask sample_weight goes with Dask logits",
    ),
    (lambda z: lambda: iter([]), None, ValueError, "at least one block"),
]


@pytest.mark.parametrize("make, weight, error, match", BAD)
def test_chunked_bad_input(make, weight, error, match):
    """Check that bad chunks and weights are refused with a clear message."""
    z = _logits(200, 2)
    with pytest.raises(error, match=match):
        solve_bias(make(z), [0.3, 0.7], sample_weight=weight)


def test_chunked_input_is_not_mutated():
    """Check that the blocks are left as they were."""
    z = _logits(500, 3)
    blocks = _blocks(z, 100)
    copies = [b.copy() for b in blocks]
    solve_bias(blocks, _target(3))
    for block, copy in zip(blocks, copies, strict=True):
        np.testing.assert_array_equal(block, copy)
