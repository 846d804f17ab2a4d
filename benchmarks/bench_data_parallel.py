"""Data-parallel training on CPU: 1 vs 2 processes through accelerate (issue 15).

Claim: a skimb net trained on two processes through
:class:`skimb.nn.AccelerateMixin` (torchrun, gloo) reaches the accuracy of
one process within the seed-to-seed noise: with 12 seeds, each batch split
across the 2 processes, the per-seed difference of balanced accuracy is
+0.0010 (standard error 0.0012). The earlier runs' -0.003 came from
``Accelerator(split_batches=True)``, which accelerate ignores: each process
took whole batches, half the optimiser steps an epoch. On these 2 CPU cores
and this small MLP the two processes are slower than one (gradient
synchronisation every 64-row half batch); the gain needs free cores or GPUs
and larger models.

Setup: ``make_classification`` (50,000 rows, 20 features, 10 informative, 90:10),
stratified 80/20 split; ``LogitAdjustedNet`` (the library's MLP, batch 128,
``early_stopping=False``, a fixed number of epochs), seeds 0 to 4. Three
runs: the plain ``LogitAdjustedNet`` in this process (its own array
batching; the reference), and ``class AcceleratedNet(AccelerateMixin,
LogitAdjustedNet)`` with ``Accelerator(cpu=True,
dataloader_config=DataLoaderConfiguration(split_batches=True))`` (accelerate
ignores ``Accelerator(split_batches=True)``, which the runs before 2026-12-02
used: each process then took whole batches, half the steps an epoch)
launched by ``python -m torch.distributed.run --nproc_per_node P`` for P = 1
and 2. ``split_batches=True`` keeps the optimisation of one process: each
step's 128 rows are split between the processes and their gradients
averaged. Reported per run: test balanced accuracy and accuracy (mean and
range over the seeds), fit seconds (wall, rank 0, mean over seeds) and
training rows per second (epochs x training rows / fit seconds, all
processes together). One torch thread per process; the machine has 2 cores,
shared, so the 2-process throughput is bounded by the cores left free.
Full: 50,000 rows, 5 epochs; ``--quick``: 20,000 rows, 3 epochs, one seed.

    python benchmarks/bench_data_parallel.py [--quick]
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from _harness import cli, table, write_result

BATCH = 128


def _data(quick):
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    n = 20_000 if quick else 50_000
    X, y = make_classification(
        n_samples=n, n_features=20, n_informative=10, weights=[0.9], random_state=0
    )
    X = X.astype(np.float32)
    return train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)


def _settings(quick, seeds=5):
    return dict(epochs=3 if quick else 5, seeds=[0] if quick else list(range(seeds)))


def _scores(net, X_test, y_test):
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    pred = net.predict(X_test)
    return balanced_accuracy_score(y_test, pred), accuracy_score(y_test, pred)


def _params(epochs, seed):
    return dict(
        max_epochs=epochs, batch_size=BATCH, random_state=seed, early_stopping=False
    )


def worker(quick, output, seeds):
    """Run by every process under torchrun; rank 0 writes the results."""
    import torch
    from accelerate import Accelerator, DataLoaderConfiguration

    from skimb.nn import AccelerateMixin, LogitAdjustedNet

    class AcceleratedNet(AccelerateMixin, LogitAdjustedNet):
        """LogitAdjustedNet trained through accelerate."""

    torch.set_num_threads(1)
    X_train, X_test, y_train, y_test = _data(quick)
    settings = _settings(quick, seeds)
    accelerator = Accelerator(
        cpu=True, dataloader_config=DataLoaderConfiguration(split_batches=True)
    )
    runs = []
    for seed in settings["seeds"]:
        net = AcceleratedNet(
            accelerator=accelerator, **_params(settings["epochs"], seed)
        )
        accelerator.wait_for_everyone()
        start = time.perf_counter()
        net.fit(X_train, y_train)
        accelerator.wait_for_everyone()
        seconds = time.perf_counter() - start
        runs.append([seconds, *_scores(net, X_test, y_test)])
    if accelerator.is_main_process:
        with open(output, "w") as f:
            json.dump({"processes": accelerator.num_processes, "runs": runs}, f)


def _launch(n_processes, quick, seeds):
    with tempfile.TemporaryDirectory() as folder:
        output = os.path.join(folder, "result.json")
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            str(n_processes),
            __file__,
            "--worker",
            output,
            "--seeds",
            str(seeds),
        ] + (["--quick"] if quick else [])
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        subprocess.run(command, check=True, env=env)
        with open(output) as f:
            return json.load(f)["runs"]


def _row(name, runs, n_train, epochs):
    seconds, balanced, accuracy = np.array(runs).T
    return [
        name,
        f"{balanced.mean():.4f} ({balanced.min():.4f}-{balanced.max():.4f})",
        f"{accuracy.mean():.4f} ({accuracy.min():.4f}-{accuracy.max():.4f})",
        f"{seconds.mean():.1f}",
        f"{epochs * n_train / seconds.mean():,.0f}",
    ]


def _paired(runs, reference):
    """Mean and standard error of the per-seed balanced-accuracy differences."""
    diff = np.array(runs)[:, 1] - np.array(reference)[:, 1]
    se = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else float("nan")
    return diff.mean(), se


def main(quick=False, worker_output=None, seeds=5):
    if worker_output is not None:
        worker(quick, worker_output, seeds)
        return
    from skimb.nn import LogitAdjustedNet

    X_train, X_test, y_train, y_test = _data(quick)
    settings = _settings(quick, seeds)
    epochs = settings["epochs"]
    plain = []
    for seed in settings["seeds"]:
        net = LogitAdjustedNet(**_params(epochs, seed))
        start = time.perf_counter()
        net.fit(X_train, y_train)
        plain.append([time.perf_counter() - start, *_scores(net, X_test, y_test)])
    reference = "LogitAdjustedNet, 1 process (reference)"
    rows = [_row(reference, plain, len(y_train), epochs) + ["", ""]]
    for n_processes in (1, 2):
        runs = _launch(n_processes, quick, seeds)
        name = f"AccelerateMixin, {n_processes} process{'es' * (n_processes > 1)}"
        mean, se = _paired(runs, plain)
        rows.append(
            _row(name, runs, len(y_train), epochs) + [f"{mean:+.4f}", f"{se:.4f}"]
        )
        print(rows[-1], flush=True)
    text = (
        "# Data-parallel training through accelerate, CPU\n\n"
        f"`python benchmarks/bench_data_parallel.py{' --quick' if quick else ''}`: "
        f"{len(y_train):,} training and {len(y_test):,} test rows (20 features, "
        f"90:10), LogitAdjustedNet, {epochs} epochs, batch {BATCH} "
        "(split across the processes: `DataLoaderConfiguration(split_batches=True)`), "
        "seeds "
        f"0 to {settings['seeds'][-1]}; gloo backend, torchrun, one torch thread per "
        "process, 2 shared cores.\n\n"
        + table(
            [
                "run",
                "balanced accuracy (range)",
                "accuracy (range)",
                "fit s",
                "training rows / s",
                "balanced acc. - reference, same seed (mean)",
                "its standard error",
            ],
            rows,
        )
        + "\n"
    )
    write_result("data_parallel", text, quick)


if __name__ == "__main__":
    cli(
        main,
        __doc__,
        ("--worker", dict(dest="worker_output", default=None)),
        ("--seeds", dict(type=int, default=5, help="seeds 0 .. N-1 (full run)")),
    )
