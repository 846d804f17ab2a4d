"""Tests of skimb.nn.AccelerateMixin: skimb nets trained through HF accelerate."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from skimb.nn import AccelerateMixin, LogitAdjustedNet, NetClassifier

accelerate = pytest.importorskip("accelerate")


class AcceleratedNet(AccelerateMixin, NetClassifier):
    """NetClassifier trained through accelerate."""


class AcceleratedLANet(AccelerateMixin, LogitAdjustedNet):
    """LogitAdjustedNet trained through accelerate."""


@pytest.fixture(scope="module")
def data():
    return make_classification(
        n_samples=400, n_features=8, weights=[0.85], random_state=0
    )


def _accelerator():
    return accelerate.Accelerator(cpu=True)


def test_single_process_fit_predict(data, capsys):
    """Check that one process trains, predicts and stays silent at verbose=0."""
    X, y = data
    net = AcceleratedLANet(accelerator=_accelerator(), max_epochs=3, random_state=0)
    net.fit(X, y)
    np.testing.assert_array_equal(net.class_counts_, np.bincount(y))
    expected = torch.tensor(np.log(np.bincount(y) / len(y)))
    torch.testing.assert_close(net.criterion_.log_prior, expected)
    proba = net.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert net.get_params()["device"] is None
    assert net.device == net.accelerator.device
    assert capsys.readouterr().out == ""
    # After training the plain module is restored: it predicts like a net.
    assert not isinstance(net.module_, torch.nn.parallel.DistributedDataParallel)


def test_single_process_seeded_fits_repeat(data):
    """Check that random_state makes fits through accelerate reproducible."""
    X, y = data
    probas = [
        AcceleratedNet(accelerator=_accelerator(), max_epochs=2, random_state=1)
        .fit(X, y)
        .predict_proba(X)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(*probas)


def test_single_process_sample_weight(data):
    """Check that sample_weight reaches the weighted loss through the DataLoader."""
    X, y = data
    w = np.where(y == 1, 3.0, 1.0)
    w[:20] = 0.0
    net = AcceleratedNet(accelerator=_accelerator(), max_epochs=2, random_state=0)
    net.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(net.class_counts_, np.bincount(y, weights=w))
    plain = AcceleratedNet(accelerator=_accelerator(), max_epochs=2, random_state=0)
    plain.fit(X, y)
    assert not np.allclose(net.predict_proba(X), plain.predict_proba(X))


def test_verbose_prints_the_epoch_table(data, capsys):
    """Check that verbose=1 prints the epoch table on the main process."""
    X, y = data
    AcceleratedNet(
        accelerator=_accelerator(), max_epochs=2, random_state=0, verbose=1
    ).fit(X, y)
    assert "train_loss" in capsys.readouterr().out


def test_device_must_be_the_accelerators(data):
    """Check that a device other than the accelerator's is refused."""
    X, y = data
    AcceleratedNet(accelerator=_accelerator(), max_epochs=1, device="cpu").fit(X, y)
    net = AcceleratedNet(accelerator=_accelerator(), max_epochs=1, device="cuda:1")
    with pytest.raises(ValueError, match="differs from the accelerator's device"):
        net.fit(X, y)


# Run by each of two processes: fits on the full data, reports what the
# processes must share (class counts, loss adjustments, trained weights) and
# how many training batches each one took.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np, torch
    from accelerate import Accelerator
    from skorch.callbacks import Callback
    from sklearn.datasets import make_classification
    from skimb.nn import AccelerateMixin, LogitAdjustedNet

    torch.set_num_threads(1)

    class AcceleratedLANet(AccelerateMixin, LogitAdjustedNet):
        pass

    class CountBatches(Callback):
        def initialize(self):
            self.n = 0
            return self
        def on_batch_end(self, net, batch=None, training=None, **kwargs):
            self.n += bool(training)

    accelerator = Accelerator(cpu=True)
    X, y = make_classification(
        n_samples=600, n_features=8, weights=[0.85], random_state=0
    )
    w = np.where(np.arange(len(y)) % 3 == 0, 2.0, 1.0)
    out = {
        "rank": accelerator.process_index,
        "world": accelerator.num_processes,
        "type": str(accelerator.distributed_type),
    }
    for weighted in (False, True):
        counter = CountBatches()
        net = AcceleratedLANet(
            accelerator=accelerator, max_epochs=2, batch_size=64, random_state=0,
            early_stopping=False, callbacks=[("count", counter)],
        )
        net.fit(X, y, sample_weight=w if weighted else None)
        key = "weighted" if weighted else "plain"
        out[key] = {
            "counts": net.class_counts_.tolist(),
            "log_prior": net.criterion_.log_prior.tolist(),
            "params": [p.detach().sum().item() for p in net.module_.parameters()],
            "batches": counter.n,
            "proba_rows": len(net.predict_proba(X)),
        }
    cosine = AcceleratedLANet(
        accelerator=accelerator, max_epochs=3, random_state=0,
        early_stopping=False, lr_schedule="cosine",
    ).fit(X, y)
    out["cosine_lr"] = cosine.optimizer_.param_groups[0]["lr"]
    # Each batch split across the processes, in order: one process's steps.
    from accelerate import DataLoaderConfiguration
    split = Accelerator(
        cpu=True, dataloader_config=DataLoaderConfiguration(split_batches=True)
    )
    net = AcceleratedLANet(
        accelerator=split, max_epochs=2, batch_size=64, random_state=0,
        early_stopping=False, iterator_train__shuffle=False,
    ).fit(X[:576], y[:576])
    out["split"] = [p.detach().numpy().ravel().tolist()
                    for p in net.module_.parameters()]
    with open(sys.argv[1] + f"/rank{out['rank']}.json", "w") as f:
        json.dump(out, f)
    """
)


@pytest.mark.slow
def test_two_processes_share_counts_and_weights(tmp_path):
    """Check two gloo processes: same counts, adjustments and weights; half batches.

    Launched with torchrun (``python -m torch.distributed.run``), as
    ``accelerate launch`` does on GPUs; ``Accelerator(cpu=True)`` then uses
    the gloo backend.
    """
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(script),
        str(tmp_path),
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    X, y = make_classification(
        n_samples=600, n_features=8, weights=[0.85], random_state=0
    )
    w = np.where(np.arange(len(y)) % 3 == 0, 2.0, 1.0)
    # The per-epoch cosine schedule ends where it ends on one process.
    one = LogitAdjustedNet(
        max_epochs=3, random_state=0, early_stopping=False, lr_schedule="cosine"
    ).fit(X, y)
    single_lr = one.optimizer_.param_groups[0]["lr"]
    for rank in ranks:
        assert rank["world"] == 2 and rank["type"] == "DistributedType.MULTI_CPU"
        assert rank["cosine_lr"] == pytest.approx(single_lr)
    first, second = ranks
    for key, weights in (("plain", None), ("weighted", w)):
        np.testing.assert_allclose(first[key]["counts"], np.bincount(y, weights))
        assert first[key]["counts"] == second[key]["counts"]
        assert first[key]["log_prior"] == second[key]["log_prior"]
        # Gradients are averaged: both processes end with the same weights.
        np.testing.assert_allclose(
            first[key]["params"], second[key]["params"], rtol=1e-6, atol=1e-6
        )
        # 600 rows in batches of 64: 10 an epoch, 5 per process, 2 epochs.
        assert first[key]["batches"] == second[key]["batches"] == 10
        assert first[key]["proba_rows"] == second[key]["proba_rows"] == len(X)
    # split_batches (set through DataLoaderConfiguration: accelerate ignores
    # Accelerator(split_batches=True)) gives the single process's fit, on
    # whole batches (576 = 9 x 64 rows: accelerate pads a short last batch
    # with the first rows).
    single = LogitAdjustedNet(
        max_epochs=2,
        batch_size=64,
        random_state=0,
        early_stopping=False,
        iterator_train__shuffle=False,
    ).fit(X[:576], y[:576])
    for rank in ranks:
        for got, expected in zip(rank["split"], single.module_.parameters()):
            np.testing.assert_allclose(
                got, expected.detach().numpy().ravel(), rtol=0, atol=1e-5
            )
