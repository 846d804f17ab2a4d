"""InstanceDifficulty at 10^7 rows: time per pass and bytes per row (issue 15).

Claim: the difficulty state is float32 and an update works in blocks of
rows, so a pass over 10,000,000 rows costs ``4 K + 8`` bytes a row of state
(16 for two classes) and little more while it runs; the float64 state it
replaces (skimb before issue 15, measured here from the same git history)
held twice the state and made full-size temporaries in every update.

Setup: 10,000,000 rows, K = 2 classes (``--quick``: 1,000,000); the
predictions of an epoch are float32 (as a network's ``predict_proba``),
random on the simplex, labels random. One "pass" is what
:class:`~skimb.difficulty.DifficultyResampler` and
:class:`~skimb.difficulty.DifficultySampling` do after each epoch: ``update``
with the epoch's predictions, then the draw of the next epoch's rows
(``weights`` and ``numpy.random.RandomState.choice``). Reported per
implementation: seconds per update and per draw (median of 2 passes after a
first one), the bytes per row held by the state after the passes, and the
peak of the memory allocated during one update on top of the state and the
input (``tracemalloc``, which sees numpy's allocations; torch's are not
tracked, so the torch row reports the state only). Implementations: the
float64 state of git commit ``c9a417e`` (the baseline), the float32 state
on numpy, and the float32 state as torch tensors on the CPU (the callback's
path; on a GPU it stays on the device). One thread.

    python benchmarks/bench_difficulty_scale.py [--quick]
"""

import subprocess
import time
import tracemalloc
import types
from pathlib import Path

import numpy as np
import torch
from _harness import cli, table, write_result

from skimb.difficulty import InstanceDifficulty

BASELINE_COMMIT = "c9a417e"
MODULE = "skimb/difficulty/_instance_difficulty.py"


def _baseline_class():
    """InstanceDifficulty as it was at BASELINE_COMMIT (float64 state)."""
    root = Path(__file__).parents[1]
    source = subprocess.run(
        ["git", "show", f"{BASELINE_COMMIT}:{MODULE}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("baseline_instance_difficulty")
    exec(compile(source, MODULE, "exec"), module.__dict__)
    return module.InstanceDifficulty


def _epochs(n_rows, n_epochs, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n_rows)
    for _ in range(n_epochs):
        p1 = rng.uniform(size=n_rows).astype(np.float32)
        yield np.column_stack([1 - p1, p1]), y


def _state_bytes(state):
    arrays = (state.proba_, state.unlearning_, state.learning_)
    return sum(
        a.nbytes if isinstance(a, np.ndarray) else a.element_size() * a.nelement()
        for a in arrays
    )


def _measure(make_state, as_input, n_rows):
    """Seconds per update and per draw, state bytes, peak extra bytes."""
    state = make_state()
    rng = np.random.RandomState(0)
    updates, draws = [], []
    for proba, y in _epochs(n_rows, 3):
        proba = as_input(proba)
        start = time.perf_counter()
        state.update(proba, y)
        updates.append(time.perf_counter() - start)
        start = time.perf_counter()
        weights = state.weights()
        if isinstance(weights, torch.Tensor):
            weights = weights.numpy()
        rng.choice(n_rows, size=n_rows, p=weights)
        draws.append(time.perf_counter() - start)
    state_bytes = _state_bytes(state)
    # One more update under tracemalloc: its peak beyond what is held.
    proba, y = next(_epochs(n_rows, 1, seed=1))
    proba = as_input(proba)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    state.update(proba, y)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return np.median(updates[1:]), np.median(draws[1:]), state_bytes, peak


def main(quick=False):
    n_rows = 1_000_000 if quick else 10_000_000
    baseline = _baseline_class()
    runs = [
        ("float64 state, numpy (c9a417e, baseline)", baseline, lambda p: p),
        ("float32 state, numpy", InstanceDifficulty, lambda p: p),
        ("float32 state, torch (CPU tensors)", InstanceDifficulty, torch.from_numpy),
    ]
    rows = []
    for name, cls, as_input in runs:
        update, draw, state_bytes, peak = _measure(
            lambda cls=cls: cls(), as_input, n_rows
        )
        tracked = "numpy" in name
        rows.append(
            [
                name,
                f"{update:.2f}",
                f"{draw:.2f}",
                f"{state_bytes / n_rows:.0f}",
                f"{peak / n_rows:.1f}" if tracked else "not tracked",
                f"{peak / 2**20:.0f}" if tracked else "",
            ]
        )
        print(rows[-1], flush=True)
    text = (
        "# InstanceDifficulty at scale\n\n"
        f"`python benchmarks/bench_difficulty_scale.py{' --quick' if quick else ''}`"
        f": {n_rows:,} rows, 2 classes, float32 predictions; median of 2 passes "
        "after a first, one thread.\n\n"
        + table(
            [
                "state",
                "s / update",
                "s / draw",
                "state bytes / row",
                "update peak bytes / row (beyond state and input)",
                "update peak MB",
            ],
            rows,
        )
        + "\n"
    )
    write_result("difficulty_scale", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
