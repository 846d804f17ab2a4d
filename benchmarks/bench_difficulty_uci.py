"""Difficulty resampling with a linear model on the bundled KEEL/UCI datasets.

Claim (seed paper "A Re-Balancing Strategy for Class-Imbalanced Classification
Based on Instance Difficulty", Yu et al., CVPR 2022, the table on 10 UCI
datasets with logistic regression: mean accuracy 74.9 base / 76.4
class-balanced / 78.2 difficulty): the re-sampling is not tied to deep
networks; a linear model trained by Algorithm 1 gains over the same model on
the plain data.

Data: the 14 bundled binary KEEL sets (UCI origin), IR 1.8 to 41. Model:
logistic regression trained by SGD, one ``partial_fit`` pass per epoch, 30
epochs, constant step 0.01, after ``StandardScaler``. ``base``: every epoch
on the data as given; ``class-balanced``: the same with sample weights
n / (K n_j); ``difficulty``: ``DifficultyResampler(sgd, n_epochs=30)`` (prior
1), the model it trains (``estimator_``). Also, as a reference,
``difficulty sample + LR``: an lbfgs ``LogisticRegression`` fitted on the
resampler's final sample (the imblearn Pipeline use). Accuracy (the seed's
metric) and balanced accuracy, repeated stratified 5-fold CV, 2 repeats
(``--quick``: 3 folds, 1 repeat, 4 datasets).

    python benchmarks/bench_difficulty_uci.py [--quick]
"""

import time

import numpy as np
from _harness import cli, cv_scores, keel, table, write_result
from imblearn.pipeline import make_pipeline
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from skimb.datasets import list_keel
from skimb.difficulty import DifficultyResampler

METHODS = ["base", "class-balanced", "difficulty", "difficulty sample + LR"]
EPOCHS = 30


class EpochSGD(ClassifierMixin, BaseEstimator):
    """Logistic regression by SGD, ``n_epochs`` partial_fit passes."""

    def __init__(self, method="base", n_epochs=EPOCHS, random_state=0):
        self.method = method
        self.n_epochs = n_epochs
        self.random_state = random_state

    def fit(self, X, y):
        sgd = SGDClassifier(
            loss="log_loss",
            learning_rate="constant",
            eta0=0.01,
            random_state=self.random_state,
        )
        self.classes_ = np.unique(y)
        if self.method == "difficulty":
            sampler = DifficultyResampler(
                sgd, n_epochs=self.n_epochs, random_state=self.random_state
            )
            sampler.fit_resample(X, y)
            self.model_ = sampler.estimator_
            return self
        weight = compute_sample_weight("balanced", y)
        for _ in range(self.n_epochs):
            sgd.partial_fit(
                X,
                y,
                classes=self.classes_,
                sample_weight=weight if self.method == "class-balanced" else None,
            )
        self.model_ = sgd
        return self

    def predict(self, X):
        return self.model_.predict(X)


def make_model(method, seed):
    if method == "difficulty sample + LR":
        sampler = DifficultyResampler(
            SGDClassifier(
                loss="log_loss", learning_rate="constant", eta0=0.01, random_state=seed
            ),
            n_epochs=EPOCHS,
            random_state=seed,
        )
        return make_pipeline(StandardScaler(), sampler, LogisticRegression())
    return make_pipeline(StandardScaler(), EpochSGD(method, random_state=seed))


def score(model, X_test, y_test):
    pred = model.predict(X_test)
    return {
        "accuracy": accuracy_score(y_test, pred),
        "balanced accuracy": balanced_accuracy_score(y_test, pred),
    }


def main(quick=False):
    names = list_keel()[:4] if quick else list_keel()
    cv = RepeatedStratifiedKFold(
        n_splits=3 if quick else 5, n_repeats=1 if quick else 2, random_state=0
    )
    acc = {m: {} for m in METHODS}
    bacc = {m: {} for m in METHODS}
    start = time.perf_counter()
    for name in names:
        X, y = keel(name)
        scores = cv_scores(
            X,
            y,
            cv,
            lambda fold, train: {m: make_model(m, fold) for m in METHODS},
            score,
        )
        for method in METHODS:
            acc[method][name] = 100 * np.mean(scores[method]["accuracy"])
            bacc[method][name] = 100 * np.mean(scores[method]["balanced accuracy"])
    seconds = time.perf_counter() - start

    lines = [
        f"Linear model (SGD logistic regression, {EPOCHS} epochs) on {len(names)} "
        f"bundled KEEL/UCI sets; accuracy in %, mean over "
        f"{cv.get_n_splits()} CV folds ({seconds:.0f} s in all).",
        "",
    ]
    rows = [[name, *(f"{acc[m][name]:.1f}" for m in METHODS)] for name in names]
    rows.append(
        [
            "**mean accuracy**",
            *(f"**{np.mean(list(acc[m].values())):.1f}**" for m in METHODS),
        ]
    )
    rows.append(
        [
            "mean balanced accuracy",
            *(f"{np.mean(list(bacc[m].values())):.1f}" for m in METHODS),
        ]
    )
    lines.append(table(["dataset", *METHODS], rows))
    gain = np.array([acc["difficulty"][n] - acc["base"][n] for n in names])
    lines += [
        "",
        f"difficulty minus base, accuracy: {gain.mean():+.2f} points on average; "
        f"higher on {int(np.sum(gain > 0))}, lower on {int(np.sum(gain < 0))} "
        f"of {len(names)} datasets. Seed paper (10 UCI sets, logistic "
        "regression): 74.9 / 76.4 / 78.2.",
    ]
    text = "\n".join(lines)
    write_result("difficulty_uci", text + "\n", quick)


if __name__ == "__main__":
    cli(main, __doc__)
