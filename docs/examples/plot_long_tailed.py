"""
Building long-tailed data
=========================

:func:`~skimb.datasets.make_long_tailed` subsamples a dataset to the
exponential class profile of long-tailed CIFAR: class ``i`` keeps
``n_max * imbalance_ratio ** (-i / (K - 1))`` samples.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skimb.datasets import make_long_tailed

X, y = load_digits(return_X_y=True)
fig, ax = plt.subplots(figsize=(6, 3))
for ratio in (10, 50, 100):
    _, y_lt = make_long_tailed(X, y, imbalance_ratio=ratio, random_state=0)
    ax.plot(np.sort(np.bincount(y_lt))[::-1], marker="o", label=f"{ratio}:1")
ax.set_yscale("log")
ax.set_xlabel("class rank")
ax.set_ylabel("samples")
ax.legend()
plt.tight_layout()
