"""Temperature scaling, calibration error and precision thresholds."""

import numpy as np
import pytest

from seisphase.calibration import (
    calibrate,
    expected_calibration_error,
    fit_temperature,
    reliability_bins,
    softmax,
    threshold_for_precision,
)
from seisphase.data.windows import Windows
from seisphase.errors import ConfigError, DataError

MEANS = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])


def gaussian_classes(n=1500, seed=0):
    """Points from three unit Gaussians and their exact (Bayes) log-posterior logits."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    x = MEANS[labels] + rng.normal(size=(n, 2))
    logits = -0.5 * ((x[:, None, :] - MEANS[None]) ** 2).sum(-1)
    return logits, labels


def test_overconfident_logits_get_temperature_above_one_and_lower_ece():
    logits, labels = gaussian_classes()
    hot = 5.0 * logits  # a calibrated model made over-confident
    t = fit_temperature(hot, labels)
    assert 3.5 < t < 7.0  # the exact answer is 5
    before = expected_calibration_error(labels, softmax(hot))
    after = expected_calibration_error(labels, softmax(hot, t))
    assert after < 0.5 * before
    np.testing.assert_array_equal(softmax(hot, t).argmax(1), hot.argmax(1))


def test_underconfident_logits_get_temperature_below_one():
    logits, labels = gaussian_classes(seed=1)
    assert fit_temperature(0.3 * logits, labels) < 0.5


def test_ece_is_zero_for_perfect_confident_predictions_and_large_for_wrong_ones():
    labels = np.array([0, 1, 2, 0])
    right = np.eye(3)[labels]
    assert expected_calibration_error(labels, right) == pytest.approx(0.0)
    wrong = np.eye(3)[(labels + 1) % 3]
    assert expected_calibration_error(labels, wrong) == pytest.approx(1.0)


def test_reliability_bins_count_every_window_once():
    logits, labels = gaussian_classes(200)
    conf, acc, counts = reliability_bins(labels, softmax(logits), n_bins=10)
    assert counts.sum() == 200 and conf.shape == acc.shape == (10,)
    used = counts > 0
    assert np.all((conf[used] >= 0) & (conf[used] <= 1))


def test_fit_temperature_rejects_mismatched_labels():
    with pytest.raises(DataError, match="one per row"):
        fit_temperature(np.zeros((4, 3)), np.array([0, 1, 2]))


class _FixedLogits:
    """A stand-in classifier whose network outputs are known."""

    def __init__(self, logits):
        self._logits = logits
        self.temperature_ = 1.0
        self.info_ = {"metrics": {}}

    def logits(self, windows):
        return self._logits

    def predict_proba(self, windows):
        return softmax(self._logits, self.temperature_)


def test_calibrate_sets_temperature_and_records_ece():
    logits, labels = gaussian_classes(600)
    windows = Windows(np.ones((600, 1, 8), np.float32), labels, components="Z")
    clf = _FixedLogits(5.0 * logits)
    argmax_before = clf.predict_proba(windows).argmax(1)
    t = calibrate(clf, windows)
    assert clf.temperature_ == t > 1
    record = clf.info_["calibration"]
    assert set(record) >= {"temperature", "ece_before", "ece_after"}
    assert record["ece_after"] < record["ece_before"]
    proba = clf.predict_proba(windows)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(proba.argmax(1), argmax_before)
    assert clf.info_["metrics"] == {}  # other info kept


def test_calibrate_real_classifier_keeps_predictions_and_normalisation():
    from seisphase.classifier import PhaseClassifier
    from seisphase.training import TrainConfig

    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 3, 400)).astype(np.float32)
    y = np.arange(30) % 3
    x[y == 0, 0] *= 5.0  # a little signal to learn
    clf = PhaseClassifier("linear", train=TrainConfig(epochs=2)).fit(x, y)
    val = Windows(x, y)
    before = clf.predict(val)
    calibrate(clf, val)
    assert clf.temperature_ > 0
    np.testing.assert_allclose(clf.predict_proba(val).sum(1), 1.0)
    np.testing.assert_array_equal(clf.predict(val), before)
    assert clf.to_config()["calibration"]["temperature"] == clf.temperature_


def test_calibrate_needs_labels():
    clf = _FixedLogits(np.zeros((2, 3)))
    with pytest.raises(DataError, match="labelled"):
        calibrate(clf, Windows(np.ones((2, 1, 8), np.float32), components="Z"))


@pytest.mark.parametrize("target", [0.8, 0.9, 0.95])
def test_threshold_reaches_target_precision_on_its_data(target):
    logits, labels = gaussian_classes(800, seed=2)
    proba = softmax(logits)
    t = threshold_for_precision(labels, proba, 1, target)
    chosen = proba[:, 1] >= t
    assert chosen.any()
    assert (labels[chosen] == 1).mean() >= target
    # it is the smallest such threshold: one step lower falls short of the target
    lower = np.sort(proba[:, 1][proba[:, 1] < t])
    if lower.size:
        below = proba[:, 1] >= lower[-1]
        assert (labels[below] == 1).mean() < target


def test_threshold_unreachable_target_says_best_precision():
    labels = np.array([0, 1, 0, 1])
    proba = np.array([[0.9, 0.1, 0], [0.9, 0.1, 0], [0.2, 0.8, 0], [0.2, 0.8, 0]])
    with pytest.raises(DataError, match=r"best reached: 0\.500"):
        threshold_for_precision(labels, proba, 1, 0.9)


def test_threshold_rejects_bad_target():
    with pytest.raises(ConfigError, match="target_precision"):
        threshold_for_precision(np.array([0, 1]), np.eye(3)[:2], 0, 1.5)
