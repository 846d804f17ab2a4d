"""Scaled cosine logits with a hand-written backward pass."""

import torch
from torch.autograd.function import once_differentiable

# F.normalize's eps=1e-12, squared: rows with a smaller norm are divided by
# 1e-12 instead, and their norm then passes no gradient.
_EPS2 = 1e-24


class CosineLogits(torch.autograd.Function):
    """``scale * normalize(features) @ normalize(weight).T``, rows normalised.

    The values and gradients of :func:`torch.nn.functional.normalize`
    (``eps=1e-12``) on both factors followed by a matrix product, with fewer
    kernels and autograd nodes: the forward pass scales the ``(n, K)``
    product by the inverse norms instead of normalising the ``(n, d)`` and
    ``(K, d)`` operands, and the backward pass is written out:

    ``grad_features = (G * F) @ W - features * a**2 * sum_k(G * out)``

    with ``G`` the incoming gradient, ``F = scale * a b^T`` the factor, ``a``
    and ``b`` the inverse row norms, and the same with rows and columns
    exchanged for ``weight``. On the CPU with small batches, kernel launches
    dominate; the user guide on losses gives the measured cost of the head.
    Differentiating twice raises an error.
    """

    @staticmethod
    def forward(ctx, features, weight, scale):
        square_f = (features * features).sum(dim=1, keepdim=True)
        square_w = (weight * weight).sum(dim=1)
        inverse_f = torch.rsqrt(square_f.clamp_min(_EPS2))
        inverse_w = torch.rsqrt(square_w.clamp_min(_EPS2))
        factor = (inverse_f * scale) * inverse_w
        logits = (features @ weight.T) * factor
        ctx.save_for_backward(
            features, weight, square_f, square_w, inverse_f, inverse_w, factor, logits
        )
        return logits

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        features, weight, square_f, square_w, inverse_f, inverse_w, factor, logits = (
            ctx.saved_tensors
        )
        grad_cosine = grad * factor
        grad_norm = grad * logits
        # d(1/|x|)/dx = -x / |x|**3, zero where the norm was clamped.
        grad_features = grad_weight = None
        if ctx.needs_input_grad[0]:
            shrink = inverse_f * inverse_f * (square_f > _EPS2)
            shrink = shrink * grad_norm.sum(dim=1, keepdim=True)
            grad_features = grad_cosine @ weight - features * shrink
        if ctx.needs_input_grad[1]:
            shrink = inverse_w * inverse_w * (square_w > _EPS2)
            shrink = shrink * grad_norm.sum(dim=0)
            grad_weight = grad_cosine.T @ features - weight * shrink[:, None]
        return grad_features, grad_weight, None
