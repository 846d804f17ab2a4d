"""Tests of skimb.adjustment.solve_bias."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skimb.adjustment import solve_bias


def _mean_softmax(logits, bias):
    """Independent float64 mean softmax."""
    z = np.asarray(logits, dtype=np.float64) + np.asarray(bias, dtype=np.float64)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return (p / p.sum(axis=1, keepdims=True)).mean(axis=0)


def _targets(n_classes):
    rest = 1 - 1e-4 * (n_classes - 1)
    return [
        np.full(n_classes, 1 / n_classes),
        np.r_[1e-4, np.full(n_classes - 1, (1 - 1e-4) / (n_classes - 1))],
        np.r_[np.full(n_classes - 1, 1e-4), rest],
    ]


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("target_index", [0, 1, 2])
def test_solve_bias_reaches_target(backend, dtype, n_classes, target_index):
    """Check that the mean softmax of logits + bias is the target within 1e-6."""
    rng = np.random.default_rng(n_classes)
    logits = rng.normal(scale=3.0, size=(3000, n_classes)) + rng.normal(
        scale=2.0, size=n_classes
    )
    logits = logits.astype(dtype)
    target = _targets(n_classes)[target_index]
    given = torch.as_tensor(logits) if backend == "torch" else logits
    bias, n_passes = solve_bias(given, target, return_n_passes=True)
    if backend == "torch":
        assert isinstance(bias, torch.Tensor)
        assert bias.device == given.device
        bias = bias.numpy()
    else:
        assert isinstance(bias, np.ndarray) and bias.dtype == np.float64
    assert bias.shape == (n_classes,)
    assert abs(bias.sum()) < 1e-9
    np.testing.assert_allclose(_mean_softmax(logits, bias), target, rtol=0, atol=1e-6)
    assert n_passes <= 20


def test_solve_bias_few_passes_on_moderate_logits():
    """Check that Newton with the warm start needs a handful of passes."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(20000, 10))
    target = np.arange(1, 11) / 55
    bias, n_passes = solve_bias(logits, target, return_n_passes=True)
    assert n_passes <= 6
    np.testing.assert_allclose(_mean_softmax(logits, bias), target, atol=1e-6)


@pytest.mark.parametrize("scale", [300.0, 3000.0])
@pytest.mark.parametrize("n_classes", [2, 5])
def test_solve_bias_large_logit_scales(scale, n_classes):
    """Check logits of any scale converge: the step cap grows when it binds."""
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=scale, size=(5000, n_classes))
    logits[:, 0] += 3 * scale  # the first class takes almost every row
    target = np.full(n_classes, 1 / n_classes)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        bias, n_passes = solve_bias(logits, target, return_n_passes=True)
    np.testing.assert_allclose(_mean_softmax(logits, bias), target, atol=1e-6)
    assert n_passes <= 60


def test_solve_bias_numpy_and_torch_agree_and_input_untouched():
    """Check numpy and torch give the same bias and the logits are unchanged."""
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(500, 3)).astype(np.float32)
    copy = logits.copy()
    target = [0.5, 0.3, 0.2]
    b_numpy = solve_bias(logits, target)
    b_torch = solve_bias(torch.from_numpy(logits), target).numpy()
    np.testing.assert_allclose(b_numpy, b_torch, atol=1e-7)
    np.testing.assert_array_equal(logits, copy)


def test_solve_bias_warm_start():
    """Check that a starting bias gives the same solution."""
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(800, 4))
    target = [0.1, 0.2, 0.3, 0.4]
    bias = solve_bias(logits, target)
    warm = solve_bias(logits, target, bias0=bias + 0.5)
    np.testing.assert_allclose(warm, bias, atol=1e-5)


def test_solve_bias_recovers_a_known_shift():
    """Check that logits shifted by -c are moved back by +c (up to the gauge)."""
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(2000, 3))
    shift = np.array([0.7, -0.2, -0.5])
    target = _mean_softmax(logits, 0.0)
    bias = solve_bias(logits - shift, target)
    np.testing.assert_allclose(bias, shift - shift.mean(), atol=1e-5)


@pytest.mark.parametrize(
    "logits, target, match",
    [
        (np.zeros((4, 2)), [0.0, 1.0], "at least 0.0001"),
        (np.zeros((4, 2)), [-0.1, 1.1], "at least 0.0001"),
        (np.zeros((4, 3)), [0.2, 0.2, 0.2], "sum to 1"),
        (np.zeros((4, 3)), [0.5, 0.5], "one entry per class"),
        (np.zeros(4), [0.5, 0.5], "2-D"),
        (np.array([[0.0, np.nan]]), [0.5, 0.5], "NaN or infinite"),
    ],
)
def test_solve_bias_bad_input(logits, target, match):
    """Check that bad logits or targets raise a ValueError naming the problem."""
    with pytest.raises(ValueError, match=match):
        solve_bias(logits, target)


@pytest.mark.parametrize(
    "bias0, match",
    [
        ([np.nan, 0.0, 0.0], "bias0 contains NaN"),
        ([np.inf, 0.0, 0.0], "bias0 contains infinity"),
        ([0.0, 0.0], r"bias0 must have one entry per class \(3\)"),
    ],
)
def test_solve_bias_bad_bias0(bias0, match):
    """Check that a non-finite or misshapen bias0 raises, not a NaN bias."""
    logits = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match=match):
        solve_bias(logits, [0.2, 0.3, 0.5], bias0=bias0)


def test_solve_bias_leaves_bias0_untouched():
    """Check that the starting bias given by the user is not modified."""
    logits = np.random.default_rng(0).normal(size=(50, 3))
    bias0 = np.array([1.0, 2.0, 3.0])
    solve_bias(logits, [0.2, 0.3, 0.5], bias0=bias0)
    np.testing.assert_array_equal(bias0, [1.0, 2.0, 3.0])


@pytest.mark.gpu
def test_solve_bias_on_cuda():
    """Check CUDA logits give a bias on the same device that reaches the target."""
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(5000, 5)).astype(np.float32)
    target = [0.05, 0.1, 0.15, 0.3, 0.4]
    bias = solve_bias(torch.as_tensor(logits, device="cuda"), target)
    assert bias.device.type == "cuda"
    np.testing.assert_allclose(
        _mean_softmax(logits, bias.cpu().numpy()), target, atol=1e-6
    )


@pytest.mark.parametrize("n", [500, 70_000])  # 70,000 rows: compressed margins
def test_search_margins_solve_many_hits_every_target(n):
    """Check the vectorised binary solve of the searches reaches each target."""
    from scipy.special import expit

    from skimb.adjustment._binary_folds import Margins

    rng = np.random.RandomState(0)
    logits = np.c_[np.zeros(n), rng.normal(-3, 2, size=n)]
    margins = Margins(logits)
    targets = np.array([1e-4, 0.01, 0.05, 0.3, 0.5, 0.9, 0.9999])
    betas = margins.solve_many(targets)
    reached = expit(logits[:, 1][None, :] + betas[:, None]).mean(axis=1)
    np.testing.assert_allclose(reached, targets, atol=1e-6)
    inner = targets[1:-1]  # 1 - (1 - 1e-4) rounds below 1e-4
    biases = solve_bias(logits, np.column_stack([1 - inner, inner]), tol=1e-8)
    np.testing.assert_allclose(betas[1:-1], biases[:, 1] - biases[:, 0], atol=1e-5)
