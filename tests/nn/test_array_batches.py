import numpy as np
import pytest
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, Subset

from skimb.nn import NetClassifier
from skimb.nn._batches import ArrayBatches


def arrays(n=23):
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return X, np.arange(n) % 3


def test_same_batches_as_dataloader():
    """Check the unshuffled batches equal skorch's DataLoader batches."""
    X, y = arrays()
    for dataset in (Dataset(X, y), Subset(Dataset(X, y), [5, 1, 7, 7, 20, 3])):
        ours = list(ArrayBatches(dataset, batch_size=4, shuffle=False))
        theirs = list(DataLoader(dataset, batch_size=4))
        assert len(ours) == len(theirs) == len(ArrayBatches(dataset, 4, False))
        for (xa, ya), (xb, yb) in zip(ours, theirs, strict=True):
            torch.testing.assert_close(xa, xb)
            torch.testing.assert_close(ya, yb)


def test_shuffle_visits_every_row_once_in_a_new_order():
    X, y = arrays()
    batches = ArrayBatches(Dataset(X, y), batch_size=5, shuffle=True)
    first = torch.cat([xb[:, 0] for xb, _ in batches])
    second = torch.cat([xb[:, 0] for xb, _ in batches])
    np.testing.assert_array_equal(np.sort(first.numpy()), X[:, 0])
    assert not torch.equal(first, second)


def test_follows_subset_indices_changed_between_epochs():
    X, y = arrays()
    subset = Subset(Dataset(X, y), [0, 1, 2])
    batches = ArrayBatches(subset, batch_size=10, shuffle=False)
    subset.indices = [4, 4, 9]
    ((xb, yb),) = list(batches)
    np.testing.assert_array_equal(xb.numpy(), X[[4, 4, 9]])
    np.testing.assert_array_equal(yb.numpy(), y[[4, 4, 9]])


def test_net_uses_it_only_for_default_loaders_and_arrays():
    X, y = arrays(60)
    net = NetClassifier(max_epochs=1, random_state=0).fit(X, y)
    assert isinstance(net.get_iterator(Dataset(X, y), training=True), ArrayBatches)
    custom = NetClassifier(max_epochs=1, iterator_train__num_workers=0).fit(X, y)
    assert isinstance(custom.get_iterator(Dataset(X, y), training=True), DataLoader)
    tensors = Dataset(torch.from_numpy(X), torch.from_numpy(y))
    assert isinstance(net.get_iterator(tensors), DataLoader)


def test_seeded_fit_identical_to_skorch_dataloader_path():
    """Check the fast path trains exactly as skorch's shuffling DataLoader."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + rng.normal(size=300) > 0.5).astype(int)
    params = dict(max_epochs=4, random_state=0, module__dropout=0.2)
    fast = NetClassifier(**params).fit(X, y)
    loader = NetClassifier(iterator_train__num_workers=0, **params).fit(X, y)
    np.testing.assert_array_equal(fast.predict_proba(X), loader.predict_proba(X))


@pytest.mark.parametrize("batch_size", [0, -2, 2.5, True])
def test_invalid_batch_size_is_refused(batch_size):
    """Check that an invalid batch size is refused by name, not mis-batched."""
    X = np.random.RandomState(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    net = NetClassifier(max_epochs=1, batch_size=batch_size, random_state=0)
    with pytest.raises(ValueError, match="'batch_size' parameter of NetClassifier"):
        net.fit(X, y)
