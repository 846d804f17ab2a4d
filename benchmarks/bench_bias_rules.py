"""Rules that transfer: variance-reducing choices of BA's binary threshold.

Issue 16, Build 5. ``bench_bias_transfer.py`` found that BA's minority-F1
threshold, the argmax of the F1 curve of the pooled validation rows of 5 fold
models, overfits the few validation minority rows: it predicts more minority
rows on validation than the refit does on the test rows. This script scores
principled, variance-reducing rules for that threshold against the plain base
and BA as it is, on the same outer folds as ``bench_decision_layer.py`` (its
12 sets, RepeatedStratifiedKFold(3 x ``--repeats``, random_state=0), bases
``make_pipeline(StandardScaler(), NetClassifier(random_state=0))`` and
``HistGradientBoostingClassifier(random_state=0)``, BA's inner folds
StratifiedKFold(5) and the refit on the outer training rows).

Each outer fold's pooled validation margins ``m = z_1 - z_0`` of the 5 fold
models and the refit's test margins are computed once (cached in
``results/local/bias_rules_cache_<repeats>.pkl``, 8 min on 2 shared
cores); every rule is a threshold
``t`` on the pooled validation margins (BA's ``state_on="validation"``
transfers exactly such a threshold), applied as ``m_test > t``:

- plain: ``t = 0``;
- BA: ``BiasAdjustedClassifier``'s search on the pooled logits (its defaults:
  ``search="decimal"``, ``min_improvement=0.01``);
- exact: the argmax of the pooled validation score over every threshold
  (``search="exact"``), with the same guard;
- bag-median / bag-mean: the median / mean of the exact argmax threshold over
  ``B`` stratified bootstrap resamples of the pooled validation rows (bagging);
- smooth: the argmax of the mean score curve over the ``B`` resamples (the
  expected score at each threshold);
- BA bagged, seed s: ``BiasAdjustedClassifier(n_bootstrap=100)``'s rule
  (the library's search on the pooled logits, the mean of the best threshold
  over the resamples, with the 0.01 guard on its pooled score), for 3
  bootstrap seeds (G-mean and minority F1: the cost scorer is not a
  confusion-count scoring);
- F1*/2: for minority F1 only, Platt scaling of the margins on the pooled
  validation rows and the threshold where the calibrated probability is half
  the best validation F1 (Lipton et al. 2014).

Rules with a guard (suffix "+g") keep ``t = 0`` unless the rule's own
validation criterion (the pooled score at t; for smooth and bagging the
bootstrap-mean score at t) beats that of ``t = 0`` by more than 0.01.

    python benchmarks/bench_bias_rules.py [--quick] [--repeats R] [--jobs J]
"""

import pickle
import time
import warnings

import numpy as np
from _harness import RESULTS, cli, command, table, write_result
from bench_decision_layer import COST, datasets
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skimb.adjustment._logits import raw_logits
from skimb.nn import NetClassifier

BASES = ["net", "HGB"]
B = 100
# Bootstrap seeds of the library's rule: the spread they give is the noise
# of any bootstrap rule's numbers.
LIBRARY_SEEDS = 3


def _base(base):
    if base == "net":
        return NetClassifier(random_state=0)
    return HistGradientBoostingClassifier(random_state=0)


def _margin(model, X):
    z = raw_logits(model, X, 2)
    return z[:, 1] - z[:, 0]


def fold_margins(base, X_train, y_train, X_test):
    """Pooled validation margins, their labels, and the refit's test margins."""
    if base == "net":
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    val_m, val_y = [], []
    for train, valid in StratifiedKFold(5).split(X_train, y_train):
        model = clone(_base(base)).fit(X_train[train], y_train[train])
        val_m.append(_margin(model, X_train[valid]))
        val_y.append(y_train[valid])
    refit = clone(_base(base)).fit(X_train, y_train)
    return np.concatenate(val_m), np.concatenate(val_y), _margin(refit, X_test)


def dataset_margins(name, X, y, repeats):
    import torch

    torch.set_num_threads(1)
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=repeats, random_state=0)
    out = {b: [] for b in BASES}
    start = time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for train, test in cv.split(X, y):
            for b in BASES:
                vm, vy, tm = fold_margins(b, X[train], y[train], X[test])
                out[b].append((vm, vy, tm, y[test]))
    print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    return name, out


# -- metrics from counts --------------------------------------------------------


def _metric(name, tp, fn, fp, tn):
    tp, fn, fp, tn = (np.asarray(a, dtype=float) for a in (tp, fn, fp, tn))
    with np.errstate(invalid="ignore", divide="ignore"):
        if name == "minority F1":
            return np.nan_to_num(2 * tp / (2 * tp + fp + fn))
        if name == "G-mean":
            tpr = np.nan_to_num(tp / (tp + fn))
            tnr = np.nan_to_num(tn / (tn + fp))
            return np.sqrt(tpr * tnr)
    # cost: higher is better, as the scorer
    c_fp, c_fn = COST[0][1], COST[1][0]
    return -(c_fp * fp + c_fn * fn) / (tp + fn + fp + tn)


METRICS = ["minority F1", "G-mean", "cost"]


def curve(m, y, metric, w=None):
    """Score at every threshold between sorted margins; thresholds, scores.

    Threshold ``k`` predicts the ``k`` rows of the largest margins as class 1
    (thresholds midway between distinct margins, k = 0..n).
    """
    order = np.argsort(-m, kind="stable")
    ms, ys = m[order], y[order]
    w = np.ones_like(ms) if w is None else w[order]
    tp = np.concatenate([[0.0], np.cumsum(w * ys)])
    fp = np.concatenate([[0.0], np.cumsum(w * (1 - ys))])
    P, N = tp[-1], fp[-1]
    # only cut between distinct margins
    distinct = np.concatenate([[True], ms[1:] != ms[:-1], [True]])
    scores = _metric(metric, tp, P - tp, fp, N - fp)
    upper = np.concatenate([[np.inf], ms])
    lower = np.concatenate([ms, [-np.inf]])
    thr = np.where(
        np.isfinite(upper) & np.isfinite(lower),
        (upper + lower) / 2,
        np.where(np.isfinite(lower), lower - 1.0, upper + 1.0),
    )
    return thr[distinct], scores[distinct]


def score_at(m, y, metric, t):
    pred = m > t
    tp = np.sum(pred & (y == 1))
    fp = np.sum(pred & (y == 0))
    fn = np.sum(~pred & (y == 1))
    tn = np.sum(~pred & (y == 0))
    return float(_metric(metric, tp, fn, fp, tn))


def _argmax_middle(scores):
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    return best[len(best) // 2]


def bootstrap_weights(y, rng, n_boot):
    """Stratified bootstrap as count weights, shape (n_boot, n)."""
    out = np.zeros((n_boot, y.size))
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        for b in range(n_boot):
            pick = rng.choice(idx, idx.size, replace=True)
            out[b] += np.bincount(pick, minlength=y.size)
    return out


def rules(vm, vy, metric, seed=0):
    """``{rule: threshold}`` on the pooled validation margins."""
    from skimb.adjustment import search_target, solve_bias

    name = {"minority F1": "minority_f1", "G-mean": "gmean"}.get(metric)
    if name is None:
        from skimb.metrics import make_cost_scorer

        name = make_cost_scorer(COST)
    z = np.column_stack([np.zeros_like(vm), vm])
    own = score_at(vm, vy, metric, 0.0)
    out = {"plain": 0.0}
    target, score, _ = search_target(vy, z, scoring=name)
    bias = solve_bias(z, target, tol=1e-6)
    t_ba = -(bias[1] - bias[0])
    out["BA"] = 0.0 if score - own <= 0.01 else float(t_ba)
    out["BA, no guard"] = float(t_ba)
    thr, sc = curve(vm, vy, metric)
    i = _argmax_middle(sc)
    out["exact"] = float(thr[i])
    out["exact+g"] = float(thr[i]) if sc[i] - own > 0.01 else 0.0
    rng = np.random.default_rng(seed)
    W = bootstrap_weights(vy, rng, B)
    ts, curves, owns = [], [], []
    for w in W:
        tb, sb = curve(vm, vy, metric, w)
        ts.append(tb[_argmax_middle(sb)])
        # the bootstrap curve on the common grid thr
        curves.append(_on_grid(vm, vy, metric, w, thr))
        owns.append(_on_grid(vm, vy, metric, w, np.array([0.0]))[0])
    ts, curves = np.array(ts), np.array(curves)
    mean_curve = curves.mean(axis=0)
    own_b = float(np.mean(owns))
    for label, t in (
        ("bag-median", float(np.median(ts))),
        ("bag-mean", float(np.mean(ts))),
        ("smooth", float(thr[_argmax_middle(mean_curve)])),
    ):
        out[label] = t
        crit = float(np.mean(_on_grid(vm, vy, metric, None, np.array([t]), W)))
        out[label + "+g"] = t if crit - own_b > 0.01 else 0.0
    if name in ("minority_f1", "gmean"):  # the library's bagging (n_bootstrap)
        for s in range(LIBRARY_SEEDS):
            out[f"BA bagged, seed {s}"] = _library_bagged(vm, vy, name, 1000 * s + seed)
    if metric == "minority F1":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6).fit(vm[:, None], vy)
        a, c = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        f_star = float(sc.max())
        p = np.clip(f_star / 2, 1e-6, 1 - 1e-6)
        out["F1*/2"] = float((np.log(p / (1 - p)) - c) / a) if a > 0 else 0.0
    return out


def _library_bagged(vm, vy, name, seed):
    """BA's threshold with ``n_bootstrap=B`` (``state_on="validation"``)."""
    from skimb.adjustment import solve_bias
    from skimb.adjustment._search import score_rule, search_folds
    from skimb.metrics import get_scorer

    z = np.column_stack([np.zeros_like(vm), vm])
    classes = np.array([0, 1])
    prior = np.bincount(vy, minlength=2) / vy.size
    scorer = get_scorer(name)
    target, score, _ = search_folds(
        [(z, z, vy)],
        target="search",
        search="decimal",
        scoring=name,
        scorer=scorer,
        classes=classes,
        prior=prior,
        n_bootstrap=B,
        random_state=seed,
    )
    own = score_rule(z, vy, scoring=name, scorer=scorer, classes=classes)
    if score - own <= 0.01:
        return 0.0
    bias = solve_bias(z, target, tol=1e-6)
    return float(-(bias[1] - bias[0]))


def _on_grid(m, y, metric, w, grid, W=None):
    """Score of thresholds ``grid`` under weights ``w`` (or mean over ``W``)."""
    if W is not None:
        return np.mean([_on_grid(m, y, metric, wb, grid) for wb in W], axis=0)
    w = np.ones_like(m) if w is None else w
    order = np.argsort(m)
    ms = m[order]
    wp = np.concatenate([[0.0], np.cumsum((w * y)[order])])
    wn = np.concatenate([[0.0], np.cumsum((w * (1 - y))[order])])
    k = np.searchsorted(ms, grid, side="right")  # rows <= t are predicted 0
    P, N = wp[-1], wn[-1]
    tp, fp = P - wp[k], N - wn[k]
    return _metric(metric, tp, P - tp, fp, N - fp)


def evaluate(cache):
    """``{base: {metric: {rule: {dataset: mean test score}}}}``."""
    out = {}
    for name, per_base in cache.items():
        for base, folds in per_base.items():
            for metric in METRICS:
                acc = {}
                for k, (vm, vy, tm, ty) in enumerate(folds):
                    for rule, t in rules(vm, vy, metric, seed=k).items():
                        acc.setdefault(rule, []).append(score_at(tm, ty, metric, t))
                for rule, values in acc.items():
                    out.setdefault(base, {}).setdefault(metric, {}).setdefault(
                        rule, {}
                    )[name] = float(np.mean(values))
    return out


def render(results, quick, repeats, minutes):
    lines = [
        "# Rules that transfer: variance-reducing threshold choices\n",
        f"Command: `{command('bench_bias_rules.py', quick, '--repeats', str(repeats))}`"
        f"; {minutes:.1f} min. B = {B} stratified bootstrap resamples. Cells: "
        "mean test score over datasets (cost: mean cost per row, lower is "
        "better); > / < plain: datasets above / below the plain base (means "
        "over the outer folds).\n",
    ]
    for base, per_metric in results.items():
        for metric, per_rule in per_metric.items():
            sign = -1.0 if metric == "cost" else 1.0
            rows = []
            plain = per_rule["plain"]
            for rule, per_set in per_rule.items():
                gaps = [per_set[n] - plain[n] for n in per_set]
                wins = sum(g > 1e-9 for g in gaps)
                losses = sum(g < -1e-9 for g in gaps)
                ba = per_rule["BA"]
                vs_ba = [per_set[n] - ba[n] for n in per_set]
                rows.append(
                    [
                        rule,
                        f"{sign * np.mean(list(per_set.values())):.4f}",
                        f"{wins} / {losses}",
                        f"{sum(g > 1e-9 for g in vs_ba)} / "
                        f"{sum(g < -1e-9 for g in vs_ba)}",
                    ]
                )
            lines.append(f"## {base}, {metric}\n")
            lines.append(
                table(["rule", "mean", "> / < plain", "> / < BA"], rows) + "\n"
            )
    names = sorted(next(iter(next(iter(results.values())).values()))["plain"])
    lines.append("## Per dataset, minority F1\n")
    for base in results:
        per_rule = results[base]["minority F1"]
        header = ["dataset", *per_rule]
        rows = [[n, *(f"{per_rule[r][n]:.3f}" for r in per_rule)] for n in names]
        lines.append(f"### {base}\n\n" + table(header, rows) + "\n")
    return "\n".join(lines)


def main(quick=False, repeats=2, jobs=2):
    start = time.perf_counter()
    chosen = datasets(quick)
    # the cache stays in results/local/, also with --update-results
    suffix = "_quick" if quick else ""
    path = RESULTS / "local" / f"bias_rules_cache_{repeats}{suffix}.pkl"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        cache = pickle.loads(path.read_bytes())
    else:
        order = sorted(chosen, key=lambda n: -len(chosen[n][1]))
        tasks = (delayed(dataset_margins)(n, *chosen[n], repeats) for n in order)
        cache = dict(Parallel(n_jobs=jobs)(tasks))
        path.write_bytes(pickle.dumps(cache))
    cache = dict(sorted(cache.items()))
    results = evaluate(cache)
    minutes = (time.perf_counter() - start) / 60
    write_result("bias_rules", render(results, quick, repeats, minutes), quick)


if __name__ == "__main__":
    cli(
        main,
        __doc__,
        ("--repeats", dict(type=int, default=2, help="outer CV repeats")),
        ("--jobs", dict(type=int, default=2, help="datasets in parallel")),
    )
