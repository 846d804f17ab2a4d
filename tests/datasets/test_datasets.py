import numpy as np
import pytest
from sklearn.datasets import load_digits

from skimb.datasets import list_keel, load_keel, make_long_tailed


def test_keel_bundle_covers_imbalance_range():
    names = list_keel()
    assert len(names) >= 10
    ratios = [load_keel(name).imbalance_ratio for name in names]
    assert min(ratios) <= 2 and max(ratios) >= 40
    assert ratios == sorted(ratios)


@pytest.mark.parametrize("name", list_keel())
def test_load_keel_contents(name):
    data = load_keel(name)
    X, y = data.data, data.target
    assert X.dtype == np.float64 and np.isfinite(X).all()
    assert set(np.unique(y)) == {0, 1}
    n_min = int(y.sum())
    assert (len(y) - n_min) / n_min == pytest.approx(data.imbalance_ratio, abs=0.01)
    assert len(data.feature_names) == X.shape[1]
    assert "KEEL" in data.citation


def test_load_keel_frame_and_errors():
    X, y = load_keel("pima", return_X_y=True, as_frame=True)
    assert X.shape == (768, 8) and y.name == "target"
    with pytest.raises(ValueError, match="Unknown KEEL dataset 'nope'"):
        load_keel("nope")


@pytest.mark.parametrize("ratio", [1, 2, 10, 50, 100, 150, 183])
def test_make_long_tailed_profile(ratio):
    """Check the sizes follow round(n_tail * ratio ** ((K - 1 - i) / (K - 1)))."""
    X, y = load_digits(return_X_y=True)
    X_before = X.copy()
    X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=ratio, random_state=0)
    sizes = np.sort(np.bincount(y_lt))[::-1]
    available = np.sort(np.bincount(y))[::-1]
    profile = ratio ** (np.arange(10)[::-1] / 9)
    n_tail = sizes[-1]
    np.testing.assert_array_equal(sizes, np.floor(n_tail * profile + 0.5))
    assert np.all(sizes <= available)
    # n_tail is the largest tail that every class can supply.
    assert np.any(np.floor((n_tail + 1) * profile + 0.5) > available)
    np.testing.assert_array_equal(X, X_before)
    assert len(X_lt) == len(y_lt)


@pytest.mark.parametrize("ratio", [2, 10, 37.5, 50, 100, 150, 183])
def test_make_long_tailed_gives_the_ratio_asked(ratio):
    """Check the ratio obtained is the one asked, up to rounding the head.

    Before the fix, ratio 100 on digits gave 183:1 (the smallest class floored
    to one row) and 150 gave the same data as 100.
    """
    X, y = load_digits(return_X_y=True)
    counts = np.bincount(make_long_tailed(X, y, imbalance_ratio=ratio)[1])
    assert abs(counts.max() / counts.min() - ratio) <= 0.5 / counts.min()


def test_make_long_tailed_distinct_ratios_distinct_data():
    """Check that two ratios a tail of one row can tell apart give other data."""
    X, y = load_digits(return_X_y=True)
    a = make_long_tailed(X, y, imbalance_ratio=100, random_state=0)[1]
    b = make_long_tailed(X, y, imbalance_ratio=150, random_state=0)[1]
    assert np.bincount(a).max() == 100 and np.bincount(b).max() == 150


def test_make_long_tailed_reproducible_and_errors():
    X, y = load_digits(return_X_y=True)
    a = make_long_tailed(X, y, imbalance_ratio=10, random_state=3)[1]
    b = make_long_tailed(X, y, imbalance_ratio=10, random_state=3)[1]
    np.testing.assert_array_equal(a, b)
    with pytest.raises(
        ValueError,
        match=r"imbalance_ratio=184 cannot be reached.*"
        r"largest ratio they can give is 183\.49",
    ):
        make_long_tailed(X, y, imbalance_ratio=184)
    with pytest.raises(ValueError, match="cannot be reached"):
        make_long_tailed(X, y, imbalance_ratio=500)
    with pytest.raises(ValueError, match="imbalance_ratio"):
        make_long_tailed(X, y, imbalance_ratio=0.5)
    with pytest.raises(ValueError, match="single class"):
        make_long_tailed(X, np.zeros_like(y), imbalance_ratio=2)
