"""EpochDisplay: the per-epoch score of the per-epoch bias adjustment."""

import numpy as np

from ..adjustment import BiasAdjustment


class EpochDisplay:
    """Validation score of the bias-adjusted network after every epoch.

    The seed paper's Figure 3: the score that the
    :class:`~skimb.adjustment.BiasAdjustment` callback records in the history after
    each epoch, with the restored best epoch marked. Build it with
    :meth:`from_estimator`; matplotlib is imported only when plotting.

    Parameters
    ----------
    epochs : ndarray of shape (n_epochs,)
        Epoch numbers.
    scores : ndarray of shape (n_epochs,)
        Validation score after bias adjustment at each epoch.
    best_epoch : int or None, default=None
        The restored epoch, marked on the plot.
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
    skimb.adjustment.BiasAdjustment : Records the per-epoch scores.
    ImbalanceStateDisplay : Score against the target imbalance state.

    References
    ----------
    .. [1] "Regulating imbalanced deep models with user-specified metrics",
       Section 3.3 and Figure 3.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_classification
    >>> from skimb.adjustment import BiasAdjustedClassifier
    >>> from skimb.nn import NetClassifier
    >>> from skimb.plotting import EpochDisplay
    >>> X, y = make_classification(n_samples=300, weights=[0.85], random_state=0)
    >>> clf = BiasAdjustedClassifier(
    ...     NetClassifier(max_epochs=3, random_state=0), per_epoch=True, cv=3
    ... ).fit(X, y)
    >>> display = EpochDisplay.from_estimator(clf)
    >>> display.epochs
    array([1, 2, 3])
    """

    def __init__(
        self, *, epochs, scores, best_epoch=None, scoring_name=None, estimator_name=None
    ):
        self.epochs = epochs
        self.scores = scores
        self.best_epoch = best_epoch
        self.scoring_name = scoring_name
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, name=None, **kwargs):
        """Plot the per-epoch scores.

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
        display : EpochDisplay
            This display, with ``line_``, ``ax_`` and ``figure_``.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        kwargs.setdefault("marker", "o")
        (self.line_,) = ax.plot(self.epochs, self.scores, label=name, **kwargs)
        if self.best_epoch is not None:
            best = self.scores[list(self.epochs).index(self.best_epoch)]
            ax.plot(
                [self.best_epoch],
                [best],
                marker="*",
                markersize=14,
                linestyle="none",
                color=self.line_.get_color(),
                label="best epoch",
            )
        ax.set_xlabel("Epoch")
        ax.set_ylabel(f"{self.scoring_name or 'score'} after bias adjustment")
        ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, **kwargs):
        """Plot the history of a per-epoch adjusted network.

        Parameters
        ----------
        estimator : BiasAdjustedClassifier or skorch NeuralNet
            A BiasAdjustedClassifier fitted with ``per_epoch=True``, or a net
            trained with the :class:`~skimb.adjustment.BiasAdjustment` callback.
        ax : matplotlib Axes or None, default=None
            Where to draw.
        name : str or None, default=None
            Label of the curve.
        **kwargs : dict
            Passed to ``ax.plot``.

        Returns
        -------
        display : EpochDisplay
            The plotted display.
        """
        net = getattr(estimator, "estimator_", estimator)
        history = getattr(net, "history", None)
        if not history or "ba_score" not in history[-1]:
            raise ValueError(
                f"{type(estimator).__name__} has no per-epoch bias adjustment in "
                f"its history: fit a BiasAdjustedClassifier with per_epoch=True "
                f"or a net with the BiasAdjustment callback."
            )
        callback = next(
            (
                cb
                for _, cb in getattr(net, "callbacks_", [])
                if isinstance(cb, BiasAdjustment)
            ),
            None,
        )
        scoring = getattr(callback, "scoring", None)
        display = cls(
            epochs=np.asarray(history[:, "epoch"]),
            scores=np.asarray(history[:, "ba_score"]),
            best_epoch=getattr(callback, "best_epoch_", None),
            scoring_name=scoring if isinstance(scoring, str) else None,
            estimator_name=name,
        )
        return display.plot(ax=ax, **kwargs)
