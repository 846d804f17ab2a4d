"""search_target on logits in chunks (Dask arrays, lists of blocks, callables)."""

import numpy as np
import pytest
from sklearn.metrics import make_scorer, matthews_corrcoef

from skimb.adjustment import search_target
from skimb.metrics import make_cost_scorer

da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 20_000
    y = np.where(rng.random(n) < 0.07, "fraud", "ok")
    margin = 2.0 * (y == "ok") + rng.normal(size=n) + 1.0
    z = np.column_stack([rng.normal(size=n) * 0.3, margin])
    return y, z, rng.integers(0, 3, n).astype(float)


def _chunks(kind, y, z):
    if kind == "dask":
        return da.from_array(y, chunks=3000), da.from_array(z, chunks=(3000, 2))
    blocks = [z[i : i + 4500] for i in range(0, len(z), 4500)]
    return y, blocks if kind == "blocks" else (lambda: iter(blocks))


@pytest.mark.parametrize("kind", ["dask", "blocks", "callable"])
@pytest.mark.parametrize(
    "scoring",
    ["gmean", "minority_f1", "balanced_accuracy", "cost"],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_the_in_memory_search(data, kind, scoring, weighted):
    y, z, w = data
    if scoring == "cost":
        scoring = make_cost_scorer([[0, 10], [1, 0]], labels=["fraud", "ok"])
    weights = w if weighted else None
    expected = search_target(y, z, scoring=scoring, sample_weight=weights)
    y_c, z_c = _chunks(kind, y, z)
    target, score, results = search_target(
        y_c, z_c, scoring=scoring, sample_weight=weights
    )
    np.testing.assert_allclose(target, expected[0], rtol=0, atol=1e-12)
    assert score == pytest.approx(expected[1], abs=1e-12)
    for key in ("target", "score", "minority_probability"):
        np.testing.assert_allclose(results[key], expected[2][key], atol=1e-12)


def test_constraints_equal_the_in_memory_search(data):
    y, z, _ = data
    floors = {"recall": 0.97}
    expected = search_target(y, z, scoring="gmean", constraints=floors)
    got = search_target(*_chunks("dask", y, z), scoring="gmean", constraints=floors)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[2]["feasible"], expected[2]["feasible"])
    infeasible = {"recall": 0.999, "specificity": 0.999}
    with pytest.raises(ValueError, match="recall") as in_memory:
        search_target(y, z, constraints=infeasible)
    with pytest.raises(ValueError, match="recall") as chunked:
        search_target(*_chunks("blocks", y, z), constraints=infeasible)
    assert str(chunked.value) == str(in_memory.value)


def test_refusals_name_the_problem(data):
    y, z, _ = data
    y_c, z_c = _chunks("blocks", y, z)
    with pytest.raises(ValueError, match="confusion counts"):
        search_target(y_c, z_c, scoring=make_scorer(matthews_corrcoef))
    with pytest.raises(ValueError, match="search='decimal'"):
        search_target(y_c, z_c, search="exact")
    with pytest.raises(ValueError, match="target='search'"):
        search_target(y_c, z_c, target="balanced")
    three = np.r_[y[:-1], ["other"]]
    with pytest.raises(ValueError, match="two classes"):
        search_target(three, z_c)
    with pytest.raises(ValueError, match="y has 19999 rows"):
        search_target(y[:-1], z_c)
