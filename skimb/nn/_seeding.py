"""A private torch random stream for a net's ``random_state``."""

from contextlib import contextmanager

import numpy as np
import torch


@contextmanager
def seeded(random_state, device, epochs_done=0):
    """Run the block under a private torch RNG seeded by ``random_state``.

    ``None`` leaves torch's global random state in use. ``epochs_done``
    shifts an integer seed so that successive ``partial_fit`` calls do not
    repeat the same shuffles; a ``RandomState`` draws a new seed each time.
    """
    if random_state is None:
        yield
        return
    if isinstance(random_state, np.random.RandomState):
        seed = int(random_state.randint(np.iinfo(np.int32).max))
    else:
        seed = int(random_state) + epochs_done
    cuda = torch.device(device).type == "cuda"
    with torch.random.fork_rng(devices=[torch.device(device)] if cuda else []):
        torch.manual_seed(seed)
        yield
