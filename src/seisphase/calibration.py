"""Probability calibration: temperature scaling, calibration error and precision thresholds.

Networks trained with cross-entropy are usually over-confident: a window scored 0.99 is right
less often than 99 % of the time. Temperature scaling (Guo et al. 2017) divides the logits by one
number ``T`` fitted on held-out windows; it changes confidence but never the predicted class.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> labels = rng.integers(0, 3, 500)
>>> logits = 8.0 * (np.eye(3)[labels] + rng.normal(size=(500, 3)))   # over-confident scores
>>> fit_temperature(logits, labels) > 1
True
"""

from __future__ import annotations

import numpy as np

from seisphase.errors import ConfigError, DataError

DEFAULT_BINS = 15
"""Equal-width confidence bins of the expected calibration error (Guo et al. 2017)."""

_LOG_T_BOUNDS = (np.log(1e-2), np.log(1e2))


def _check_scores(labels, scores, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``labels (n,)`` against ``scores (n, n_classes)``; return int64 / float64 arrays."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] < 2:
        raise DataError(
            f"expected {name} of shape (n_windows, n_classes) with at least one window and two "
            f"classes, got shape {s.shape}"
        )
    if y.shape != (s.shape[0],):
        raise DataError(
            f"expected labels of shape ({s.shape[0]},), one per row of {name}, got {y.shape}"
        )
    if y.dtype.kind not in "iu" or (y < 0).any() or (y >= s.shape[1]).any():
        raise DataError(
            f"labels must be integers 0..{s.shape[1] - 1} indexing the columns of {name}"
        )
    if not np.isfinite(s).all():
        raise DataError(f"{name} contain NaN or inf; calibrate on finite network outputs")
    return y.astype(np.int64), s


def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``, shape (n_windows, n_classes), float64."""
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _nll_and_grad(log_t: float, logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Mean negative log-likelihood of ``softmax(logits / exp(log_t))`` and d/d(log_t)."""
    beta = np.exp(-log_t)
    z = beta * logits
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    total = e.sum(axis=1, keepdims=True)
    lse = (m + np.log(total))[:, 0]
    rows = np.arange(len(labels))
    nll = float(np.mean(lse - z[rows, labels]))
    # dNLL/dbeta = mean(E_softmax[z] - z_y) on unscaled logits; dbeta/dlog_t = -beta.
    expected = ((e / total) * logits).sum(axis=1)
    d_beta = float(np.mean(expected - logits[rows, labels]))
    return nll, -beta * d_beta


def fit_temperature(logits, labels) -> float:
    """Temperature ``T > 0`` minimising the NLL of ``softmax(logits / T)`` on held-out windows.

    The NLL is minimised over ``log T`` (so ``T`` stays positive) with L-BFGS-B and an
    analytic gradient, within ``0.01 <= T <= 100``.

    Parameters
    ----------
    logits : array_like, shape (n_windows, n_classes)
        Uncalibrated network outputs on windows *not* used to fit the network.
    labels : array_like, shape (n_windows,)
        True class indices.

    Returns
    -------
    float
        ``T > 1`` softens over-confident probabilities, ``T < 1`` sharpens under-confident ones.
    """
    from scipy.optimize import minimize

    y, z = _check_scores(labels, logits, "logits")
    res = minimize(_nll_and_grad, x0=np.zeros(1), args=(z, y), jac=True, method="L-BFGS-B",
                   bounds=[_LOG_T_BOUNDS])
    return float(np.exp(res.x[0]))


def reliability_bins(labels, proba, n_bins: int = DEFAULT_BINS):
    """Top-label reliability statistics in equal-width confidence bins.

    Parameters
    ----------
    labels : array_like, shape (n_windows,)
    proba : array_like, shape (n_windows, n_classes)
    n_bins : int
        Bins ``[0, 1/n], (1/n, 2/n], ..., ((n-1)/n, 1]``.

    Returns
    -------
    confidence, accuracy : ndarray, shape (n_bins,)
        Mean top probability and fraction of correct predictions per bin (NaN where empty).
    counts : ndarray, shape (n_bins,)
        Windows per bin.
    """
    y, p = _check_scores(labels, proba, "probabilities")
    if int(n_bins) < 1:
        raise ConfigError(f"n_bins must be at least 1, got {n_bins}")
    n_bins = int(n_bins)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    which = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(which, conf, minlength=n_bins) / counts
        accuracy = np.bincount(which, correct, minlength=n_bins) / counts
    return confidence, accuracy, counts


def expected_calibration_error(labels, proba, n_bins: int = DEFAULT_BINS) -> float:
    """Top-label expected calibration error: ``sum_b (n_b / n) |accuracy_b - confidence_b|``.

    Parameters
    ----------
    labels : array_like, shape (n_windows,)
    proba : array_like, shape (n_windows, n_classes)
        Rows are probability vectors.
    n_bins : int
        Equal-width confidence bins.

    Returns
    -------
    float
        0 for perfectly calibrated probabilities; at most 1.
    """
    confidence, accuracy, counts = reliability_bins(labels, proba, n_bins)
    used = counts > 0
    weights = counts[used] / counts.sum()
    return float(np.sum(weights * np.abs(accuracy[used] - confidence[used])))


def calibrate(classifier, validation_windows, n_bins: int = DEFAULT_BINS) -> float:
    """Fit and set the temperature of a fitted classifier on labelled held-out windows.

    Sets ``classifier.temperature_`` and records ``{"temperature", "ece_before", "ece_after",
    "n_windows"}`` in ``classifier.info_["calibration"]`` (saved in the model file). "Before"
    is the raw network (``T = 1``). Predicted classes do not change.

    Parameters
    ----------
    classifier : PhaseClassifier
        Anything with ``logits(windows) -> (n_windows, n_classes)`` and ``temperature_``.
    validation_windows : Windows
        Labelled windows that the network was not trained on.

    Returns
    -------
    float
        The fitted temperature.
    """
    labels = getattr(validation_windows, "labels", None)
    if labels is None:
        raise DataError("calibration needs labelled validation windows (the data have no Y)")
    logits = np.asarray(classifier.logits(validation_windows), dtype=np.float64)
    temperature = fit_temperature(logits, labels)
    classifier.temperature_ = temperature
    info = getattr(classifier, "info_", None) or {}
    proba = softmax(logits, temperature)
    info["calibration"] = {
        "temperature": temperature,
        "ece_before": expected_calibration_error(labels, softmax(logits), n_bins),
        "ece_after": expected_calibration_error(labels, proba, n_bins),
        "n_windows": int(len(labels)),
        "thresholds_for_precision": precision_thresholds(labels, proba),
    }
    classifier.info_ = info
    return temperature


PRECISION_TARGETS = (0.8, 0.9, 0.95, 0.99)


def precision_thresholds(labels, proba, targets=PRECISION_TARGETS) -> dict:
    """``{phase: {"0.9": threshold, ...}}`` for P and S on validation windows; a target that
    cannot be reached is left out. Stored with the model so that ``scan`` can take a target
    precision (``--threshold-p precision:0.9``) instead of a raw probability."""
    out = {}
    for k, phase in enumerate(("P", "S")):
        out[phase] = {}
        for target in targets:
            try:
                out[phase][f"{target:g}"] = threshold_for_precision(labels, proba, k, target)
            except DataError:
                continue
    return out


def threshold_for_precision(labels, proba, phase_index: int, target_precision: float) -> float:
    """Smallest probability threshold at which one class reaches a target precision.

    A window counts as class ``phase_index`` when ``proba[:, phase_index] >= threshold``
    (one-vs-rest, independent of the argmax). Lower thresholds find more of the class, so the
    smallest threshold meeting the target keeps the most recall.

    Parameters
    ----------
    labels : array_like, shape (n_windows,)
        True classes of (validation) windows.
    proba : array_like, shape (n_windows, n_classes)
    phase_index : int
        Column of the class (0 = P, 1 = S, 2 = noise).
    target_precision : float
        In (0, 1].

    Returns
    -------
    float
        The threshold; precision on these windows is at least ``target_precision``.

    Raises
    ------
    DataError
        If no threshold reaches the target (the message gives the best precision reached) or
        the class has no windows.
    """
    y, p = _check_scores(labels, proba, "probabilities")
    k = int(phase_index)
    if not 0 <= k < p.shape[1]:
        raise ConfigError(f"phase_index must lie in 0..{p.shape[1] - 1}, got {phase_index}")
    target = float(target_precision)
    if not 0 < target <= 1:
        raise ConfigError(f"target_precision must lie in (0, 1], got {target_precision}")
    positive = y == k
    if not positive.any():
        raise DataError(
            f"no windows of class {k} among the labels: precision for it cannot be measured"
        )
    order = np.argsort(-p[:, k], kind="stable")
    scores, hits = p[order, k], positive[order]
    tp = np.cumsum(hits)
    # A threshold admits every window whose score ties with it: use the last index of each tie.
    last = np.r_[scores[1:] != scores[:-1], True]
    precision = tp[last] / (np.nonzero(last)[0] + 1)
    ok = precision >= target - 1e-12
    if not ok.any():
        raise DataError(
            f"no probability threshold reaches precision {target:.3f} for class {k} on these "
            f"{len(y)} windows (best reached: {precision.max():.3f}); lower the target or "
            f"improve the model"
        )
    return float(scores[last][np.nonzero(ok)[0][-1]])
