import pytest
import torch
from torch.nn import functional as F

from skimb.nn._cosine_logits import CosineLogits


def _reference(features, weight, scale):
    """The autograd composition the hand-written backward replaces."""
    return scale * (F.normalize(features, dim=1) @ F.normalize(weight, dim=1).T)


def _leaves(seed=0, n=9, d=5, k=4):
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(n, d, dtype=torch.float64, generator=generator)
    weight = torch.randn(k, d, dtype=torch.float64, generator=generator)
    features[2] = 0.0  # a dead ReLU row
    features[5] *= 1e-14  # a norm below F.normalize's eps: clamped
    weight[1] *= 1e-14
    return features.requires_grad_(), weight.requires_grad_()


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_values_and_gradients_match_normalize(scale):
    """Check values and both gradients equal F.normalize's, clamped rows too."""
    features, weight = _leaves()
    upstream = torch.randn(9, 4, dtype=torch.float64)
    got = CosineLogits.apply(features, weight, scale)
    got_grads = torch.autograd.grad(got, (features, weight), upstream)
    expected = _reference(features, weight, scale)
    expected_grads = torch.autograd.grad(expected, (features, weight), upstream)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    for mine, theirs in zip(got_grads, expected_grads, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-9, atol=1e-9)


def test_gradcheck():
    generator = torch.Generator().manual_seed(1)
    features = torch.randn(6, 3, dtype=torch.float64, generator=generator)
    weight = torch.randn(4, 3, dtype=torch.float64, generator=generator)
    assert torch.autograd.gradcheck(
        lambda f, w: CosineLogits.apply(f, w, 7.0),
        (features.requires_grad_(), weight.requires_grad_()),
    )


def test_gradient_of_weight_alone():
    """Check a constant input (a head on the raw features) still trains W."""
    features, weight = _leaves(seed=2)
    features = features.detach()
    got = torch.autograd.grad(CosineLogits.apply(features, weight, 3.0).sum(), weight)
    expected = torch.autograd.grad(_reference(features, weight, 3.0).sum(), weight)
    torch.testing.assert_close(got[0], expected[0], rtol=1e-9, atol=1e-9)


def test_second_derivative_raises():
    features, weight = _leaves(seed=3)
    out = CosineLogits.apply(features, weight, 2.0)
    (grad,) = torch.autograd.grad((out**2).sum(), features, create_graph=True)
    with pytest.raises(RuntimeError, match="twice"):
        grad.sum().backward()
