"""
Bias adjustment after every epoch
=================================

The seed paper's training strategy (Section 3.3): train the network with plain
cross entropy; after every epoch, search the best imbalance state on a
validation split, solve its bias, and keep the best (epoch, bias) pair.
:class:`~skimb.adjustment.BiasAdjustedClassifier` does it with
``per_epoch=True`` around a skorch network, through the
:class:`~skimb.adjustment.BiasAdjustment` callback; the network's ``train_split`` is
the validation split. :class:`~skimb.plotting.EpochDisplay` draws the
validation score after adjustment at each epoch (the paper's Figure 3).
"""

import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from skorch.dataset import ValidSplit

from skimb.adjustment import BiasAdjustedClassifier
from skimb.datasets import load_keel
from skimb.metrics import gmean_scorer
from skimb.nn import NetClassifier
from skimb.plotting import EpochDisplay

X, y = load_keel("page-blocks0", return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
# A skorch net takes the data itself, not a pipeline: standardise first.
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)


def make_net():
    return NetClassifier(
        max_epochs=20,
        train_split=ValidSplit(0.2, stratified=True, random_state=0),
        random_state=0,
    )


# %%
# One training run; the search runs on the validation fifth after each epoch.
clf = BiasAdjustedClassifier(make_net(), scoring="gmean", per_epoch=True)
clf.fit(X_train, y_train)
net = clf.estimator_
# The callback keeps its state on itself, as skorch's EarlyStopping does.
callback = dict(net.callbacks_)["bias_adjustment"]
print(f"best epoch {callback.best_epoch_}, validation G-mean {clf.best_score_:.3f}")

# %%
# The per-epoch curve. The plain network's validation accuracy, which skorch
# records anyway, shows how little the usual early-stopping signal says about
# the minority.
fig, ax = plt.subplots(figsize=(6, 3.5))
display = EpochDisplay.from_estimator(clf, ax=ax, name="G-mean after adjustment")
ax.plot(
    net.history[:, "epoch"],
    net.history[:, "valid_acc"],
    linestyle="--",
    label="accuracy, no adjustment",
)
ax.set_ylabel("validation score")
ax.legend(loc="lower right")
ax.set_title("page-blocks0: validation score per epoch")
plt.tight_layout()

# %%
# The same network without adjustment, on the held-out test quarter.
plain = make_net().fit(X_train, y_train)
print(
    f"test G-mean: plain {gmean_scorer(plain, X_test, y_test):.3f}, "
    f"per-epoch adjusted {gmean_scorer(clf, X_test, y_test):.3f}"
)
