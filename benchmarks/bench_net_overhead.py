"""Epoch time of NetClassifier against a plain skorch NeuralNetClassifier.

Both train the same MLP with the same optimizer, batch size and loss on
100,000 x 50 float32 rows, without validation split. The claim: NetClassifier's
wrapper (validation, label encoding, seeding, device resolution) costs at most
5% per epoch.

    python benchmarks/bench_net_overhead.py [--quick]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from skorch import NeuralNetClassifier

from skimb.nn import MLP, NetClassifier

RESULTS = Path(__file__).parent / "results"


def time_fit(make, X, y):
    """Median epoch time from skorch's history, and the whole fit time."""
    net = make()
    start = time.perf_counter()
    net.fit(X, y)
    return float(np.median(net.history[:, "dur"])), time.perf_counter() - start


def main(quick=False):
    torch.set_num_threads(1)
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

    def ours():
        return NetClassifier(random_state=0, **common)

    repeats = 2 if quick else 5
    # Interleave to share any drift of the machine's speed between both.
    t_plain, t_ours = [], []
    for _ in range(repeats):
        t_plain.append(time_fit(plain, X, y))
        t_ours.append(time_fit(ours, X, y))
    (plain_epoch, plain_fit), (ours_epoch, ours_fit) = (
        np.min(t_plain, 0),
        np.min(t_ours, 0),
    )
    table = (
        "| rows x features | measure | skorch NeuralNetClassifier (s) "
        "| NetClassifier (s) | ratio |\n|---|---|---|---|---|\n"
        f"| {n:,} x 50 | epoch | {plain_epoch:.3f} | {ours_epoch:.3f} "
        f"| {ours_epoch / plain_epoch:.3f} |\n"
        f"| {n:,} x 50 | whole fit (2 epochs, validation included) "
        f"| {plain_fit:.3f} | {ours_fit:.3f} | {ours_fit / plain_fit:.3f} |\n"
    )
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "net_overhead.md").write_text(
        "# NetClassifier overhead per epoch\n\n"
        "Command: `python benchmarks/bench_net_overhead.py`; best of "
        f"{repeats} interleaved runs, 1 torch thread, CPU.\n\n" + table
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    main(parser.parse_args().quick)
