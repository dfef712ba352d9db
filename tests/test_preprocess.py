"""Waveform preprocessing: filter, detrend, normalisation, state round trip, errors."""

import json

import numpy as np
import pytest

from seisphase.errors import ConfigError, DataError
from seisphase.features import FeatureConfig
from seisphase.preprocess import PreprocessConfig, WaveformPreprocessor, preprocess_waveforms

RATE = 100.0


def _sines(freqs, n_samples=400):
    t = np.arange(n_samples) / RATE
    return [np.sin(2 * np.pi * f * t) for f in freqs]


def _amplitude_at(x, freq):
    """Amplitude of the ``freq`` Hz line in the central 200 samples (edges excluded)."""
    seg = x[..., 100:300]
    spec = np.abs(np.fft.rfft(seg, axis=-1)) * 2 / seg.shape[-1]
    return spec[..., int(round(freq * seg.shape[-1] / RATE))]


def test_bandpass_removes_40hz_and_keeps_10hz():
    ten, forty = _sines([10, 40])
    x = np.stack([ten + forty] * 3)[None].astype(np.float32)
    y = preprocess_waveforms(x, RATE, PreprocessConfig(bandpass=[3, 20], normalize="none"))
    assert _amplitude_at(y, 40).max() < 0.01
    np.testing.assert_allclose(_amplitude_at(y, 10), 1.0, atol=0.05)


def test_peak_normalisation_gives_unit_peak_over_all_channels():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 3, 400)) * np.array([1, 1e3, 1e6, 1e-3, 10.0])[:, None, None]
    x[0, 1] *= 5  # the peak sits on one channel; the others keep their relative size
    y = preprocess_waveforms(x, RATE)
    np.testing.assert_allclose(np.abs(y).max(axis=(1, 2)), 1.0, rtol=1e-6)
    assert np.abs(y[0, 1]).max() == pytest.approx(1.0, rel=1e-6)
    assert np.abs(y[0, 0]).max() < 0.5
    assert y.dtype == np.float32


def test_std_normalisation_and_dead_windows():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 3, 400)) * 1e4
    x[2] = 0.0  # a dead window must stay zero, not become NaN
    y = preprocess_waveforms(x, RATE, PreprocessConfig(normalize="std"))
    np.testing.assert_allclose(y[:2].std(axis=(1, 2)), 1.0, rtol=1e-5)
    assert np.all(y[2] == 0)
    assert np.isfinite(preprocess_waveforms(x, RATE)).all()


def test_detrend_demean_and_linear():
    ramp = np.linspace(-5, 5, 400)
    x = np.stack([ramp + 3.0] * 3)[None]
    demeaned = preprocess_waveforms(x, RATE, PreprocessConfig(normalize="none"))
    np.testing.assert_allclose(demeaned.mean(axis=-1), 0.0, atol=1e-5)
    assert np.abs(demeaned).max() > 4  # the trend is still there
    flat = preprocess_waveforms(x, RATE, PreprocessConfig(detrend="linear", normalize="none"))
    assert np.abs(flat).max() < 1e-5
    kept = preprocess_waveforms(x, RATE, PreprocessConfig(detrend=None, normalize="none"))
    np.testing.assert_allclose(kept, x, rtol=1e-6)


def test_state_round_trip_is_json_and_gives_identical_output():
    fc = FeatureConfig(kind="waveform", preprocess={"bandpass": [3, 20], "detrend": "linear"})
    pre = WaveformPreprocessor(fc, "ZNE", RATE)
    x = np.random.default_rng(3).normal(size=(6, 3, 400)).astype(np.float32)
    pre.fit(x)
    state = json.loads(json.dumps(pre.state()))
    assert state["config"]["preprocess"] == {
        "detrend": "linear", "bandpass": [3.0, 20.0], "filter_order": 4, "normalize": "peak"}
    again = WaveformPreprocessor.from_state(state)
    np.testing.assert_array_equal(again.transform(x), pre.transform(x))
    assert again.input_shape(400) == (3, 400)


def test_component_subset_selects_channels():
    x = np.random.default_rng(4).normal(size=(2, 3, 400)).astype(np.float32)
    pre = WaveformPreprocessor(FeatureConfig(kind="waveform", components="Z"), "ENZ", RATE)
    out = pre.fit(x).transform(x)
    assert out.shape == (2, 1, 400) and pre.input_shape(400) == (1, 400)
    np.testing.assert_allclose(out, preprocess_waveforms(x[:, 2:3], RATE))


def test_bad_options_are_explained():
    with pytest.raises(ConfigError, match="valid: .*normalize"):
        PreprocessConfig.from_dict({"normalise": "peak"})
    with pytest.raises(ConfigError, match="normalize must be one of peak, std, none"):
        PreprocessConfig(normalize="max")
    with pytest.raises(ConfigError, match=r"\[3, 20\]"):
        PreprocessConfig(bandpass=[20, 3])
    with pytest.raises(ConfigError, match="Nyquist frequency 50 Hz"):
        WaveformPreprocessor(FeatureConfig(kind="waveform", preprocess={"bandpass": [3, 60]}),
                             "ZNE", RATE)


def test_wrong_window_shape_is_explained():
    pre = WaveformPreprocessor(FeatureConfig(kind="waveform"), "ZNE", RATE)
    with pytest.raises(DataError, match=r"\(n_windows, 3, n_samples\) in component order ZNE"):
        pre.transform(np.zeros((4, 400, 3), np.float32))
