"""Tuning cost: bias adjustment of one trained net against a class-weight grid.

Issue 3, "Must show" 3 (the seed paper's Figure 4). Each dataset is split
(stratified, per seed) into 60% train, 20% validation and 20% test; the
minority class is relabelled 1. Both contenders use the same backbone,
StandardScaler then ``NetClassifier(module__hidden_sizes=(64,),
max_epochs=20, batch_size=64, lr=3e-3, random_state=0)``:

- grid: GridSearchCV over the cross-entropy weight of the majority class
  (16 values, geometric from 0.01 to 1, minority weight 1), each net trained
  on the train part and scored (G-mean) on the validation part
  (PredefinedSplit, ``refit=False``: the baseline is not charged a refit);
- BA: the plain net trained once on the train part, then
  ``BiasAdjustedClassifier(cv=FrozenEstimator(net), scoring="gmean")`` fitted
  on the validation part (default decimal search). Its time includes the
  training of the net.

Reported: the best validation G-mean of each, the test G-mean of the chosen
model (for the grid: its best weight retrained on the train part, untimed),
the wall times and their ratio; claim: BA within 0.01 of the grid's best
G-mean in at most a tenth of its time. A PNG draws the grid's validation
G-mean against the weight, with BA's as a line.

    python benchmarks/bench_bias_tuning_cost.py [--quick]
"""

import time

import numpy as np
import torch
from _harness import (
    cli,
    command,
    digits_odd_even,
    keel,
    net,
    result_path,
    table,
    write_result,
)
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, PredefinedSplit, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb.adjustment import BiasAdjustedClassifier
from skimb.metrics import gmean_scorer

WEIGHTS = np.geomspace(0.01, 1.0, 16)


def backbone():
    return make_pipeline(StandardScaler(), net())


def datasets(quick):
    for name in ["yeast4"] if quick else ["yeast4", "page-blocks0"]:
        yield (f"KEEL {name}", *keel(name))
    if not quick:
        yield ("digits odd/even 50:1", *digits_odd_even(50))


def run(X, y, seed):
    labels, counts = np.unique(y, return_counts=True)
    y = (y == labels[np.argmin(counts)]).astype(np.int64)  # minority -> 1
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=seed
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=seed
    )
    X_fit = np.vstack([X_train, X_val])
    y_fit = np.concatenate([y_train, y_val])
    split = PredefinedSplit(np.r_[np.full(len(y_train), -1), np.zeros(len(y_val))])

    grid = GridSearchCV(
        backbone(),
        {
            "netclassifier__criterion__weight": [
                torch.tensor([w, 1.0], dtype=torch.float32) for w in WEIGHTS
            ]
        },
        scoring=gmean_scorer,
        cv=split,
        refit=False,
    )
    start = time.perf_counter()
    grid.fit(X_fit, y_fit)
    grid_s = time.perf_counter() - start
    best = clone(backbone()).set_params(**grid.best_params_).fit(X_train, y_train)

    start = time.perf_counter()
    net = backbone().fit(X_train, y_train)
    ba = BiasAdjustedClassifier(cv=FrozenEstimator(net), scoring="gmean")
    ba.fit(X_val, y_val)
    ba_s = time.perf_counter() - start
    return {
        "grid val": grid.best_score_,
        "BA val": gmean_scorer(ba, X_val, y_val),
        "grid test": gmean_scorer(best, X_test, y_test),
        "BA test": gmean_scorer(ba, X_test, y_test),
        "grid s": grid_s,
        "BA s": ba_s,
        "curve": grid.cv_results_["mean_test_score"],
        "best weight": float(grid.best_params_["netclassifier__criterion__weight"][0]),
    }


def plot(curves, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(4 * len(curves), 3.2))
    for ax, (name, (curve, ba)) in zip(np.atleast_1d(axes), curves.items()):
        ax.semilogx(WEIGHTS, curve, "o-", label="grid (one net per weight)")
        ax.axhline(ba, color="C3", label="BA on the plain net")
        ax.set_xlabel("majority-class weight")
        ax.set_ylabel("validation G-mean")
        ax.set_title(name)
    np.atleast_1d(axes)[0].legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(quick=False):
    seeds = [0] if quick else [0, 1, 2]
    rows = []
    curves = {}
    for name, X, y in datasets(quick):
        runs = [run(X, y, seed) for seed in seeds]
        mean = {k: np.mean([r[k] for r in runs], axis=0) for k in runs[0]}
        ratio = mean["BA s"] / mean["grid s"]
        val_ok = mean["BA val"] >= mean["grid val"] - 0.01
        test_ok = mean["BA test"] >= mean["grid test"] - 0.01
        verdict = f"{'yes' if val_ok else 'no'} / {'yes' if test_ok else 'no'}"
        verdict += f", {'yes' if ratio <= 0.1 else 'no'}"
        rows.append(
            f"{name} | {mean['grid val']:.3f} | {mean['BA val']:.3f} "
            f"| {mean['grid test']:.3f} | {mean['BA test']:.3f} "
            f"| {mean['grid s']:.1f} | {mean['BA s']:.2f} | {ratio:.3f} | {verdict}"
        )
        print(rows[-1], "best weights", [r["best weight"] for r in runs], flush=True)
        curves[name] = (mean["curve"], mean["BA val"])
    figure = result_path("bias_tuning_cost", quick, "png")
    plot(curves, figure)
    header = (
        "dataset | grid best val G-mean | BA val G-mean | grid test G-mean "
        "| BA test G-mean | grid time (s) | BA time (s) | BA time / grid time "
        "| BA within 0.01 (val / test) in <= 1/10 time?"
    )
    text = (
        "# Tuning cost: BA on one net vs a grid over the majority-class weight\n\n"
        f"Command: `{command('bench_bias_tuning_cost.py', quick)}`; "
        f"mean over {len(seeds)} seed(s) of a "
        "stratified 60/20/20 train/validation/test split, 1 torch thread, CPU. "
        f"Grid: {len(WEIGHTS)} majority weights, geometric 0.01..1; BA: decimal "
        "search, time includes training its one net.\n\n"
        + table(header, rows)
        + f"\n\n![validation G-mean against the weight]({figure.name})\n"
    )
    write_result("bias_tuning_cost", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
