import pickle

import numpy as np
import pytest
import torch
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.datasets import make_classification
from sklearn.metrics import recall_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight
from skorch.callbacks import Callback

from skimb.metrics import get_scorer
from skimb.nn import (
    BalancedSoftmaxLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    LogitAdjustedNet,
    VSLoss,
)


def small_net(**params):
    return LogitAdjustedNet(**{"max_epochs": 4, "random_state": 0, **params})


@pytest.fixture(scope="module")
def long_tailed():
    """Three standardised classes at 100:20:5, string labels."""
    X, y = make_classification(
        n_samples=125,
        n_features=6,
        n_informative=4,
        n_classes=3,
        n_clusters_per_class=1,
        weights=[0.8, 0.16],
        flip_y=0,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    return X, np.array(["head", "mid", "tail"])[y]


def _counts(y):
    return np.unique(y, return_counts=True)[1]


def _raw_outputs(net, X):
    """The module's outputs, computed outside the classifier's methods."""
    net.module_.eval()
    with torch.no_grad():
        return net.module_(torch.as_tensor(net.preprocessor_.transform(X))).numpy()


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    "loss, adjustment, expected",
    [
        ("logit_adjusted", "loss", LogitAdjustedLoss),
        ("logit_adjusted", "posthoc", torch.nn.CrossEntropyLoss),
        ("ldam", "loss", LDAMLoss),
        ("vs", "loss", VSLoss),
        ("balanced_softmax", "loss", BalancedSoftmaxLoss),
        ("focal", "loss", FocalLoss),
        ("focal", "posthoc", FocalLoss),
        ("cross_entropy", "loss", torch.nn.CrossEntropyLoss),
    ],
)
def test_criterion_follows_loss(long_tailed, loss, adjustment, expected):
    """Check the criterion class and that predict_proba is softmax(logits)."""
    X, y = long_tailed
    net = small_net(loss=loss, adjustment=adjustment).fit(X, y)
    assert type(net.criterion_) is expected
    z = net.logits(X)
    np.testing.assert_allclose(net.predict_proba(X), _softmax(z), rtol=1e-5)
    np.testing.assert_array_equal(net.predict(X), net.classes_[z.argmax(1)])


def test_class_counts_come_from_each_fit(long_tailed):
    """Check that a refit on other labels rebuilds the loss from the new counts."""
    X, y = long_tailed
    net = small_net().fit(X, y)
    counts = _counts(y)
    np.testing.assert_array_equal(net.class_counts_, counts)
    np.testing.assert_allclose(net.criterion_.log_prior, np.log(counts / len(y)))
    keep = np.r_[np.flatnonzero(y == "head")[:10], np.flatnonzero(y != "head")]
    net.fit(X[keep], y[keep])
    np.testing.assert_array_equal(net.class_counts_, [10, counts[1], counts[2]])
    np.testing.assert_allclose(
        net.criterion_.log_prior, np.log(_counts(y[keep]) / len(keep))
    )


def test_hyperparameters_reach_the_losses(long_tailed):
    """Check that tau and each loss's hyperparameters end up in the criterion."""
    X, y = long_tailed
    assert small_net(tau=0.3).fit(X, y).criterion_.tau == 0.3
    ldam = small_net(loss="ldam", ldam_max_m=0.2, ldam_s=8.0).fit(X, y).criterion_
    assert (ldam.max_m, ldam.s) == (0.2, 8.0)
    counts = _counts(y)
    np.testing.assert_allclose(ldam.margins, 0.2 * (counts.min() / counts) ** 0.25)
    vs = small_net(loss="vs", vs_gamma=0.1, tau=0.7).fit(X, y).criterion_
    assert (vs.gamma, vs.tau) == (0.1, 0.7)
    assert small_net(loss="focal", focal_gamma=1.5).fit(X, y).criterion_.gamma == 1.5
    summed = small_net(criterion__reduction="sum").fit(X, y)
    assert summed.criterion_.reduction == "sum"


def test_ldam_gets_scaled_cosine_head(long_tailed):
    """Check that LDAM trains a cosine head scaled by ldam_s, unless overridden."""
    X, y = long_tailed
    net = small_net(loss="ldam", ldam_s=12.0).fit(X, y)
    assert net.module_.cosine and net.module_.scale == 12.0
    z = net.logits(X)
    assert np.abs(z).max() <= 12.0 + 1e-4  # s times a cosine
    assert np.abs(z).max() > 1.0  # the scale is applied in the head
    assert not small_net(loss="ldam", module__cosine=False).fit(X, y).module_.cosine
    assert not small_net(loss="vs").fit(X, y).module_.cosine


def test_posthoc_logits_are_raw_minus_tau_log_prior(long_tailed):
    """Check post-hoc logits, probabilities and predictions against the module."""
    X, y = long_tailed
    tau = 1.5
    net = small_net(adjustment="posthoc", tau=tau).fit(X, y)
    expected = _raw_outputs(net, X) - tau * np.log(_counts(y) / len(y))
    np.testing.assert_allclose(net.logits(X), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(net.predict_proba(X), _softmax(expected), atol=1e-6)
    np.testing.assert_array_equal(net.predict(X), net.classes_[expected.argmax(1)])
    # post-hoc training is plain cross entropy: same network as loss="cross_entropy"
    plain = small_net(loss="cross_entropy").fit(X, y)
    np.testing.assert_allclose(_raw_outputs(net, X), plain.logits(X), rtol=1e-5)
    # loss mode predicts with the raw outputs
    la = small_net().fit(X, y)
    np.testing.assert_allclose(la.logits(X), _raw_outputs(la, X), rtol=1e-6)
    assert la.logit_adjustment_ is None


def test_logit_adjustment_raises_tail_recall(long_tailed):
    """Check that both adjustments recall the tail class more than cross entropy."""
    X, y = long_tailed
    nets = {
        name: small_net(max_epochs=30, **params).fit(X, y)
        for name, params in {
            "ce": {"loss": "cross_entropy"},
            "loss": {},
            "posthoc": {"adjustment": "posthoc"},
        }.items()
    }
    recall = {
        name: recall_score(y, net.predict(X), labels=["tail"], average="macro")
        for name, net in nets.items()
    }
    mean_tail = {name: net.predict_proba(X)[:, 2].mean() for name, net in nets.items()}
    assert mean_tail["loss"] > mean_tail["ce"]
    assert mean_tail["posthoc"] > mean_tail["ce"]
    assert recall["loss"] >= recall["ce"] and recall["posthoc"] >= recall["ce"]


class _RecordWeight(Callback):
    """Record the criterion's class weights at the start of each epoch."""

    def on_epoch_begin(self, net, **kwargs):
        weight = net.criterion_.weight
        net.history.record("weight", None if weight is None else weight.tolist())


@pytest.mark.parametrize("loss", ["ldam", "cross_entropy", "focal", "vs"])
def test_deferred_reweighting_switches_weights_on(long_tailed, loss):
    """Check DRW: no class weights before drw_epoch, effective-number ones after."""
    X, y = long_tailed
    beta = 0.99
    net = small_net(
        loss=loss,
        class_weight="effective_number",
        beta=beta,
        drw_epoch=2,
        callbacks=[("record", _RecordWeight())],
    ).fit(X, y)
    raw = (1 - beta) / (1 - beta ** _counts(y))
    expected = 3 * raw / raw.sum()
    np.testing.assert_allclose(net.class_weight_, expected)
    weights = net.history[:, "weight"]
    assert weights[:2] == [None, None]
    for w in weights[2:]:
        np.testing.assert_allclose(w, expected, rtol=1e-6)


def test_class_weight_from_the_start_and_balanced(long_tailed):
    """Check balanced weights against scikit-learn, applied from the first epoch."""
    X, y = long_tailed
    net = small_net(
        class_weight="balanced", callbacks=[("record", _RecordWeight())]
    ).fit(X, y)
    expected = compute_class_weight("balanced", classes=np.unique(y), y=y)
    np.testing.assert_allclose(net.class_weight_, expected)
    for w in net.history[:, "weight"]:
        np.testing.assert_allclose(w, expected, rtol=1e-6)


def test_class_weight_dict_maps_labels(long_tailed):
    """Check that a dict of label weights is ordered like classes_, default 1."""
    X, y = long_tailed
    net = small_net(class_weight={"tail": 5.0, "head": 0.5}).fit(X, y)
    np.testing.assert_allclose(net.class_weight_, [0.5, 1.0, 5.0])


def test_drw_counts_epochs_across_partial_fit(long_tailed):
    """Check that drw_epoch counts the epochs of successive partial_fit calls."""
    X, y = long_tailed
    net = small_net(
        max_epochs=1,
        class_weight="balanced",
        drw_epoch=2,
        callbacks=[("record", _RecordWeight())],
    )
    for _ in range(4):
        net.partial_fit(X, y)
    weights = net.history[:, "weight"]
    assert weights[:2] == [None, None] and weights[2] is not None
    assert weights[3] is not None


def test_grid_search_over_loss_and_tau(long_tailed):
    """Check GridSearchCV over loss x tau with a skimb scorer."""
    X, y = long_tailed
    grid = {
        "loss": ["logit_adjusted", "vs", "cross_entropy"],
        "tau": [0.5, 1.0],
    }
    search = GridSearchCV(
        small_net(max_epochs=3),
        grid,
        scoring=get_scorer("balanced_accuracy"),
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        error_score="raise",
    ).fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert len(search.cv_results_["params"]) == 6
    assert search.best_estimator_.loss == search.best_params_["loss"]
    assert search.predict(X).shape == y.shape


def test_in_imblearn_pipeline_after_sampler(long_tailed):
    """Check that the loss sees the class counts of the resampled data."""
    X, y = long_tailed
    pipe = make_imb_pipeline(
        StandardScaler(), RandomOverSampler(random_state=0), small_net()
    ).fit(X, y)
    net = pipe[-1]
    np.testing.assert_array_equal(net.class_counts_, [_counts(y).max()] * 3)
    np.testing.assert_allclose(net.criterion_.log_prior, np.log(np.full(3, 1 / 3)))
    assert set(pipe.predict(X)) <= set(y)


def test_pickle_keeps_posthoc_predictions(long_tailed):
    """Check that a pickled post-hoc net predicts the same probabilities."""
    X, y = long_tailed
    net = small_net(adjustment="posthoc").fit(X, y)
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_allclose(restored.predict_proba(X), net.predict_proba(X))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"loss": "hinge"}, r"'loss' parameter .*'balanced_softmax'.*Got 'hinge'"),
        (
            {"class_weight": "inverse"},
            r"'class_weight' .*'effective_number'.*'inverse'",
        ),
        ({"adjustment": "both"}, r"'adjustment' .*'posthoc'.*'both'"),
        ({"tau": -0.5}, r"'tau' parameter .*\[0.0, inf\).*Got -0.5"),
        ({"drw_epoch": 4, "class_weight": "balanced"}, r"drw_epoch=4 is beyond"),
        ({"drw_epoch": 9, "class_weight": "balanced"}, r"max_epochs=4"),
        ({"drw_epoch": -1, "class_weight": "balanced"}, r"'drw_epoch' .*Got -1"),
        ({"drw_epoch": 2}, r"drw_epoch=2 .*class_weight is None"),
        ({"loss": "ldam", "ldam_max_m": 0.0}, r"'ldam_max_m' .*\(0.0, 2.0\].*Got 0.0"),
        ({"loss": "ldam", "ldam_max_m": 3}, r"'ldam_max_m' .*Got 3"),
        ({"loss": "ldam", "ldam_s": -30}, r"'ldam_s' .*Got -30"),
        ({"loss": "vs", "vs_gamma": -0.3}, r"'vs_gamma' .*Got -0.3"),
        ({"loss": "focal", "focal_gamma": -1}, r"'focal_gamma' .*Got -1"),
        ({"class_weight": "effective_number", "beta": 1.0}, r"'beta' .*Got 1.0"),
        ({"loss": "vs", "adjustment": "posthoc"}, r"loss='vs' would adjust .* twice"),
        ({"loss": "ldam", "adjustment": "posthoc"}, r"loss='ldam' would adjust"),
        ({"loss": "balanced_softmax", "adjustment": "posthoc"}, r"twice"),
    ],
)
def test_bad_parameters_fail_at_fit(long_tailed, params, match):
    """Check that each bad parameter raises a ValueError at fit naming it."""
    X, y = long_tailed
    net = small_net(**params)  # construction accepts anything
    with pytest.raises(ValueError, match=match):
        net.fit(X, y)


@pytest.mark.parametrize(
    "loss, adjustment",
    [(loss, "loss") for loss in ("logit_adjusted", "ldam", "vs", "balanced_softmax")]
    + [(loss, "posthoc") for loss in ("logit_adjusted", "focal", "cross_entropy")],
)
def test_overflowing_outputs_raise_instead_of_nan(long_tailed, loss, adjustment):
    """Check that outputs overflowing float32 raise rather than give NaN."""
    X, y = long_tailed
    # preprocessing=None: the default quantiles would bound the inputs
    net = small_net(loss=loss, adjustment=adjustment, preprocessing=None).fit(X, y)
    assert np.isfinite(net.predict_proba(X * 1e30)).all()
    huge = np.where(np.arange(X.shape[1]) % 2, 3e38, -3e38) * np.ones((2, 1))
    with pytest.raises(ValueError, match="outputs are not finite"):
        net.predict_proba(huge)


def test_partial_fit_needs_every_class_first(long_tailed):
    """Check that a class absent from the first partial_fit call is refused."""
    X, y = long_tailed
    seen = y != "tail"
    with pytest.raises(ValueError, match=r"classes \['tail'\] have no training"):
        small_net().partial_fit(X[seen], y[seen], classes=np.unique(y))


def test_initialize_before_fit_is_refused():
    """Check that initialize without training labels explains why it fails."""
    with pytest.raises(ValueError, match="class counts of the training labels"):
        small_net().initialize()
