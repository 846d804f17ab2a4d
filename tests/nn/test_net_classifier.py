import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, make_scorer
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb.datasets import load_keel
from skimb.metrics import gmean_scorer, minority_f1_scorer
from skimb.nn import MLP, NetClassifier


def small_net(**params):
    return NetClassifier(**{"max_epochs": 5, "random_state": 0, **params})


def test_string_labels_roundtrip(imbalanced_binary):
    """Check that predict returns the training labels and classes_ is sorted."""
    X, y = imbalanced_binary
    net = small_net().fit(X, y)
    assert list(net.classes_) == ["majority", "minority"]
    assert set(net.predict(X)) <= {"majority", "minority"}
    assert net.predict(X).dtype == y.dtype


def test_non_contiguous_integer_labels():
    """Check that labels like {-5, 7, 100} are encoded and decoded."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 3))
    y = np.repeat([100, -5, 7], 30)
    X[:, 0] += np.repeat([0, 10, 20], 30)
    net = small_net(max_epochs=100).fit(X, y)
    np.testing.assert_array_equal(net.classes_, [-5, 7, 100])
    assert (net.predict(X) == y).mean() > 0.9
    np.testing.assert_array_equal(net.class_counts_, [30, 30, 30])


def test_predict_proba_is_softmax_of_logits(imbalanced_binary):
    """Check that predict_proba is the softmax of logits even for NLL criteria."""
    X, y = imbalanced_binary
    for criterion in (torch.nn.CrossEntropyLoss, torch.nn.MultiMarginLoss):
        net = small_net(criterion=criterion).fit(X, y)
        z = net.logits(X).astype(np.float64)
        expected = np.exp(z - z.max(1, keepdims=True))
        expected /= expected.sum(1, keepdims=True)
        np.testing.assert_allclose(net.predict_proba(X), expected, rtol=1e-5)
        np.testing.assert_array_equal(net.predict(X), net.classes_[z.argmax(1)])


@pytest.mark.parametrize(
    "convert",
    [
        lambda X: X.astype(np.float64),
        lambda X: pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]),
        lambda X: X.tolist(),
    ],
    ids=["float64", "pandas", "list"],
)
def test_input_types_are_cast(imbalanced_binary, convert):
    """Check that float64, pandas and list inputs give the float32 result."""
    X, y = imbalanced_binary
    reference = small_net().fit(X.astype(np.float32), y).predict_proba(X)
    net = small_net().fit(convert(X), y)
    # float64 rows are preprocessed in float64, then cast: not bit-identical
    np.testing.assert_allclose(net.predict_proba(convert(X)), reference, atol=1e-5)
    exact = small_net(preprocessing=None).fit(convert(X), y).predict_proba(X)
    reference = small_net(preprocessing=None).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(exact, reference.predict_proba(X), atol=1e-6)


def test_feature_names_in(imbalanced_binary):
    X, y = imbalanced_binary
    frame = pd.DataFrame(X, columns=list("abcdef"))
    net = small_net().fit(frame, y)
    assert list(net.feature_names_in_) == list("abcdef")


def test_same_random_state_same_predictions(imbalanced_binary):
    """Check that two fits with the same seed agree exactly; another seed differs."""
    X, y = imbalanced_binary
    a = small_net(module__dropout=0.2).fit(X, y).predict_proba(X)
    b = small_net(module__dropout=0.2).fit(X, y).predict_proba(X)
    c = NetClassifier(max_epochs=5, random_state=1, module__dropout=0.2).fit(X, y)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c.predict_proba(X))


def test_random_state_leaves_global_rng_alone(imbalanced_binary):
    X, y = imbalanced_binary
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    small_net().fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_pickle_round_trip(imbalanced_binary):
    X, y = imbalanced_binary
    net = small_net().fit(X, y)
    loaded = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    assert loaded.get_params()["device"] == "auto"


def test_device_auto_reported_and_resolved():
    net = NetClassifier()
    assert net.get_params()["device"] == "auto"
    assert clone(net).get_params()["device"] == "auto"
    assert net.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert NetClassifier(device="cpu").device == "cpu"


def test_module_and_criterion_receive_data_dependent_arguments(imbalanced_binary):
    X, y = imbalanced_binary
    seen = {}

    class CountingLoss(torch.nn.CrossEntropyLoss):
        def __init__(self, class_counts):
            super().__init__()
            seen["counts"] = class_counts

    net = small_net(criterion=CountingLoss, module=MLP, module__hidden_sizes=(8,))
    net.fit(X, y)
    np.testing.assert_array_equal(
        seen["counts"], [np.sum(y == "majority"), np.sum(y == "minority")]
    )
    assert net.module_.head.out_features == 2
    assert net.module_.body[0].in_features == 6


def test_quiet_by_default(imbalanced_binary, capsys):
    X, y = imbalanced_binary
    small_net().fit(X, y)
    assert capsys.readouterr().out == ""
    small_net(verbose=1).fit(X, y)
    assert "train_loss" in capsys.readouterr().out


def test_partial_fit_with_classes(imbalanced_binary):
    X, y = imbalanced_binary
    net = NetClassifier(max_epochs=1, random_state=0)
    net.partial_fit(X[y == "majority"], y[y == "majority"], classes=np.unique(y))
    net.partial_fit(X, y)
    assert len(net.history) == 2
    assert list(net.classes_) == ["majority", "minority"]


def test_partial_fit_refuses_other_classes_later(imbalanced_binary):
    """Check that classes differing from the first partial_fit call raise."""
    X, y = imbalanced_binary
    net = NetClassifier(max_epochs=1, random_state=0)
    net.partial_fit(X, y, classes=["majority", "minority"])
    net.partial_fit(X, y, classes=np.array(["minority", "majority"]))  # same set
    with pytest.raises(ValueError, match=r"classes=\['majority', 'minority', 'x'\]"):
        net.partial_fit(X, y, classes=np.array(["majority", "minority", "x"]))
    assert list(net.classes_) == ["majority", "minority"]


def test_defaults_reach_logistic_regression_accuracy():
    """Check that default NetClassifier is as accurate as LR on a bundled set."""
    X, y = load_keel("vehicle1", return_X_y=True)
    net = make_pipeline(StandardScaler(), NetClassifier(random_state=0))
    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    net_acc = cross_val_score(net, X, y, cv=3).mean()
    lr_acc = cross_val_score(lr, X, y, cv=3).mean()
    assert net_acc >= lr_acc - 0.01, (net_acc, lr_acc)


def test_grid_search_with_gmean_and_string_labels(imbalanced_binary):
    X, y = imbalanced_binary
    grid = GridSearchCV(
        small_net(module=MLP),
        {"lr": [1e-3, 1e-2], "module__hidden_sizes": [(8,), (16,)]},
        scoring=gmean_scorer,
        cv=3,
    ).fit(X, y)
    assert set(grid.cv_results_["params"][0]) == {"lr", "module__hidden_sizes"}
    assert 0 <= grid.best_score_ <= 1
    assert set(grid.predict(X)) <= set(y)


def test_cross_validate_multi_metric(imbalanced_binary):
    X, y = imbalanced_binary
    scores = cross_validate(
        small_net(),
        X,
        y,
        cv=3,
        scoring={
            "gmean": gmean_scorer,
            "f1_min": minority_f1_scorer,
            "ap": make_scorer(
                average_precision_score,
                pos_label="minority",
                response_method="predict_proba",
            ),
        },
    )
    for key in ("test_gmean", "test_f1_min", "test_ap"):
        assert np.all((scores[key] >= 0) & (scores[key] <= 1))


def test_in_imblearn_pipeline(imbalanced_binary):
    X, y = imbalanced_binary
    pipe = make_imb_pipeline(
        StandardScaler(), RandomOverSampler(random_state=0), small_net()
    )
    assert pipe.fit(X, y).predict_proba(X).shape == (300, 2)


def _fitted(X, y):
    return small_net().fit(X, y)


@pytest.mark.parametrize(
    "where, X_change, y_change, match",
    [
        ("fit", lambda X: np.where(np.eye(*X.shape) > 0, np.nan, X), None, "NaN"),
        ("fit", lambda X: np.where(np.eye(*X.shape) > 0, np.inf, X), None, "infinity"),
        ("fit", None, lambda y: np.full_like(y, "majority"), "single class"),
        ("fit", lambda X: X[:0], lambda y: y[:0], "0 sample"),
        ("predict", lambda X: X[:, :3], None, "3 features"),
        ("predict", lambda X: np.where(np.eye(*X.shape) > 0, np.nan, X), None, "NaN"),
        ("fit", lambda X: X[:, 0], None, "2D array"),
    ],
)
def test_bad_input(imbalanced_binary, where, X_change, y_change, match):
    """Check that bad input raises a ValueError naming the problem."""
    X, y = imbalanced_binary
    X_bad = X_change(X) if X_change else X
    y_bad = y_change(y) if y_change else y
    before = X.copy()
    with pytest.raises(ValueError, match=match):
        if where == "fit":
            small_net().fit(X_bad, y_bad)
        else:
            _fitted(X, y).predict(X_bad)
    np.testing.assert_array_equal(X, before)


def test_non_finite_outputs_raise(imbalanced_binary):
    """Check that outputs overflowing float32 raise instead of giving NaN."""
    X, y = imbalanced_binary
    # MLP, no preprocessing: the quantiles and TabM's periodic embeddings bound X
    net = small_net(module=MLP, preprocessing=None).fit(X, y)
    huge = np.where(np.arange(X.shape[1]) % 2, 3e38, -3e38) * np.ones((3, 1))
    for method in (net.logits, net.predict_proba, net.predict):
        with pytest.raises(ValueError, match="outputs are not finite for 3 of 3"):
            method(huge)
    assert np.isfinite(net.predict_proba(X * 1e30)).all()


def test_unknown_label_in_partial_fit(imbalanced_binary):
    X, y = imbalanced_binary
    net = small_net().fit(X, y)
    with pytest.raises(ValueError, match="unknown"):
        net.partial_fit(X[:3], ["nope", "majority", "minority"])


def test_mlp_cosine_head_is_bounded():
    module = MLP(n_features=3, n_classes=4, cosine=True, scale=30.0)
    out = module(torch.randn(16, 3) * 100)
    assert out.abs().max() <= 30.0 + 1e-4
    assert MLP(n_features=3, hidden_sizes=())(torch.zeros(2, 3)).shape == (2, 2)


def test_valid_acc_with_string_labels(imbalanced_binary):
    """Check skorch's validation accuracy is right when labels are strings."""
    from sklearn.model_selection import StratifiedKFold
    from skorch.dataset import ValidSplit

    X, y = imbalanced_binary
    net = small_net(train_split=ValidSplit(3, stratified=True)).fit(X, y)
    # skorch validates on the first fold of StratifiedKFold(3).
    _, valid = next(StratifiedKFold(3).split(X, y))
    expected = np.mean(net.predict(X[valid]) == y[valid])
    assert net.history[-1, "valid_acc"] == pytest.approx(expected)


def test_mlp_cosine_head_matches_normalized_formula():
    """Check the cosine head equals scale * normalize(f) @ normalize(W).T."""
    torch.manual_seed(0)
    module = MLP(n_features=5, n_classes=3, hidden_sizes=(7,), cosine=True, scale=30.0)
    X = torch.randn(11, 5)
    features = module.body(X)
    expected = 30.0 * (
        torch.nn.functional.normalize(features, dim=1)
        @ torch.nn.functional.normalize(module.weight, dim=1).T
    )
    torch.testing.assert_close(module(X), expected, rtol=1e-5, atol=1e-5)


# two epochs on unscaled features: the loss need not go down
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_training_batches_are_shuffled():
    """Check each epoch sees the rows in a new random order, unless turned off."""
    X = np.arange(40, dtype=np.float32).reshape(-1, 1)
    y = np.repeat([0, 1], 20)
    orders = []

    class Recorder(MLP):
        def forward(self, X):
            if self.training:
                orders.append(X[:, 0].tolist())
            return super().forward(X)

    NetClassifier(Recorder, max_epochs=2, batch_size=40, random_state=0).fit(X, y)
    assert orders[0] != sorted(orders[0]) and orders[0] != orders[1]
    orders.clear()
    NetClassifier(
        Recorder,
        max_epochs=1,
        batch_size=40,
        iterator_train__shuffle=False,
        early_stopping=False,  # every row, in order
    ).fit(X, y)
    assert orders[0] == sorted(orders[0])
