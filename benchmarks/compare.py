"""The main job: every skimb estimator against a plain network on bundled data.

For each bundled dataset asked for, repeated stratified cross-validation of
each method (all share the same NetClassifier backbone after a StandardScaler)
and the mean (std) of G-mean, minority F1 and minority average precision.

    python benchmarks/compare.py --quick          # one dataset, minutes
    python benchmarks/compare.py --datasets yeast4 ecoli4 --repeats 3
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import average_precision_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb.datasets import load_keel
from skimb.metrics import minority_f1_score
from skimb.nn import NetClassifier
from imblearn.metrics import geometric_mean_score

RESULTS = Path(__file__).parent / "results"


def backbone(**params):
    return NetClassifier(max_epochs=30, random_state=0, **params)


def methods(y):
    """Name -> factory of an unfitted estimator (fresh for every fold)."""
    counts = np.bincount(y)
    balanced = torch.tensor(len(y) / (len(counts) * counts), dtype=torch.float32)
    return {
        "plain net": lambda: backbone(),
        "class-weighted net": lambda: backbone(criterion__weight=balanced),
    }


def evaluate(make, X, y, cv):
    scores = {"G-mean": [], "minority F1": [], "AP": [], "fit s": []}
    for train, test in cv.split(X, y):
        model = make_pipeline(StandardScaler(), make())
        start = time.perf_counter()
        model.fit(X[train], y[train])
        scores["fit s"].append(time.perf_counter() - start)
        pred = model.predict(X[test])
        minority = model.predict_proba(X[test])[:, 1]
        scores["G-mean"].append(geometric_mean_score(y[test], pred))
        scores["minority F1"].append(minority_f1_score(y[test], pred, minority_label=1))
        scores["AP"].append(average_precision_score(y[test], minority))
    return {k: (np.mean(v), np.std(v)) for k, v in scores.items()}


def main(datasets, n_splits, repeats):
    torch.set_num_threads(1)
    lines = []
    for name in datasets:
        X, y = load_keel(name, return_X_y=True)
        cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=repeats, random_state=0)
        lines.append(f"\n### {name} (n={len(y)}, imbalance ratio "
                     f"{(y == 0).sum() / (y == 1).sum():.1f}, "
                     f"{repeats}x{n_splits}-fold CV)\n")
        lines.append("| method | G-mean | minority F1 | AP | fit time (s) |")
        lines.append("|---|---|---|---|---|")
        for label, make in methods(y).items():
            r = evaluate(make, X, y, cv)
            cells = [f"{r[k][0]:.3f} ± {r[k][1]:.3f}" for k in ("G-mean", "minority F1", "AP")]
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {r['fit s'][0]:.2f} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compare.md").write_text("# Main comparison\n" + text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="yeast4, 1x5-fold CV")
    parser.add_argument("--datasets", nargs="+", default=["yeast4", "ecoli4", "pima"])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.quick:
        main(["yeast4"], 5, 1)
    else:
        main(args.datasets, args.splits, args.repeats)
