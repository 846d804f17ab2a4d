"""TabMBackbone, and every lever of skimb trained on it."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from skorch.dataset import ValidSplit

from skimb.adjustment import BiasAdjustedClassifier
from skimb.difficulty import DifficultyResampler, DifficultySampling
from skimb.nn import LogitAdjustedNet, NetClassifier, TabMBackbone
from skimb.regrouping import RegroupingClassifier

# Small and fast: a handful of members, narrow blocks.
SMALL = dict(module=TabMBackbone, module__k=4, module__d_block=32)
# The loss equivalences concern the loss alone: no fitted preprocessing
# (its quantiles see distinct rows, not weights), no early-stopping split.
EXACT = {
    name: value
    for name, value in dict(preprocessing=None, early_stopping=False).items()
    if name in NetClassifier().get_params()
}


@pytest.fixture(scope="module")
def data():
    """A standardised 4:1 binary problem, two categorical columns last."""
    X, y = make_classification(
        n_samples=200, n_features=5, n_informative=3, weights=[0.8], random_state=0
    )
    rng = np.random.RandomState(0)
    codes = np.column_stack([rng.randint(0, 3, len(y)), (y + rng.rand(len(y)) > 0.8)])
    return np.hstack([StandardScaler().fit_transform(X), codes]).astype(np.float32), y


def test_output_shapes_per_mode():
    """Check members' logits in training mode, one logit per class in eval."""
    X = torch.randn(6, 5)
    for cosine in (False, True):
        module = TabMBackbone(5, 3, k=4, d_block=16, cosine=cosine)
        assert module.train()(X).shape == (6, 4, 3)
        assert module.eval()(X).shape == (6, 3)


def test_eval_logits_are_the_mean_of_the_members_logits():
    """Check that eval mode returns the mean of the members' logits."""
    torch.manual_seed(0)
    module = TabMBackbone(5, 3, cat_cardinalities=[2], k=5, dropout=0.0)
    X = torch.cat([torch.randn(8, 4), torch.randint(0, 2, (8, 1))], dim=1)
    members = module.train()(X)
    # the members differ: the mean is not any one of them
    assert not torch.allclose(members[:, 0], members[:, 1])
    torch.testing.assert_close(module.eval()(X), members.mean(dim=1))


def test_cosine_head_is_scaled_cosine_per_member():
    """Check that the cosine head's logits lie in [-scale, scale]."""
    module = TabMBackbone(4, 3, k=4, cosine=True, scale=30.0).train()
    out = module(torch.randn(50, 4) * 10)
    assert out.abs().max() <= 30.0 + 1e-4
    assert not hasattr(module.tabm, "output") or module.tabm.output is None


def test_default_sizes_follow_the_number_of_rows():
    """Check the size rule: wider blocks for more rows, explicit sizes kept."""
    widths = [TabMBackbone(3, n_samples=n).d_block_ for n in (100, 50_000, 50_001)]
    assert widths == sorted(widths) and widths[0] < widths[-1]
    module = TabMBackbone(3, n_samples=100, n_blocks=3, d_block=40)
    assert (module.n_blocks_, module.d_block_) == (3, 40)


def test_categorical_codes_and_unknown_category():
    """Check that the categorical codes matter and unknown codes share a slot."""
    torch.manual_seed(0)
    module = TabMBackbone(3, 2, cat_cardinalities=[3], k=4).eval()
    numeric = torch.tensor([[0.3, -1.0]]).repeat(7, 1)
    codes = torch.tensor([0.0, 1.0, 2.0, 3.0, 7.0, -1.0, float("nan")])[:, None]
    out = module(torch.cat([numeric, codes], dim=1))
    assert not torch.allclose(out[0], out[1]) and not torch.allclose(out[1], out[2])
    assert not torch.allclose(out[3], out[2])
    for row in (4, 5, 6):  # out of range and NaN: the unknown category (code 3)
        torch.testing.assert_close(out[row], out[3])


def test_only_categorical_columns():
    """Check a module whose columns are all categorical."""
    module = TabMBackbone(2, 2, cat_cardinalities=[3, 2], k=2).eval()
    assert module(torch.tensor([[0.0, 1.0], [2.0, 0.0]])).shape == (2, 2)


LOSSES = {
    "cross_entropy": {},
    "logit_adjusted": {},
    "posthoc": dict(adjustment="posthoc"),
    "ldam_drw": dict(
        loss="ldam", class_weight="effective_number", beta=0.99, drw_epoch=5
    ),
    "vs": dict(loss="vs"),
    "balanced_softmax": dict(loss="balanced_softmax"),
    "focal": dict(loss="focal", class_weight="balanced"),
    "class_balanced": dict(loss="cross_entropy", class_weight="effective_number"),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_trains_every_member(data, name):
    """Check that each loss of LogitAdjustedNet lowers the training loss."""
    X, y = data
    params = {"loss": "cross_entropy"} if name == "cross_entropy" else {}
    net = LogitAdjustedNet(
        **SMALL,
        module__cat_cardinalities=[3, 2],
        **{**params, **LOSSES[name]},
        max_epochs=10,
        lr=1e-2,
        random_state=0,
        **EXACT,
    ).fit(X, y)
    losses = net.history[:, "train_loss"]
    if name == "ldam_drw":  # the class weights change the loss at epoch 5
        assert net.module_.cosine and net.module_.scale == net.ldam_s
        assert losses[-1] < losses[5]
        losses = losses[:5]
    assert losses[-1] < 0.8 * losses[0]
    assert net.predict_proba(X).shape == (len(y), 2)


def _fitted(criterion=torch.nn.CrossEntropyLoss, **params):
    X = np.random.RandomState(0).normal(size=(30, 3)).astype(np.float32)
    y = np.arange(30) % 3
    return NetClassifier(
        **SMALL, criterion=criterion, max_epochs=1, random_state=0, **params
    ).fit(X, y)


CRITERIA = {
    "cross_entropy": (torch.nn.CrossEntropyLoss, {}),
    "class_weighted": (
        torch.nn.CrossEntropyLoss,
        {"criterion__weight": torch.tensor([0.5, 1.0, 3.0])},
    ),
    "sum": (torch.nn.CrossEntropyLoss, {"criterion__reduction": "sum"}),
}


@pytest.mark.parametrize("name", list(CRITERIA))
@pytest.mark.parametrize("weighted", [False, True])
def test_member_loss_is_the_mean_of_the_members_losses(name, weighted):
    """Check the batch loss of k members against each member's own loss."""
    criterion, params = CRITERIA[name]
    net = _fitted(criterion, **params)
    gen = torch.Generator().manual_seed(0)
    y_pred = torch.randn(8, 4, 3, generator=gen)
    y_true = torch.tensor([0, 1, 2, 0, 1, 2, 0, 0])
    X = torch.zeros(8, 3)
    if weighted:
        w = torch.tensor([1.0, 2.0, 0.0, 1.0, 3.0, 1.0, 0.5, 1.0])
        X = {"X": X, "sample_weight": w}
    loss = net.get_loss(y_pred, y_true, X=X, training=True)
    member_losses = [
        net.get_loss(y_pred[:, j], y_true, X=X, training=True) for j in range(4)
    ]
    reduce = torch.stack(member_losses)
    expected = reduce.sum() if name == "sum" else reduce.mean()
    torch.testing.assert_close(loss, expected)


def test_member_loss_weights_equal_repeated_rows():
    """Check that weight 2 on a row equals the row twice, with k members."""
    net = _fitted(
        torch.nn.CrossEntropyLoss, criterion__weight=torch.tensor([0.5, 1.0, 3.0])
    )
    y_pred = torch.randn(5, 4, 3, generator=torch.Generator().manual_seed(1))
    y_true = torch.tensor([0, 1, 2, 2, 1])
    w = torch.tensor([2.0, 1.0, 0.0, 3.0, 1.0])
    weighted = net.get_loss(
        y_pred, y_true, X={"X": torch.zeros(5, 3), "sample_weight": w}, training=True
    )
    rows = torch.arange(5).repeat_interleave(w.long())
    repeated = net.get_loss(y_pred[rows], y_true[rows], training=True)
    torch.testing.assert_close(weighted, repeated)


def test_sample_weight_fit_equals_repeated_rows(data):
    """Check that a fit with integer weights equals one on repeated rows."""
    X, y = data
    weight = np.random.RandomState(1).randint(0, 3, size=len(y))
    params = dict(
        **SMALL,
        module__dropout=0.0,
        module__n_samples=100,
        max_epochs=5,
        lr=1e-2,
        batch_size=-1,
        random_state=0,
        **EXACT,
    )
    weighted = LogitAdjustedNet(**params).fit(X, y, sample_weight=weight)
    repeated = LogitAdjustedNet(**params).fit(X.repeat(weight, 0), y.repeat(weight))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=0, atol=1e-5
    )


def test_three_dimensional_outputs_refused_in_eval_mode(data):
    """Check that members' logits outside training mode raise a clear error."""

    class AlwaysMembers(TabMBackbone):
        def forward(self, X):
            out = super().forward(X)
            return out if out.ndim == 3 else out[:, None].expand(-1, 2, -1)

    X, y = data
    net = NetClassifier(
        AlwaysMembers, module__k=2, train_split=ValidSplit(4), max_epochs=1
    )
    with pytest.raises(ValueError, match="evaluation mode"):
        net.fit(X, y)


def test_pickle_and_clone(data):
    """Check that a net on TabMBackbone pickles and clones."""
    X, y = data
    net = NetClassifier(**SMALL, max_epochs=2, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(net))
    np.testing.assert_allclose(loaded.predict_proba(X), net.predict_proba(X))
    fresh = clone(net)
    assert fresh.get_params()["module__k"] == 4
    assert not hasattr(fresh, "module_")


def test_bias_adjustment_per_epoch(data):
    """Check BiasAdjustedClassifier(per_epoch=True) on TabMBackbone."""
    X, y = data
    net = NetClassifier(
        **SMALL, max_epochs=3, train_split=ValidSplit(4, stratified=True)
    )
    clf = BiasAdjustedClassifier(net, per_epoch=True).fit(X, y)
    assert clf.bias_.shape == (2,)
    assert set(clf.predict(X)) <= {0, 1}


def test_difficulty_sampling_and_resampler(data):
    """Check DifficultySampling and DifficultyResampler on TabMBackbone."""
    X, y = data
    sampling = DifficultySampling(random_state=0)
    net = NetClassifier(**SMALL, max_epochs=2, callbacks=[sampling], random_state=0)
    # Each epoch trains on a redrawn sample: its losses are not comparable,
    # so no convergence warning (here the second epoch's loss is higher).
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        net.fit(X, y)
    assert sampling.difficulty_.shape == sampling.train_indices_.shape
    sampler = DifficultyResampler(
        NetClassifier(**SMALL, random_state=0), n_epochs=2, random_state=0
    )
    X_res, y_res = sampler.fit_resample(X, y)
    assert X_res.shape[1] == X.shape[1] and len(X_res) == len(y_res)


def test_regrouping(data):
    """Check RegroupingClassifier on TabMBackbone."""
    X, y = data
    clf = RegroupingClassifier(
        NetClassifier(**SMALL, max_epochs=2, random_state=0), random_state=0
    ).fit(X, y)
    assert clf.predict_proba(X).shape == (len(y), 2)


BAD_PARAMS = [
    (dict(n_features=None), "needs n_features"),
    (dict(n_features=0), "'n_features' parameter"),
    (dict(k=0), "'k' parameter"),
    (dict(d_block=0), "'d_block' parameter"),
    (dict(n_blocks=1.5), "'n_blocks' parameter"),
    (dict(dropout=1.0), "'dropout' parameter"),
    (dict(num_embeddings="pwl"), "'num_embeddings' parameter"),
    (dict(scale=0.0), "'scale' parameter"),
    (dict(cat_cardinalities=[2, 0]), "cat_cardinalities"),
    (dict(cat_cardinalities=[2, 2, 2, 2, 2]), "4 columns|n_features=4"),
    (dict(n_samples=0), "'n_samples' parameter"),
]


@pytest.mark.parametrize("params, match", BAD_PARAMS)
def test_bad_params_raise(params, match):
    """Check that an out-of-range parameter raises an error naming it."""
    with pytest.raises(ValueError, match=match):
        TabMBackbone(**{"n_features": 4, **params})


@pytest.mark.gpu
def test_fit_on_cuda(data):
    """Check that a net on TabMBackbone trains and predicts on CUDA."""
    X, y = data
    net = LogitAdjustedNet(
        **SMALL, module__cat_cardinalities=[3, 2], max_epochs=3, device="cuda"
    ).fit(X, y, sample_weight=np.ones(len(y)))
    assert next(net.module_.parameters()).is_cuda
    assert net.predict_proba(X).shape == (len(y), 2)
