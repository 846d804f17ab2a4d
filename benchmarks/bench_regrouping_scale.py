"""RegroupingClassifier at 100,000 x 20 and 10,000:1: fit time and peak memory.

Claim: with its defaults (``n_clusters="auto"`` capped at ``max_clusters=100``
pseudo-classes a class, predict_proba aggregated by chunks), a
RegroupingClassifier around a NetClassifier fits and predicts at 10,000:1
within twice the time of the plain NetClassifier and within a few hundred MB
of its memory. Before the cap, the same
fit made 9,742 pseudo-classes, took 596 s and peaked at 12.8 GB (issue 14);
``--uncapped`` measures ``max_clusters=None`` again (minutes, gigabytes).

Data: ``make_classification``, 100,000 rows, 20 features (10 informative),
``weights=[0.9999]``, ``flip_y=0``: it rounds the minority down to 9 rows
(11,110:1). Models: the default
NetClassifier (MLP 128, 40 epochs, batch 128; ``--epochs`` to change) and
``RegroupingClassifier(NetClassifier(...), random_state=0)`` with every
other parameter at its default. Each model runs in a fresh Python process,
which reports its fit time (wall and CPU), predict_proba time on the
100,000 training rows, and peak resident memory
(``resource.getrusage(...).ru_maxrss``) together with the resident memory
before fitting (interpreter, torch and the data), so that their difference
is what fit and predict added. 1 torch thread, CPU.
Self-contained (no ``_harness``); writes ``results/regrouping_scale.md``.

    python benchmarks/bench_regrouping_scale.py [--epochs 40] [--uncapped]
"""

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

N_SAMPLES, N_FEATURES, IMBALANCE = 100_000, 20, 10_000
RESULT = Path(__file__).parent / "results" / "regrouping_scale.md"


def _rss_mb():
    """Current resident memory of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def run_one(name, epochs):
    """Fit and predict one model in this process; print a JSON line."""
    import numpy as np
    import torch
    from sklearn.datasets import make_classification

    from skimb.nn import NetClassifier
    from skimb.regrouping import RegroupingClassifier

    torch.set_num_threads(1)
    X, y = make_classification(
        n_samples=N_SAMPLES,
        n_features=N_FEATURES,
        n_informative=10,
        weights=[1 - 1 / IMBALANCE],
        flip_y=0,
        random_state=0,
    )
    X = X.astype(np.float32)
    net = NetClassifier(max_epochs=epochs, random_state=0)
    if name == "NetClassifier":
        model = net
    elif name == "RegroupingClassifier":
        model = RegroupingClassifier(net, random_state=0)
    else:  # uncapped
        model = RegroupingClassifier(net, max_clusters=None, random_state=0)
    before = _rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(X, y)
    fit_s = time.perf_counter() - start
    fit_cpu_s = time.process_time() - cpu
    start = time.perf_counter()
    proba = model.predict_proba(X)
    predict_s = time.perf_counter() - start
    n_pseudo = getattr(model, "pseudo_classes_", np.unique(y)).size
    print(
        json.dumps(
            {
                "model": name,
                "n_minority": int(np.bincount(y).min()),
                "n_pseudo": int(n_pseudo),
                "fit_s": fit_s,
                "fit_cpu_s": fit_cpu_s,
                "predict_s": predict_s,
                "rss_before_mb": before,
                "peak_mb": _peak_mb(),
                "proba_shape": list(proba.shape),
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--uncapped", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.epochs)
        return
    names = ["NetClassifier", "RegroupingClassifier"]
    if args.uncapped:
        names.append("RegroupingClassifier(max_clusters=None)")
    rows = []
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] {name} ...", flush=True)
        out = subprocess.run(
            [sys.executable, __file__, "--one", name, "--epochs", str(args.epochs)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(f"      {rows[-1]}", flush=True)
    plain = rows[0]
    lines = [
        "# RegroupingClassifier at 100,000 x 20 and 10,000:1",
        "",
        f"Command: `python benchmarks/bench_regrouping_scale.py --epochs "
        f"{args.epochs}`; make_classification, {N_SAMPLES:,} rows x {N_FEATURES}, "
        f"{plain['n_minority']} minority rows; NetClassifier (MLP 128, "
        f"{args.epochs} epochs, batch 128); 1 torch thread, CPU "
        f"({platform.processor() or platform.machine()}), each model in a fresh "
        "process. Peak: `ru_maxrss` of that process; before fit: its resident "
        "memory with torch and the data loaded. Fit CPU: process time, "
        "steadier than wall time on a shared machine.",
        "",
        "| model | pseudo-classes | fit wall (s) | fit CPU (s) | CPU ratio to "
        "plain | predict_proba (s) | peak RSS (MB) | added by fit + predict (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['model']} | {row['n_pseudo']} | {row['fit_s']:.1f} | "
            f"{row['fit_cpu_s']:.1f} | {row['fit_cpu_s'] / plain['fit_cpu_s']:.2f} | "
            f"{row['predict_s']:.2f} | "
            f"{row['peak_mb']:.0f} | {row['peak_mb'] - row['rss_before_mb']:.0f} |"
        )
    if not args.uncapped:
        lines += [
            "",
            "Before `max_clusters` (issue 14's measurement at 100,000 x 20 and "
            "10,000:1, default `n_clusters`): 9,742 pseudo-classes, 596 s fit, "
            "12.8 GB peak (predict_proba built rows x pseudo-classes at once); "
            "not re-run here (`--uncapped` does).",
        ]
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwrote {RESULT}")


if __name__ == "__main__":
    main()
