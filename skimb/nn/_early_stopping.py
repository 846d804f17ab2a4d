"""Early stopping on a stratified validation split, and the learning-rate schedule."""

import math
import warnings

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, LRScheduler
from skorch.dataset import ValidSplit

# early_stopping="auto" holds out a validation split from this many training
# rows on (HistGradientBoosting's rule). Below it, on the 17 held-out sets
# of bench_tabular_default.py (<= 2,000 rows), early stopping lowered the
# mean G-mean and average precision: the held-out tenth is a handful of
# minority rows, too few to tell the best epoch, and lost to training.
AUTO_MIN_ROWS = 10_000


def uses_early_stopping(net, y, *, partial=False):
    """Whether ``net`` early-stops on this fit's encoded labels ``y``.

    ``early_stopping=True`` does (a ``ValueError`` in ``partial_fit``, which
    has no best epoch across calls); ``"auto"`` does in ``fit`` when the net
    makes its own split (``train_split=None``) from at least
    ``AUTO_MIN_ROWS`` rows. Without the user's
    ``train_split``, the stratified split needs every class on both sides:
    2 rows or more per class, and at least as many validation and training
    rows as classes; else early stopping is off for this fit, with a warning
    when it was asked for (``True``), silently for ``"auto"``.
    """
    wanted = net.early_stopping
    if wanted == "auto":
        wanted = not partial and net.train_split is None and len(y) >= AUTO_MIN_ROWS
    if not wanted:
        return False
    if partial:
        raise ValueError(
            "partial_fit does not early-stop (early_stopping=True): each call "
            "trains max_epochs epochs on its data. Use fit, or set "
            "early_stopping=False."
        )
    if net.train_split is not None:  # the user's split: nothing to check
        return True
    counts = np.bincount(y, minlength=len(net.classes_))
    n_valid = math.ceil(net.validation_fraction * len(y))
    if counts.min() >= 2 and len(counts) <= n_valid <= len(y) - len(counts):
        return True
    if net.early_stopping is True:
        warnings.warn(
            f"early_stopping is off for this fit: class counts {counts.tolist()} "
            f"and validation_fraction={net.validation_fraction} ({n_valid} "
            "validation rows) leave no stratified split with every class on "
            "both sides (each class needs 2 rows or more, and the validation "
            "rows must be at least as many as the classes). Training runs "
            "max_epochs epochs.",
            UserWarning,
            stacklevel=4,
        )
    return False


def validation_split(net):
    """The stratified split that early stopping holds out, seeded by the net."""
    seed = net.random_state
    if isinstance(seed, np.random.RandomState):
        seed = int(seed.randint(np.iinfo(np.int32).max))
    return ValidSplit(net.validation_fraction, stratified=True, random_state=seed)


def training_callbacks(net):
    """The callbacks that early stopping and ``lr_schedule`` add, by name."""
    callbacks = []
    if getattr(net, "early_stopping_", False):
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor="valid_loss",
                    patience=net.n_iter_no_change,
                    threshold=0.0,
                    load_best=True,
                ),
            )
        )
    if net.lr_schedule == "cosine":
        policy = dict(policy=torch.optim.lr_scheduler.CosineAnnealingLR)
        callbacks.append(("lr_scheduler", LRScheduler(**policy, T_max=net.max_epochs)))
    elif net.lr_schedule == "plateau":
        monitor = "valid_loss" if getattr(net, "early_stopping_", False) else None
        if monitor is None and net.train_split is not None:
            monitor = "valid_loss"
        callbacks.append(
            (
                "lr_scheduler",
                LRScheduler(
                    policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
                    monitor=monitor or "train_loss",
                    patience=max(1, net.n_iter_no_change // 2),
                    factor=0.2,
                ),
            )
        )
    return callbacks
