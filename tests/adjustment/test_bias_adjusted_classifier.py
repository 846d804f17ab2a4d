"""Tests of skimb.adjustment.BiasAdjustedClassifier."""

import pickle

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, KFold, ShuffleSplit, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

from skimb.adjustment import BiasAdjustedClassifier, solve_bias
from skimb.adjustment._binary_search import _slot_counts
from skimb.datasets import make_long_tailed
from skimb.metrics import get_scorer
from skimb.nn import NetClassifier


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(
        n_samples=600,
        n_features=6,
        n_informative=3,
        weights=[0.9],
        flip_y=0.05,
        random_state=0,
    )
    return X, y


@pytest.fixture(scope="module")
def frozen_model(binary):
    X, y = binary
    return LogisticRegression().fit(X[:300], y[:300])


def _margins(model, X):
    proba = np.clip(model.predict_proba(X), np.finfo(float).tiny, None)
    return np.log(proba[:, 1]) - np.log(proba[:, 0])


def _adjusted_proba(ba, X):
    """The softmax of the adjusted logits (what predict decides on)."""
    return softmax(ba.logits(X), axis=1)


def _brute_force_best(margins, y, metric):
    """Best metric over every threshold of the margins, by a plain loop."""
    cuts = np.r_[np.sort(margins), np.inf]
    return max(metric(y, (margins >= t).astype(int)) for t in cuts)


def _minority_f1(y, pred):
    return f1_score(y, pred, pos_label=1)


def _minority_f1_class0(y, pred):
    return f1_score(y, pred, pos_label=0)


@pytest.mark.parametrize(
    "scoring, metric, flip",
    [
        ("gmean", geometric_mean_score, False),
        ("minority_f1", _minority_f1, False),
        ("minority_f1", _minority_f1_class0, True),
        ("balanced_accuracy", balanced_accuracy_score, False),
        ("accuracy", accuracy_score, True),
    ],
)
def test_exact_search_matches_brute_force(binary, frozen_model, scoring, metric, flip):
    """Check that the exact search finds the best threshold of a plain loop."""
    X, y = binary
    X_val, y_val = X[300:], y[300:]
    if flip:  # the minority is then class 0
        y_val = 1 - y_val
    model = FrozenEstimator(frozen_model)
    ba = BiasAdjustedClassifier(
        frozen_model,
        cv=model,
        scoring=scoring,
        search="exact",
        min_improvement=-np.inf,  # the search itself, even where it gains little
    ).fit(X_val, y_val)
    best = _brute_force_best(_margins(frozen_model, X_val), y_val, metric)
    assert ba.best_score_ == pytest.approx(best, abs=1e-12)
    # The fitted rule reaches it: the bias is solved on these rows.
    assert metric(y_val, ba.predict(X_val)) == pytest.approx(best, abs=1e-12)
    assert ba.search_results_["score"].max() == pytest.approx(best, abs=1e-12)


def test_decimal_search_close_to_brute_force(binary, frozen_model):
    """Check that the decimal search is within 0.01 of the exhaustive optimum."""
    X, y = binary
    X_val, y_val = X[300:], y[300:]
    ba = BiasAdjustedClassifier(FrozenEstimator(frozen_model), search="decimal").fit(
        X_val, y_val
    )
    best = _brute_force_best(_margins(frozen_model, X_val), y_val, geometric_mean_score)
    assert ba.best_score_ >= best - 0.01
    assert geometric_mean_score(y_val, ba.predict(X_val)) == pytest.approx(
        ba.best_score_
    )
    probabilities = ba.search_results_["minority_probability"]
    assert np.all(np.diff(probabilities) > 0)
    # The chosen target is the middle of the best (flat) range of scores.
    scores = ba.search_results_["score"]
    tied = probabilities[scores == scores.max()]
    assert ba.target_[1] == pytest.approx(tied[tied.size // 2])
    # The paper's grid: tenths, then hundredths, then thousandths.
    np.testing.assert_allclose(
        np.arange(1, 10) / 10,
        np.intersect1d(probabilities.round(6), np.arange(1, 10) / 10),
    )


def test_exact_search_with_folds_beats_a_dense_target_grid(binary):
    """Check the pooled exact search against a dense grid of targets."""
    X, y = binary
    cv = StratifiedKFold(3)
    ba = BiasAdjustedClassifier(
        LogisticRegression(), cv=cv, search="exact", state_on="train"
    ).fit(X, y)
    folds = []
    for train, valid in cv.split(X, y):
        model = LogisticRegression().fit(X[train], y[train])
        folds.append((_margins(model, X[train]), _margins(model, X[valid]), y[valid]))
    grid_best = -np.inf
    for r1 in np.linspace(0.01, 0.99, 197):
        preds, truth = [], []
        for m_train, m_valid, y_valid in folds:
            z = np.column_stack([np.zeros_like(m_train), m_train])
            b = solve_bias(z, [1 - r1, r1])
            preds.append((m_valid + b[1] - b[0] > 0).astype(int))
            truth.append(y_valid)
        score = geometric_mean_score(np.concatenate(truth), np.concatenate(preds))
        grid_best = max(grid_best, score)
    assert ba.best_score_ >= grid_best - 1e-12
    decimal = BiasAdjustedClassifier(LogisticRegression(), cv=cv, state_on="train").fit(
        X, y
    )
    assert decimal.best_score_ >= ba.best_score_ - 0.01


def test_refit_solves_bias_on_all_training_logits(binary):
    """Check the refit model's state on the training data is the target."""
    X, y = binary
    ba = BiasAdjustedClassifier(
        LogisticRegression(), cv=3, state_on="train", ensemble=False
    ).fit(X, y)
    assert isinstance(ba.estimator_, LogisticRegression)
    np.testing.assert_allclose(
        _adjusted_proba(ba, X).mean(axis=0), ba.target_, atol=1e-6
    )
    np.testing.assert_allclose(ba.imbalance_state_["after"], ba.target_, atol=1e-6)
    plain = LogisticRegression().fit(X, y).predict_proba(X).mean(axis=0)
    np.testing.assert_allclose(ba.imbalance_state_["before"], plain, atol=1e-9)
    assert abs(ba.bias_.sum()) < 1e-9


@pytest.mark.parametrize(
    "target, expected",
    [
        ("balanced", [0.5, 0.5]),
        (0.3, [0.7, 0.3]),
        ([0.4, 0.6], [0.4, 0.6]),
    ],
)
def test_fixed_targets(binary, target, expected):
    """Check the balanced, float and array targets are the ones reached."""
    X, y = binary
    ba = BiasAdjustedClassifier(
        LogisticRegression(), target=target, cv=2, state_on="train"
    ).fit(X, y)
    np.testing.assert_allclose(ba.target_, expected)
    np.testing.assert_allclose(_adjusted_proba(ba, X).mean(axis=0), expected, atol=1e-6)
    assert ba.search_results_["score"].shape == (1,)


def test_prior_target(binary):
    """Check that target="prior" is the training class frequencies."""
    X, y = binary
    ba = BiasAdjustedClassifier(LogisticRegression(), target="prior", cv=2).fit(X, y)
    np.testing.assert_allclose(ba.target_, np.bincount(y) / y.size)


def test_string_labels_and_net_logits(imbalanced_binary):
    """Check string labels and that a NetClassifier's own logits are adjusted."""
    X, y = imbalanced_binary
    net = NetClassifier(max_epochs=3, random_state=0)
    ba = BiasAdjustedClassifier(net, cv=2).fit(X, y)
    np.testing.assert_array_equal(ba.classes_, ["majority", "minority"])
    assert set(ba.predict(X)) <= {"majority", "minority"}
    np.testing.assert_allclose(
        ba.logits(X), ba.estimator_.logits(X) + ba.bias_, rtol=1e-6
    )
    # The float target is the minority's probability, whatever its label.
    fixed = BiasAdjustedClassifier(net, cv=2, target=0.4).fit(X, y)
    np.testing.assert_allclose(fixed.target_, [0.6, 0.4])


def test_default_estimator_is_a_net(imbalanced_binary):
    """Check that estimator=None trains a NetClassifier."""
    X, y = imbalanced_binary
    ba = BiasAdjustedClassifier(cv=0.3, refit=False, random_state=0).fit(X, y)
    assert isinstance(ba.estimator_, NetClassifier)


def test_decision_function_estimator(binary):
    """Check an estimator with decision_function only: scores [0, d]."""
    X, y = binary
    ba = BiasAdjustedClassifier(LinearSVC(), cv=2).fit(X, y)
    d = ba.estimator_.decision_function(X)
    np.testing.assert_allclose(
        ba.decision_function(X), d + ba.bias_[1] - ba.bias_[0], atol=1e-9
    )
    np.testing.assert_array_equal(ba.predict(X), (ba.decision_function(X) > 0) * 1)


def test_multiclass_search_improves_plain_model():
    """Check the simplex search beats the plain model on long-tailed digits."""
    X, y = load_digits(return_X_y=True)
    X, y = make_long_tailed(X / 16, y, imbalance_ratio=20, random_state=0)
    rng = np.random.default_rng(0)
    order = rng.permutation(y.size)
    X, y = X[order], y[order]
    half = y.size // 2
    model = LogisticRegression(C=0.05, max_iter=300).fit(X[:half], y[:half])
    X_val, y_val = X[half:], y[half:]
    ba = BiasAdjustedClassifier(
        FrozenEstimator(model), scoring="balanced_accuracy"
    ).fit(X_val, y_val)
    plain = balanced_accuracy_score(y_val, model.predict(X_val))
    adjusted = balanced_accuracy_score(y_val, ba.predict(X_val))
    assert adjusted == pytest.approx(ba.best_score_)
    assert adjusted > plain
    assert ba.search_results_["target"].shape[1] == 10
    assert "minority_probability" not in ba.search_results_


def test_pickle_and_clone(binary):
    """Check a fitted classifier pickles and clone gives an unfitted copy."""
    X, y = binary
    ba = BiasAdjustedClassifier(LogisticRegression(), cv=2, search="exact").fit(X, y)
    restored = pickle.loads(pickle.dumps(ba))
    np.testing.assert_array_equal(restored.predict(X), ba.predict(X))
    copy = clone(ba)
    assert copy.get_params()["search"] == "exact"
    assert not hasattr(copy, "bias_")


def test_grid_search_over_parameters(binary):
    """Check GridSearchCV tunes BiasAdjustedClassifier's parameters."""
    X, y = binary
    grid = GridSearchCV(
        BiasAdjustedClassifier(LogisticRegression(), cv=2),
        {"target": ["balanced", "prior"], "search": ["decimal"]},
        scoring=get_scorer("gmean"),
        cv=2,
    ).fit(X, y)
    assert grid.best_params_["target"] in ("balanced", "prior")
    assert grid.best_estimator_.target_.shape == (2,)


class _NoScores(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"target": [0.0, 1.0]}, "at least 0.0001"),
        ({"target": [-0.5, 1.5]}, "at least 0.0001"),
        ({"target": [0.3, 0.3]}, "sum to 1"),
        ({"target": [0.2, 0.3, 0.5]}, "one entry per class"),
        ({"estimator": _NoScores()}, "neither predict_proba nor decision_function"),
        ({"cv": 0.02}, "lacks class.*larger validation fraction or fewer folds"),
        ({"per_epoch": True}, "per_epoch=True needs a skorch NeuralNet"),
        ({"scoring": "not_a_metric"}, "Unknown scoring 'not_a_metric'"),
        ({"search": "exact", "scoring": "f1"}, "search='decimal' for other"),
        (
            {"cv": 3, "refit": False, "ensemble": False},
            "refit=False keeps the model of a single",
        ),
    ],
)
def test_bad_input_binary(params, match):
    """Check that each bad input raises a ValueError naming the problem."""
    X, y = make_classification(n_samples=100, weights=[0.95], random_state=0)
    ba = BiasAdjustedClassifier(LogisticRegression(), random_state=0, cv=2)
    with pytest.raises(ValueError, match=match):
        ba.set_params(**params).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"target": 0.2}, "float target is the minority-class probability of a bi"),
        ({"search": "exact"}, "search='exact' is for binary problems"),
    ],
)
def test_bad_input_multiclass(params, match):
    """Check the errors that only three or more classes can raise."""
    X, y = make_classification(
        n_samples=90, n_classes=3, n_informative=3, random_state=0
    )
    with pytest.raises(ValueError, match=match):
        BiasAdjustedClassifier(LogisticRegression(), cv=2, **params).fit(X, y)


def _pooled_validation_margins(estimator, X, y, cv):
    """Margins of each fold model on its validation part, pooled (in order)."""
    margins, truth = [], []
    for train, valid in cv.split(X, y):
        model = clone(estimator).fit(X[train], y[train])
        margins.append(_margins(model, X[valid]))
        truth.append(y[valid])
    return np.concatenate(margins), np.concatenate(truth)


def _binary_state(margins, bias):
    """Independent mean softmax of logits [0, m] + bias."""
    z = np.column_stack([np.zeros_like(margins), margins]) + bias
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return (p / p.sum(axis=1, keepdims=True)).mean(axis=0)


@pytest.mark.parametrize("search", ["decimal", "exact"])
def test_validation_state_reaches_target_on_pooled_validation_logits(binary, search):
    """Check state_on="validation" solves the bias on pooled validation logits."""
    X, y = binary
    cv = StratifiedKFold(3)
    ba = BiasAdjustedClassifier(
        LogisticRegression(),
        cv=cv,
        search=search,
        state_on="validation",
        ensemble=False,
    ).fit(X, y)
    margins, y_pooled = _pooled_validation_margins(LogisticRegression(), X, y, cv)
    np.testing.assert_allclose(_binary_state(margins, ba.bias_), ba.target_, atol=1e-6)
    np.testing.assert_allclose(
        ba.imbalance_state_["before"], _binary_state(margins, np.zeros(2)), atol=1e-9
    )
    # Transferred: the refit model's logits plus that same bias.
    refit = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(
        ba.decision_function(X),
        _margins(refit, X) + ba.bias_[1] - ba.bias_[0],
        atol=1e-9,
    )
    # Its score is the score of the pooled validation rows with that bias.
    pred = (margins + ba.bias_[1] - ba.bias_[0] > 0).astype(int)
    assert geometric_mean_score(y_pooled, pred) == pytest.approx(
        ba.best_score_, abs=1e-12
    )


@pytest.mark.parametrize(
    "scoring, metric", [("gmean", geometric_mean_score), ("minority_f1", _minority_f1)]
)
def test_validation_state_exact_search_matches_brute_force(binary, scoring, metric):
    """Check the exact search against a loop over pooled validation thresholds."""
    X, y = binary
    cv = StratifiedKFold(4)
    ba = BiasAdjustedClassifier(
        LogisticRegression(),
        cv=cv,
        scoring=scoring,
        search="exact",
        state_on="validation",
    ).fit(X, y)
    margins, y_pooled = _pooled_validation_margins(LogisticRegression(), X, y, cv)
    best = _brute_force_best(margins, y_pooled, metric)
    assert ba.best_score_ == pytest.approx(best, abs=1e-12)
    pred = (margins + ba.bias_[1] - ba.bias_[0] > 0).astype(int)
    assert metric(y_pooled, pred) == pytest.approx(best, abs=1e-12)


def test_validation_state_decimal_candidates_are_scored_on_pooled_logits(binary):
    """Check each decimal candidate's score from its own bias on pooled logits."""
    X, y = binary
    cv = StratifiedKFold(3)
    ba = BiasAdjustedClassifier(LogisticRegression(), cv=cv, state_on="validation").fit(
        X, y
    )
    margins, y_pooled = _pooled_validation_margins(LogisticRegression(), X, y, cv)
    z = np.column_stack([np.zeros_like(margins), margins])
    results = ba.search_results_
    for target, score in list(zip(results["target"], results["score"]))[::5]:
        b = solve_bias(z, target)
        pred = (margins + b[1] - b[0] > 0).astype(int)
        assert geometric_mean_score(y_pooled, pred) == pytest.approx(score, abs=1e-9)


def test_state_on_changes_the_bias_of_an_overfit_model():
    """Check the two settings differ when training logits are overconfident."""
    X, y = make_classification(
        n_samples=200,
        n_features=60,
        n_informative=5,
        weights=[0.85],
        flip_y=0.1,
        random_state=0,
    )
    model = LogisticRegression(C=100.0, max_iter=5000)
    fitted = {
        state_on: BiasAdjustedClassifier(
            model,
            cv=StratifiedKFold(3),
            target=0.3,
            state_on=state_on,
            ensemble=False,
        ).fit(X, y)
        for state_on in ("train", "validation")
    }
    # The overfit model separates its training rows: its training margins
    # are far larger than its validation margins, and so the bias that
    # reaches the same target is different.
    bias_train = fitted["train"].bias_
    bias_valid = fitted["validation"].bias_
    assert abs(bias_train[1] - bias_valid[1]) > 0.5
    # Each is the bias of the target on its own logits.
    train_margins = _margins(fitted["train"].estimator_, X)
    np.testing.assert_allclose(
        _binary_state(train_margins, bias_train), [0.7, 0.3], atol=1e-6
    )
    margins, _ = _pooled_validation_margins(model, X, y, StratifiedKFold(3))
    np.testing.assert_allclose(
        _binary_state(margins, bias_valid), [0.7, 0.3], atol=1e-6
    )


@pytest.mark.parametrize("state_on", ["train", "validation"])
def test_frozen_estimator_state_is_the_fit_data(binary, frozen_model, state_on):
    """Check a frozen estimator measures the state on the data given to fit."""
    X, y = binary
    ba = BiasAdjustedClassifier(
        FrozenEstimator(frozen_model), state_on=state_on, target=0.25
    ).fit(X[300:], y[300:])
    np.testing.assert_allclose(
        _binary_state(_margins(frozen_model, X[300:]), ba.bias_),
        [0.75, 0.25],
        atol=1e-6,
    )


@pytest.mark.parametrize("as_cv", [False, True])
@pytest.mark.parametrize("shift", [1, "a"])
def test_frozen_estimator_with_other_classes(binary, frozen_model, as_cv, shift):
    """Check that y whose classes differ from the frozen model's raises.

    The frozen model's score columns are its classes; labels 1 and 2 (or
    strings) would otherwise be given to its columns 0 and 1 silently.
    """
    X, y = binary
    y_other = y + shift if shift == 1 else np.array(["a", "b"])[y]
    frozen = FrozenEstimator(frozen_model)
    ba = (
        BiasAdjustedClassifier(LogisticRegression(), cv=frozen)
        if as_cv
        else BiasAdjustedClassifier(frozen)
    )
    with pytest.raises(ValueError, match=r"y has classes .* fitted on \[0, 1\]"):
        ba.fit(X[300:], y_other[300:])


@pytest.mark.parametrize(
    "cv",
    [
        KFold(4, shuffle=True, random_state=0),
        ShuffleSplit(1, test_size=0.25, random_state=0),
        StratifiedKFold(4),
    ],
)
def test_per_epoch_with_a_splitter(cv):
    """Check per_epoch=True validates on the first split of any splitter."""
    X, y = make_classification(n_samples=200, weights=[0.8], random_state=0)
    ba = BiasAdjustedClassifier(
        NetClassifier(max_epochs=2, random_state=0), cv=cv, per_epoch=True
    ).fit(X, y)
    valid_rows = sum(ba.estimator_.history[-1, "batches", :, "valid_batch_size"])
    assert valid_rows == 50
    assert ba.predict(X).shape == (200,)


def test_dataframe_reaches_the_estimator_as_given():
    """Check that X is passed to the estimator unconverted.

    A pipeline that selects DataFrame columns by name and one-hot encodes a
    string column, and an estimator that handles NaN, work inside the
    meta-estimator as they do alone.
    """
    pd = pytest.importorskip("pandas")
    X, y = make_classification(
        n_samples=200, n_features=3, n_redundant=0, weights=[0.8], random_state=0
    )
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["colour"] = np.where(X[:, 0] > 0, "red", "blue")
    df.loc[::7, "c"] = np.nan
    pipe = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(), ["colour"]),
            (make_pipeline(SimpleImputer(), StandardScaler()), ["a", "b", "c"]),
        ),
        LogisticRegression(),
    )
    ba = BiasAdjustedClassifier(pipe, cv=3).fit(df, y)
    np.testing.assert_array_equal(ba.feature_names_in_, df.columns)
    assert ba.n_features_in_ == 4
    proba = ba.predict_proba(df)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba, ba.estimator_.predict_proba(df))
    np.testing.assert_array_equal(
        ba.classes_[ba.logits(df).argmax(axis=1)], ba.predict(df)
    )

    X_nan = X.copy()
    X_nan[::7, 0] = np.nan
    hgb = HistGradientBoostingClassifier(max_iter=5, random_state=0)
    ba = BiasAdjustedClassifier(hgb, cv=3).fit(X_nan, y)
    assert np.isfinite(ba.predict_proba(X_nan)).all()


def test_validation_state_multiclass():
    """Check the multiclass search with state_on="validation"."""
    X, y = make_classification(
        n_samples=600,
        n_classes=3,
        n_informative=4,
        weights=[0.8, 0.15],
        random_state=0,
    )
    cv = StratifiedKFold(3)
    ba = BiasAdjustedClassifier(
        LogisticRegression(),
        cv=cv,
        scoring="balanced_accuracy",
        state_on="validation",
    ).fit(X, y)
    logits, truth = [], []
    for train, valid in cv.split(X, y):
        model = LogisticRegression().fit(X[train], y[train])
        logits.append(np.log(model.predict_proba(X[valid])))
        truth.append(y[valid])
    z, y_pooled = np.concatenate(logits), np.concatenate(truth)
    p = np.exp(z + ba.bias_)
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p.mean(axis=0), ba.target_, atol=1e-6)
    score = balanced_accuracy_score(y_pooled, np.argmax(z + ba.bias_, axis=1))
    assert score == pytest.approx(ba.best_score_, abs=1e-12)


@pytest.mark.parametrize("cv", [2, 3, 0.3])
def test_single_sample_class_error(cv):
    """Check a 1-row tail class is named, with the rows it needs."""
    X, y = make_classification(
        n_samples=90, n_classes=3, n_informative=3, random_state=0
    )
    y = np.where(y == 2, 1, y)
    y[7] = 2  # a single row of class 2
    labels = np.array(["cat", "dog", "eel"])[y]
    ba = BiasAdjustedClassifier(LogisticRegression(), cv=cv, random_state=0)
    message = (
        "Class 'eel' has 1 sample and needs at least 2 "
        "\\(one for training, one for validation\\)"
    )
    with pytest.raises(ValueError, match=message):
        ba.fit(X, labels)
    with pytest.raises(ValueError, match="Class 2 has 1 sample and needs"):
        ba.fit(X, y)


def test_class_with_fewer_rows_than_folds_warns_and_fits():
    """Check 3 minority rows with the default 10 folds warn and fit, not raise."""
    X, y = make_classification(n_samples=300, weights=[0.99], random_state=0)
    minority = np.flatnonzero(y == 1)
    y[minority[3:]] = 0  # keep 3 rows of class 1
    ba = BiasAdjustedClassifier(
        LogisticRegression(), scoring="gmean", min_improvement=-np.inf
    )
    with pytest.warns(UserWarning, match="Class 1 has 3 samples, fewer than the 10"):
        ba.fit(X, y)
    proba = ba.predict_proba(X)
    assert np.isfinite(proba).all()
    # the search saw the 3 pooled minority rows and moved the rule toward them
    assert ba.predict(X)[minority[:3]].sum() >= 1


@pytest.mark.parametrize("scoring", ["roc_auc", "average_precision"])
def test_ranking_scorer_is_refused(scoring):
    """Check a metric the decision rule cannot change is refused, with why."""
    X, y = make_classification(n_samples=200, weights=[0.9], random_state=0)
    ba = BiasAdjustedClassifier(LogisticRegression(), scoring=scoring)
    with pytest.raises(ValueError, match="ranking metric.*'gmean', 'minority_f1'"):
        ba.fit(X, y)


def test_own_rule_kept_without_enough_gain():
    """Check the model's own rule is kept unless the search gains min_improvement.

    The gain compared with ``min_improvement`` is ``search_gain_``.
    """
    X, y = make_classification(
        n_samples=600, weights=[0.6], class_sep=2.0, random_state=0
    )
    base = LogisticRegression()
    searched = BiasAdjustedClassifier(
        base, scoring="accuracy", min_improvement=-1.0
    ).fit(X, y)
    in_sample = searched.best_score_ - searched.own_score_
    assert 0 <= in_sample < 0.02  # accuracy of a good model: the search gains little
    assert np.abs(searched.bias_).max() > 0
    gain = searched.search_gain_
    kept = BiasAdjustedClassifier(
        base, scoring="accuracy", min_improvement=gain + 1e-9
    ).fit(X, y)
    np.testing.assert_array_equal(kept.bias_, 0)
    assert kept.best_score_ == kept.own_score_ == searched.own_score_
    np.testing.assert_array_equal(
        kept.predict(X), LogisticRegression().fit(X, y).predict(X)
    )
    np.testing.assert_allclose(kept.target_, kept.imbalance_state_["before"])
    used = BiasAdjustedClassifier(
        base, scoring="accuracy", min_improvement=gain - 1e-9
    ).fit(X, y)
    np.testing.assert_allclose(used.bias_, searched.bias_)


def test_encoding_of_labels_with_gaps():
    """Check integer labels with gaps and negative labels are encoded alike."""
    X, y = make_classification(
        n_samples=300, n_classes=3, n_informative=3, random_state=0
    )
    params = {"cv": StratifiedKFold(3), "target": "prior"}
    reference = BiasAdjustedClassifier(LogisticRegression(), **params).fit(X, y)
    for mapping in ([0, 5, 9], [-3, 2, 40]):
        ba = BiasAdjustedClassifier(LogisticRegression(), **params).fit(
            X, np.array(mapping)[y]
        )
        np.testing.assert_array_equal(ba.classes_, mapping)
        np.testing.assert_allclose(ba.target_, np.bincount(y) / y.size)
        np.testing.assert_allclose(ba.bias_, reference.bias_)
        np.testing.assert_array_equal(
            ba.predict(X), np.array(mapping)[reference.predict(X)]
        )


def test_slot_counts_match_searchsorted():
    """Check the table lookup of the exact search against a plain searchsorted."""
    rng = np.random.default_rng(0)
    for decimals in (1, 3, 9):
        cuts = np.sort(np.round(rng.normal(size=3000), decimals))
        others = np.round(rng.normal(loc=-1.0, scale=2.0, size=80_000), decimals)
        others[:6] = [np.inf, -np.inf, np.nan, cuts[0], cuts[-1], cuts[10]]
        expected = np.bincount(
            np.searchsorted(cuts, others, side="left"), minlength=cuts.size + 1
        )
        np.testing.assert_array_equal(_slot_counts(cuts, others), expected)


def test_exact_search_on_many_rows_matches_sorted_counts():
    """Check the exact search above the lookup's row count with a cumulative sum."""
    rng = np.random.default_rng(1)
    n = 120_000
    y = (rng.random(n) < 0.05).astype(int)
    X = (rng.normal(size=n) + 1.5 * y).round(3)[:, None]  # many tied margins
    model = FrozenEstimator(LogisticRegression().fit(X, y))
    ba = BiasAdjustedClassifier(model, search="exact").fit(X, y)
    margins = _margins(model, X)
    # Predict 1 when margin >= t for every distinct t (and for none).
    order = np.argsort(-margins, kind="stable")
    m, truth = margins[order], y[order]
    last = np.r_[m[1:] != m[:-1], True]  # the last row of each tied group
    tp = np.cumsum(truth)[last]
    fp = np.cumsum(1 - truth)[last]
    tpr = np.r_[0, tp] / y.sum()
    tnr = 1 - np.r_[0, fp] / (n - y.sum())
    assert ba.best_score_ == pytest.approx(np.sqrt(tpr * tnr).max(), abs=1e-12)
    assert geometric_mean_score(y, ba.predict(X)) == pytest.approx(
        ba.best_score_, abs=1e-12
    )


def test_verbose_progress_bar(capsys):
    """Check verbose=1 shows a progress bar over the validation fits."""
    X, y = make_classification(n_samples=200, weights=[0.8], random_state=0)
    BiasAdjustedClassifier(LogisticRegression(), cv=3).fit(X, y)
    assert capsys.readouterr().err == ""
    BiasAdjustedClassifier(LogisticRegression(), cv=3, verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert "BiasAdjustedClassifier: validation fits" in err and "3/3" in err
