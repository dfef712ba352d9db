"""The lab's toy data sets: shapes, seeds, and the separability the lab relies on."""

from __future__ import annotations

import numpy as np
import pytest

from seisphase.data.toy import blobs, rings
from seisphase.errors import ConfigError


def test_blobs_shapes_dtypes_and_balance():
    X, y = blobs(40, seed=1)
    assert X.shape == (120, 2) and X.dtype == np.float32
    assert y.shape == (120,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [40, 40, 40]


def test_rings_shapes_dtypes_and_radii():
    X, y = rings(30, n_classes=5, seed=1)
    assert X.shape == (150, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [30] * 5
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.all(radius >= y + 0.2 - 1e-6) and np.all(radius <= y + 0.6 + 1e-6)


@pytest.mark.parametrize("make", [blobs, rings])
def test_same_seed_same_points_other_seed_other_points(make):
    a, b, c = make(50, seed=3), make(50, seed=3), make(50, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_blobs_are_linearly_separable():
    X, y = blobs(100, seed=0)
    centres = np.stack([X[y == k].mean(0) for k in range(3)])
    np.testing.assert_allclose(centres, [[0, 3], [-3, -3], [3, -3]], atol=0.35)
    # nearest-centre rule = a linear classifier; with unit spread and centres 3+ apart it is ~exact
    pred = np.argmin(((X[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    assert (pred == y).mean() > 0.97


def test_rings_are_not_linearly_separable_but_radius_separates_them():
    X, y = rings(100, seed=0)
    # the best linear class score: least squares on one-hot targets
    A = np.column_stack([X, np.ones(len(X))])
    W, *_ = np.linalg.lstsq(A, np.eye(5)[y], rcond=None)
    assert (np.argmax(A @ W, axis=1) == y).mean() < 0.5
    assert (np.floor(np.hypot(X[:, 0], X[:, 1])).astype(int) == y).all()


def test_unshuffled_points_come_class_by_class_and_bad_sizes_raise():
    _, y = blobs(5, shuffle=False)
    assert y.tolist() == [0] * 5 + [1] * 5 + [2] * 5
    with pytest.raises(ConfigError, match="n_per_class must be a positive whole number"):
        blobs(0)
    with pytest.raises(ConfigError, match="noise must be a ring half-width"):
        rings(10, noise=-1)
