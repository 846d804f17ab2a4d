"""Speed of choosing the decision rule of an already trained binary model.

Issue 3, "Must show" 1. A LogisticRegression is trained on 50,000 synthetic
rows (``make_classification``, 20 features, 5% minority, 2% label noise); the
decision rule is then chosen on 1,000,000 fresh validation rows of the same
generator by

- BiasAdjustedClassifier(cv=FrozenEstimator(model), search="exact" / "decimal"),
- TunedThresholdClassifierCV(model, cv="prefit", refit=False), scikit-learn's
  way to tune an already fitted model (the equivalent of FrozenEstimator with
  refit=False; its default 100 thresholds and, as a stronger baseline, 1,000),

all with the same G-mean scorer (``skimb.metrics.gmean_scorer``). Reported:
wall time of ``fit`` (best of the repeats), the speed-up over the tuned
threshold and the G-mean of the chosen rule on the validation rows.

Then ``solve_bias`` on 1,000,000 x 10 logits (numpy and torch, float32 and
float64, a long-tailed target): passes used and seconds per pass.

    python benchmarks/bench_bias_speed.py [--quick]
"""

import time

import numpy as np
import torch
from _harness import cli, command, table, write_result
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import TunedThresholdClassifierCV

from skimb.adjustment import BiasAdjustedClassifier, solve_bias
from skimb.metrics import gmean_scorer


def best_time(repeats, function, *args, **kwargs):
    """Call ``function`` ``repeats`` times; return its last result, best time."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model = function(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return model, min(times)


def rule_speed(n_val, repeats):
    X, y = make_classification(
        n_samples=50_000 + n_val,
        n_features=20,
        n_informative=8,
        weights=[0.95],
        flip_y=0.02,
        class_sep=0.8,
        random_state=0,
    )
    X = X.astype(np.float32)
    X_train, y_train, X_val, y_val = X[:50_000], y[:50_000], X[50_000:], y[50_000:]
    model = LogisticRegression(max_iter=1000).fit(X_train, y_train)

    contenders = {
        'BA search="exact"': lambda: BiasAdjustedClassifier(
            model, cv=FrozenEstimator(model), scoring="gmean", search="exact"
        ),
        'BA search="decimal"': lambda: BiasAdjustedClassifier(
            model, cv=FrozenEstimator(model), scoring="gmean", search="decimal"
        ),
        "TunedThresholdClassifierCV (100 thresholds)": lambda: (
            TunedThresholdClassifierCV(
                model, scoring=gmean_scorer, cv="prefit", refit=False
            )
        ),
        "TunedThresholdClassifierCV (1,000 thresholds)": lambda: (
            TunedThresholdClassifierCV(
                model,
                scoring=gmean_scorer,
                cv="prefit",
                refit=False,
                thresholds=1000,
            )
        ),
    }
    rows = {}
    for name, make in contenders.items():
        # The 1,000-threshold baseline takes minutes: time it once.
        n_rep = 1 if "1,000" in name else repeats
        fitted, seconds = best_time(n_rep, lambda m: m().fit(X_val, y_val), make)
        rows[name] = (seconds, gmean_scorer(fitted, X_val, y_val))
        print(f"{name}: {seconds:.3f} s, G-mean {rows[name][1]:.5f}", flush=True)
    plain = gmean_scorer(model, X_val, y_val)

    base_s, base_score = rows["TunedThresholdClassifierCV (100 thresholds)"]
    cells = [
        f"{name} | {seconds:.3f} | {base_s / seconds:.1f}x | {score:.5f} "
        f"| {score - base_score:+.5f}"
        for name, (seconds, score) in rows.items()
    ]
    cells.append(f"(untuned model, argmax) | - | - | {plain:.5f} | -")
    header = (
        "method | fit time (s) | speed-up vs TunedThresholdClassifierCV (100) "
        "| validation G-mean | minus TunedThresholdClassifierCV (100)"
    )
    return table(header, cells) + "\n"


def solve_speed(n, repeats):
    rng = np.random.RandomState(0)
    k = 10
    logits64 = rng.normal(scale=2.0, size=(n, k)) + np.linspace(2, -2, k)
    target = 0.5 ** np.arange(k)
    target /= target.sum()
    inputs = {
        "numpy float64": logits64,
        "numpy float32": logits64.astype(np.float32),
        "torch float64": torch.as_tensor(logits64),
        "torch float32": torch.as_tensor(logits64.astype(np.float32)),
    }
    rows = []
    for name, logits in inputs.items():
        (bias, passes), seconds = best_time(
            repeats, solve_bias, logits, target, return_n_passes=True
        )
        bias = np.asarray(bias, dtype=np.float64)
        z = logits64 + bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        error = np.abs(p.mean(axis=0) - target).max()
        rows.append(
            f"{name} | {passes} | {seconds:.3f} | {seconds / max(passes, 1):.3f} "
            f"| {error:.1e}"
        )
        print(rows[-1], flush=True)
    header = "input | passes | total (s) | seconds per pass | max abs error of MIS"
    return table(header, rows) + "\n"


def main(quick=False):
    n_val = 200_000 if quick else 1_000_000
    repeats = 1 if quick else 3
    rule = rule_speed(n_val, repeats)
    solve = solve_speed(n_val, repeats)
    text = (
        "# Choosing the decision rule of a trained binary model\n\n"
        f"Command: `{command('bench_bias_speed.py', quick)}`"
        f"; best of {repeats} run(s) (1 for the 1,000-threshold baseline), "
        "1 torch thread, CPU.\n\n"
        f"LogisticRegression trained on 50,000 synthetic rows; rule chosen on "
        f"{n_val:,} validation rows (5% minority), G-mean scorer.\n\n"
        + rule
        + f"\n## solve_bias on {n_val:,} x 10 logits\n\n"
        "Target: a long tail on the simplex (halving per class, 1e-3 smallest "
        "share); passes as reported by `return_n_passes=True`; the error is "
        "recomputed in float64 from the returned bias.\n\n" + solve
    )
    write_result("bias_speed", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
