"""Training and predicting from a memmap that stays on disk (issue 15).

Claim: ``NetClassifier`` fits on, and predicts, a numpy memmap a block of
rows at a time, at the speed of its in-memory path and of a hand-written
torch loop over the same file, with a peak of anonymous memory (``RssAnon``
of ``/proc/self/status``: the process's own memory, not the file's pages in
the page cache) far below the file's size.

Setup: a 10,000,000 x 20 float32 memmap (800 MB; ``--quick``: 1,000,000 x
20), labels from a noisy linear rule, 5% minority, written once to
``--data-dir`` (default ``results/local/``). Every case runs in a fresh
process that polls ``RssAnon`` every 5 ms; the table reports the growth of
``RssAnon`` from just before the call to its peak during it. One epoch,
batches of 128 rows (NetClassifier's default), the default MLP(128),
AdamW 3e-3, one thread:

- **memmap**: ``NetClassifier(max_epochs=1, early_stopping=False).fit(X_mm,
  y)``, then ``predict_proba(X_mm)`` over all rows (the default in-net
  quantile preprocessing; early stopping off because the hand-written loop
  has no validation pass);
- **in memory**: the same fit on ``np.array(X_mm)`` (the rows loaded first,
  not counted in the growth);
- **hand-written torch loop** over the memmap (the baseline): the same
  module and optimiser, a shuffled order, each batch read by one sorted
  fancy-indexing of the memmap, no preprocessing and no validation.

    python benchmarks/bench_out_of_core.py [--quick] [--data-dir DIR]
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch
from _harness import RESULTS, cli, command, table, write_result

N_FEATURES = 20
BATCH = 128


def _rss_anon():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon in /proc/self/status (Linux only)")


class PeakAnon:
    """Peak RssAnon growth (bytes) while the block runs, polled every 5 ms."""

    def __enter__(self):
        self.start = self.peak = _rss_anon()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_anon())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_anon())
        self.growth = self.peak - self.start


def _write_data(path, n_rows):
    """The memmap and its labels, written a million rows at a time."""
    labels = path.with_suffix(".labels.npy")
    if path.exists() and labels.exists() and path.stat().st_size == n_rows * 80:
        return
    rng = np.random.default_rng(0)
    coef = rng.normal(size=N_FEATURES)
    X = np.memmap(path, dtype=np.float32, mode="w+", shape=(n_rows, N_FEATURES))
    y = np.empty(n_rows, dtype=np.int64)
    for start in range(0, n_rows, 1_000_000):
        stop = min(n_rows, start + 1_000_000)
        block = rng.normal(size=(stop - start, N_FEATURES)) * 10 + 3
        X[start:stop] = block
        score = (block - 3) @ coef / 10 + rng.logistic(size=stop - start)
        y[start:stop] = score > np.quantile(score, 0.95)
    X.flush()
    del X
    np.save(labels, y)


def _open(path, n_rows):
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(n_rows, N_FEATURES))
    return X, np.load(path.with_suffix(".labels.npy"))


def _net():
    from skimb.nn import NetClassifier

    return NetClassifier(max_epochs=1, early_stopping=False, random_state=0)


def _torch_loop(X, y):
    """One epoch of the hand-written loop over the memmap."""
    from skimb.nn import MLP

    torch.manual_seed(0)
    module = MLP(n_features=N_FEATURES, n_classes=2)
    optimizer = torch.optim.AdamW(module.parameters(), lr=3e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    order = np.random.default_rng(0).permutation(len(y))
    for start in range(0, len(y), BATCH):
        batch = np.sort(order[start : start + BATCH])
        xb, yb = torch.from_numpy(X[batch]), torch.from_numpy(y[batch])
        optimizer.zero_grad()
        loss_fn(module(xb), yb).backward()
        optimizer.step()


def _child(case, path, n_rows):
    """Run one case in this process; print its measurements as JSON."""
    torch.set_num_threads(1)
    X, y = _open(Path(path), n_rows)
    out = {}
    if case == "in memory":
        X = np.array(X)
    with PeakAnon() as memory:
        start, cpu = time.perf_counter(), time.process_time()
        net = _net().fit(X, y) if case != "torch loop" else _torch_loop(X, y)
        out["fit_s"] = time.perf_counter() - start
        out["fit_cpu_s"] = time.process_time() - cpu
    out["fit_growth"] = memory.growth
    if case == "memmap":
        with PeakAnon() as memory:
            start, cpu = time.perf_counter(), time.process_time()
            proba = net.predict_proba(X)
            out["predict_s"] = time.perf_counter() - start
            out["predict_cpu_s"] = time.process_time() - cpu
        out["predict_growth"] = memory.growth
        out["output_bytes"] = proba.nbytes
    print(json.dumps(out))


def main(quick=False, data_dir=None, child=None, path=None, rows=None):
    if child:
        return _child(child, path, rows)
    n_rows = 1_000_000 if quick else 10_000_000
    folder = Path(data_dir) if data_dir else RESULTS / "local"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"out_of_core_{n_rows}.f32"
    _write_data(path, n_rows)
    file_mb = n_rows * N_FEATURES * 4 / 2**20
    results = {}
    for case in ["memmap", "in memory", "torch loop"]:
        run = subprocess.run(
            [sys.executable, __file__, "--child", case, "--path", str(path)]
            + ["--rows", str(n_rows)],
            capture_output=True,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        if run.returncode:
            raise RuntimeError(f"{case} failed:\n{run.stderr[-3000:]}")
        results[case] = json.loads(run.stdout.strip().splitlines()[-1])
        print(case, results[case], flush=True)
    base = n_rows / results["torch loop"]["fit_s"]
    rows = []
    for case, name in [
        ("memmap", "NetClassifier, memmap"),
        ("in memory", "NetClassifier, in memory"),
        ("torch loop", "hand-written torch loop, memmap (baseline)"),
    ]:
        r = results[case]
        speed = n_rows / r["fit_s"]
        rows.append(
            [
                name,
                f"{speed:,.0f}",
                f"{speed / base:.2f}",
                f"{n_rows / r['fit_cpu_s']:,.0f}",
                f"{r['fit_growth'] / 2**20:.0f}",
                f"{r['fit_growth'] / 2**20 / file_mb:.2f}",
            ]
        )
    r = results["memmap"]
    text = (
        "# Out of core: training and predicting from a memmap\n\n"
        f"`{command('bench_out_of_core.py', quick)}`: {n_rows:,} x {N_FEATURES} "
        f"float32 memmap ({file_mb:.0f} MB), one epoch, batches of {BATCH}, one "
        "thread; memory is the growth of RssAnon (anonymous memory, not the "
        "file's cached pages) from just before the call to its peak; each case "
        "in a fresh process.\n\n"
        + table(
            [
                "fit",
                "rows / s (wall)",
                "vs torch loop",
                "rows / CPU s",
                "peak RssAnon growth, MB",
                "of the file's size",
            ],
            rows,
        )
        + "\n\n"
        + table(
            [
                "predict_proba over all rows (memmap)",
                "s (wall)",
                "rows / CPU s",
                "peak RssAnon growth, MB",
                "of the file's size",
                "output, MB",
            ],
            [
                [
                    "NetClassifier",
                    f"{r['predict_s']:.1f}",
                    f"{n_rows / r['predict_cpu_s']:,.0f}",
                    f"{r['predict_growth'] / 2**20:.0f}",
                    f"{r['predict_growth'] / 2**20 / file_mb:.2f}",
                    f"{r['output_bytes'] / 2**20:.0f}",
                ]
            ],
        )
        + "\n"
    )
    write_result("out_of_core", text, quick)


if __name__ == "__main__":
    cli(
        main,
        __doc__,
        ("--data-dir", dict(default=None, help="where the memmap is written")),
        ("--child", dict(default=None, help="internal: run one case")),
        ("--path", dict(default=None, help="internal")),
        ("--rows", dict(default=None, type=int, help="internal")),
    )
