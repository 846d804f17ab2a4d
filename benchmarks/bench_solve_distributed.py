"""solve_bias on 10^8 logits through Dask on a LocalCluster (issue 15, Must show).

Claim: ``solve_bias`` given a Dask array reduces it chunk by chunk on the
workers (each Newton pass is one ``map_blocks`` + ``sum``), so 10^8 logits
(800 MB as float64) are solved with a few hundred MB per worker and the same
bias as the in-memory solve, to rounding.

Setup: ``distributed.LocalCluster(n_workers=2, threads_per_worker=1,
memory_limit="3GB")``. The logits are generated chunk-wise on the workers
(``da.random.default_rng(0).normal`` plus a class shift, chunks of
1,000,000 rows), never as one array: every pass regenerates the chunks it
reduces. Two shapes of 10^8 logits: 5*10^7 rows x 2 classes (the binary
margin solve, target [0.9, 0.1]) and 10^7 rows x 10 classes (the K-class
Newton solve, target proportional to 1..10). Reported: passes, time per pass
(wall time of the solve / passes) next to the time of one plain reduction
of the same generated array (``z.sum().compute()``: generating and reading
the chunks, the floor of any pass), the peak resident memory of each worker
process (``ru_maxrss`` read inside the workers) next to its resident memory
before the solves (interpreter, dask, skimb), and, on a tenth of the size
(10^7 logits, which fit in memory), the max |difference| between the
distributed bias and ``solve_bias`` on the same logits as one numpy array,
with the in-memory solve's time per pass as the baseline. ``--quick``: 10^6
logits (10^5 for the comparison).

    OMP_NUM_THREADS=1 python benchmarks/bench_solve_distributed.py [--quick]
"""

import os
import resource
import time

import numpy as np
from _harness import cli, table, write_result

CHUNK_ROWS = 1_000_000


def _worker_rss_mb():
    """Current and peak resident memory of this (worker) process, in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    current = pages * resource.getpagesize() / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


def _warm_up():
    """Import what the solve needs in the worker before measuring."""
    import skimb.adjustment  # noqa: F401

    return _worker_rss_mb()


def _logits(n_rows, n_classes, chunk_rows):
    import dask.array as da

    shift = np.linspace(1.0, -1.0, n_classes)
    z = da.random.default_rng(0).normal(
        size=(n_rows, n_classes), chunks=(min(chunk_rows, n_rows), n_classes)
    )
    return z + shift


def _target(n_classes):
    if n_classes == 2:
        return np.array([0.9, 0.1])
    t = np.arange(1, n_classes + 1, dtype=float)
    return t / t.sum()


def main(quick=False):
    import dask
    from distributed import Client, LocalCluster

    from skimb.adjustment import solve_bias

    total = 10**6 if quick else 10**8
    chunk_rows = CHUNK_ROWS // 10 if quick else CHUNK_ROWS
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        memory_limit="3GB",
        processes=True,
        dashboard_address=None,
        env={"OMP_NUM_THREADS": "1"},
    )
    rows = []
    with cluster, Client(cluster) as client:
        before = client.run(_warm_up)
        for n_classes in (2, 10):
            n_rows = total // n_classes
            target = _target(n_classes)
            z = _logits(n_rows, n_classes, chunk_rows)
            start = time.perf_counter()
            z.sum().compute()
            floor = time.perf_counter() - start
            start = time.perf_counter()
            bias, n_passes = solve_bias(z, target, return_n_passes=True)
            seconds = time.perf_counter() - start
            # A tenth of the size fits in memory: the same logits, both ways.
            small = _logits(n_rows // 10, n_classes, chunk_rows // 10)
            distributed_bias = solve_bias(small, target)
            in_memory = small.compute()
            start = time.perf_counter()
            local_bias, local_passes = solve_bias(
                in_memory, target, return_n_passes=True
            )
            local_seconds = time.perf_counter() - start
            del in_memory
            rows.append(
                [
                    f"{n_rows:,} x {n_classes}",
                    f"{n_rows * n_classes:.0e}",
                    n_passes,
                    f"{seconds / n_passes:.2f}",
                    f"{floor:.2f}",
                    f"{seconds:.1f}",
                    f"{n_rows // 10 * n_classes:.0e}",
                    f"{local_seconds / local_passes:.3f}",
                    f"{np.abs(distributed_bias - local_bias).max():.1e}",
                ]
            )
            print(rows[-1], flush=True)
        after = client.run(_worker_rss_mb)
    memory = [
        [
            f"worker {i + 1}",
            f"{before[w][0]:.0f}",
            f"{after[w][1]:.0f}",
            f"{after[w][1] - before[w][0]:.0f}",
        ]
        for i, w in enumerate(sorted(after))
    ]
    text = (
        "# solve_bias through Dask on a LocalCluster\n\n"
        f"`{'OMP_NUM_THREADS=1 ' if 'OMP_NUM_THREADS' in os.environ else ''}"
        f"python benchmarks/bench_solve_distributed.py{' --quick' if quick else ''}`"
        f" (dask {dask.__version__}); LocalCluster(n_workers=2, "
        "threads_per_worker=1, memory_limit=3GB); logits generated chunk-wise "
        f"on the workers, chunks of {chunk_rows:,} rows (float64).\n\n"
        + table(
            [
                "logits",
                "entries",
                "passes",
                "s / pass",
                "z.sum() s",
                "total s",
                "check size",
                "in-memory s / pass (check size)",
                "max abs diff (check size)",
            ],
            rows,
        )
        + "\n\nResident memory of each worker process (MB): before the solves "
        "(interpreter, dask, skimb imported) and its peak over all of them "
        "(`ru_maxrss`, read inside the worker).\n\n"
        + table(["worker", "before", "peak", "peak - before"], memory)
        + "\n"
    )
    write_result("solve_distributed", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
