"""Overhead of the per-epoch bias adjustment strategy.

Issue 3, "Must show" 4 (the seed paper's section 3.3). The same NetClassifier
(StandardScaler first; ``module__hidden_sizes=(64,)``, 20 epochs, batch 64,
``train_split=ValidSplit(0.2, stratified=True, random_state=0)``,
``random_state=0``) is trained

- alone (skorch still computes the validation loss every epoch), and
- inside ``BiasAdjustedClassifier(net, per_epoch=True, scoring="gmean")``,
  which adjusts the bias after every epoch, scores the validation split and
  restores the best epoch at the end,

on 75% of the data; the rest is a test split. Times are the best of
interleaved runs; claim: per_epoch=True costs at most 1.3x. The test G-mean of
both is shown for context.

    python benchmarks/bench_bias_per_epoch.py [--quick]
"""

import time

from _harness import cli, command, keel, net, table, write_result
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.dataset import ValidSplit

from skimb.adjustment import BiasAdjustedClassifier
from skimb.metrics import gmean_scorer


def split_net(epochs):
    """The backbone with a 20% stratified validation split."""
    split = ValidSplit(0.2, stratified=True, random_state=0)
    return net(max_epochs=epochs, train_split=split)


def datasets(quick):
    yield ("KEEL page-blocks0", *keel("page-blocks0"))
    if not quick:
        X, y = make_classification(
            n_samples=20_000,
            n_features=20,
            n_informative=8,
            weights=[0.95],
            flip_y=0.02,
            random_state=0,
        )
        yield "synthetic 20,000 x 20 (5% minority)", X, y


def main(quick=False):
    epochs = 10 if quick else 20
    repeats = 1 if quick else 3
    rows = []
    for name, X, y in datasets(quick):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=0
        )
        contenders = {
            "without": lambda: make_pipeline(StandardScaler(), split_net(epochs)),
            "per_epoch": lambda: make_pipeline(
                StandardScaler(),
                BiasAdjustedClassifier(
                    split_net(epochs), per_epoch=True, scoring="gmean"
                ),
            ),
        }
        # Warm up torch and the code paths once, untimed.
        make_pipeline(
            StandardScaler(), BiasAdjustedClassifier(split_net(1), per_epoch=True)
        ).fit(X_train, y_train)
        times = {k: [] for k in contenders}
        scores = {}
        for _ in range(repeats):  # interleaved: machine drift hits both
            for key, make in contenders.items():
                start = time.perf_counter()
                model = make().fit(X_train, y_train)
                times[key].append(time.perf_counter() - start)
                scores[key] = gmean_scorer(model, X_test, y_test)
        plain_s, per_epoch_s = min(times["without"]), min(times["per_epoch"])
        ratio = per_epoch_s / plain_s
        rows.append(
            f"{name} | {len(y_train):,} | {plain_s:.2f} | {per_epoch_s:.2f} "
            f"| {ratio:.2f}x | {'yes' if ratio <= 1.3 else 'no'} "
            f"| {scores['without']:.3f} | {scores['per_epoch']:.3f}"
        )
        print(rows[-1], flush=True)
    header = (
        "dataset | train rows | without (s) | per_epoch=True (s) | ratio "
        "| <= 1.3x? | test G-mean without | test G-mean per_epoch=True"
    )
    text = (
        "# Per-epoch bias adjustment: training-time overhead\n\n"
        f"Command: `{command('bench_bias_per_epoch.py', quick)}`; "
        f"best of {repeats} interleaved run(s), "
        f"{epochs} epochs, 1 torch thread, CPU. Both train the same net with "
        "the same 20% stratified validation split (ValidSplit(0.2)); 25% of "
        "the data is a test split.\n\n" + table(header, rows) + "\n"
    )
    write_result("bias_per_epoch", text, quick)


if __name__ == "__main__":
    cli(main, __doc__)
