"""TabMBackbone: an efficient ensemble of MLPs for tabular data (TabM)."""

from numbers import Integral, Real

import torch
from rtdl_num_embeddings import PeriodicEmbeddings
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from tabm import TabM
from torch import nn
from torch.nn import functional as F

_CONSTRAINTS = {
    "n_features": [None, Interval(Integral, 1, None, closed="left")],
    "n_classes": [Interval(Integral, 1, None, closed="left")],
    "cat_cardinalities": ["array-like"],
    "n_samples": [None, Interval(Integral, 1, None, closed="left")],
    "k": [Interval(Integral, 1, None, closed="left")],
    "n_blocks": [None, Interval(Integral, 1, None, closed="left")],
    "d_block": [None, Interval(Integral, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "num_embeddings": [None, StrOptions({"periodic"})],
    "d_embedding": [Interval(Integral, 1, None, closed="left")],
    "cosine": ["boolean"],
    "scale": [Interval(Real, 0, None, closed="neither")],
}

# The size rule: (largest n_samples, n_blocks, d_block), first match wins.
_SIZES = ((50_000, 2, 128), (None, 2, 256))


def default_sizes(n_samples):
    """Return ``(n_blocks, d_block)`` for ``n_samples`` training rows.

    Two blocks of width 128 up to 50,000 rows (and when ``n_samples`` is
    unknown), of width 256 beyond.
    """
    if n_samples is None:
        return 2, 128
    for limit, n_blocks, d_block in _SIZES:
        if limit is None or n_samples <= limit:
            return n_blocks, d_block


def _check_params(params):
    validate_parameter_constraints(_CONSTRAINTS, params, caller_name="TabMBackbone")
    cards = list(params["cat_cardinalities"])
    if not all(
        isinstance(card, Integral) and not isinstance(card, bool) and card >= 1
        for card in cards
    ):
        raise ValueError(
            "The 'cat_cardinalities' parameter of TabMBackbone "
            "(module__cat_cardinalities of a net) must hold the number of "
            f"categories of each categorical column, ints >= 1; got {tuple(cards)!r}."
        )
    n_features = params["n_features"]
    if n_features is None:
        raise ValueError(
            "TabMBackbone needs n_features, the number of input columns: a "
            "NetClassifier fills it in from the training data at fit; set "
            "module__n_features to initialise a net without fitting."
        )
    if len(cards) > n_features:
        raise ValueError(
            f"TabMBackbone got {len(cards)} categorical cardinalities for "
            f"n_features={n_features} columns; the categorical columns are the "
            "last len(cat_cardinalities) of the input."
        )
    return [int(card) for card in cards]


class TabMBackbone(nn.Module):
    """TabM: an efficient ensemble of ``k`` MLPs trained as one network.

    The network of Gorishniy et al. [1]_ built from the ``tabm`` package: the
    numeric columns go through periodic embeddings
    (:class:`rtdl_num_embeddings.PeriodicEmbeddings`, one per feature), the
    categorical columns are one-hot encoded, and ``k`` MLPs that share their
    weight matrices (BatchEnsemble, with a private scaling per member and
    layer) each compute the logits of every row.

    In training mode the output holds every member's logits, shape
    ``(batch, k, n_classes)``: :class:`~skimb.nn.NetClassifier` gives each
    member the loss (the batch's loss is the mean of the members' losses).
    In evaluation mode the output is the **mean of the members' logits**,
    shape ``(batch, n_classes)``, which :meth:`~skimb.nn.NetClassifier.logits`,
    ``predict_proba`` (its softmax), the validation loss and every callback
    read. TabM's authors average the members' probabilities instead; the mean
    of logits is chosen here so that a bias added to the logits (bias
    adjustment, post-hoc logit adjustment) shifts the ensemble's logits by
    exactly that bias, and so that ``predict_proba`` is the softmax of
    ``logits``, as for every skimb network.

    Parameters
    ----------
    n_features : int >= 1 or None, default=None
        Number of input columns, categorical ones included.
        :class:`~skimb.nn.NetClassifier` fills it in from the training data;
        ``None`` is refused when the module is built.
    n_classes : int >= 1, default=2
        Number of outputs (one logit per class).
    cat_cardinalities : sequence of int >= 1, default=()
        Number of categories of each categorical column; these columns are the
        last ``len(cat_cardinalities)`` of the input and hold the integer
        codes ``0 .. card - 1`` as floats. A code equal to ``card`` (or any
        code out of range, or NaN) is an unknown category, which gets a
        one-hot slot of its own.
    n_samples : int >= 1 or None, default=None
        Number of training rows, which sets ``n_blocks`` and ``d_block`` when
        they are ``None`` (see Notes). NetClassifier fills it in.
    k : int >= 1, default=8
        Number of ensemble members.
    n_blocks : int >= 1 or None, default=None
        Number of hidden layers of each member; ``None`` follows ``n_samples``.
    d_block : int >= 1 or None, default=None
        Width of the hidden layers; ``None`` follows ``n_samples``.
    dropout : float in [0, 1), default=0.1
        Dropout probability after each hidden layer.
    num_embeddings : {"periodic"} or None, default="periodic"
        Embedding of the numeric columns: ``"periodic"`` is
        ``PeriodicEmbeddings(n_numeric, d_embedding, lite=False)`` (it needs
        no training data); ``None`` feeds the numeric values as they are.
    d_embedding : int >= 1, default=16
        Size of each numeric feature's embedding.
    cosine : bool, default=False
        Use a cosine head per member: logits are ``scale`` times the cosine
        between the normalised last hidden features and the member's
        normalised class weights, with no bias. LDAM assumes this head
        (:class:`~skimb.nn.LogitAdjustedNet` sets it for ``loss="ldam"``).
    scale : float > 0, default=1.0
        Multiplier of the cosine head's outputs; ignored when ``cosine=False``.

    Attributes
    ----------
    tabm : tabm.TabM
        The embeddings and the ensemble of MLPs (with the linear heads when
        ``cosine=False``).
    n_blocks_, d_block_ : int
        The depth and width in use.

    Raises
    ------
    ValueError
        If a parameter is out of range, naming it, or ``n_features`` is
        missing or smaller than the number of categorical columns.

    See Also
    --------
    MLP : A plain multilayer perceptron.

    Notes
    -----
    Size rule (``n_blocks=None`` / ``d_block=None``): two hidden layers,
    of width 128 up to 50,000 training rows and 256 beyond. On three small
    held-out sets (214 to 336 rows, 2 x 5-fold CV) width 64 gave a lower
    mean average precision (0.657) and balanced accuracy (0.733) than
    width 128 (0.674, 0.766) for a small saving in time; width 256 (0.691,
    0.749) cost twice the time of width 128. TabM's own defaults
    (``k=32``, four times wider) are meant for a GPU: every row goes
    through ``k`` members, and on a CPU the cost of an epoch follows
    ``k`` times the width. Measured (CPU time of one thread,
    batch 128, 20 numeric features; ``benchmarks/bench_tabm_backbone.py``):
    on 5,000 rows an epoch takes 1.3 s with ``k=8`` and width 128, 2.3 s
    with ``k=16`` or width 256, 1.1 s with width 64, against 0.16 s for the
    one-layer MLP of width 128 (about 8 times); on 50,000 rows, 12 s
    against 1.2 s. The periodic embeddings account for about 40% of the
    cost (0.73 s without them).

    References
    ----------
    .. [1] Y. Gorishniy, A. Kotelnikov and A. Babenko, "TabM: Advancing
       Tabular Deep Learning with Parameter-Efficient Ensembling", ICLR 2025.
    .. [2] Y. Gorishniy, I. Rubachev and A. Babenko, "On Embeddings for
       Numerical Features in Tabular Deep Learning", NeurIPS 2022.

    Examples
    --------
    >>> import torch
    >>> from skimb.nn import TabMBackbone
    >>> module = TabMBackbone(n_features=4, n_classes=3, k=4)
    >>> X = torch.zeros(2, 4)
    >>> module.train()(X).shape  # every member's logits
    torch.Size([2, 4, 3])
    >>> module.eval()(X).shape  # the mean of the members' logits
    torch.Size([2, 3])

    The last column categorical, with 3 categories (code 3: unknown):

    >>> module = TabMBackbone(n_features=4, cat_cardinalities=[3]).eval()
    >>> module(torch.tensor([[0.5, 1.0, -1.0, 2.0], [0.5, 1.0, -1.0, 3.0]])).shape
    torch.Size([2, 2])
    """

    def __init__(
        self,
        n_features=None,
        n_classes=2,
        *,
        cat_cardinalities=(),
        n_samples=None,
        k=8,
        n_blocks=None,
        d_block=None,
        dropout=0.1,
        num_embeddings="periodic",
        d_embedding=16,
        cosine=False,
        scale=1.0,
    ):
        super().__init__()
        cards = _check_params(
            dict(
                n_features=n_features,
                n_classes=n_classes,
                cat_cardinalities=cat_cardinalities,
                n_samples=n_samples,
                k=k,
                n_blocks=n_blocks,
                d_block=d_block,
                dropout=dropout,
                num_embeddings=num_embeddings,
                d_embedding=d_embedding,
                cosine=cosine,
                scale=scale,
            )
        )
        sizes = default_sizes(n_samples)
        self.n_blocks_ = sizes[0] if n_blocks is None else n_blocks
        self.d_block_ = sizes[1] if d_block is None else d_block
        self.n_numeric = n_features - len(cards)
        self.cosine = cosine
        self.scale = scale
        embeddings = None
        if num_embeddings == "periodic" and self.n_numeric:
            embeddings = PeriodicEmbeddings(self.n_numeric, d_embedding, lite=False)
        self.tabm = TabM.make(
            n_num_features=self.n_numeric,
            # One extra category per column: the unknown code.
            cat_cardinalities=[card + 1 for card in cards] or None,
            d_out=None if cosine else n_classes,
            num_embeddings=embeddings,
            k=k,
            n_blocks=self.n_blocks_,
            d_block=self.d_block_,
            dropout=dropout,
        )
        self.register_buffer(
            "unknown_codes", torch.tensor(cards, dtype=torch.float32), persistent=False
        )
        if cosine:
            self.weight = nn.Parameter(torch.empty(k, n_classes, self.d_block_))
            for member in self.weight:
                nn.init.kaiming_uniform_(member, a=5**0.5)

    def _codes(self, X):
        """The categorical columns as int64 codes, out-of-range ones unknown."""
        codes = X[:, self.n_numeric :]
        card = self.unknown_codes.to(codes.dtype)
        known = (codes >= 0) & (codes < card) & (codes == codes.floor())
        return torch.where(known, codes, card).long()

    def init_output_bias(self, bias):
        """Set every member's output bias to ``bias`` (a cosine head has none)."""
        if self.cosine or self.tabm.output.bias.shape[-1:] != bias.shape:
            return
        with torch.no_grad():
            self.tabm.output.bias.copy_(bias.expand_as(self.tabm.output.bias))

    def forward(self, X):
        """Return every member's logits in training mode, their mean otherwise.

        Parameters
        ----------
        X : torch.Tensor of shape (batch, n_features)
            Numeric columns first, then the categorical codes.

        Returns
        -------
        logits : torch.Tensor of shape (batch, k, n_classes) or (batch, n_classes)
            ``(batch, k, n_classes)`` in training mode, the mean over the
            members ``(batch, n_classes)`` in evaluation mode.
        """
        x_num = X[:, : self.n_numeric] if self.n_numeric else None
        x_cat = self._codes(X) if self.unknown_codes.numel() else None
        out = self.tabm(x_num, x_cat)
        if self.cosine:
            features = F.normalize(out, dim=-1)
            weight = F.normalize(self.weight, dim=-1)
            out = self.scale * torch.einsum("bkd,kcd->bkc", features, weight)
        return out if self.training else out.mean(dim=1)
