"""Per-epoch training time of each imbalance loss against plain cross entropy.

Issue 4, "Must show" 4: every loss of LogitAdjustedNet within 1.2x the
per-epoch time of plain cross entropy with the same MLP and data.

Data: ``make_classification`` (40,000 rows, 32 features, 10 classes) cut to a
100:1 long tail with ``make_long_tailed`` (about 9,900 rows, 78 batches of 128
per epoch). Network: the default MLP(128), AdamW, one CPU thread. One network
per method is trained one epoch at a time (``partial_fit`` with
``max_epochs=1``), the methods' epochs interleaved in a new random order every
round, so that load from other processes hits all of them alike; the first
epoch of each is dropped (warm-up).

Two measures, both as ratios to cross entropy:

- per epoch: skorch's ``dur`` of each epoch (data loading included, what a
  user waits for), summarised by the median over rounds of the ratio to cross
  entropy's epoch in the same round (paired, so slow phases cancel);
- per training step: the time between ``on_batch_begin`` and ``on_batch_end``
  (forward, loss, backward, optimizer step; no data loading), median over all
  batches of all rounds. It isolates what differs between the methods and is
  the stricter of the two.

LDAM trains with the cosine head it assumes; the row "cross entropy, cosine
head" trains cross entropy on that same head, to separate the cost of the head
from that of the loss. The last column times the loss alone (forward and
backward on a 128 x 10 float32 batch, median of 5 runs of 2,000 calls).

    python benchmarks/bench_loss_time.py [--quick]

``--quick``: 3 rounds instead of 30.
"""

import time

import numpy as np
import torch
from _harness import cli, la_net, table, write_result
from sklearn.datasets import make_classification
from skorch.callbacks import Callback

from skimb.datasets import make_long_tailed

BASELINE = "cross entropy"
COSINE_BASELINE = "cross entropy, cosine head"
LIMIT = 1.2
METHODS = {
    BASELINE: {"loss": "cross_entropy"},
    "logit adjusted (loss)": {"loss": "logit_adjusted"},
    "logit adjusted (post-hoc)": {"loss": "logit_adjusted", "adjustment": "posthoc"},
    "balanced softmax": {"loss": "balanced_softmax"},
    "LDAM": {"loss": "ldam"},
    "LDAM-DRW": {"loss": "ldam", "class_weight": "effective_number", "drw_epoch": 0},
    "VS": {"loss": "vs"},
    "focal": {"loss": "focal"},
    "class-balanced CE": {"loss": "cross_entropy", "class_weight": "effective_number"},
    COSINE_BASELINE: {
        "loss": "cross_entropy",
        "module__cosine": True,
        "module__scale": 30.0,
    },
}


class StepTimer(Callback):
    """Record the seconds of every training step (forward to optimizer step)."""

    def initialize(self):
        self.steps_ = []
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        self._start = time.perf_counter()

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.steps_.append(time.perf_counter() - self._start)


def measure(X, y, rounds):
    """Epoch and step seconds of each method, the methods' epochs interleaved."""
    nets = {
        name: la_net(
            "default", max_epochs=1, callbacks=[("step_timer", StepTimer())], **params
        )
        for name, params in METHODS.items()
    }
    rng = np.random.RandomState(0)
    for _ in range(rounds + 1):  # the first epoch of each net is a warm-up
        for name in rng.permutation(list(nets)):
            nets[name].partial_fit(X, y)
    epochs = {name: np.array(net.history[1:, "dur"]) for name, net in nets.items()}
    n_batches = len(nets[BASELINE].history[-1, "batches"])
    steps = {
        name: np.array(dict(net.callbacks_)["step_timer"].steps_[n_batches:])
        for name, net in nets.items()
    }
    return epochs, steps


def loss_alone_times():
    """Microseconds per forward+backward of the bare criterion on one batch."""
    X = np.random.RandomState(0).normal(size=(200, 4)).astype(np.float32)
    y = np.repeat(np.arange(10), 20)
    result = {}
    z = torch.randn(128, 10, requires_grad=True)
    target = torch.randint(0, 10, (128,))
    for name, params in METHODS.items():
        net = la_net("default", max_epochs=1, **params).fit(X, y)
        criterion = net.criterion_
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(2000):
                criterion(z, target).backward()
            runs.append((time.perf_counter() - start) / 2000 * 1e6)
        result[name] = np.median(runs)
    return result


def main(quick=False):
    rounds = 3 if quick else 30
    X, y = make_classification(
        n_samples=40_000,
        n_features=32,
        n_informative=16,
        n_classes=10,
        n_clusters_per_class=1,
        random_state=0,
    )
    X, y = make_long_tailed(X, y, imbalance_ratio=100, random_state=0)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    start = time.perf_counter()
    epochs, steps = measure(X, y, rounds)
    alone = loss_alone_times()
    epoch_ratio = {n: np.median(t / epochs[BASELINE]) for n, t in epochs.items()}
    step_ratio = {
        n: np.median(t) / np.median(steps[BASELINE]) for n, t in steps.items()
    }
    lines = [
        "# Per-epoch time of each loss against plain cross entropy",
        "",
        f"{len(y)} rows (10 classes, 100:1), the default MLP(128), batch 128, "
        f"one CPU thread; {rounds} epochs per method, the methods' epochs "
        "interleaved (first epoch dropped). Epoch ratio: median over rounds of "
        "the epoch time over cross entropy's in the same round. Step ratio: "
        "median training-step time (forward, loss, backward, optimizer step) "
        f"over cross entropy's. Limit: {LIMIT}x cross entropy per epoch.",
        "",
    ]
    rows = [
        f"{name} | {np.median(epochs[name]):.4f} | {epoch_ratio[name]:.3f} | "
        f"{'yes' if epoch_ratio[name] <= LIMIT else 'NO'} | "
        f"{1e3 * np.median(steps[name]):.3f} | {step_ratio[name]:.3f} | "
        f"{alone[name]:.0f}"
        for name in METHODS
    ]
    header = (
        "method | median s / epoch | epoch ratio | within limit | median ms / "
        "step | step ratio | loss alone, us / batch"
    )
    lines.append(table(header, rows))
    ldam_vs_head = step_ratio["LDAM"] / step_ratio[COSINE_BASELINE]
    lines += [
        "",
        f"Largest epoch ratio: {max(epoch_ratio.values()):.3f} (limit {LIMIT}). "
        f"LDAM step over cross-entropy-on-the-cosine-head step: "
        f"{ldam_vs_head:.3f}. Total time: {time.perf_counter() - start:.0f} s.",
        "",
    ]
    write_result("loss_time", "\n".join(lines), quick)


if __name__ == "__main__":
    cli(main, __doc__)
