"""A multilayer perceptron for standardised tabular data and category codes."""

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, validate_parameter_constraints
from torch import nn

from ._cosine_logits import CosineLogits

_MLP_CONSTRAINTS = {
    "n_features": [None, Interval(Integral, 1, None, closed="left")],
    "n_classes": [Interval(Integral, 1, None, closed="left")],
    "cat_cardinalities": ["array-like"],
    "hidden_sizes": ["array-like"],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_norm": ["boolean"],
    "cosine": ["boolean"],
    "scale": [Interval(Real, 0, None, closed="neither")],
}


def _check_mlp_params(**params):
    validate_parameter_constraints(_MLP_CONSTRAINTS, params, caller_name="MLP")
    cards = list(params["cat_cardinalities"])
    if not all(
        isinstance(c, Integral) and not isinstance(c, bool) and c >= 0 for c in cards
    ):
        raise ValueError(
            "The 'cat_cardinalities' parameter of MLP must hold the number of "
            f"categories of each categorical column, ints >= 0; got {tuple(cards)!r}."
        )
    n_features = params["n_features"]
    if n_features is not None and n_features < len(cards):
        raise ValueError(
            f"MLP has n_features={n_features} inputs but {len(cards)} categorical "
            "columns (cat_cardinalities); the categorical columns are the last "
            "len(cat_cardinalities) of the n_features."
        )
    sizes = list(params["hidden_sizes"])
    if not all(
        isinstance(size, Integral) and not isinstance(size, bool) and size >= 1
        for size in sizes
    ):
        raise ValueError(
            "The 'hidden_sizes' parameter of MLP (module__hidden_sizes of a net) "
            f"must hold layer widths, ints >= 1; got {tuple(sizes)!r}. Use () for "
            "a linear model."
        )


def _embedding_size(cardinality):
    """Width of the embedding of a column of ``cardinality`` categories."""
    return min(16, (cardinality + 2) // 2)


class MLP(nn.Module):
    """Multilayer perceptron that maps tabular features to class logits.

    Parameters
    ----------
    n_features : int >= 1 or None, default=None
        Number of input features. ``None`` infers it from the first batch
        (:class:`torch.nn.LazyLinear`). :class:`~skimb.nn.NetClassifier` fills
        it in from the training data.
    n_classes : int >= 1, default=2
        Number of outputs (one logit per class).
    cat_cardinalities : tuple of int >= 0, default=()
        Number of categories of each categorical column: the last
        ``len(cat_cardinalities)`` input columns hold integer codes
        ``0 .. cardinality`` (``cardinality`` for a category unseen in
        training). Each column gets a learned embedding of
        ``min(16, (cardinality + 2) // 2)`` numbers in place of its code.
        :class:`~skimb.nn.NetClassifier` fills it in from a DataFrame's
        categorical columns.
    hidden_sizes : tuple of int >= 1, default=(128,)
        Width of each hidden layer; ``()`` gives a linear model.
    dropout : float in [0, 1), default=0.0
        Dropout probability after each hidden layer.
    batch_norm : bool, default=False
        Whether to batch-normalise each hidden layer before its activation.
    cosine : bool, default=False
        Use a cosine (normalised) head: logits are ``scale`` times the cosine
        between the normalised last hidden features and the normalised class
        weights, with no bias. LDAM assumes this head.
    scale : float > 0, default=1.0
        Multiplier of the cosine head's outputs; ignored when ``cosine=False``.

    Raises
    ------
    ValueError
        If a parameter is out of range, naming it (a hidden layer of width 0
        would give a network whose outputs do not depend on its input).

    Examples
    --------
    >>> import torch
    >>> from skimb.nn import MLP
    >>> MLP(n_features=4, n_classes=3)(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_features=None,
        n_classes=2,
        cat_cardinalities=(),
        hidden_sizes=(128,),
        dropout=0.0,
        batch_norm=False,
        cosine=False,
        scale=1.0,
    ):
        super().__init__()
        _check_mlp_params(
            n_features=n_features,
            n_classes=n_classes,
            cat_cardinalities=cat_cardinalities,
            hidden_sizes=hidden_sizes,
            dropout=dropout,
            batch_norm=batch_norm,
            cosine=cosine,
            scale=scale,
        )
        self.n_categorical = len(cat_cardinalities)
        self.embeddings = nn.ModuleList(
            nn.Embedding(c + 1, _embedding_size(c)) for c in cat_cardinalities
        )
        layers = []
        width = n_features
        if width is not None and cat_cardinalities:
            width += sum(_embedding_size(c) - 1 for c in cat_cardinalities)
        for size in hidden_sizes:
            layers.append(nn.Linear(width, size) if width else nn.LazyLinear(size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        self.body = nn.Sequential(*layers)
        self.cosine = cosine
        self.scale = scale
        if cosine:
            if not width:
                raise ValueError("A cosine head needs n_features or hidden layers.")
            self.weight = nn.Parameter(torch.empty(n_classes, width))
            nn.init.kaiming_uniform_(self.weight, a=5**0.5)
        else:
            self.head = (
                nn.Linear(width, n_classes) if width else nn.LazyLinear(n_classes)
            )

    def init_output_bias(self, bias):
        """Set the output layer's bias to ``bias`` (a cosine head has none).

        A head of another size is left alone: the net's check of the
        output shape reports it.
        """
        if self.cosine or nn.parameter.is_lazy(self.head.bias):
            return
        if self.head.bias.shape != bias.shape:
            return
        with torch.no_grad():
            self.head.bias.copy_(bias)

    def forward(self, X):
        """Return the logits of ``X``, shape ``(n_samples, n_classes)``."""
        if self.n_categorical:
            codes = X[:, X.shape[1] - self.n_categorical :].long()
            X = torch.cat(
                [X[:, : X.shape[1] - self.n_categorical]]
                + [embed(codes[:, j]) for j, embed in enumerate(self.embeddings)],
                dim=1,
            )
        features = self.body(X)
        if self.cosine:
            return CosineLogits.apply(features, self.weight, self.scale)
        return self.head(features)
