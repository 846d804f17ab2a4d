"""Multiclass bias adjustment on long-tailed digits.

Issue 3, "Must show" 5. For each seed, digits (10 classes) is split into a
balanced test set (30 rows per class) and a training pool (the rest, about 150
per class); the pool is subsampled to a long tail (``make_long_tailed``) at
10:1, 50:1 and 100:1 (the tail class keeps 15, 2-3 and 1 rows). Backbone:
StandardScaler then ``NetClassifier(module__hidden_sizes=(64,),
max_epochs=30, batch_size=32, lr=3e-3, random_state=0)``. Methods:

- plain net;
- class-weighted net (cross entropy weighted n / (K n_j)), for context;
- ``BiasAdjustedClassifier(net, scoring="balanced_accuracy", cv=2)``: the
  search over the simplex scored on pooled 2-fold validation predictions,
  then refit on the whole pool. ``cv=2`` because the tail has 2 rows at 50:1.

Score: balanced accuracy on the balanced test set (there equal to accuracy),
mean (std) over seeds. At 100:1 the tail has a single row, which no
stratified validation split can hold in every fold; if BA refuses it, the
table says so.

    python benchmarks/bench_bias_multiclass.py [--quick]
"""

import time

import numpy as np
from _harness import (
    cli,
    command,
    long_tailed_splits,
    net,
    table,
    weighted_net,
    write_result,
)
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb.adjustment import BiasAdjustedClassifier

VARIANT = "mlp64-batch32"
METHODS = {
    "plain net": lambda: make_pipeline(StandardScaler(), net(VARIANT)),
    "class-weighted net": lambda: make_pipeline(
        StandardScaler(), weighted_net(VARIANT)
    ),
    "BA(balanced_accuracy)": lambda: make_pipeline(
        StandardScaler(),
        BiasAdjustedClassifier(
            net(VARIANT), scoring="balanced_accuracy", cv=2, ensemble=False
        ),
    ),
}


def main(quick=False):
    seeds = [0] if quick else [0, 1, 2, 3, 4]
    ratios = [50] if quick else [10, 50, 100]
    X, y = load_digits(return_X_y=True)
    scores = {(r, m): [] for r in ratios for m in METHODS}
    errors = {}
    tails = {}
    fit_s = {m: [] for m in METHODS}
    for seed in seeds:
        splits = long_tailed_splits(X, y, ratios, test_size=300, seed=seed)
        for ratio, X_lt, y_lt, X_test, y_test in splits:
            tails.setdefault(ratio, set()).add(int(np.bincount(y_lt).min()))
            for name, make in METHODS.items():
                start = time.perf_counter()
                try:
                    model = make().fit(X_lt, y_lt)
                except ValueError as error:
                    errors[(ratio, name)] = str(error).splitlines()[0]
                    continue
                fit_s[name].append(time.perf_counter() - start)
                pred = model.predict(X_test)
                scores[(ratio, name)].append(balanced_accuracy_score(y_test, pred))
            done = {
                m: round(s[-1], 3) for (r, m), s in scores.items() if r == ratio and s
            }
            print(seed, ratio, done, flush=True)
    rows = []
    for ratio in ratios:
        cells = []
        for name in METHODS:
            values = scores[(ratio, name)]
            if values:
                cells.append(f"{np.mean(values):.3f} ({np.std(values):.3f})")
            else:
                cells.append(f"error: {errors[(ratio, name)]}")
        plain = scores[(ratio, "plain net")]
        ba = scores[(ratio, "BA(balanced_accuracy)")]
        gain = f"{np.mean(ba) - np.mean(plain):+.3f}" if ba and plain else "-"
        tail = "-".join(map(str, sorted(tails[ratio])))
        rows.append([f"{ratio}:1", tail, *cells, gain])
    header = ["imbalance ratio", "tail rows", *METHODS, "BA minus plain"]
    mean_fit = " ; ".join(f"{m}: {np.mean(t):.1f} s" for m, t in fit_s.items() if t)
    text = (
        "# Multiclass bias adjustment on long-tailed digits\n\n"
        f"Command: `{command('bench_bias_multiclass.py', quick)}`; "
        "balanced accuracy on a balanced test "
        f"set (300 rows), mean (std) over {len(seeds)} seed(s), 1 torch thread, "
        f"CPU. Mean fit time: {mean_fit}.\n\n" + table(header, rows) + "\n"
    )
    write_result("bias_multiclass", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
