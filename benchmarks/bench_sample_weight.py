"""sample_weight in the nets: class weights as row weights, and per-row costs.

Issue 14, "Must show" 2. Backbone: StandardScaler then the harness's ``net()``
(``NetClassifier(module__hidden_sizes=(64,), max_epochs=20, batch_size=64,
lr=3e-3, random_state=0)``, CPU). Data: the 8 bundled KEEL sets of the
bias-adjustment benchmarks (``_harness.BA_KEEL``, IR 1.8 to 41.4; ``--quick``:
vehicle1 and yeast4). Outer evaluation: RepeatedStratifiedKFold, 3 folds x 2
repeats (``--quick``: 1 repeat); every weight is computed from the training
fold alone.

Part 1, the same result two ways:

- "sample_weight": the net fitted with ``sample_weight =
  compute_sample_weight("balanced", y_train)``, i.e. n / (K n_j) for a row of
  class j;
- "class_weight": ``LogitAdjustedNet(loss="cross_entropy",
  class_weight="balanced")``, the class-weighted cross entropy, same seed
  and settings (the harness's ``weighted_net()``).

Both batch losses are the same formula. The class-weighted cross entropy's
mean is ``sum(c_y l) / sum(c_y)`` over the batch; with ``sample_weight`` the
net's loss is ``sum(w l) / sum(w)`` (``skimb/nn/_weighted_loss.py``), and
here ``w = c_y``. The row order of the batches and the initialisation are
seeded alike. Reported: balanced accuracy, minority F1, G-mean, minority AP
of each, and the largest absolute difference between their predicted
minority probabilities over every test row of every fold.

Part 2, a user's per-row costs. Each dataset gets a transaction amount per
row: ``a_i`` drawn from a lognormal (mu 0, sigma 1) with a generator seeded
by the dataset's name (deterministic), divided by its mean, so the mean
amount is 1. ``log(a_i)`` is appended to the features (the amount is known
when a transaction is scored; it carries no information about the label).
Cost rule, on the test fold:

- a minority (positive) row predicted majority (a miss) costs its amount
  ``a_i``;
- a majority row predicted minority (a false alarm) costs ``1 / IR``, with IR
  the dataset's n_majority / n_minority, so that missing every minority row
  and flagging every majority row cost about the same (n_minority);
- correct predictions cost 0.

Methods (the same backbone, predictions by ``predict``, i.e. argmax):

- "unweighted": no weights;
- "cost-weighted": ``sample_weight`` = the cost of misclassifying the row
  (``a_i`` for a minority row, ``1 / IR`` for a majority row);
- "balanced": ``sample_weight = compute_sample_weight("balanced", y)``,
  for reference: it separates the effect of the per-row amounts from that
  of balancing the classes, which the cost weights also do on average;
- "unweighted + cost rule": for reference, no training weights, the unweighted
  net's probabilities and the Bayes rule of the costs: flag a row when
  ``p_i a_i > (1 - p_i) / IR`` (no extra fit).

Reported: the total test cost of each method per dataset (the sum over the
3 test folds of a repeat, which cover every row once; mean over the repeats),
the costs of flagging nothing and everything, and the ratio
cost-weighted / unweighted per dataset and its mean (lower is better).

    python benchmarks/bench_sample_weight.py [--quick]
"""

import time
import zlib

import numpy as np
from _harness import (
    BA_KEEL,
    cli,
    command,
    cv_scores,
    imbalance_ratio,
    keel,
    net,
    table,
    weighted_net,
    write_result,
)
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from skimb.metrics import gmean_scorer, minority_f1_score

QUICK_KEEL = ["vehicle1", "yeast4"]
METRICS = ["balanced accuracy", "minority F1", "G-mean", "AP"]


class FitWeighted(ClassifierMixin, BaseEstimator):
    """``make_pipeline(StandardScaler(), model)`` fitted with row weights.

    ``weights(X, y)`` gives the ``sample_weight`` of the training rows (None:
    unweighted); it reaches the net as ``netclassifier__sample_weight``.
    """

    def __init__(self, model, weights=None):
        self.model = model
        self.weights = weights

    def fit(self, X, y):
        self.pipeline_ = make_pipeline(StandardScaler(), self.model)
        step = self.pipeline_.steps[-1][0]
        params = {}
        if self.weights is not None:
            params[f"{step}__sample_weight"] = self.weights(X, y)
        self.pipeline_.fit(X, y, **params)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict(self, X):
        return self.pipeline_.predict(X)

    def predict_proba(self, X):
        return self.pipeline_.predict_proba(X)


def balanced_weights(X, y):
    return compute_sample_weight("balanced", y)


# -- part 1 ------------------------------------------------------------------


def part1(X, y, cv):
    """Scores of both nets per fold and the max |p difference| over all folds."""
    probas = {}
    methods = {
        "sample_weight": lambda: FitWeighted(net(), balanced_weights),
        "class_weight": lambda: FitWeighted(weighted_net()),
    }

    def score(model, X_test, y_test):
        proba = model.predict_proba(X_test)[:, 1]
        pred = model.predict(X_test)
        key = "sample_weight" if model.weights is not None else "class_weight"
        probas.setdefault(key, []).append(proba)
        return {
            "balanced accuracy": balanced_accuracy_score(y_test, pred),
            "minority F1": minority_f1_score(y_test, pred),
            "G-mean": gmean_scorer(model, X_test, y_test),
            "AP": average_precision_score(y_test, proba),
        }

    scores = cv_scores(
        X, y, cv, lambda fold, train: {k: m() for k, m in methods.items()}, score
    )
    diff = np.concatenate(probas["sample_weight"]) - np.concatenate(
        probas["class_weight"]
    )
    return scores, float(np.max(np.abs(diff)))


# -- part 2 ------------------------------------------------------------------


def amounts(name, n):
    """Deterministic positive amounts of mean 1, seeded by the dataset name."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    a = rng.lognormal(mean=0.0, sigma=1.0, size=n)
    return a / a.mean()


def part2(name, X, y, cv):
    """Total test cost per method, per repeat; and the trivial rules' costs."""
    false_alarm = 1 / imbalance_ratio(y)
    amount = amounts(name, len(y))
    Xa = np.column_stack([X, np.log(amount)])

    def row_cost(Xs, ys):
        # The cost of misclassifying each row: its amount if minority (1),
        # the false-alarm cost if majority.
        return np.where(ys == 1, np.exp(Xs[:, -1]), false_alarm)

    def total_cost(Xs, ys, pred):
        return float(np.sum(row_cost(Xs, ys) * (pred != ys)))

    methods = {
        "unweighted": lambda: FitWeighted(net()),
        "cost-weighted": lambda: FitWeighted(net(), row_cost),
        "balanced": lambda: FitWeighted(net(), balanced_weights),
    }

    def score(model, X_test, y_test):
        out = {"cost": total_cost(X_test, y_test, model.predict(X_test))}
        if model.weights is None:
            p = model.predict_proba(X_test)[:, list(model.classes_).index(1)]
            rule = (p * np.exp(X_test[:, -1]) > (1 - p) * false_alarm).astype(int)
            out["cost rule"] = total_cost(X_test, y_test, rule)
        return out

    scores = cv_scores(
        Xa, y, cv, lambda fold, train: {k: m() for k, m in methods.items()}, score
    )
    n_splits = cv.get_n_splits() // cv.n_repeats

    def per_repeat(values):
        # Sum over the folds of a repeat (every row once), mean over repeats.
        return float(np.mean(np.reshape(values, (-1, n_splits)).sum(axis=1)))

    costs = {k: per_repeat(v["cost"]) for k, v in scores.items()}
    costs["unweighted + cost rule"] = per_repeat(scores["unweighted"]["cost rule"])
    trivial = {
        "flag nothing": float(amount[y == 1].sum()),
        "flag everything": float(np.sum(y == 0) * false_alarm),
    }
    return costs, trivial


# -- main ---------------------------------------------------------------------


def mean_std(values):
    return f"{np.mean(values):.3f} ({np.std(values):.3f})"


def main(quick=False):
    names = QUICK_KEEL if quick else BA_KEEL
    repeats = 1 if quick else 2
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=repeats, random_state=0)
    start = time.perf_counter()
    rows1, rows2, ratios, ratios_balanced, rule_ratios, diffs = [], [], [], [], [], []
    cost_methods = ["unweighted", "cost-weighted", "balanced", "unweighted + cost rule"]
    for i, name in enumerate(names, 1):
        t0 = time.perf_counter()
        X, y = keel(name)
        ir = imbalance_ratio(y)
        scores, diff = part1(X, y, cv)
        diffs.append(diff)
        cells = [f"{name}", f"{ir:.1f}"]
        for metric in METRICS:
            a = np.mean(scores["sample_weight"][metric])
            b = np.mean(scores["class_weight"][metric])
            cells.append(f"{a:.4f} / {b:.4f}")
        cells.append(f"{diff:.2e}")
        rows1.append(cells)
        costs, trivial = part2(name, X, y, cv)
        ratio = costs["cost-weighted"] / costs["unweighted"]
        ratios.append(ratio)
        ratios_balanced.append(costs["cost-weighted"] / costs["balanced"])
        rule_ratios.append(costs["unweighted + cost rule"] / costs["cost-weighted"])
        best = min(costs[m] for m in cost_methods[:3])
        rows2.append(
            [name, f"{ir:.1f}"]
            + [
                f"**{costs[m]:.2f}**" if costs[m] == best else f"{costs[m]:.2f}"
                for m in cost_methods[:3]
            ]
            + [f"{costs[cost_methods[3]]:.2f}"]
            + [f"{trivial['flag nothing']:.2f}", f"{trivial['flag everything']:.2f}"]
            + [f"{ratio:.3f}", f"{costs['cost-weighted'] / costs['balanced']:.3f}"]
        )
        elapsed = time.perf_counter() - start
        eta = elapsed / i * (len(names) - i)
        print(
            f"[{i}/{len(names)}] {name}: {time.perf_counter() - t0:.0f} s, "
            f"max |dp| {diff:.1e}, cost ratio {ratio:.3f}; ETA {eta:.0f} s",
            flush=True,
        )
    minutes = (time.perf_counter() - start) / 60
    lower = sum(r < 1 for r in ratios)
    text = (
        "# sample_weight in the nets: balanced row weights vs class weights, "
        "and per-row costs\n\n"
        f"Command: `{command('bench_sample_weight.py', quick)}`; {minutes:.1f} min, "
        "1 torch thread, CPU. RepeatedStratifiedKFold(3 folds x "
        f"{repeats} repeat{'s' if repeats > 1 else ''}, random_state 0); backbone "
        "StandardScaler + NetClassifier(hidden (64,), 20 epochs, batch 64, "
        "lr 3e-3, random_state 0). See the script's docstring for the "
        "protocol.\n\n"
        '## 1. sample_weight = balanced class weights vs class_weight="balanced"\n\n'
        "Each cell: NetClassifier fitted with `sample_weight="
        'compute_sample_weight("balanced", y)` / `LogitAdjustedNet(loss='
        '"cross_entropy", class_weight="balanced")`, mean over the test folds. '
        "Max |dp|: the largest absolute difference of the two nets' predicted "
        "minority probabilities over every test row of every fold.\n\n"
        + table(["dataset", "IR", *METRICS, "max abs dp"], rows1)
        + f"\n\nLargest difference over all datasets: {max(diffs):.2e}. The two "
        "batch losses are the same formula: torch's class-weighted cross entropy "
        "is sum(c_y l) / sum(c_y) over the batch, the net's weighted loss "
        "sum(w l) / sum(w) (`skimb/nn/_weighted_loss.py`), and w = c_y here; "
        "batches and initialisation are seeded alike. They are not bit-identical "
        "because the two are computed by different float32 kernels (torch's "
        "weighted nll_loss against per-row losses multiplied and summed), whose "
        "rounding differs in the last bits and accumulates over the Adam steps.\n\n"
        "## 2. Per-row costs (transaction amounts)\n\n"
        "Total test cost (sum over the folds of a repeat, mean over repeats); "
        "a missed minority row costs its amount (mean 1 over the dataset), a "
        "false alarm 1/IR. Bold: lowest of the three trained variants. "
        '"unweighted + cost rule": the unweighted net\'s probabilities with the '
        "Bayes rule of the costs (flag when p a > (1 - p) / IR), no training "
        "weights, for reference. Ratios: lower is better.\n\n"
        + table(
            [
                "dataset",
                "IR",
                "unweighted",
                "cost-weighted",
                "balanced",
                "unweighted + cost rule",
                "flag nothing",
                "flag everything",
                "cost-weighted / unweighted",
                "cost-weighted / balanced",
            ],
            rows2,
        )
        + f"\n\nMean ratio cost-weighted / unweighted: {np.mean(ratios):.3f} "
        f"(lower on {lower}/{len(ratios)} datasets); cost-weighted / balanced: "
        f"{np.mean(ratios_balanced):.3f} (lower on "
        f"{sum(r < 1 for r in ratios_balanced)}/{len(ratios)}). The post-hoc "
        "cost rule on the unweighted net, which uses each test row's amount "
        "at decision time, is lower than the cost-weighted net on "
        f"{sum(r < 1 for r in rule_ratios)}/{len(ratios)} datasets (mean ratio "
        f"rule / cost-weighted {np.mean(rule_ratios):.3f}): weighting by cost "
        "lowers the cost of the net's own predictions, but it is not the only "
        "way to use known costs.\n"
    )
    write_result("sample_weight", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
