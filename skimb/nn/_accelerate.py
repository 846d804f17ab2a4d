"""AccelerateMixin: data-parallel training of skimb's nets through HF accelerate."""

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import LRScheduler
from skorch.hf import AccelerateMixin as SkorchAccelerateMixin

from ._batches import ArrayBatches, _arrays, _take


def _silent(*args, **kwargs):
    """The print-log sink of the processes other than the main one."""


def _whole_batch(batch):
    """``collate_fn`` of batches that the dataset already assembled."""
    return batch


class _RowBatches(torch.utils.data.Dataset):
    """A skorch Dataset of numpy arrays that hands out whole batches.

    torch's DataLoader asks a dataset with ``__getitems__`` for all the rows
    of a batch at once: one fancy-indexing per batch, as
    :class:`~skimb.nn.ArrayBatches` does, but through a real DataLoader,
    which accelerate can shard across processes.
    """

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitems__(self, rows):
        X, y, base = _arrays(self.dataset)
        rows = np.asarray(rows, dtype=np.int64)
        if base is not None:
            rows = base[rows]
        yb = torch.zeros(len(rows)) if y is None else torch.from_numpy(y[rows])
        return _take(X, rows), yb

    def __getitem__(self, i):
        X, y = self.__getitems__([i])
        if isinstance(X, dict):
            return {key: value[0] for key, value in X.items()}, y[0]
        return X[0], y[0]


class AccelerateMixin(SkorchAccelerateMixin):
    """Train a skimb network on several processes or GPUs with HF accelerate.

    skorch's :class:`skorch.hf.AccelerateMixin` fitted to skimb's nets: put it
    first in a subclass of :class:`~skimb.nn.NetClassifier`,
    :class:`~skimb.nn.LogitAdjustedNet` or another skimb net, pass an
    ``accelerate.Accelerator`` and start the script with ``accelerate launch``
    (``--num_processes 2 --cpu`` on a CPU, one process per GPU otherwise).
    Each process reads all of ``X`` and ``y``, so the label encoding, the
    class counts ``class_counts_`` and every loss adjustment derived from
    them (the priors of :class:`~skimb.nn.LogitAdjustedLoss`, the margins of
    :class:`~skimb.nn.LDAMLoss`, class weights) are computed from the full
    ``y``, identically on every process, before training. The training
    batches are then sharded: each process takes every ``num_processes``-th
    batch of a shuffle shared by all, and the gradients are averaged across
    processes (torch's DistributedDataParallel), so one epoch passes once
    over the data in total. Predictions are gathered: every process gets the
    outputs of all rows.

    What it changes in skorch's mixin:

    - In-memory arrays are batched by one indexing per batch (as the single
      process ``NetClassifier`` does), through a DataLoader that accelerate
      can shard; skorch's mixin would pass skimb's own batches unsharded.
    - ``device=None`` (the default) or ``"auto"`` is the accelerator's
      device (``accelerator.device``, the process's own GPU under
      ``accelerate launch``), so that ``random_state`` seeds the right
      generators; another device must be that one too.
    - Learning-rate schedules stepped once an epoch (``lr_schedule``,
      skorch's ``LRScheduler`` with ``step_every="epoch"``) follow the
      epochs, as on one process; accelerate would step them once per process.
    - The epoch table is printed by the main process only, and only with
      ``verbose >= 1`` (skorch's mixin prints it whatever ``verbose``).

    Parameters
    ----------
    accelerator : accelerate.Accelerator
        The accelerator (mixed precision, gradient accumulation ... are
        its options). By default each process trains on ``batch_size`` rows
        per step, so a step sees ``num_processes * batch_size`` rows in
        all; ``dataloader_config=DataLoaderConfiguration(split_batches=True)``
        splits each batch across the processes instead (accelerate ignores
        ``Accelerator(split_batches=True)``).
    device : str, torch.device or None, default=None
        None or ``"auto"``: the accelerator's device.
    unwrap_after_train : bool, default=True
        Restore the plain module after training, so that the net predicts
        and pickles as a single-process one.
    **kwargs
        The net's own parameters.

    See Also
    --------
    skorch.hf.AccelerateMixin : The skorch mixin this one extends.

    Notes
    -----
    Needs the ``accelerate`` package (``pip install skimb[accelerate]``).
    As with skorch's mixin, the net is best saved with ``save_params`` (on
    the main process, ``accelerator.is_main_process``); each process's
    ``history`` records the losses of its own shard (skorch's
    ``DistributedHistory`` merges them). The same random_state on every
    process gives the same initial weights and the same shuffles.

    Examples
    --------
    >>> import numpy as np
    >>> from accelerate import Accelerator
    >>> from sklearn.datasets import make_classification
    >>> from skimb.nn import AccelerateMixin, LogitAdjustedNet
    >>> class AcceleratedNet(AccelerateMixin, LogitAdjustedNet):
    ...     '''LogitAdjustedNet trained through accelerate.'''
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> net = AcceleratedNet(accelerator=Accelerator(cpu=True), max_epochs=3,
    ...                      random_state=0).fit(X, y)
    >>> net.class_counts_
    array([269,  31])
    >>> net.predict_proba(X).shape
    (300, 2)
    """

    @property
    def device(self):
        device = self.__dict__.get("device")
        if device is None or (isinstance(device, str) and device == "auto"):
            return self.accelerator.device
        return device

    @device.setter
    def device(self, value):
        self.__dict__["device"] = value

    def get_params(self, deep=True, **kwargs):
        params = super().get_params(deep=deep, **kwargs)
        params["device"] = self.__dict__.get("device")
        return params

    def _validate_params(self):
        # skorch's mixin wants device=None; here None means the accelerator's,
        # checked by initialize before anything is placed.
        super(SkorchAccelerateMixin, self)._validate_params()

    def initialize(self):
        """Check the device against the accelerator's, then initialise."""
        if self.accelerator.device_placement and torch.device(
            self.device
        ) != torch.device(self.accelerator.device):
            raise ValueError(
                f"device={self.__dict__.get('device')!r} differs from the "
                f"accelerator's device {self.accelerator.device}, which places "
                "the module and the batches; leave device=None."
            )
        return super().initialize()

    def _initialize_accelerator(self):
        """Prepare the modules, optimizers and schedulers for accelerate.

        As skorch's mixin, except that a criterion without trainable
        parameters (every skimb loss: its class priors and margins are
        buffers) is only moved to the device (DistributedDataParallel
        refuses modules with nothing to synchronise), and that a learning
        rate schedule stepped once an epoch is left as it is (accelerate
        would step it once per process).
        """
        if self._wrapped_with_accelerator:
            return self
        for name in self._criteria:
            criterion = getattr(self, name + "_")
            if isinstance(criterion, torch.nn.Module):
                trainable = any(p.requires_grad for p in criterion.parameters())
                setattr(
                    self,
                    name + "_",
                    self.accelerator.prepare(criterion)
                    if trainable
                    else criterion.to(self.accelerator.device),
                )
        for name in self._modules:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module):
                setattr(self, name + "_", self.accelerator.prepare(module))
        for name in self._optimizers:
            optimizer = getattr(self, name + "_")
            if isinstance(optimizer, torch.optim.Optimizer):
                setattr(self, name + "_", self.accelerator.prepare(optimizer))
        for _, callback in self.callbacks_:
            # accelerate steps a prepared scheduler once per process for each
            # step (without split_batches), right for schedules counted in
            # batches, wrong for skorch's per-epoch ones (lr_schedule).
            if isinstance(callback, LRScheduler) and callback.step_every != "epoch":
                callback.policy_ = self.accelerator.prepare(callback.policy_)
        self._wrapped_with_accelerator = True
        return self

    def _initialize_callbacks(self):
        if self.callbacks__print_log__sink == "auto":
            main = self.accelerator.is_main_process
            self.callbacks__print_log__sink = print if main else _silent
        return super()._initialize_callbacks()

    def get_iterator(self, dataset, training=False):
        """A DataLoader of ``dataset``, prepared (sharded) by the accelerator.

        With the default ``iterator_train`` / ``iterator_valid`` and no
        DataLoader argument but ``batch_size`` and ``shuffle``, numpy data is
        fetched one batch at a time (one indexing per batch); anything else
        goes through skorch's DataLoader.
        """
        prefix = "iterator_train" if training else "iterator_valid"
        loader = None
        if getattr(self, prefix) is torch.utils.data.DataLoader:
            batches = ArrayBatches.for_loader_params(
                dataset, self.get_params_for(prefix), self.batch_size
            )
            if batches is not None:
                loader = torch.utils.data.DataLoader(
                    _RowBatches(dataset),
                    batch_size=batches.batch_size,
                    shuffle=batches.shuffle,
                    collate_fn=_whole_batch,
                )
        if loader is None:
            loader = NeuralNet.get_iterator(self, dataset, training=training)
        return self.accelerator.prepare(loader)
