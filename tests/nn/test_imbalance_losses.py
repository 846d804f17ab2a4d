"""Tests of the imbalance losses against their formulas, written out in numpy."""

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight

from skimb.nn import (
    BalancedSoftmaxLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    VSLoss,
    class_balanced_weights,
)

COUNTS = np.array([50, 20, 5])
RNG = np.random.RandomState(0)
LOGITS = RNG.normal(scale=2.0, size=(7, 3))
TARGET = np.array([0, 1, 2, 2, 1, 0, 2])
WEIGHT = np.array([0.2, 1.0, 3.0])


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _nll(z, y):
    return -_log_softmax(z)[np.arange(len(y)), y]


def _reduce(per_sample, y, weight, reduction):
    w = np.ones(len(y)) if weight is None else weight[y]
    if reduction == "none":
        return w * per_sample
    if reduction == "sum":
        return (w * per_sample).sum()
    return (w * per_sample).sum() / w.sum()


def _expected(name, z, y, counts, weight=None, reduction="mean", **params):
    """The losses' formulas, from METHODS.md, in plain numpy."""
    counts = counts.astype(float)
    prior = counts / counts.sum()
    if name == "logit_adjusted":
        per_sample = _nll(z + params.get("tau", 1.0) * np.log(prior), y)
    elif name == "balanced_softmax":
        # -log(n_y e^{z_y} / sum_j n_j e^{z_j})
        e = counts * np.exp(z)
        per_sample = -np.log(e[np.arange(len(y)), y] / e.sum(axis=1))
    elif name == "ldam":
        max_m, s = params.get("max_m", 0.5), params.get("s", 30.0)
        n4 = 1.0 / np.sqrt(np.sqrt(counts))  # Cao et al.'s code
        margins = n4 * (max_m / n4.max())
        cosines = z / s  # the module receives s * cosines
        shifted = cosines.copy()
        shifted[np.arange(len(y)), y] -= margins[y]
        per_sample = _nll(s * shifted, y)
    elif name == "vs":
        gamma, tau = params.get("gamma", 0.3), params.get("tau", 1.0)
        delta = (1.0 / counts) ** gamma  # Kini et al.'s code
        delta = delta / delta.min()
        per_sample = _nll(z / delta + tau * np.log(prior), y)
    elif name == "focal":
        gamma = params.get("gamma", 2.0)
        p = np.exp(_log_softmax(z))[np.arange(len(y)), y]
        per_sample = -((1 - p) ** gamma) * np.log(p)
    return _reduce(per_sample, y, weight, reduction)


def _make(name, counts, **params):
    if name == "logit_adjusted":
        return LogitAdjustedLoss(counts, **params)
    if name == "balanced_softmax":
        return BalancedSoftmaxLoss(counts, **params)
    if name == "ldam":
        return LDAMLoss(counts, **params)
    if name == "vs":
        return VSLoss(counts, **params)
    return FocalLoss(**params)


CASES = [
    ("logit_adjusted", {}),
    ("logit_adjusted", {"tau": 0.5}),
    ("logit_adjusted", {"tau": 2.0}),
    ("balanced_softmax", {}),
    ("ldam", {}),
    ("ldam", {"max_m": 0.3, "s": 10.0}),
    ("vs", {}),
    ("vs", {"gamma": 0.5, "tau": 0.0}),
    ("focal", {}),
    ("focal", {"gamma": 0.5}),
    ("focal", {"gamma": 0.0}),
]
NAMES = ["logit_adjusted", "balanced_softmax", "ldam", "vs", "focal"]


@pytest.mark.parametrize("name, params", CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_matches_formula(name, params, reduction, weighted):
    """Check that each loss equals its formula, computed in numpy."""
    weight = WEIGHT if weighted else None
    loss = _make(name, COUNTS, weight=weight, reduction=reduction, **params)
    got = loss(torch.tensor(LOGITS), torch.tensor(TARGET))
    expected = _expected(name, LOGITS, TARGET, COUNTS, weight, reduction, **params)
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-10)


def test_hand_computed_values():
    """Check small cases worked out by hand."""
    y = torch.tensor([0, 1])
    # zero logits: LA gives -log(pi_y)
    la = LogitAdjustedLoss([3, 1], reduction="none")(torch.zeros(2, 2), y)
    np.testing.assert_allclose(la, [-np.log(0.75), -np.log(0.25)], rtol=1e-6)
    # tau=0 is plain cross entropy
    z = torch.tensor([[1.0, -1.0], [0.5, 2.0]])
    np.testing.assert_allclose(
        LogitAdjustedLoss([3, 1], tau=0.0)(z, y),
        torch.nn.functional.cross_entropy(z, y),
    )
    # LDAM: counts 16:1 give margins 0.25 and 0.5; cosines (0.5, 0) for class 0
    # leave s * (0.25, 0) -> log(1 + e^{-7.5}) at s=30
    ldam = LDAMLoss([16, 1])
    np.testing.assert_allclose(ldam.margins, [0.25, 0.5])
    value = ldam(
        30 * torch.tensor([[0.5, 0.0]], dtype=torch.float64), torch.tensor([0])
    )
    np.testing.assert_allclose(value, np.log1p(np.exp(-7.5)), rtol=1e-9)
    # VS with gamma=0 is logit adjustment
    vs = VSLoss([3, 1], gamma=0.0, tau=1.0)
    np.testing.assert_allclose(vs(z, y), LogitAdjustedLoss([3, 1])(z, y), rtol=1e-6)
    # focal: p_y = 1/2 gives (1/2)^gamma log 2
    focal = FocalLoss(gamma=3.0)(torch.zeros(1, 2), torch.tensor([1]))
    np.testing.assert_allclose(focal, 0.125 * np.log(2), rtol=1e-6)


@pytest.mark.parametrize("name, params", CASES)
def test_gradcheck_float64(name, params):
    """Check analytic gradients against finite differences in float64."""
    z = torch.tensor(LOGITS, requires_grad=True)
    loss = _make(name, COUNTS, weight=WEIGHT, **params)
    assert torch.autograd.gradcheck(lambda x: loss(x, torch.tensor(TARGET)), (z,))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("weighted", [False, True])
def test_stable_at_extreme_imbalance_and_logits(name, weighted):
    """Check finite values and gradients at 1000:1 with logits of 1e4, float32."""
    counts = np.array([1000, 1])
    weight = class_balanced_weights(counts) if weighted else None
    loss = _make(name, counts, weight=weight)
    z = torch.tensor(
        [[1e4, -1e4], [-1e4, 1e4], [1e4, -1e4], [-1e4, 1e4], [0.0, 0.0]],
        dtype=torch.float32,
        requires_grad=True,
    )
    y = torch.tensor([0, 1, 1, 0, 1])  # right, right, wrong, wrong, tie
    value = loss(z, y)
    value.backward()
    assert value.dtype == torch.float32
    assert torch.isfinite(value)
    assert torch.all(torch.isfinite(z.grad))
    # confident mistakes cost about 2e4 (times the LDAM/VS scales), not inf
    assert value.item() > 1e3


@pytest.mark.parametrize("name", NAMES)
def test_device_follows_module(name):
    """Check that no tensor is pinned to a device: the loss runs on ``meta``."""
    loss = _make(name, COUNTS, weight=WEIGHT).to("meta")
    z = torch.empty(7, 3, device="meta", requires_grad=True)
    value = loss(z, torch.tensor(TARGET, device="meta"))
    value.backward()
    assert value.device.type == z.grad.device.type == "meta"


@pytest.mark.parametrize("name", ["logit_adjusted", "balanced_softmax", "ldam", "vs"])
def test_float32_logits_give_float32_loss(name):
    """Check that float64 class-count buffers do not promote float32 logits."""
    loss = _make(name, COUNTS)
    value = loss(torch.tensor(LOGITS, dtype=torch.float32), torch.tensor(TARGET))
    assert value.dtype == torch.float32
    expected = _expected(name, LOGITS.astype(np.float32), TARGET, COUNTS)
    np.testing.assert_allclose(value.item(), expected, rtol=1e-5)


def test_class_balanced_weights_formula():
    """Check the effective-number weights against (1 - beta) / (1 - beta^n)."""
    counts = [1000, 100, 10, 1]
    for beta in (0.9, 0.99, 0.999, 0.9999):
        raw = np.array([(1 - beta) / (1 - beta**n) for n in counts])
        expected = raw / raw.sum() * len(counts)
        np.testing.assert_allclose(class_balanced_weights(counts, beta), expected)
    np.testing.assert_allclose(class_balanced_weights(counts, 0.0), np.ones(4))
    # beta -> 1 approaches inverse frequency, the "balanced" weights' shape
    inverse = compute_class_weight(
        "balanced", classes=np.arange(4), y=np.repeat(np.arange(4), counts)
    )
    np.testing.assert_allclose(
        class_balanced_weights(counts, 1 - 1e-9),
        inverse / inverse.sum() * 4,
        rtol=1e-4,
    )


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: LogitAdjustedLoss([10, 0]), r"positive; got \[10.0, 0.0\]"),
        (lambda: LogitAdjustedLoss([10]), "at least two"),
        (lambda: LogitAdjustedLoss([[1, 2]]), "1-d"),
        (lambda: LogitAdjustedLoss([5, 1], tau=-1), "tau must be .* got -1"),
        (lambda: LDAMLoss([5, 1], max_m=0), "max_m must be .* > 0; got 0"),
        (lambda: LDAMLoss([5, 1], s=-3.0), "s must be .* got -3.0"),
        (lambda: VSLoss([5, 1], gamma=-0.1), "gamma must be .* got -0.1"),
        (lambda: VSLoss([5, 1], tau=float("nan")), "tau must be"),
        (lambda: FocalLoss(gamma=-2), "gamma must be .* got -2"),
        (lambda: FocalLoss(weight=[1.0, -1.0]), "non-negative"),
        (lambda: BalancedSoftmaxLoss([5, 1], weight=[1.0]), r"per class \(2\)"),
        (lambda: BalancedSoftmaxLoss([5, 1], reduction="avg"), "'avg'"),
        (lambda: class_balanced_weights([3, 0]), "positive class counts"),
        (lambda: class_balanced_weights([3, 1], beta=1.0), "beta"),
    ],
)
def test_bad_arguments(make, match):
    """Check that bad loss arguments raise a ValueError naming the value."""
    with pytest.raises(ValueError, match=match):
        make()
