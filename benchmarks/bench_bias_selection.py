"""How BiasAdjustedClassifier should choose its rule from cross-validation.

Issue 3 asks that small minorities not make the target search noisy ("average
or pool across folds"). On the datasets, backbone and outer CV of
``bench_bias_quality.py`` (both from ``_harness``), each outer training fold
is scaled, split into the same k stratified inner folds that
``BiasAdjustedClassifier(cv=k)`` uses (k = min(5, minority rows), as in
``bench_bias_quality.py``), and the rule chosen on them is scored
on the outer test fold:

- ``pooled, decimal`` (the default): the validation logits of the k fold
  models are pooled; the target is searched and its bias solved there, and
  the bias is transferred to the network refit on the whole training fold;
- ``pooled, exact``: the same with ``search="exact"``;
- ``fold-averaged``: each fold model's validation score is computed at the
  minority probabilities 0.001, 0.002, ..., 0.999 (its bias solved on its own
  validation logits) and the curves are averaged over the folds, as
  TunedThresholdClassifierCV averages its threshold curves; the best target's
  bias, solved on the pooled logits (``solve_bias``), is transferred to the
  refit network;
- ``training state``: ``state_on="train"`` (the paper's choice);
- ``CV ensemble``: no refit; the mean probability of the k fold models, each
  with the pooled rule's bias (``bias_``; as
  ``CalibratedClassifierCV(ensemble=True)`` keeps its fold models);
- ``none``: the refit network, unadjusted.

The fold-averaged curves need a fold model's decision at 999 targets; no
public function solves a bias per target in one call, and none is needed: the
class-1 bias b(s) that gives the mean class-1 probability s on margins m
(z1 - z0) is increasing in s, so row i is predicted class 1 (m_i + b(s) > 0)
exactly when s exceeds its flip state, the mean of expit(m - m_i). The counts
of every target then come from one sort of the flip states.

Mean test score (G-mean, resp. minority F1, each rule tuned for it) per
dataset and over the datasets.

    python benchmarks/bench_bias_selection.py [--quick]
"""

import time

import numpy as np
from _harness import (
    MemoNet,
    ba_datasets,
    bold_best,
    cli,
    command,
    memo_net,
    table,
    write_result,
)
from scipy.special import expit, softmax
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from skimb.adjustment import BiasAdjustedClassifier, solve_bias
from skimb.metrics import get_scorer

RULES = [
    "pooled, decimal",
    "pooled, exact",
    "fold-averaged",
    "training state",
    "CV ensemble",
    "none",
]
METRICS = {"G-mean": "gmean", "minority F1": "minority_f1"}
GRID = np.arange(1, 1000) / 1000


def _recall(hit, miss):
    return hit / np.maximum(hit + miss, 1)


def _f1(tp, fp, fn):
    return 2 * tp / np.maximum(2 * tp + fp + fn, 1)


def count_score(scoring, tp, fn, fp, tn, minority):
    """G-mean or minority F1 from the confusion counts of class 1."""
    if scoring == "gmean":
        return np.sqrt(_recall(tp, fn) * _recall(tn, fp))
    return _f1(tp, fp, fn) if minority == 1 else _f1(tn, fn, fp)


def score(scoring, predicted_one, y, minority):
    """Score of the boolean "class 1" predictions."""
    predicted, positive = np.asarray(predicted_one, dtype=bool), y == 1
    tp, fp = np.sum(predicted & positive), np.sum(predicted & ~positive)
    fn, tn = positive.sum() - tp, (~positive).sum() - fp
    return float(count_score(scoring, tp, fn, fp, tn, minority))


def curve(z, y, states, scoring, minority):
    """Score of each class-1 target state, its bias solved on the logits ``z``."""
    margins = z[:, 1] - z[:, 0]
    # Row i is class 1 above its flip state, the state at the bias -m_i
    # (computed in chunks of 256 rows to bound the memory).
    flips = np.concatenate(
        [
            expit(margins[None, :] - chunk[:, None]).mean(axis=1)
            for chunk in np.array_split(margins, max(1, margins.size // 256))
        ]
    )
    tp = np.searchsorted(np.sort(flips[y == 1]), states, side="left")
    fp = np.searchsorted(np.sort(flips[y == 0]), states, side="left")
    n_pos, n_neg = int(np.sum(y == 1)), int(np.sum(y == 0))
    return count_score(scoring, tp, n_pos - tp, fp, n_neg - fp, minority)


def fold_averaged(models, X, y, inner, scoring, minority):
    """Class-1 bias of the best target of the fold-averaged score curves."""
    states = GRID if minority == 1 else 1 - GRID
    curves, pooled = [], []
    for model, (_, valid) in zip(models, inner, strict=True):
        z = model.logits(X[valid]).astype(np.float64)
        pooled.append(z)
        curves.append(curve(z, y[valid], states, scoring, minority))
    state = states[int(np.argmax(np.mean(curves, axis=0)))]
    bias = solve_bias(np.concatenate(pooled), np.array([1 - state, state]))
    return bias[1] - bias[0]


def rule_scores(fold, scoring, epochs, minority):
    """Test score of every rule tuned for ``scoring`` on one outer fold."""
    X_train, y_train, X_test, y_test, inner, models, z_test = fold

    def test_score(predicted_one):
        return score(scoring, predicted_one, y_test, minority)

    def adjusted(**params):
        ba = BiasAdjustedClassifier(
            memo_net(max_epochs=epochs),
            scoring=scoring,
            cv=len(inner),
            **{"ensemble": False, **params},
        )
        return ba.fit(X_train, y_train)

    pooled = adjusted()
    pooled_score = test_score(pooled.predict(X_test) == 1)
    assert np.isclose(pooled_score, get_scorer(scoring)(pooled, X_test, y_test))
    beta = fold_averaged(models, X_train, y_train, inner, scoring, minority)
    proba = np.mean(
        [softmax(m.logits(X_test) + pooled.bias_, axis=1) for m in models], axis=0
    )
    return {
        "pooled, decimal": pooled_score,
        "pooled, exact": test_score(adjusted(search="exact").predict(X_test) == 1),
        "fold-averaged": test_score(z_test[:, 1] - z_test[:, 0] + beta > 0),
        "training state": test_score(adjusted(state_on="train").predict(X_test) == 1),
        "CV ensemble": test_score(proba[:, 1] > proba[:, 0]),
        "none": test_score(z_test[:, 1] > z_test[:, 0]),
    }


def evaluate(X, y, cv, epochs):
    labels, counts = np.unique(y, return_counts=True)
    assert list(labels) == [0, 1]
    minority = int(np.argmin(counts))
    out = {m: {r: [] for r in RULES} for m in METRICS}
    for train, test in cv.split(X, y):
        scaler = StandardScaler().fit(X[train])
        X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
        folds = min(5, int(np.sum(y[train] == minority)))
        inner = list(StratifiedKFold(folds).split(X_train, y[train]))
        # Memoised: the same networks BiasAdjustedClassifier(cv=folds) trains.
        models = [
            memo_net(max_epochs=epochs).fit(X_train[a], y[train][a]) for a, _ in inner
        ]
        refit = memo_net(max_epochs=epochs).fit(X_train, y[train])
        z_test = refit.logits(X_test).astype(np.float64)
        fold = (X_train, y[train], X_test, y[test], inner, models, z_test)
        for metric, scoring in METRICS.items():
            for rule, value in rule_scores(fold, scoring, epochs, minority).items():
                out[metric][rule].append(value)
    MemoNet.memo.clear()
    return {m: {r: float(np.mean(v)) for r, v in t.items()} for m, t in out.items()}


def results_table(results, metric):
    rows = [
        [name, *bold_best([res[metric][r] for r in RULES])]
        for name, res in results.items()
    ]
    means = np.mean([[res[metric][r] for r in RULES] for res in results.values()], 0)
    rows.append(["**mean**", *bold_best(means)])
    return table(["dataset", *RULES], rows) + "\n"


def main(quick=False):
    epochs = 10 if quick else 20
    repeats = 1 if quick else 5
    cv = RepeatedStratifiedKFold(n_splits=2, n_repeats=repeats, random_state=0)
    start = time.perf_counter()
    results = {}
    for name, X, y in ba_datasets(quick):
        results[name] = evaluate(X, y, cv, epochs)
        print(name, results[name], flush=True)
    minutes = (time.perf_counter() - start) / 60
    text = (
        "# How BiasAdjustedClassifier chooses its rule from cross-validation\n\n"
        f"Command: `{command('bench_bias_selection.py', quick)}`; {minutes:.1f} min, "
        "1 torch thread, CPU. "
        "Datasets, backbone and outer CV (RepeatedStratifiedKFold, 2 folds x "
        f"{repeats} repeats) of `bench_bias_quality.py`; the rule is chosen "
        "on min(5, minority rows) inner stratified folds of the scaled "
        "training fold (see the "
        "script's docstring). Mean test-fold score; bold: best of the row.\n\n"
        "## G-mean\n\n"
        + results_table(results, "G-mean")
        + "\n## Minority F1\n\n"
        + results_table(results, "minority F1")
    )
    write_result("bias_selection", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
