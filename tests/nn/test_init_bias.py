"""init_bias: the output bias starts at the log class prior."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from skimb.nn import LogitAdjustedNet, NetClassifier, TabMBackbone


class InitialBias(Callback):
    """Record the output bias as training begins."""

    def on_train_begin(self, net, **kwargs):
        module = net.module_
        head = module.tabm.output if isinstance(module, TabMBackbone) else module.head
        self.bias_ = head.bias.detach().clone().numpy()


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300,
        n_classes=3,
        n_informative=4,
        weights=[0.7, 0.2],
        random_state=0,
    )
    return X.astype(np.float32), y


def initial_bias(net, X, y, **fit_params):
    record = InitialBias()
    net.set_params(callbacks=[record], max_epochs=1, random_state=0)
    net.fit(X, y, **fit_params)
    return record.bias_


@pytest.mark.parametrize("module", ["mlp", "tabm"])
def test_default_starts_at_log_prior(data, module):
    X, y = data
    bias = initial_bias(
        NetClassifier(module=module, module__k=2)
        if module == "tabm"
        else NetClassifier(),
        X,
        y,
    )
    expected = np.log(np.bincount(y) / len(y))
    np.testing.assert_allclose(bias, np.broadcast_to(expected, bias.shape), rtol=1e-6)


def test_prior_follows_sample_weight(data):
    X, y = data
    weight = np.where(y == 0, 0.25, 1.0)
    bias = initial_bias(NetClassifier(), X, y, sample_weight=weight)
    counts = np.bincount(y, weights=weight)
    np.testing.assert_allclose(bias, np.log(counts / counts.sum()), rtol=1e-6)


def test_none_keeps_module_init_and_is_la_default(data):
    X, y = data
    prior = np.log(np.bincount(y) / len(y))
    for net in (NetClassifier(init_bias=None), LogitAdjustedNet()):
        bias = initial_bias(net, X, y)
        assert np.abs(bias - prior).max() > 0.1
        assert np.abs(bias).max() < 1  # nn.Linear's uniform init
    bias = initial_bias(LogitAdjustedNet(init_bias="prior"), X, y)
    np.testing.assert_allclose(bias, prior, rtol=1e-6)


def test_class_absent_from_first_partial_fit_gets_finite_bias(data):
    X, y = data
    record = InitialBias()
    net = NetClassifier(callbacks=[record], max_epochs=1, random_state=0)
    keep = y < 2
    net.partial_fit(X[keep], y[keep], classes=[0, 1, 2])
    counts = np.bincount(y[keep], minlength=3).astype(float)
    counts[2] = counts[1]  # the rarest present class's share
    np.testing.assert_allclose(record.bias_, np.log(counts / counts.sum()), rtol=1e-6)
    assert np.isfinite(net.predict_proba(X)).all()


def test_cosine_head_and_wrong_value(data):
    X, y = data
    net = NetClassifier(module__cosine=True, max_epochs=1, random_state=0).fit(X, y)
    assert not hasattr(net.module_, "head")  # no bias to set: it still fits
    assert np.isfinite(net.predict_proba(X)).all()
    with pytest.raises(InvalidParameterError, match="init_bias"):
        NetClassifier(init_bias="zeros").fit(X, y)


def test_prior_start_lowers_the_first_loss(data):
    """The first epoch's loss starts below the equal-odds start's."""
    X, y = data
    losses = []
    for init_bias in ("prior", None):
        net = NetClassifier(init_bias=init_bias, lr=1e-5, max_epochs=1, random_state=0)
        losses.append(net.fit(X, y).history[-1, "train_loss"])
    assert losses[0] < losses[1]
