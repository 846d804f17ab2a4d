"""search_target on logits in chunks against the in-memory search (issue 15).

Claim: the binary decimal search of ``search_target`` on logits that stay on
disk (blocks read again at every pass) chooses the same target with the same
score as the in-memory search, holding one block at a time.

Setup: 10,000,000 rows x 2 classes of float64 logits (160 MB; ``--quick``:
1,000,000), 5% minority, written once to ``results/local/`` as ``.npy`` and
opened with ``mmap_mode="r"``; blocks of 1,000,000 rows (``--quick``:
100,000). Scorings G-mean and minority F1, one thread. Reported: the wall
seconds of each search, the passes over the blocks (times the callable was
called), the largest difference of the chosen targets and of the scores,
and the peak growth of anonymous memory (RssAnon) during each search; the
in-memory search starts from the logits loaded in memory (not counted).

    python benchmarks/bench_search_chunked.py [--quick]
"""

import time

import numpy as np
from _harness import RESULTS, cli, command, table, write_result
from bench_out_of_core import PeakAnon

from skimb.adjustment import search_target


def _data(n_rows):
    folder = RESULTS / "local"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"search_chunked_{n_rows}.npy"
    labels = folder / f"search_chunked_{n_rows}_y.npy"
    if not (path.exists() and labels.exists()):
        rng = np.random.default_rng(0)
        y = (rng.random(n_rows) < 0.05).astype(np.int64)
        z = np.column_stack(
            [rng.normal(size=n_rows) * 0.5, 2.5 * y + rng.normal(size=n_rows) - 3]
        )
        np.save(path, z)
        np.save(labels, y)
    return np.load(path, mmap_mode="r"), np.load(labels)


def main(quick=False):
    n_rows = 1_000_000 if quick else 10_000_000
    block = n_rows // 10
    z_disk, y = _data(n_rows)
    rows = []
    for scoring in ["gmean", "minority_f1"]:
        passes = []

        def blocks(passes=passes):
            passes.append(1)
            return (np.asarray(z_disk[i : i + block]) for i in range(0, n_rows, block))

        with PeakAnon() as chunked_memory:
            start = time.perf_counter()
            chunked = search_target(y, blocks, scoring=scoring)
            chunked_s = time.perf_counter() - start
        z = np.array(z_disk)
        with PeakAnon() as memory:
            start = time.perf_counter()
            in_memory = search_target(y, z, scoring=scoring)
            memory_s = time.perf_counter() - start
        del z
        rows.append(
            [
                scoring,
                f"{memory_s:.1f}",
                f"{chunked_s:.1f}",
                str(len(passes)),
                f"{np.abs(chunked[0] - in_memory[0]).max():.1e}",
                f"{abs(chunked[1] - in_memory[1]):.1e}",
                f"{memory.growth / 2**20:.0f}",
                f"{chunked_memory.growth / 2**20:.0f}",
            ]
        )
        print(rows[-1], flush=True)
    text = (
        "# search_target on logits in chunks\n\n"
        f"`{command('bench_search_chunked.py', quick)}`: {n_rows:,} x 2 float64 "
        f"logits ({n_rows * 16 / 2**20:.0f} MB) read from a memmapped .npy in "
        f"blocks of {block:,} rows at every pass; one thread; memory: peak "
        "growth of RssAnon during the search.\n\n"
        + table(
            [
                "scoring",
                "in memory s",
                "chunked s",
                "passes over the blocks",
                "max target diff",
                "score diff",
                "in memory RssAnon growth MB",
                "chunked RssAnon growth MB",
            ],
            rows,
        )
        + "\n"
    )
    write_result("search_chunked", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
