"""Binary folds: training margins (where biases are solved) and validation counts.

A binary *fold* holds the margins ``z1 - z0`` of its training logits (where
the bias of a candidate target is solved, as :class:`Margins`) and of its
validation rows (where the candidate is scored from sorted margins, as
confusion counts, without predictions).
"""

import numpy as np
from scipy.special import expit

from ._margin_solve import log_odds_start, solve_margins
from ._target import SEARCH_TOL, minority_index

# Above this many rows, binary training margins are compressed into bins of
# width _BIN_WIDTH (each bin at the mean of its margins): the imbalance state
# then moves by less than 1e-7 (the curvature of the sigmoid is at most 0.1),
# and every pass costs the number of bins, not of rows.
COMPRESS_ABOVE = 65_536
_BIN_WIDTH = 1e-3
# Steps of the 1-D solves of the search (each a pass over the margins).
_SEARCH_MAX_ITER = 200


class Margins:
    """Binary margins ``z1 - z0`` of training logits and their 1-D solve.

    ``weights``: positive sample weights of the rows, or None.
    """

    def __init__(self, logits, weights=None):
        margins = np.asarray(logits[:, 1], dtype=np.float64) - logits[:, 0]
        self.values = margins
        self.weights = None if weights is None else weights / weights.sum()
        if margins.size > COMPRESS_ABOVE:
            low = margins.min()
            bins = ((margins - low) / _BIN_WIDTH).astype(np.int64)
            if bins.max() < 4 * margins.size:
                counts = np.bincount(bins, weights=weights)
                sums = np.bincount(
                    bins, weights=margins if weights is None else margins * weights
                )
                kept = counts > 0
                self.values = sums[kept] / counts[kept]
                total = margins.size if weights is None else weights.sum()
                self.weights = counts[kept] / total
        s = expit(self.values)
        self.state_at_zero = (
            s.mean() if self.weights is None else (s * self.weights).sum()
        )

    def states(self, betas):
        """Mean probability of class 1 at each of ``betas`` (chunked)."""
        betas = np.asarray(betas, dtype=np.float64)
        out = np.empty(betas.size)
        step = max(1, (1 << 22) // self.values.size)
        for start in range(0, betas.size, step):
            s = expit(self.values[None, :] + betas[start : start + step, None])
            out[start : start + step] = np.average(s, axis=1, weights=self.weights)
        return out

    def solve_many(self, targets, known=None):
        """Class-1 biases that reach each of ``targets`` (:func:`solve_margins`).

        ``known``: ``(targets, betas)`` solved before; new targets start from
        their interpolation in log-odds, which saves most Newton steps.
        """
        targets = np.asarray(targets, dtype=np.float64)
        if known is not None and len(known[0]) >= 2:
            done, betas = np.asarray(known[0]), np.asarray(known[1])
            order = np.argsort(done)
            done_log_odds = np.log(done[order] / (1 - done[order]))
            log_odds = np.log(targets / (1 - targets))
            beta = np.interp(log_odds, done_log_odds, betas[order])
        else:
            beta = log_odds_start(targets, self.state_at_zero)
        beta, _, _ = solve_margins(
            self.values,
            targets,
            beta,
            weights=self.weights,
            tol=SEARCH_TOL,
            max_iter=_SEARCH_MAX_ITER,
        )
        return beta


class BinaryFolds:
    """Binary folds: margins, sorted validation margins per class, counts.

    ``weights``: ``(train_weight, valid_weight)`` of each fold, positive
    sample weights, or None; with weights every count is a sum of weights.
    """

    def __init__(self, folds, minority, weights=None):
        self.minority = minority
        train_weights = [None] * len(folds) if weights is None else weights
        self.train = [
            Margins(z_train, None if w is None else w[0])
            for (z_train, _, _), w in zip(folds, train_weights, strict=True)
        ]
        self.valid = [
            np.asarray(z_valid[:, 1], dtype=np.float64) - z_valid[:, 0]
            for _, z_valid, _ in folds
        ]
        self.y = [np.asarray(y) for _, _, y in folds]
        self.valid_weights = None if weights is None else [w for _, w in weights]
        self._sorted_by_class = None
        y_all = np.concatenate(self.y)
        if self.valid_weights is None:
            self.n_pos = int(np.sum(y_all == 1))
            self.n_neg = y_all.size - self.n_pos
        else:
            w_all = np.concatenate(self.valid_weights)
            self.n_pos = float(w_all[y_all == 1].sum())
            self.n_neg = float(w_all[y_all == 0].sum())
        # minority_f1_score's minority: that of the scored (validation) rows.
        self.metric_minority = minority_index([self.n_neg, self.n_pos])

    def counts(self, betas):
        """Pooled (tp, fn, fp, tn) when fold ``f`` has class-1 bias betas[f]."""
        if self.valid_weights is not None:
            return self._weighted_counts(betas)
        if self._sorted_by_class is None:
            self._sorted_by_class = [
                (np.sort(m[y == 1]), np.sort(m[y == 0]))
                for m, y in zip(self.valid, self.y, strict=True)
            ]
        tp = fp = 0
        for (pos, neg), beta in zip(self._sorted_by_class, betas, strict=True):
            # A row is predicted class 1 when its margin + beta > 0.
            tp += pos.size - np.searchsorted(pos, -beta, side="right")
            fp += neg.size - np.searchsorted(neg, -beta, side="right")
        return tp, self.n_pos - tp, fp, self.n_neg - fp

    def _weighted_counts(self, betas):
        """:meth:`counts` as sums of weights (cumulative weights of sorted rows)."""
        if self._sorted_by_class is None:
            self._sorted_by_class = []
            for m, y, w in zip(self.valid, self.y, self.valid_weights, strict=True):
                fold = []
                for label in (1, 0):
                    order = np.argsort(m[y == label], kind="stable")
                    cumulative = np.concatenate(
                        [[0.0], np.cumsum(w[y == label][order])]
                    )
                    fold.append((m[y == label][order], cumulative))
                self._sorted_by_class.append(fold)
        tp = fp = 0.0
        for fold, beta in zip(self._sorted_by_class, betas, strict=True):
            (pos, pos_w), (neg, neg_w) = fold
            tp += pos_w[-1] - pos_w[np.searchsorted(pos, -beta, side="right")]
            fp += neg_w[-1] - neg_w[np.searchsorted(neg, -beta, side="right")]
        return tp, self.n_pos - tp, fp, self.n_neg - fp

    def pooled_logits(self, betas):
        margins = np.concatenate(
            [m + beta for m, beta in zip(self.valid, betas, strict=True)]
        )
        return np.column_stack([np.zeros_like(margins), margins])
