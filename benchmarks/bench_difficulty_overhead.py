"""Cost of the per-epoch difficulty pass against a training epoch.

Claim (issue 6): scoring the training instances, updating their difficulty and
drawing the next sample (the DifficultySampling callback's work each epoch)
costs at most half a training epoch.

Setup: synthetic ``make_classification`` data, NetClassifier (MLP 128, AdamW,
batch 128), CPU with 1 torch thread. The pass is timed inside the training loop
by two timing callbacks around DifficultySampling's ``on_epoch_end``; the epoch
time is skorch's ``dur`` (recorded before the user callbacks, so it excludes
the pass), so both come from the same fit, epoch by epoch (wall times of
separate fits with and without the callback are too noisy on a shared
machine to compare). Median over 6 epochs (``--quick``: 3
epochs, smaller data).

    python benchmarks/bench_difficulty_overhead.py [--quick]
"""

import time

import numpy as np
from _harness import cli, net, table, write_result
from sklearn.datasets import make_classification
from skorch.callbacks import Callback

from skimb.difficulty import DifficultySampling


class _Clock(Callback):
    """Start (``stop=False``) or stop a clock at the end of each epoch."""

    def __init__(self, stop=False, start_clock=None):
        self.stop = stop
        self.start_clock = start_clock

    def initialize(self):
        self.tic_, self.laps_ = None, []
        return self

    def on_epoch_end(self, net, **kwargs):
        if self.stop:
            self.laps_.append(time.perf_counter() - self.start_clock.tic_)
        else:
            self.tic_ = time.perf_counter()


def measure(n_samples, n_features, n_classes, epochs):
    profile = np.geomspace(1, 0.05, n_classes)
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=min(n_features, 10),
        n_classes=n_classes,
        weights=list(profile / profile.sum()),
        random_state=0,
    )
    X = X.astype(np.float32)
    tic = _Clock()
    toc = _Clock(stop=True, start_clock=tic)
    sampling = DifficultySampling(random_state=0)
    model = net(
        "default",
        max_epochs=epochs,
        callbacks=[("tic", tic), ("difficulty", sampling), ("toc", toc)],
    )
    net("default", max_epochs=1).fit(X[:1000], y[:1000])  # warm-up
    model.fit(X, y)
    epoch = float(np.median(model.history[:, "dur"]))
    difficulty_pass = float(np.median(toc.laps_))
    return epoch, difficulty_pass


def main(quick=False):
    configs = [(5_000, 20, 2)] if quick else [(20_000, 20, 2), (50_000, 50, 10)]
    epochs = 3 if quick else 6
    lines = [
        "Difficulty pass (score all training rows, update, draw) against one "
        "training epoch; NetClassifier MLP 128, batch 128, CPU, 1 thread, "
        f"median over {epochs} epochs.",
        "",
    ]
    rows = []
    for n, d, k in configs:
        epoch, dpass = measure(n, d, k, epochs)
        rows.append([n, d, k, f"{epoch:.3f}", f"{dpass:.3f}", f"{dpass / epoch:.3f}"])
    header = ["N", "features", "classes", "epoch s (baseline)"]
    header += ["difficulty pass s", "ratio"]
    lines += [
        table(header, rows),
        "",
        "Claim: ratio <= 0.5 (the pass costs at most half an epoch).",
    ]
    text = "\n".join(lines)
    write_result("difficulty_overhead", text + "\n", quick)


if __name__ == "__main__":
    cli(main, __doc__)
