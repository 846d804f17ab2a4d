"""Share of RegroupingClassifier's fit time spent clustering, at 50,000 rows.

Claim: with the default clusterer (KMeans, MiniBatchKMeans for classes of more
than 10,000 rows) the clustering costs at most 20% of the training time at
50,000 rows.

Data: ``make_classification`` with 50,000 x 20 rows, (a) binary with IR 10
(the majority is split into 10 pseudo-classes) and (b) 10 classes with an
exponential long-tailed profile of IR 100 (about 250 pseudo-classes). The
clustering time is the fit time of RegroupingClassifier around a
``DummyClassifier`` (validation and clustering only); the training time is the
fit time of the default NetClassifier (MLP 128, 40 epochs) on the
pseudo-labels. The same
clustering with plain KMeans shows why large classes use MiniBatchKMeans.
1 torch thread, CPU. ``--quick``: 10,000 rows and 5 epochs.

    python benchmarks/bench_regrouping_time.py [--quick]
"""

import time

import numpy as np
from _harness import cli, command, net, table, write_result
from sklearn.cluster import KMeans
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier

from skimb.regrouping import RegroupingClassifier


def timed(estimator, X, y):
    start = time.perf_counter()
    result = estimator.fit(X, y)
    return time.perf_counter() - start, result


def dataset(n, n_classes, imbalance_ratio):
    mu = imbalance_ratio ** (-1 / (n_classes - 1))
    weights = mu ** np.arange(n_classes)
    X, y = make_classification(
        n_samples=n,
        n_features=20,
        n_informative=10,
        n_classes=n_classes,
        n_clusters_per_class=3,
        weights=(weights / weights.sum())[:-1].tolist(),
        random_state=0,
    )
    return X.astype(np.float32), y


def main(quick=False):
    n = 10_000 if quick else 50_000
    epochs = 5 if quick else 40
    rows = []
    for title, n_classes, ir in [
        ("binary, IR 10", 2, 10),
        ("10 classes, IR 100", 10, 100),
    ]:
        X, y = dataset(n, n_classes, ir)
        rg = RegroupingClassifier(DummyClassifier(), random_state=0)
        t_cluster, rg = timed(rg, X, y)
        kmeans = KMeans(n_init="auto", random_state=0)
        t_kmeans, _ = timed(
            RegroupingClassifier(DummyClassifier(), clusterer=kmeans), X, y
        )
        t_train, _ = timed(net("default", max_epochs=epochs), X, rg.pseudo_labels_)
        rows.append(
            f"{title} | {rg.pseudo_classes_.size} | {t_train:.2f} "
            f"| {t_cluster:.2f} | {t_cluster / (t_cluster + t_train):.1%} "
            f"| {t_kmeans:.2f} | {t_kmeans / (t_kmeans + t_train):.1%}"
        )
        print(rows[-1], flush=True)
    header = (
        f"data | pseudo-classes | NetClassifier training, {epochs} epochs (s) "
        "| default clustering (s) | share | KMeans only (s) | share"
    )
    text = "\n".join(
        [
            "# Clustering share of RegroupingClassifier's fit time",
            "",
            f"Command: `{command('bench_regrouping_time.py', quick)}`; "
            f"{n:,} x 20 rows, 1 torch thread, CPU, one run. "
            "Share = clustering / (clustering + training of the estimator on the "
            "pseudo-labels). Default: KMeans, MiniBatchKMeans above 10,000 rows "
            "per class.",
            "",
            table(header, rows),
        ]
    )
    write_result("regrouping_time", text + "\n", quick)


if __name__ == "__main__":
    cli(main, __doc__)
