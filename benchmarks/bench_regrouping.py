"""Regrouping against the plain estimator, random regrouping and class weighting.

Claim (seed paper "Mining latent labels for imbalance classification"): training
on KMeans pseudo-classes of the large classes does not lose to the same
estimator on the original labels in minority average precision, and beats a
random regrouping of the same sizes (the structure helps, not the balance).

Data: 7 bundled KEEL sets (binary, IR 2.5 to 33; AP of the minority class) and
digits made long-tailed with IR 10 (10 classes; the mean one-vs-rest AP of the
five smallest classes). Every model is ``StandardScaler`` + classifier; the
classifier is a NetClassifier (MLP 128, 30 epochs, AdamW 3e-3) or a
LogisticRegression. Methods per base: ``plain`` (original labels), ``weighted``
(balanced class weights: a weighted cross entropy for the network,
``class_weight="balanced"`` for the linear model), ``RG`` (RegroupingClassifier,
``n_clusters="auto"``, KMeans, max aggregation), ``RG-sum`` (the same with sum
aggregation) and ``RG-random`` (``clusterer="random"``, max aggregation: the
seed paper's ablation). Stratified 5-fold CV, 1 repeat to stay within about 8
minutes on one shared core (``--quick``: 3 folds, 3 datasets); 1 torch thread,
CPU.

    python benchmarks/bench_regrouping.py [--quick]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb.datasets import load_keel, make_long_tailed
from skimb.nn import NetClassifier
from skimb.regrouping import RegroupingClassifier

RESULTS = Path(__file__).parent / "results"
KEEL = ["vehicle1", "segment0", "yeast3", "page-blocks0", "vowel0", "ecoli4", "yeast5"]
METHODS = ["plain", "weighted", "RG", "RG-sum", "RG-random"]


class BalancedCrossEntropy(torch.nn.CrossEntropyLoss):
    """Cross entropy weighted by n / (K n_j); NetClassifier passes the counts."""

    def __init__(self, class_counts, **kwargs):
        counts = torch.as_tensor(class_counts, dtype=torch.float32)
        super().__init__(weight=counts.sum() / (len(counts) * counts), **kwargs)


def make_model(base, method, seed):
    if base == "net":
        criterion = BalancedCrossEntropy if method == "weighted" else None
        extra = {"criterion": criterion} if criterion else {}
        estimator = NetClassifier(max_epochs=30, random_state=seed, **extra)
    else:
        weight = "balanced" if method == "weighted" else None
        estimator = LogisticRegression(max_iter=2000, class_weight=weight)
    if method.startswith("RG"):
        estimator = RegroupingClassifier(
            estimator,
            clusterer="random" if method == "RG-random" else None,
            aggregation="sum" if method == "RG-sum" else "max",
            random_state=seed,
        )
    return make_pipeline(StandardScaler(), estimator)


def load(name):
    if name == "digits-LT10":
        X, y = load_digits(return_X_y=True)
        return make_long_tailed(X, y, imbalance_ratio=10, random_state=0)
    return load_keel(name, return_X_y=True)


def minority_ap(y_true, proba, classes, minority):
    """Mean one-vs-rest average precision over the ``minority`` labels."""
    return np.mean(
        [
            average_precision_score(
                y_true == c, proba[:, np.flatnonzero(classes == c)[0]]
            )
            for c in minority
        ]
    )


def evaluate(name, n_splits, n_repeats):
    X, y = load(name)
    labels, counts = np.unique(y, return_counts=True)
    minority = labels[np.argsort(counts, kind="stable")[: max(1, len(labels) // 2)]]
    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=0)
    scores = {}  # (base, method) -> list of (ap, ba)
    for fold, (train, test) in enumerate(cv.split(X, y)):
        for base in ["net", "linear"]:
            for method in METHODS:
                model = make_model(base, method, seed=fold).fit(X[train], y[train])
                proba = model.predict_proba(X[test])
                classes = model.classes_
                ap = minority_ap(y[test], proba, classes, minority)
                ba = balanced_accuracy_score(y[test], classes[proba.argmax(1)])
                scores.setdefault((base, method), []).append((ap, ba))
    return {key: np.mean(values, axis=0) for key, values in scores.items()}


def table(results, metric, base):
    index = 0 if metric == "AP" else 1
    lines = [
        f"| dataset | {' | '.join(METHODS)} |",
        "|---" * (len(METHODS) + 1) + "|",
    ]
    for name, scores in results.items():
        row = [scores[(base, m)][index] for m in METHODS]
        best = max(row)
        cells = [f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in row]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    means = [np.mean([s[(base, m)][index] for s in results.values()]) for m in METHODS]
    lines.append(f"| **mean** | {' | '.join(f'{v:.3f}' for v in means)} |")
    return "\n".join(lines)


def summary(results):
    lines = [
        "| base | method | mean minority AP | ratio to plain | mean balanced acc. "
        "| ratio to plain | AP wins vs plain | AP wins vs RG-random |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for base in ["net", "linear"]:
        plain = np.mean([s[(base, "plain")] for s in results.values()], axis=0)
        for method in METHODS:
            mean = np.mean([s[(base, method)] for s in results.values()], axis=0)
            wins_plain = sum(
                s[(base, method)][0] > s[(base, "plain")][0] for s in results.values()
            )
            wins_random = sum(
                s[(base, method)][0] > s[(base, "RG-random")][0]
                for s in results.values()
            )
            lines.append(
                f"| {base} | {method} | {mean[0]:.3f} | {mean[0] / plain[0]:.3f} "
                f"| {mean[1]:.3f} | {mean[1] / plain[1]:.3f} "
                f"| {wins_plain}/{len(results)} | {wins_random}/{len(results)} |"
            )
    return "\n".join(lines)


def main(quick=False):
    torch.set_num_threads(1)
    names = (KEEL[:2] if quick else KEEL) + ["digits-LT10"]
    n_splits, n_repeats = (3, 1) if quick else (5, 1)
    start = time.perf_counter()
    results = {}
    for name in names:
        results[name] = evaluate(name, n_splits, n_repeats)
        print(f"{name}: done at {time.perf_counter() - start:.0f} s", flush=True)
    elapsed = time.perf_counter() - start
    command = "python benchmarks/bench_regrouping.py" + (" --quick" if quick else "")
    parts = [
        "# Regrouping (RG) against plain, class-weighted and random regrouping",
        "",
        f"Command: `{command}`; {n_repeats} x {n_splits}-fold stratified CV, "
        f"1 torch thread, CPU, {elapsed:.0f} s. Minority AP: the minority class "
        "for the KEEL sets, the mean one-vs-rest AP of the 5 smallest classes for "
        "digits-LT10. Best of a row in bold.",
        "",
        "## Summary (means over the datasets)",
        "",
        summary(results),
    ]
    for base in ["net", "linear"]:
        for metric, title in [("AP", "minority AP"), ("BA", "balanced accuracy")]:
            parts += ["", f"## {base}: {title}", "", table(results, metric, base)]
    text = "\n".join(parts) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    suffix = "_quick" if quick else ""
    (RESULTS / f"regrouping{suffix}.md").write_text(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 datasets, 3 folds")
    main(**vars(parser.parse_args()))
