"""sample_weight in NetClassifier and LogitAdjustedNet."""

import numpy as np
import pytest
import torch
from sklearn import config_context
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from skorch.dataset import ValidSplit

from skimb.nn import MLP, ArrayBatches, LogitAdjustedNet, NetClassifier

# Full-batch training (batch_size=-1) makes a row of integer weight k and k
# copies of the row the same loss; the fits then differ only by float32
# rounding of sums taken in another order: about one unit in the last place
# of a probability (1.2e-7 measured).
ATOL = 1e-6
# The equivalences concern the loss: the nets' preprocessing quantiles and
# early stopping's validation split see distinct rows, not weights.
EXACT = dict(preprocessing=None, early_stopping=False, module=MLP)


@pytest.fixture(scope="module")
def data():
    """Three standardised, imbalanced classes, integer weights with zeros."""
    X, y = make_classification(
        n_samples=90,
        n_features=5,
        n_informative=3,
        n_classes=3,
        n_clusters_per_class=1,
        weights=[0.6, 0.3],
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    weight = np.random.RandomState(1).randint(0, 4, size=len(y))
    weight[np.flatnonzero(y == 2)[:2]] = 3  # every class keeps some weight
    return X, np.array(["a", "b", "c"])[y], weight


NETS = {
    "net": lambda **kw: NetClassifier(**kw),
    "net_class_weighted": lambda **kw: NetClassifier(
        criterion=torch.nn.CrossEntropyLoss,
        criterion__weight=torch.tensor([0.5, 1.0, 2.0]),
        **kw,
    ),
    "logit_adjusted": lambda **kw: LogitAdjustedNet(**kw),
    "posthoc": lambda **kw: LogitAdjustedNet(adjustment="posthoc", **kw),
    "ldam_drw": lambda **kw: LogitAdjustedNet(
        loss="ldam", class_weight="effective_number", beta=0.9, drw_epoch=4, **kw
    ),
    "vs": lambda **kw: LogitAdjustedNet(loss="vs", **kw),
    "balanced_softmax": lambda **kw: LogitAdjustedNet(loss="balanced_softmax", **kw),
    "focal_balanced": lambda **kw: LogitAdjustedNet(
        loss="focal", class_weight="balanced", **kw
    ),
    "cross_entropy_dict": lambda **kw: LogitAdjustedNet(
        loss="cross_entropy", class_weight={"a": 1.0, "c": 3.0}, **kw
    ),
    "effective_number": lambda **kw: LogitAdjustedNet(
        class_weight="effective_number", beta=0.99, **kw
    ),
    "loss_sum": lambda **kw: NetClassifier(criterion__reduction="sum", **kw),
}


@pytest.mark.parametrize("name", list(NETS))
def test_integer_weights_equal_repeated_rows(data, name):
    """Check that weight k equals k copies of the row, weight 0 no row at all."""
    X, y, weight = data
    params = dict(max_epochs=8, batch_size=-1, random_state=0, **EXACT)
    weighted = NETS[name](**params).fit(X, y, sample_weight=weight)
    repeated = NETS[name](**params).fit(X.repeat(weight, 0), y.repeat(weight))
    np.testing.assert_array_equal(weighted.class_counts_, repeated.class_counts_)
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=0, atol=ATOL
    )
    history = weighted.history[:, "train_loss"]
    np.testing.assert_allclose(history, repeated.history[:, "train_loss"], rtol=1e-5)
    for attribute in ("class_weight_", "logit_adjustment_"):
        if getattr(weighted, attribute, None) is not None:
            np.testing.assert_allclose(
                getattr(weighted, attribute), getattr(repeated, attribute)
            )


def test_weights_change_the_model(data):
    """Check that uneven weights give another model than no weights."""
    X, y, weight = data
    params = dict(max_epochs=8, batch_size=-1, random_state=0, **EXACT)
    plain = NetClassifier(**params).fit(X, y)
    weighted = NetClassifier(**params).fit(X, y, sample_weight=weight)
    assert np.abs(plain.predict_proba(X) - weighted.predict_proba(X)).max() > 1e-3


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_constant_weights_match_no_weights(data, scale):
    """Check that a constant weight changes nothing (mini-batches included)."""
    X, y, _ = data
    params = dict(max_epochs=5, batch_size=16, random_state=0, **EXACT)
    plain = NetClassifier(**params).fit(X, y)
    weighted = NetClassifier(**params).fit(X, y, sample_weight=np.full(len(y), scale))
    np.testing.assert_allclose(
        plain.predict_proba(X), weighted.predict_proba(X), rtol=0, atol=ATOL
    )


@pytest.mark.parametrize("net", [NetClassifier, LogitAdjustedNet])
def test_zero_weights_drop_rows_exactly(data, net):
    """Check that zero weights equal dropped rows, bit for bit, in mini-batches."""
    X, y, weight = data
    weight = (weight > 0).astype(float)
    params = dict(max_epochs=4, batch_size=8, random_state=0, **EXACT)
    weighted = net(**params).fit(X, y, sample_weight=weight)
    keep = weight > 0
    dropped = net(**params).fit(X[keep], y[keep])
    np.testing.assert_array_equal(weighted.predict_proba(X), dropped.predict_proba(X))


def test_zero_weights_drop_a_class(data):
    """Check that a class whose rows all weigh zero is not among classes_."""
    X, y, weight = data
    weight = np.where(y == "c", 0.0, 1.0)
    net = NetClassifier(max_epochs=2, random_state=0).fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(net.classes_, ["a", "b"])
    with pytest.raises(ValueError, match="single class among the rows of positive"):
        net.fit(X, y, sample_weight=(y == "a").astype(float))


def test_weighted_class_counts(data):
    """Check that class counts are weighted counts and build the loss."""
    X, y, _ = data
    weight = np.linspace(0.5, 2.0, len(y))
    net = LogitAdjustedNet(max_epochs=1, random_state=0).fit(X, y, sample_weight=weight)
    expected = [weight[y == label].sum() for label in ("a", "b", "c")]
    np.testing.assert_allclose(net.class_counts_, expected, rtol=1e-6)
    np.testing.assert_allclose(
        net.criterion_.log_prior.numpy(), np.log(expected / np.sum(expected)), rtol=1e-6
    )


def test_partial_fit_takes_weights(data):
    """Check that partial_fit weighs rows as fit does."""
    X, y, weight = data
    params = dict(max_epochs=3, batch_size=-1, random_state=0, **EXACT)
    fitted = NetClassifier(**params).fit(X, y, sample_weight=weight)
    partial = NetClassifier(**params).partial_fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(fitted.predict_proba(X), partial.predict_proba(X))
    np.testing.assert_array_equal(fitted.class_counts_, partial.class_counts_)


def test_weighted_mean_reduction():
    """Check the batch loss: sum(w * c_y * l) / sum(w * c_y)."""
    X = np.random.RandomState(0).normal(size=(6, 2)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2])
    class_weight = torch.tensor([1.0, 2.0, 4.0])
    net = NetClassifier(max_epochs=1, criterion__weight=class_weight).fit(X, y)
    logits = torch.randn(6, 3)
    target = torch.as_tensor(y)
    w = torch.tensor([0.5, 1.0, 2.0, 3.0, 0.0, 1.5])
    loss = net.get_loss(logits, target, X={"X": X, "sample_weight": w})
    per_row = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    c = class_weight[target]
    expected = (w * c * per_row).sum() / (w * c).sum()
    torch.testing.assert_close(loss, expected)
    net.set_params(criterion__weight=None).fit(X, y)
    loss = net.get_loss(logits, target, X={"X": X, "sample_weight": w})
    torch.testing.assert_close(loss, (w * per_row).sum() / w.sum())


class _RecordBatches(Callback):
    def initialize(self):
        self.batches_ = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        Xb, yb = batch
        self.batches_.append((training, Xb["X"][:, 0].numpy(), Xb["sample_weight"]))


def test_weights_follow_rows_through_valid_split(data):
    """Check that skorch's validation split splits the weights with the rows."""
    X, y, _ = data
    weight = np.arange(1, len(y) + 1, dtype=np.float32)
    row_weight = dict(zip(X[:, 0].astype(np.float32), weight))
    recorder = _RecordBatches()
    net = NetClassifier(
        max_epochs=2,
        batch_size=16,
        train_split=ValidSplit(3, stratified=True),
        callbacks=[recorder],
        random_state=0,
        preprocessing=None,  # rows are recognised by their first value
    ).fit(X, y, sample_weight=weight)
    seen = {True: set(), False: set()}
    for training, first_column, w in recorder.batches_:
        np.testing.assert_array_equal([row_weight[v] for v in first_column], w)
        seen[training].update(first_column.tolist())
    assert len(seen[False]) == 30 and len(seen[True]) == 60
    assert not seen[True] & seen[False]
    assert np.isfinite(net.history[:, "valid_loss"]).all()


def test_weights_keep_the_array_fast_path(data):
    """Check that weighted data is batched by ArrayBatches, as DataLoader would."""
    X, y, weight = data
    net = NetClassifier(max_epochs=3, batch_size=16, random_state=0)
    fast = net.fit(X, y, sample_weight=weight)
    dataset = fast.get_dataset(
        {"X": X.astype(np.float32), "sample_weight": weight.astype(np.float32)}, y
    )
    assert isinstance(fast.get_iterator(dataset, training=True), ArrayBatches)
    loader = NetClassifier(
        max_epochs=3, batch_size=16, random_state=0, iterator_train__num_workers=0
    ).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(
        fast.predict_proba(X), loader.predict_proba(X), rtol=0, atol=ATOL
    )


BAD_WEIGHTS = [
    (lambda n: -np.ones(n), "Negative values in data passed to `sample_weight`"),
    (lambda n: np.r_[np.nan, np.ones(n - 1)], "NaN"),
    (lambda n: np.r_[np.inf, np.ones(n - 1)], "infinity"),
    (lambda n: np.ones(n + 1), r"sample_weight.shape == \(91,\), expected \(90,\)"),
    (lambda n: np.ones((n, 2)), "Sample weights must be 1D"),
    (lambda n: np.zeros(n), "Sample weights must contain at least one non-zero"),
]


@pytest.mark.parametrize("net", [NetClassifier, LogitAdjustedNet])
@pytest.mark.parametrize("make_weight, message", BAD_WEIGHTS)
def test_bad_weights_are_refused(data, net, make_weight, message):
    """Check that invalid sample weights raise a ValueError that says why."""
    X, y, _ = data
    with pytest.raises(ValueError, match=message):
        net(max_epochs=1).fit(X, y, sample_weight=make_weight(len(y)))


def test_weights_need_a_per_sample_criterion(data):
    """Check that a criterion without a reduction refuses weights clearly."""
    X, y, weight = data

    class Plain(torch.nn.Module):
        def forward(self, logits, target):
            return torch.nn.functional.cross_entropy(logits, target)

    net = NetClassifier(criterion=Plain, max_epochs=1)
    net.fit(X, y)  # unweighted: fine
    with pytest.raises(ValueError, match="reduction attribute of 'mean' or 'sum'"):
        net.fit(X, y, sample_weight=weight)


# -- the ways scikit-learn passes weights


@pytest.mark.parametrize("net", [NetClassifier, LogitAdjustedNet])
def test_pipeline_step_sample_weight(data, net):
    """Check the classic Pipeline.fit(X, y, step__sample_weight=w)."""
    X, y, weight = data
    pipe = make_pipeline(StandardScaler(), net(max_epochs=3, random_state=0))
    pipe.fit(X, y, **{f"{net.__name__.lower()}__sample_weight": weight})
    scaled = StandardScaler().fit_transform(X)
    expected = net(max_epochs=3, random_state=0).fit(scaled, y, sample_weight=weight)
    np.testing.assert_array_equal(pipe.predict_proba(X), expected.predict_proba(scaled))


@pytest.mark.parametrize("net", [NetClassifier, LogitAdjustedNet])
def test_routed_pipeline(data, net):
    """Check set_fit_request(sample_weight=True) in a routed Pipeline."""
    X, y, weight = data
    with config_context(enable_metadata_routing=True):
        step = net(max_epochs=3, random_state=0).set_fit_request(sample_weight=True)
        scaler = StandardScaler().set_fit_request(sample_weight=False)
        pipe = make_pipeline(scaler, step).fit(X, y, sample_weight=weight)
        scaled = StandardScaler().fit_transform(X)
        expected = net(max_epochs=3, random_state=0).fit(
            scaled, y, sample_weight=weight
        )
        np.testing.assert_array_equal(
            pipe.predict_proba(X), expected.predict_proba(scaled)
        )
        unweighted = make_pipeline(
            StandardScaler(), net(max_epochs=3, random_state=0)
        ).fit(X, y)
        assert not np.array_equal(unweighted.predict_proba(X), pipe.predict_proba(X))


def _grid_search(routing, net_class):
    net = net_class(max_epochs=3, random_state=0)
    scoring = make_scorer(accuracy_score)
    if routing:
        net.set_fit_request(sample_weight=True)
        scoring.set_score_request(sample_weight=True)
    return GridSearchCV(net, {"lr": [3e-3]}, cv=KFold(2), scoring=scoring)


@pytest.mark.parametrize("net", [NetClassifier, LogitAdjustedNet])
@pytest.mark.parametrize("routing", [False, True])
def test_grid_search_passes_weights(data, routing, net):
    """Check GridSearchCV.fit(..., sample_weight=w), routed and not."""
    X, y, weight = data
    with config_context(enable_metadata_routing=routing):
        search = _grid_search(routing, net).fit(X, y, sample_weight=weight)
    expected = net(max_epochs=3, random_state=0).fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(
        search.best_estimator_.predict_proba(X), expected.predict_proba(X)
    )


def test_routed_fit_without_request_is_refused(data):
    """Check that routing refuses weights the net did not request."""
    X, y, weight = data
    with config_context(enable_metadata_routing=True):
        scaler = StandardScaler().set_fit_request(sample_weight=False)
        pipe = make_pipeline(scaler, NetClassifier(max_epochs=1))
        with pytest.raises(ValueError, match=r"sample_weight.*NetClassifier\.fit"):
            pipe.fit(X, y, sample_weight=weight)
