"""The per-feature transform a net fits on its training rows."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OrdinalEncoder,
    QuantileTransformer,
    RobustScaler,
)
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._missing import is_scalar_nan
from sklearn.utils.validation import _num_samples, check_array, check_is_fitted

# QuantileTransformer's landmarks: one per training row up to this many.
MAX_QUANTILES = 1000
# Rows the quantiles are estimated from; beyond, a random subsample.
QUANTILE_SUBSAMPLE = 1_000_000
# The smooth clip of "robust": x / sqrt(1 + (x / CLIP)^2) stays within CLIP.
CLIP = 3.0


def _smooth_clip(X):
    return X / np.sqrt(1 + (X / CLIP) ** 2)


def _is_categorical(dtype):
    """Whether a pandas column of ``dtype`` holds categories, not numbers."""
    import pandas as pd

    return isinstance(dtype, pd.CategoricalDtype) or (
        pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)
    )


def row_chunks(X, rows):
    """Yield ``X`` in slices of ``rows`` rows (-1: whole), views where possible."""
    n = _num_samples(X)
    if rows == -1 or rows >= n:
        yield X
        return
    for start in range(0, n, rows):
        yield _safe_indexing(X, slice(start, start + rows))


def _numeric_transformer(numeric, n_rows, random_state):
    """An unfitted transformer for the numeric columns, or None."""
    if numeric is None:
        return None
    if numeric == "quantile":
        return QuantileTransformer(
            output_distribution="normal",
            n_quantiles=max(1, min(MAX_QUANTILES, n_rows)),
            subsample=QUANTILE_SUBSAMPLE,
            random_state=random_state,
        )
    if numeric == "robust":
        return make_pipeline(
            RobustScaler(), FunctionTransformer(_smooth_clip, check_inverse=False)
        )
    if isinstance(numeric, str) or not hasattr(numeric, "fit"):
        raise ValueError(
            "preprocessing must be 'quantile', 'robust', None or a scikit-learn "
            f"transformer (an object with fit and transform); got {numeric!r}."
        )
    return clone(numeric)


class TabularPreprocessor(TransformerMixin, BaseEstimator):
    """Numeric columns through a robust transform, categorical columns to codes.

    What :class:`~skimb.nn.NetClassifier` fits on its training rows (as
    ``preprocessor_``) so that a network takes raw tabular data, as gradient
    boosting does. The output is a float32 array: first the transformed
    numeric columns in their order, then one column of integer codes per
    categorical column (the columns of a pandas DataFrame of ``category``,
    ``object`` or string dtype), in their order. A category unseen in
    ``fit``, and a missing one, get the code ``cardinality`` of its column
    (the categories seen are coded ``0 .. cardinality - 1``).

    Parameters
    ----------
    numeric : {"quantile", "robust"}, transformer or None, default="quantile"
        The transform of the numeric columns. ``"quantile"`` maps each
        feature to a standard normal through its training quantiles
        (:class:`~sklearn.preprocessing.QuantileTransformer`,
        ``output_distribution="normal"``, up to 1000 quantiles, as TabM's
        authors do): invariant to any increasing map of a feature, so a
        scaler in front changes nothing, and bounded (within +-5.2).
        ``"robust"`` centres on the median, divides by the interquartile
        range (:class:`~sklearn.preprocessing.RobustScaler`) and clips
        smoothly within +-3 by ``x / sqrt(1 + (x / 3)^2)`` (RealMLP's
        choice). A scikit-learn transformer is cloned and fitted; ``None``
        passes the numeric columns through.
    random_state : int, RandomState instance or None, default=None
        Seeds the quantile subsample (only used beyond 1,000,000 rows).

    Attributes
    ----------
    numeric_ : transformer or None
        The fitted transform of the numeric columns.
    numeric_columns_ : ndarray of int
        Positions of the numeric columns in the input.
    categorical_columns_ : ndarray of int
        Positions of the categorical columns in the input.
    encoder_ : OrdinalEncoder or None
        The fitted encoder of the categorical columns.
    cat_cardinalities_ : tuple of int
        Number of categories seen in each categorical column.
    n_features_in_ : int
        Number of input columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from skimb.nn import TabularPreprocessor
    >>> X = pd.DataFrame({"colour": ["red", "blue", "red", "green"],
    ...                   "size": [1.0, 10.0, 100.0, 1000.0]})
    >>> pre = TabularPreprocessor().fit(X)
    >>> pre.cat_cardinalities_
    (3,)
    >>> pre.transform(pd.DataFrame({"colour": ["blue", "pink"],
    ...                             "size": [10.0, 1e9]})).round(2)
    array([[-0.43,  0.  ],
           [ 5.2 ,  3.  ]], dtype=float32)
    """

    def __init__(self, numeric="quantile", *, random_state=None):
        self.numeric = numeric
        self.random_state = random_state

    def _parts(self, X, estimator):
        """The numeric columns as floats and the categorical ones, or None.

        float64 input stays float64 until transformed (a float32 cast first
        would lose the digits that tell apart the rows of a feature with a
        large offset); without a numeric transform, float32 at once.
        """
        dtype = np.float32 if self.numeric is None else (np.float64, np.float32)
        categorical = len(self.categorical_columns_) > 0
        numeric = X.iloc[:, self.numeric_columns_] if hasattr(X, "iloc") else X
        numeric = check_array(
            numeric,
            dtype=dtype,
            ensure_min_features=0 if categorical else 1,
            estimator=estimator,
            input_name="X",
        )
        return numeric, X.iloc[:, self.categorical_columns_] if categorical else None

    def fit(self, X, y=None):
        """Fit the numeric transform and the category codes on ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data; numeric columns must be finite.
        y : None
            Ignored.

        Returns
        -------
        self : TabularPreprocessor
            The fitted transform.
        """
        self._fit_transform(X, self)
        return self

    def fit_transform(self, X, y=None):
        """Fit on ``X`` and return it transformed (see :meth:`transform`).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data; numeric columns must be finite.
        y : None
            Ignored.

        Returns
        -------
        Xt : ndarray of shape (n_samples, n_features), float32
            The transformed numeric columns, then the categorical codes.
        """
        return self._fit_transform(X, self)

    def _fit_transform(self, X, estimator):
        """:meth:`fit_transform`; errors about ``X`` name ``estimator``."""
        categorical = []
        if hasattr(X, "dtypes") and hasattr(X, "iloc"):
            categorical = [i for i, d in enumerate(X.dtypes) if _is_categorical(d)]
        n_columns = X.shape[1] if hasattr(X, "iloc") else None
        self.categorical_columns_ = np.array(categorical, dtype=int)
        self.numeric_columns_ = np.setdiff1d(np.arange(n_columns or 0), categorical)
        numeric, cat = self._parts(X, estimator)
        self.n_features_in_ = numeric.shape[1] + len(categorical)
        if n_columns is None:
            self.numeric_columns_ = np.arange(numeric.shape[1])
        random_state = check_random_state(self.random_state)
        self.numeric_ = _numeric_transformer(self.numeric, len(numeric), random_state)
        if self.numeric_ is not None and numeric.shape[1]:
            numeric = self.numeric_.fit_transform(numeric)
        self.encoder_ = None
        self.cat_cardinalities_ = ()
        if cat is not None:
            self.encoder_ = OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=-1,
                encoded_missing_value=-1,
                dtype=np.float32,
            ).fit(cat)
            self.cat_cardinalities_ = tuple(
                sum(not is_scalar_nan(c) for c in categories)
                for categories in self.encoder_.categories_
            )
        return self._join(numeric, cat)

    def transform(self, X):
        """Return the numeric columns transformed, then the category codes.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data with the columns seen in :meth:`fit`.

        Returns
        -------
        Xt : ndarray of shape (n_samples, n_features), float32
            The transformed numeric columns, then the categorical codes.
        """
        return self._transform(X, self)

    def _transform(self, X, estimator):
        """:meth:`transform`; errors about ``X`` name ``estimator``."""
        check_is_fitted(self, "numeric_columns_")
        numeric, cat = self._parts(X, estimator)
        if numeric.shape[1] + (0 if cat is None else cat.shape[1]) != (
            self.n_features_in_
        ):
            raise ValueError(
                f"X has {numeric.shape[1]} features, but {type(self).__name__} "
                f"was fitted with {self.n_features_in_}."
            )
        if self.numeric_ is not None and numeric.shape[1]:
            numeric = self.numeric_.transform(numeric)
        return self._join(numeric, cat)

    def _join(self, numeric, cat):
        numeric = np.asarray(numeric, dtype=np.float32)
        if cat is None:
            return numeric
        codes = self.encoder_.transform(cat)
        unknown = codes < 0
        codes[unknown] = np.broadcast_to(
            np.asarray(self.cat_cardinalities_, dtype=np.float32), codes.shape
        )[unknown]
        return np.hstack([numeric, codes])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags
