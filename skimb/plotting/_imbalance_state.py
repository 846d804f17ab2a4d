"""ImbalanceStateDisplay: a metric against the target minority probability."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..adjustment import search_target


def _scoring_label(scoring):
    return scoring if isinstance(scoring, str) else "score"


def _chosen_minority_probability(results, target):
    """The minority probability of the candidate that is the chosen target."""
    index = np.argmin(np.abs(results["target"] - target).max(axis=1))
    return float(results["minority_probability"][index])


class ImbalanceStateDisplay:
    """Validation metric against the minority-class probability of the target.

    The seed paper's Figure 2: how a metric varies when the bias moves the
    model imbalance state of a binary model. Build it with
    :meth:`from_estimator` (a fitted
    :class:`~skimb.adjustment.BiasAdjustedClassifier`) or
    :meth:`from_predictions` (labels and scores); matplotlib is imported only
    when plotting.

    Parameters
    ----------
    minority_probability : ndarray of shape (n_candidates,)
        Target probabilities of the minority class, increasing.
    score : ndarray of shape (n_candidates,)
        Validation score of each.
    best_minority_probability : float or None, default=None
        The chosen target, marked on the plot.
    scoring_name : str or None, default=None
        Label of the y axis.
    estimator_name : str or None, default=None
        Label of the curve.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The curve.
    ax_ : matplotlib Axes
        Axes of the plot.
    figure_ : matplotlib Figure
        Figure of the plot.

    See Also
    --------
    skimb.adjustment.BiasAdjustedClassifier : Its ``search_results_`` are
        plotted.
    EpochDisplay : Per-epoch score of the per-epoch strategy.

    References
    ----------
    .. [1] "Regulating imbalanced deep models with user-specified metrics",
       Figure 2.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skimb.adjustment import BiasAdjustedClassifier
    >>> from skimb.plotting import ImbalanceStateDisplay
    >>> X, y = make_classification(n_samples=400, weights=[0.9], random_state=0)
    >>> clf = BiasAdjustedClassifier(LogisticRegression(), cv=2).fit(X, y)
    >>> display = ImbalanceStateDisplay.from_estimator(clf)
    >>> display.ax_.get_xlabel()
    'Target minority-class probability'
    """

    def __init__(
        self,
        *,
        minority_probability,
        score,
        best_minority_probability=None,
        scoring_name=None,
        estimator_name=None,
    ):
        self.minority_probability = minority_probability
        self.score = score
        self.best_minority_probability = best_minority_probability
        self.scoring_name = scoring_name
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, name=None, **kwargs):
        """Plot the curve.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Where to draw; a new figure when None.
        name : str or None, default=None
            Label of the curve; defaults to ``estimator_name``.
        **kwargs : dict
            Passed to ``ax.plot``.

        Returns
        -------
        display : ImbalanceStateDisplay
            This display, with ``line_``, ``ax_`` and ``figure_``.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        kwargs.setdefault("marker", ".")
        (self.line_,) = ax.plot(
            self.minority_probability, self.score, label=name, **kwargs
        )
        if self.best_minority_probability is not None:
            ax.axvline(
                self.best_minority_probability,
                linestyle="--",
                color=self.line_.get_color(),
                alpha=0.6,
            )
        ax.set_xlabel("Target minority-class probability")
        ax.set_ylabel(self.scoring_name or "score")
        if name is not None:
            ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, **kwargs):
        """Plot the search results of a fitted BiasAdjustedClassifier.

        Parameters
        ----------
        estimator : BiasAdjustedClassifier
            Fitted on a binary problem.
        ax : matplotlib Axes or None, default=None
            Where to draw.
        name : str or None, default=None
            Label of the curve.
        **kwargs : dict
            Passed to ``ax.plot``.

        Returns
        -------
        display : ImbalanceStateDisplay
            The plotted display.
        """
        check_is_fitted(estimator, "search_results_")
        results = estimator.search_results_
        if "minority_probability" not in results:
            raise ValueError(
                f"ImbalanceStateDisplay plots binary problems; the estimator has "
                f"{len(estimator.classes_)} classes."
            )
        display = cls(
            minority_probability=results["minority_probability"],
            score=results["score"],
            best_minority_probability=_chosen_minority_probability(
                results, estimator.target_
            ),
            scoring_name=_scoring_label(estimator.scoring),
            estimator_name=name,
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_score,
        *,
        scoring="gmean",
        search="decimal",
        ax=None,
        name=None,
        **kwargs,
    ):
        """Plot the metric of the bias-adjusted scores of a binary model.

        The imbalance state is measured on the same rows that are scored (as
        :class:`~skimb.adjustment.BiasAdjustedClassifier` does with a frozen
        estimator).

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels (two classes).
        y_score : array-like of shape (n_samples,) or (n_samples, 2)
            Logits, or decision values of the class sorted second.
        scoring : str or callable, default="gmean"
            The metric, as for :func:`skimb.metrics.get_scorer`.
        search : {"decimal", "exact"}, default="decimal"
            Which targets to score.
        ax : matplotlib Axes or None, default=None
            Where to draw.
        name : str or None, default=None
            Label of the curve.
        **kwargs : dict
            Passed to ``ax.plot``.

        Returns
        -------
        display : ImbalanceStateDisplay
            The plotted display.
        """
        y_true = np.asarray(y_true)
        classes = np.unique(y_true)
        if classes.size != 2:
            raise ValueError(
                f"ImbalanceStateDisplay plots binary problems; y_true has "
                f"{classes.size} classes."
            )
        z = np.asarray(y_score, dtype=np.float64)
        if z.shape not in ((y_true.size,), (y_true.size, 2)):
            raise ValueError(
                f"y_score must have shape (n_samples,) or (n_samples, 2); got "
                f"{z.shape} for {y_true.size} samples."
            )
        target, _, results = search_target(y_true, z, scoring=scoring, search=search)
        display = cls(
            minority_probability=results["minority_probability"],
            score=results["score"],
            best_minority_probability=_chosen_minority_probability(results, target),
            scoring_name=_scoring_label(scoring),
            estimator_name=name,
        )
        return display.plot(ax=ax, **kwargs)
