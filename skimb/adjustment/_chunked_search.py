"""The binary target search on logits that live in chunks (Dask, blocks).

Each candidate's bias is solved by :func:`solve_margins` whose passes are
map-reduces over the chunks (all of a round's targets in one pass), and the
round's candidates are scored from confusion counts summed over the chunks
in one more pass: the labels travel with the logits as an extra column, so
no array of the size of the data is ever held.
"""

import numpy as np
from sklearn.utils import column_or_1d

from ..metrics import get_scorer
from ._binary_search import _decimal_candidates
from ._chunked_logits import ChunkedLogits, is_dask_array
from ._constraints import check_constraints
from ._count_metrics import COUNT_METRICS
from ._margin_solve import log_odds_start, solve_margins
from ._multiclass_counts import confusion_score
from ._solve import MIN_TARGET
from ._target import (
    SEARCH_TOL,
    binary_results,
    binary_target,
    class1_probability,
    middle_of_best,
    minority_index,
)

# Passes of a round's Newton solve at most (as the in-memory search).
_MAX_PASSES = 200


def _with_labels(logits, y):
    """Logits with the class index of each row appended as a last column."""
    if is_dask_array(logits):
        import dask.array as da

        if not is_dask_array(y):
            y = da.from_array(np.asarray(y), chunks=(logits.chunks[0],))
        return da.concatenate([logits, y[:, None].astype(np.float64)], axis=1)
    if is_dask_array(y):
        raise ValueError("Dask labels go with Dask logits; pass y as one array.")
    y = np.asarray(y)
    blocks = logits if callable(logits) else (lambda: iter(logits))

    def labelled():
        offset = 0
        for block in blocks():
            block = np.asarray(block, dtype=np.float64)
            labels = y[offset : offset + len(block)]
            if len(labels) != len(block):
                raise ValueError(f"y has {len(y)} rows; the logits have more.")
            offset += len(block)
            yield np.column_stack([block, labels])
        if offset != len(y):
            raise ValueError(f"y has {len(y)} rows but the logits have {offset}.")

    return labelled


def _binary_metric(scoring, classes):
    """``metric(tp, fn, fp, tn, minority)`` of a confusion-count scoring."""
    if isinstance(scoring, str) and scoring in COUNT_METRICS:
        return COUNT_METRICS[scoring]
    counted = confusion_score(scoring, get_scorer(scoring), classes, np.zeros(0, int))
    if counted is None:
        raise ValueError(
            "the search on chunked logits scores candidates from confusion "
            f"counts; scoring={scoring!r} has no such form. Use one of "
            f"{sorted(COUNT_METRICS)} or a make_cost_scorer scorer."
        )
    return lambda tp, fn, fp, tn, minority: counted.metric(
        np.array([[tn, fp], [fn, tp]], dtype=np.float64)
    )


def _count_sums(z, w, betas):
    """``[sum w, sum w [y = 1], tp (T), fp (T)]`` of a block at each class-1 bias.

    A row is predicted class 1 when its margin + beta > 0: the counts are
    read from the sorted margins of each class and their cumulative weights,
    in memory of the order of the block (not of the block times the biases).
    """
    margin, positive = z[:, 1] - z[:, 0], z[:, 2] == 1
    w = np.ones(len(z)) if w is None else w
    sums = [[w.sum(), w[positive].sum()]]
    for rows in (positive, ~positive):
        order = np.argsort(margin[rows], kind="stable")
        cumulative = np.concatenate([[0.0], np.cumsum(w[rows][order])])
        below = np.searchsorted(margin[rows][order], -betas, side="right")
        sums.append(cumulative[-1] - cumulative[below])
    return np.concatenate(sums)


def search_chunked(y_true, logits, *, scoring, sample_weight=None, constraints=None):
    """:func:`search_target`'s decimal search of a binary target on chunked logits.

    ``y_true``: labels in the rows' order (a numpy array, or a Dask array
    for Dask logits). Returns ``(target, score, results)`` as
    :func:`search_target` does.
    """
    if is_dask_array(y_true):
        import dask.array as da

        classes = da.unique(y_true).compute()
        y_index = y_true.map_blocks(
            lambda block: np.searchsorted(classes, block), dtype=np.intp
        )
    else:
        y_true = column_or_1d(y_true)
        classes = np.unique(y_true)
    if classes.size != 2:
        raise ValueError(
            f"the search on chunked logits is for two classes; y_true has "
            f"{classes.size}. Search 3+ classes on logits in memory."
        )
    if not is_dask_array(y_true):  # one byte a row, not an index array
        y_index = y_true == classes[1]
    metric = _binary_metric(scoring, classes)
    chunks = ChunkedLogits(_with_labels(logits, y_index), sample_weight)
    if chunks.prepare() != 3:
        raise ValueError("chunked logits of two classes must have 2 columns.")
    total, positive = chunks.reduce(lambda z, w: _count_sums(z, w, np.zeros(0)), 2)
    minority = minority_index([total - positive, positive])
    checked = check_constraints(constraints, classes, minority)
    state_at_zero = chunks.margin_states(np.zeros(1))[0][0]
    tried = {}

    def evaluate(probabilities):
        new = sorted(
            {round(p, 10) for p in probabilities} - set(tried),
        )
        new = [p for p in new if MIN_TARGET <= p <= 1 - MIN_TARGET]
        if new:
            r1 = class1_probability(np.array(new), minority)
            done = np.array(sorted(tried))
            if done.size >= 2:  # start from the log-odds interpolation
                known = class1_probability(done, minority)
                order = np.argsort(known)
                beta0 = np.interp(
                    np.log(r1 / (1 - r1)),
                    np.log(known[order] / (1 - known[order])),
                    np.array([tried[p][2] for p in done])[order],
                )
            else:
                beta0 = log_odds_start(r1, state_at_zero)
            betas, _, _ = solve_margins(
                None,
                r1,
                beta0,
                tol=SEARCH_TOL,
                max_iter=_MAX_PASSES,
                states=chunks.margin_states,
            )
            sums = chunks.reduce(
                lambda z, w: _count_sums(z, w, betas), 2 + 2 * len(new)
            )
            tp, fp = sums[2 : 2 + len(new)], sums[2 + len(new) :]
            fn, tn = positive - tp, total - positive - fp
            for i, p in enumerate(new):
                counts = (tp[i], fn[i], fp[i], tn[i])
                values = None if checked is None else checked.binary_values(*counts)
                tried[p] = (float(metric(*counts, minority)), values, betas[i])
        ordered = sorted(tried)
        shortfall = None
        if checked is not None:
            shortfall = [checked.shortfall(tried[p][1]) for p in ordered]
        return ordered[middle_of_best([tried[p][0] for p in ordered], shortfall)]

    _decimal_candidates(evaluate)
    best = evaluate([])
    probabilities = np.array(sorted(tried))
    scores = np.array([tried[p][0] for p in probabilities])
    shortfall = None
    if checked is not None:
        values = np.column_stack([tried[p][1] for p in probabilities])
        shortfall = checked.shortfall(values)
        if not np.any(shortfall == 0):
            raise checked.error(values)
    results = binary_results(probabilities, scores, minority, shortfall)
    return binary_target(class1_probability(best, minority)), tried[best][0], results
