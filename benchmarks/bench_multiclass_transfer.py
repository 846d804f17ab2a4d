"""Why BA loses to class weights on the multiclass sets: search, noise or transfer?

Issue 16, Must show 2, diagnosis. On the datasets of
``bench_multiclass_decision.py`` and its outer folds (3 folds x 1 repeat), for
the bases LR and HGB (deterministic; the net is left out for run time), the
out-of-fold logits of ``StratifiedKFold(5)`` on each outer training part (what
``BiasAdjustedClassifier(cv=5)`` searches on), the refitted model's test
logits and the class-weighted model's test predictions. For macro F1,
balanced accuracy and the cost matrix of the benchmark:

- search quality: the validation score BA's search reaches (``search_target``
  on the out-of-fold logits, no ``min_improvement`` step) against the best of
  the weight grid's coordinate ascent on the same logits (17 values per
  class, at most 3 sweeps, as ``_multiclass_rules.WeightGrid``);
- noise: the rule chosen on one stratified half of the out-of-fold rows,
  scored on the other half against the plain argmax (the same fold models: no
  transfer; mean of both halves);
- transfer: test gain over the plain refitted model of the bias chosen on the
  out-of-fold logits added to the refitted model's test logits (what BA
  predicts, without the step-4 guard), and of the same *target state*
  reached on the test logits themselves (the bias re-solved there: uses the
  test rows' features, not their labels, so it is a reference, not a rule a
  fit can apply);
- class weights: the test gain of the ``class_weight="balanced"`` model.

Each cell is a mean over the outer folds; cost is reported as the saving in
mean cost per row (positive is better). ``--quick``: digits and contraceptive.

    python benchmarks/bench_multiclass_transfer.py [--quick]
"""

import time

import numpy as np
from _harness import cli, command, skimb_version, table, write_result
from _multiclass_rules import GRID
from bench_multiclass_decision import cost_matrix, datasets
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skimb.adjustment import search_target, solve_bias
from skimb.adjustment._multiclass_counts import confusion_score
from skimb.metrics import get_scorer, make_cost_scorer

BASES = {
    "LR": lambda weight=None: make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000, class_weight=weight)
    ),
    "HGB": lambda weight=None: HistGradientBoostingClassifier(
        random_state=0, class_weight=weight
    ),
}
COLUMNS = [
    "BA search (validation)",
    "grid (validation)",
    "half-split gain",
    "BA bias, test gain",
    "same state re-solved on test, gain",
    "class weights, test gain",
]


def _log_proba(model, X):
    return np.log(np.clip(model.predict_proba(X), np.finfo(float).tiny, None))


def _grid(z, score):
    """The weight grid's coordinate ascent on logits: the best log-weights."""
    log_w, best = np.zeros(z.shape[1]), score(z)
    for _ in range(3):
        improved = False
        for k in range(z.shape[1]):
            for value in np.log(GRID):
                trial = log_w.copy()
                trial[k] = value
                trial_score = score(z + trial)
                if trial_score > best + 1e-12:
                    best, log_w, improved = trial_score, trial, True
        if not improved:
            break
    return best


def _cells(z, y, z_test, y_test, weighted_pred, scoring, seed):
    """The six numbers of one fold and metric (scores: higher is better)."""
    classes = np.arange(z.shape[1])

    def scorer(labels):
        return confusion_score(scoring, get_scorer(scoring), classes, labels)

    valid, test = scorer(y), scorer(y_test)
    target, found, _ = search_target(y, z, scoring=scoring)
    halves = []
    for a, b in StratifiedKFold(2, shuffle=True, random_state=seed).split(z, y):
        half_target, _, _ = search_target(y[a], z[a], scoring=scoring)
        bias = solve_bias(z[a], half_target)
        held_out = scorer(y[b])
        halves.append(held_out(z[b] + bias) - held_out(z[b]))
    plain = test(z_test)
    moved = test(z_test + solve_bias(z, target)) - plain
    resolved = test(z_test + solve_bias(z_test, target)) - plain
    weighted = test(np.eye(z.shape[1])[weighted_pred]) - plain
    return [
        found,
        _grid(z, valid),
        np.mean(halves),
        moved,
        resolved,
        weighted,
    ]


def evaluate(X, y):
    """``{(base, metric): [six means]}`` over the outer folds."""
    cost = cost_matrix(y)
    scorings = {
        "macro F1": "f1_macro",
        "balanced accuracy": "balanced_accuracy",
        "cost": make_cost_scorer(cost, labels=np.arange(len(cost))),
    }
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=1, random_state=0)
    out = {}
    for fold, (train, test) in enumerate(cv.split(X, y)):
        X_train, y_train = X[train], y[train]
        for base, make in BASES.items():
            z = np.zeros((len(train), len(np.unique(y))))
            for a, b in StratifiedKFold(5).split(X_train, y_train):
                model = clone(make()).fit(X_train[a], y_train[a])
                z[b] = _log_proba(model, X_train[b])
            z_test = _log_proba(clone(make()).fit(X_train, y_train), X[test])
            weighted = clone(make("balanced")).fit(X_train, y_train).predict(X[test])
            for metric, scoring in scorings.items():
                cells = _cells(z, y_train, z_test, y[test], weighted, scoring, fold)
                out.setdefault((base, metric), []).append(cells)
    return {key: np.mean(rows, axis=0) for key, rows in out.items()}


def main(quick=False):
    start = time.perf_counter()
    results = {}
    with threadpool_limits(1):
        for name, (X, y) in datasets(quick).items():
            results[name] = evaluate(X, y)
            print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    rows = [
        [name, base, metric, *(f"{v:+.4f}" for v in values)]
        for name, per in results.items()
        for (base, metric), values in per.items()
    ]
    for base in BASES:
        means = np.mean(
            [v for per in results.values() for (b, _), v in per.items() if b == base],
            axis=0,
        )
        rows.append(["**mean**", base, "all", *(f"{v:+.4f}" for v in means)])
    minutes = (time.perf_counter() - start) / 60
    text = (
        "# Multiclass BA: search, noise or transfer?\n\n"
        f"Command: `{command('bench_multiclass_transfer.py', quick)}` "
        f"({skimb_version()}); {minutes:.1f} min. See the script's docstring; "
        "validation columns are scores (cost: minus the mean cost), the others "
        "gains over the plain refitted model on the test folds.\n\n"
        + table(["dataset", "base", "metric", *COLUMNS], rows)
        + "\n"
    )
    write_result("multiclass_transfer", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
