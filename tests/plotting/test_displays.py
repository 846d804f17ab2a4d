"""Tests of skimb.plotting displays."""

import matplotlib
import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from skorch.dataset import ValidSplit

from skimb.adjustment import BiasAdjustedClassifier, BiasAdjustment
from skimb.nn import NetClassifier
from skimb.plotting import EpochDisplay, ImbalanceStateDisplay

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def binary():
    return make_classification(n_samples=400, weights=[0.85], random_state=0)


def test_imbalance_state_display_from_estimator(binary):
    """Check the curve is the search results and the chosen target is marked."""
    X, y = binary
    clf = BiasAdjustedClassifier(LogisticRegression(), cv=2).fit(X, y)
    display = ImbalanceStateDisplay.from_estimator(clf, name="LR")
    results = clf.search_results_
    np.testing.assert_allclose(
        display.line_.get_xdata(), results["minority_probability"]
    )
    np.testing.assert_allclose(display.line_.get_ydata(), results["score"])
    assert display.best_minority_probability == pytest.approx(clf.target_[1])
    assert display.ax_.get_ylabel() == "gmean"
    assert display.ax_.get_legend().get_texts()[0].get_text() == "LR"


def test_imbalance_state_display_from_predictions(binary):
    """Check from_predictions with the exact search reaches the brute-force best."""
    X, y = binary
    margins = LogisticRegression().fit(X, y).decision_function(X)
    _, ax = plt.subplots()
    display = ImbalanceStateDisplay.from_predictions(y, margins, search="exact", ax=ax)
    best = max(
        geometric_mean_score(y, (margins >= t).astype(int))
        for t in np.r_[np.sort(margins), np.inf]
    )
    assert display.ax_ is ax
    assert max(display.line_.get_ydata()) == pytest.approx(best)


def test_imbalance_state_display_errors():
    """Check multiclass input is refused with a clear message."""
    X, y = make_classification(
        n_samples=90, n_classes=3, n_informative=3, random_state=0
    )
    clf = BiasAdjustedClassifier(LogisticRegression(), cv=2).fit(X, y)
    with pytest.raises(ValueError, match="binary problems; the estimator has 3"):
        ImbalanceStateDisplay.from_estimator(clf)
    with pytest.raises(ValueError, match="y_true has 3 classes"):
        ImbalanceStateDisplay.from_predictions(y, np.zeros(y.size))


def test_epoch_display_from_net(binary):
    """Check the per-epoch curve is the recorded history and the best is marked."""
    X, y = binary
    net = NetClassifier(
        max_epochs=3,
        train_split=ValidSplit(4, stratified=True),
        callbacks=[BiasAdjustment(scoring="minority_f1")],
        random_state=0,
    ).fit(X, y)
    display = EpochDisplay.from_estimator(net)
    np.testing.assert_array_equal(display.line_.get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(display.line_.get_ydata(), net.history[:, "ba_score"])
    assert display.best_epoch == dict(net.callbacks_)["BiasAdjustment"].best_epoch_
    assert "minority_f1" in display.ax_.get_ylabel()


def test_epoch_display_needs_history(binary):
    """Check a model without per-epoch adjustment is refused."""
    X, y = binary
    clf = BiasAdjustedClassifier(LogisticRegression(), cv=2).fit(X, y)
    with pytest.raises(ValueError, match="no per-epoch bias adjustment"):
        EpochDisplay.from_estimator(clf)
