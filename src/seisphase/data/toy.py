"""The lab's two-dimensional toy data sets, seeded.

* :func:`blobs`: three Gaussian blobs (unit spread) centred at ``(0, c)``, ``(-c, -c)`` and
  ``(c, -c)``: linearly separable for the lab's ``c = 3``;
* :func:`rings`: concentric noisy rings, ring ``j`` at radius ``j + 0.2 .. j + 0.6``: no straight
  line separates them, a hidden layer does.

The lab adds a bias column of ones to the blobs; models here carry their own bias, so the
points come without it.
"""

from __future__ import annotations

import numpy as np

from seisphase.errors import ConfigError


def _check_count(name: str, value) -> int:
    if int(value) != value or value < 1:
        raise ConfigError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def _shuffled(rng, X, y, shuffle):
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    return X.astype(np.float32), y.astype(np.int64)


def blobs(n_per_class: int = 100, seed: int = 0, center: float = 3.0, *, shuffle: bool = True):
    """Three Gaussian blobs, the lab's linearly separable example.

    Parameters
    ----------
    n_per_class : int
        Points per class.
    seed : int
        Seed; the same seed gives the same points.
    center : float
        Distance scale of the centres ``(0, c)``, ``(-c, -c)``, ``(c, -c)``; the spread is 1.
    shuffle : bool
        Shuffle the points (otherwise they come class by class).

    Returns
    -------
    X : ndarray, shape (3 * n_per_class, 2), float32
    y : ndarray, shape (3 * n_per_class,), int64
        Class 0, 1, 2.

    Examples
    --------
    >>> X, y = blobs(5)
    >>> X.shape, y.shape, sorted(set(y.tolist()))
    ((15, 2), (15,), [0, 1, 2])
    """
    n = _check_count("n_per_class", n_per_class)
    rng = np.random.default_rng(seed)
    centres = float(center) * np.array([[0.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    X = (centres[:, None, :] + rng.standard_normal((3, n, 2))).reshape(-1, 2)
    y = np.repeat(np.arange(3), n)
    return _shuffled(rng, X, y, shuffle)


def rings(n_per_class: int = 100, n_classes: int = 5, seed: int = 0, noise: float = 0.2, *,
          shuffle: bool = True):
    """Concentric noisy rings, the lab's example that no linear model separates.

    Parameters
    ----------
    n_per_class : int
        Points per ring.
    n_classes : int
        Number of rings; ring ``j`` (class ``j``) lies around radius ``j + 0.4``.
    seed : int
        Seed; the same seed gives the same points.
    noise : float
        Half-width of each ring: radii are uniform in ``j + 0.4 ± noise`` (the lab's
        ``j + 0.2 .. j + 0.6`` for the default 0.2). Above 0.5 neighbouring rings overlap.
    shuffle : bool
        Shuffle the points (otherwise they come ring by ring).

    Returns
    -------
    X : ndarray, shape (n_classes * n_per_class, 2), float32
    y : ndarray, shape (n_classes * n_per_class,), int64
        Ring index ``0 .. n_classes - 1``.
    """
    n = _check_count("n_per_class", n_per_class)
    k = _check_count("n_classes", n_classes)
    if not 0.0 <= noise < 5.0:
        raise ConfigError(f"noise must be a ring half-width >= 0 (0.2 in the lab), got {noise!r}")
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n)
    radius = y + 0.4 + rng.uniform(-noise, noise, y.size)
    theta = rng.uniform(0.0, 2 * np.pi, y.size)
    X = np.column_stack([radius * np.sin(theta), radius * np.cos(theta)])
    return _shuffled(rng, X, y, shuffle)
