"""
A network on imbalanced tabular data
====================================

:class:`~skimb.nn.NetClassifier` in a scikit-learn pipeline on the bundled KEEL
``yeast4`` dataset (28 majority samples for each minority one). Accuracy hides
the problem; G-mean and minority F1 show it, and class weighting trades one for
the other.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skimb.datasets import load_keel
from skimb.metrics import gmean_scorer, minority_f1_scorer
from skimb.nn import NetClassifier

X, y = load_keel("yeast4", return_X_y=True)
counts = np.bincount(y)
weight = torch.tensor(len(y) / (2 * counts), dtype=torch.float32)

models = {
    "plain": NetClassifier(max_epochs=20, random_state=0),
    "class-weighted": NetClassifier(
        max_epochs=20, random_state=0, criterion__weight=weight
    ),
}
scoring = {
    "accuracy": "accuracy",
    "G-mean": gmean_scorer,
    "minority F1": minority_f1_scorer,
}
results = {
    name: cross_validate(
        make_pipeline(StandardScaler(), model), X, y, cv=3, scoring=scoring
    )
    for name, model in models.items()
}

fig, ax = plt.subplots(figsize=(6, 3))
width = 0.35
for i, (name, res) in enumerate(results.items()):
    means = [res[f"test_{metric}"].mean() for metric in scoring]
    ax.bar(np.arange(len(scoring)) + i * width, means, width, label=name)
ax.set_xticks(np.arange(len(scoring)) + width / 2, list(scoring))
ax.set_ylim(0, 1)
ax.legend()
ax.set_title("yeast4, 3-fold CV")
plt.tight_layout()
