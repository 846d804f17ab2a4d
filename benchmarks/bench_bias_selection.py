"""How BiasAdjustedClassifier should choose its rule from cross-validation.

Issue 3 asks that small minorities not make the target search noisy ("average
or pool across folds"). On the datasets, backbone and outer CV of
``bench_bias_quality.py`` (imported from it), each outer training fold is
scaled, split into the same k stratified inner folds that
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
  bias, solved on the pooled logits, is transferred to the refit network;
- ``training state``: ``state_on="train"`` (the paper's choice);
- ``CV ensemble``: no refit; the mean probability of the k fold models, each
  with the pooled rule's bias (as ``CalibratedClassifierCV(ensemble=True)``
  keeps its fold models);
- ``none``: the refit network, unadjusted.

Mean test score (G-mean, resp. minority F1, each rule tuned for it) per
dataset and over the datasets.

    python benchmarks/bench_bias_selection.py [--quick]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from bench_bias_quality import MemoNet, datasets, net
from scipy.special import softmax
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from skimb.adjustment import BiasAdjustedClassifier, solve_bias

# The search's own vectorised pieces: the 1-D solve for many targets and the
# metrics as functions of confusion counts.
from skimb.adjustment._search import _COUNT_METRICS, _Margins
from skimb.metrics import get_scorer

RESULTS = Path(__file__).parent / "results"
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


def scores_of(predicted, y, metric, minority):
    """Metric of each row of the boolean "class 1" predictions."""
    positive = y == 1
    tp = (predicted & positive).sum(axis=1)
    fp = (predicted & ~positive).sum(axis=1)
    fn, tn = positive.sum() - tp, (~positive).sum() - fp
    return _COUNT_METRICS[metric](tp, fn, fp, tn, minority)


def fold_averaged(models, X, y, inner, metric, minority):
    """Class-1 bias of the best target of the fold-averaged score curves."""
    states = GRID if minority == 1 else 1 - GRID
    curves, pooled = [], []
    for model, (_, valid) in zip(models, inner, strict=True):
        z = model.logits(X[valid]).astype(np.float64)
        pooled.append(z)
        betas = _Margins(z).solve_many(states)
        predicted = (z[:, 1] - z[:, 0])[None, :] + betas[:, None] > 0
        curves.append(scores_of(predicted, y[valid], metric, minority))
    state = states[int(np.argmax(np.mean(curves, axis=0)))]
    bias = solve_bias(np.concatenate(pooled), np.array([1 - state, state]))
    return bias[1] - bias[0]


def rule_scores(fold, scoring, epochs, minority):
    """Test score of every rule tuned for ``scoring`` on one outer fold."""
    X_train, y_train, X_test, y_test, inner, models, z_test = fold

    def score(predicted_one):
        row = np.asarray(predicted_one, dtype=bool)[None, :]
        return float(scores_of(row, y_test, scoring, minority)[0])

    def adjusted(**params):
        folds = len(inner)
        ba = BiasAdjustedClassifier(net(epochs), scoring=scoring, cv=folds, **params)
        return ba.fit(X_train, y_train)

    pooled = adjusted()
    pooled_score = score(pooled.predict(X_test) == 1)
    assert np.isclose(pooled_score, get_scorer(scoring)(pooled, X_test, y_test))
    beta = fold_averaged(models, X_train, y_train, inner, scoring, minority)
    proba = np.mean(
        [softmax(m.logits(X_test) + pooled.bias_, axis=1) for m in models], axis=0
    )
    return {
        "pooled, decimal": pooled_score,
        "pooled, exact": score(adjusted(search="exact").predict(X_test) == 1),
        "fold-averaged": score(z_test[:, 1] - z_test[:, 0] + beta > 0),
        "training state": score(adjusted(state_on="train").predict(X_test) == 1),
        "CV ensemble": score(proba[:, 1] > proba[:, 0]),
        "none": score(z_test[:, 1] > z_test[:, 0]),
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
        models = [net(epochs).fit(X_train[a], y[train][a]) for a, _ in inner]
        refit = net(epochs).fit(X_train, y[train])
        z_test = refit.logits(X_test).astype(np.float64)
        fold = (X_train, y[train], X_test, y[test], inner, models, z_test)
        for metric, scoring in METRICS.items():
            for rule, value in rule_scores(fold, scoring, epochs, minority).items():
                out[metric][rule].append(value)
    MemoNet.memo.clear()
    return {m: {r: float(np.mean(v)) for r, v in t.items()} for m, t in out.items()}


def table(results, metric):
    lines = [
        "| dataset | " + " | ".join(RULES) + " |",
        "|---|" + "---|" * len(RULES),
    ]
    for name, res in results.items():
        row = np.array([res[metric][r] for r in RULES])
        cells = [f"**{v:.3f}**" if v == row.max() else f"{v:.3f}" for v in row]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    means = np.mean([[res[metric][r] for r in RULES] for res in results.values()], 0)
    cells = [f"**{v:.3f}**" if v == means.max() else f"{v:.3f}" for v in means]
    lines.append("| **mean** | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(quick=False):
    torch.set_num_threads(1)
    epochs = 10 if quick else 20
    repeats = 1 if quick else 5
    cv = RepeatedStratifiedKFold(n_splits=2, n_repeats=repeats, random_state=0)
    start = time.perf_counter()
    results = {}
    for name, X, y in datasets(quick):
        results[name] = evaluate(X, y, cv, epochs)
        print(name, results[name], flush=True)
    minutes = (time.perf_counter() - start) / 60
    text = (
        "# How BiasAdjustedClassifier chooses its rule from cross-validation\n\n"
        "Command: `python benchmarks/bench_bias_selection.py"
        f"{' --quick' if quick else ''}`; {minutes:.1f} min, 1 torch thread, CPU. "
        "Datasets, backbone and outer CV (RepeatedStratifiedKFold, 2 folds x "
        f"{repeats} repeats) of `bench_bias_quality.py`; the rule is chosen "
        "on min(5, minority rows) inner stratified folds of the scaled "
        "training fold (see the "
        "script's docstring). Mean test-fold score; bold: best of the row.\n\n"
        "## G-mean\n\n"
        + table(results, "G-mean")
        + "\n## Minority F1\n\n"
        + table(results, "minority F1")
    )
    print(text)
    RESULTS.mkdir(exist_ok=True)
    name = "bias_selection_quick.md" if quick else "bias_selection.md"
    (RESULTS / name).write_text(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    main(parser.parse_args().quick)
