"""Epoch time of NetClassifier against a plain skorch NeuralNetClassifier.

All train the same MLP with the same optimizer, batch size and loss on
100,000 x 50 float32 rows, without validation split. The claim: NetClassifier's
wrapper (validation, label encoding, seeding, device resolution) costs at most
5% per epoch when it runs skorch's own DataLoader; by default it batches
in-memory arrays itself, which is faster than skorch.

    python benchmarks/bench_net_overhead.py [--quick]
"""

import time

import numpy as np
import torch
from _harness import cli, command, table, write_result
from skorch import NeuralNetClassifier

from skimb.nn import MLP, NetClassifier


def time_fit(make, X, y):
    """Median epoch time from skorch's history, and the whole fit time."""
    net = make()
    start = time.perf_counter()
    net.fit(X, y)
    return float(np.median(net.history[:, "dur"])), time.perf_counter() - start


def main(quick=False):
    rng = np.random.RandomState(0)
    n = 20_000 if quick else 100_000
    X = rng.normal(size=(n, 50)).astype(np.float32)
    y = (X[:, :5].sum(1) + rng.normal(size=n) > 2.5).astype(np.int64)
    common = dict(
        optimizer=torch.optim.AdamW,
        lr=3e-3,
        max_epochs=2,
        batch_size=128,
        train_split=None,
        iterator_train__shuffle=True,  # NetClassifier's default; skorch's is off
        device="cpu",
        verbose=0,
    )

    def plain():
        return NeuralNetClassifier(
            MLP,
            module__n_features=50,
            module__n_classes=2,
            criterion=torch.nn.CrossEntropyLoss,
            **common,
        )

    def wrapper_only():
        # A DataLoader argument sends NetClassifier through skorch's own
        # per-row DataLoader: the same loop as ``plain``, plus the wrapper.
        return NetClassifier(random_state=0, iterator_train__num_workers=0, **common)

    def default():
        return NetClassifier(random_state=0, **common)

    makers = {
        "skorch NeuralNetClassifier (baseline)": plain,
        "NetClassifier through skorch's DataLoader (wrapper overhead)": wrapper_only,
        "NetClassifier, default (in-memory batches)": default,
    }
    repeats = 2 if quick else 5
    # Interleave to share any drift of the machine's speed between all three.
    times = {name: [] for name in makers}
    for _ in range(repeats):
        for name, make in makers.items():
            times[name].append(time_fit(make, X, y))
    best = {name: np.min(t, axis=0) for name, t in times.items()}
    base_epoch, base_fit = best["skorch NeuralNetClassifier (baseline)"]
    rows = [
        f"{name} | {epoch:.3f} | {epoch / base_epoch:.3f} | {fit:.3f} "
        f"| {fit / base_fit:.3f}"
        for name, (epoch, fit) in best.items()
    ]
    header = (
        "method | s / epoch | epoch ratio | whole fit (2 epochs, validation "
        "included) s | fit ratio"
    )
    text = (
        "# NetClassifier per-epoch cost against skorch\n\n"
        f"Command: `{command('bench_net_overhead.py', quick)}`; {n:,} x 50 float32 "
        f"rows, the same MLP(128), AdamW, batch 128, shuffled; best of {repeats} "
        "interleaved runs, 1 torch thread, CPU. The claim: the wrapper costs at "
        "most 5% per epoch (second row).\n\n" + table(header, rows) + "\n"
    )
    write_result("net_overhead", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
