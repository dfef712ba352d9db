import numpy as np
import pytest

from seisphase.errors import ConfigError
from seisphase.features import FeatureConfig, FeatureExtractor, log_spectrogram, log_spectrum


def test_log_spectrum_bins_and_values():
    t = np.arange(400) / 100.0
    x = np.sin(2 * np.pi * 5.0 * t)[None, None, :].astype(np.float32)
    f = log_spectrum(x, 100.0, fmax=20.0)
    assert f.shape == (1, 1, 80)  # 0.25 ... 20 Hz, f = 0 dropped
    assert np.argmax(f[0, 0]) == 19  # 5 Hz is bin 20, index 19 after dropping DC
    np.testing.assert_allclose(f[0, 0, 19], np.log10(200.0), atol=1e-3)


def test_zero_and_demeaned_channels_stay_finite(real_dev):
    vertical_only = real_dev.metadata["n_components"].to_numpy() == 1
    f = log_spectrum(real_dev.waveforms[vertical_only], 100.0)
    assert np.isfinite(f).all()
    zeros = log_spectrum(np.zeros((2, 3, 400), np.float32), 100.0)
    assert np.isfinite(zeros).all()
    # a dead channel reads as the floor: 6 decades below the window's peak
    w = real_dev.waveforms[vertical_only][:1]
    f1 = log_spectrum(w, 100.0)
    assert f1[0, 0].max() == pytest.approx(f1[0, 2].max() - 6, abs=1e-3)


def test_spectrogram_shape_and_finite(real_dev):
    f = log_spectrogram(real_dev.waveforms[:10], 100.0)
    assert f.shape == (10, 3, 7, 20)
    assert np.isfinite(f).all()


def test_statistics_come_from_training_windows_only(windows):
    train, other = windows.waveforms[:60], windows.waveforms[60:] * 1000.0
    fx = FeatureExtractor(FeatureConfig(), "ZNE", 100.0).fit(train)
    mean_train = fx.mean_.copy()
    z = fx.transform(train)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-3)
    # Scaled-up test windows shift the standardised features (log10(1000) / std) and leave
    # the fitted statistics alone: fitting on all windows, as the lab did, would not.
    zo = fx.transform(other)
    assert zo.mean() > 2
    np.testing.assert_array_equal(fx.mean_, mean_train)


def test_component_subset_is_the_labs_single_channel(windows):
    fx = FeatureExtractor(FeatureConfig(components="E"), "ZNE", 100.0).fit(windows.waveforms)
    f = fx.raw(windows.waveforms)
    np.testing.assert_array_equal(f, log_spectrum(windows.waveforms[:, 2:3], 100.0).reshape(len(f), -1))
    with pytest.raises(ConfigError, match="not among"):
        FeatureExtractor(FeatureConfig(components="N"), "Z", 100.0)


def test_state_round_trip(windows):
    fx = FeatureExtractor(FeatureConfig(kind="logspectrogram"), "ZNE", 100.0).fit(windows.waveforms)
    back = FeatureExtractor.from_state(fx.state())
    np.testing.assert_array_equal(back.transform(windows.waveforms), fx.transform(windows.waveforms))


def test_fmax_too_low():
    with pytest.raises(ConfigError, match="keeps no frequency"):
        log_spectrum(np.ones((1, 1, 400), np.float32), 100.0, fmax=0.1)
