"""Spectral features of windows: the lab's log-amplitude spectrum, done right, and a short-time variant.

The lab takes ``log10 |rfft|`` along time, standardises every (frequency, channel) over the
whole data set and keeps f <= 20 Hz of one channel. Three things go wrong there and are fixed:

* ``log10(0) = -inf`` on demeaned windows (the f = 0 bin) and on dead channels. Here the f = 0
  bin is dropped (a demeaned window has no information there) and amplitudes are floored at
  ``floor`` times the window's peak spectral amplitude, so a dead channel reads as "120 dB below
  the window's peak" instead of ``-inf``;
* the statistics were fitted on all windows, leaking validation data: here
  :class:`FeatureExtractor` fits them on the training split only and saves them with the model;
* one channel: here any subset of components, all three by default.

The whole-window spectrum cannot see timing (energy before the pick, the jump in
horizontal/vertical energy at the pick), which is what separates P from S on real data; the
``logspectrogram`` kind keeps a few time frames so a linear model or MLP can see it.

Everything is NumPy/SciPy, processed in cache-sized chunks on two threads (>= 1 M windows/s for
the log spectrum on a 2-core laptop; see ``benchmarks/bench_features.py``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.fft

from seisphase.data.windows import check_components, component_index
from seisphase.errors import ConfigError, DataError

_CHUNK = 1024  # windows per chunk: keeps one chunk's spectra in L2 cache
_TINY = 1e-30  # absolute floor for all-zero windows


@dataclass(frozen=True)
class FeatureConfig:
    """How windows become model inputs (JSON types only; stored in the model file).

    Parameters
    ----------
    kind : {"logspectrum", "logspectrogram", "waveform"}
        Whole-window log spectrum, short-time log spectra, or the preprocessed waveform
        (for the CNN; see :mod:`seisphase.preprocess`).
    fmax : float
        Highest frequency kept (Hz); the f = 0 bin is always dropped.
    components : str or None
        Subset of the model's components used as features (``"E"`` is the lab's one channel
        for N,E,Z data); ``None`` uses all.
    floor : float
        Amplitude floor relative to the window's peak spectral amplitude.
    frame_samples, frame_step : int
        Frame length and hop of ``logspectrogram`` (Hann-tapered), in samples.
    preprocess : dict
        Options of the ``waveform`` kind (filter, normalisation), see :mod:`seisphase.preprocess`.
    """

    kind: str = "logspectrum"
    fmax: float = 20.0
    components: str | None = None
    floor: float = 1e-6
    frame_samples: int = 100
    frame_step: int = 50
    preprocess: dict = field(default_factory=dict)


def frequency_bins(n_samples: int, sampling_rate: float, fmax: float) -> np.ndarray:
    """Indices of the ``rfft`` bins with 0 < f <= fmax."""
    freqs = scipy.fft.rfftfreq(n_samples, d=1.0 / sampling_rate)
    keep = np.nonzero((freqs > 0) & (freqs <= fmax + 1e-9))[0]
    if keep.size == 0:
        raise ConfigError(
            f"fmax={fmax} Hz keeps no frequency bin for {n_samples}-sample windows at "
            f"{sampling_rate:g} Hz (resolution {sampling_rate / n_samples:g} Hz); raise fmax"
        )
    return keep


def _run_chunked(fn, n: int) -> None:
    """Call ``fn(start, stop)`` over chunks of ``n`` windows on two threads (SciPy/NumPy free the GIL)."""
    starts = range(0, n, _CHUNK)
    workers = min(2, os.cpu_count() or 1, len(starts))
    if workers <= 1:
        for s in starts:
            fn(s, min(s + _CHUNK, n))
        return
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda s: fn(s, min(s + _CHUNK, n)), starts))


def _floored_log10(amp: np.ndarray, floor: float, out: np.ndarray) -> None:
    """``out = log10(max(amp, floor * peak + tiny))`` with the peak taken per window."""
    peak = amp.reshape(amp.shape[0], -1).max(axis=1)
    lo = (peak * floor + _TINY).reshape((-1,) + (1,) * (amp.ndim - 1))
    np.maximum(amp, lo, out=amp)
    np.log10(amp, out=out)


def _standardize(block: np.ndarray, stats) -> None:
    if stats is not None:
        block -= stats[0]
        block /= stats[1]


def log_spectrum(
    waveforms: np.ndarray, sampling_rate: float, fmax: float = 20.0, floor: float = 1e-6,
    standardize: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Floored ``log10 |rfft|`` along time for 0 < f <= fmax.

    Parameters
    ----------
    waveforms : ndarray, shape (n_windows, n_channels, n_samples)

    standardize : (mean, std), optional
        Statistics (broadcastable to one window's output) subtracted and divided while each
        chunk is still in cache.

    Returns
    -------
    ndarray, shape (n_windows, n_channels, n_bins), float32
        ``n_bins`` = 80 for 400 samples at 100 Hz and fmax = 20 Hz (0.25 ... 20 Hz).
    """
    x = np.asarray(waveforms, dtype=np.float32)
    bins = frequency_bins(x.shape[-1], sampling_rate, fmax)
    lo, hi = int(bins[0]), int(bins[-1]) + 1
    out = np.empty(x.shape[:2] + (hi - lo,), dtype=np.float32)

    def work(a, b):
        amp = np.abs(scipy.fft.rfft(x[a:b], axis=-1)[..., lo:hi])
        _floored_log10(amp, floor, out[a:b])
        _standardize(out[a:b], standardize)

    _run_chunked(work, x.shape[0])
    return out


def log_spectrogram(
    waveforms: np.ndarray,
    sampling_rate: float,
    fmax: float = 20.0,
    floor: float = 1e-6,
    frame_samples: int = 100,
    frame_step: int = 50,
    standardize: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Floored log10 short-time amplitude spectra (Hann-tapered frames), 0 < f <= fmax.

    Returns
    -------
    ndarray, shape (n_windows, n_channels, n_frames, n_bins), float32
        With the defaults and 400-sample windows: 7 frames of 1 s every 0.5 s, 20 bins (1–20 Hz).
    """
    x = np.asarray(waveforms, dtype=np.float32)
    n_samples = x.shape[-1]
    if not 0 < frame_samples <= n_samples or frame_step <= 0:
        raise ConfigError(
            f"frame_samples must lie in 1..{n_samples} and frame_step be positive, got "
            f"{frame_samples} and {frame_step}"
        )
    bins = frequency_bins(frame_samples, sampling_rate, fmax)
    lo, hi = int(bins[0]), int(bins[-1]) + 1
    n_frames = 1 + (n_samples - frame_samples) // frame_step
    taper = np.hanning(frame_samples).astype(np.float32)
    out = np.empty(x.shape[:2] + (n_frames, hi - lo), dtype=np.float32)

    def work(a, b):
        frames = np.lib.stride_tricks.sliding_window_view(x[a:b], frame_samples, axis=-1)
        frames = frames[:, :, ::frame_step][:, :, :n_frames] * taper
        amp = np.abs(scipy.fft.rfft(frames, axis=-1)[..., lo:hi])
        _floored_log10(amp, floor, out[a:b])
        _standardize(out[a:b], standardize)

    _run_chunked(work, x.shape[0])
    return out


def feature_channels(config: FeatureConfig, components: str) -> list[int]:
    """Indices of the channels ``config.components`` selects from a model's ``components``."""
    chosen = config.components or components
    index = component_index(components, chosen)
    if index is None:
        raise ConfigError(
            f"feature components {chosen!r} are not among the model's components {components!r}"
        )
    return index


class FeatureExtractor:
    """Windows → standardised feature matrix, with statistics fitted on training windows only.

    Parameters
    ----------
    config : FeatureConfig
    components : str
        Component order of the windows this extractor will see (the model's order).
    sampling_rate : float

    Examples
    --------
    >>> import numpy as np
    >>> fx = FeatureExtractor(FeatureConfig(), "ZNE", 100.0)
    >>> x = np.random.default_rng(0).normal(size=(8, 3, 400)).astype(np.float32)
    >>> fx.fit(x).transform(x).shape
    (8, 240)
    """

    def __init__(self, config: FeatureConfig, components: str, sampling_rate: float):
        if config.kind not in ("logspectrum", "logspectrogram"):
            raise ConfigError(
                f"unknown spectral feature kind {config.kind!r}; valid: logspectrum, logspectrogram"
            )
        self.config = config
        self.components = check_components(components)
        self.sampling_rate = float(sampling_rate)
        self.channel_index = feature_channels(config, self.components)
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def raw(self, waveforms: np.ndarray, standardize=None) -> np.ndarray:
        """Unstandardised log features, flattened: shape (n_windows, n_features)."""
        x = np.asarray(waveforms)
        if x.ndim != 3 or x.shape[1] != len(self.components):
            raise DataError(
                f"expected windows of shape (n_windows, {len(self.components)}, n_samples) "
                f"in component order {self.components}, got {x.shape}"
            )
        if self.channel_index != list(range(x.shape[1])):
            x = x[:, self.channel_index]  # a copy: only when a subset or reorder is asked for
        c = self.config
        if c.kind == "logspectrum":
            f = log_spectrum(x, self.sampling_rate, c.fmax, c.floor, standardize)
        else:
            f = log_spectrogram(x, self.sampling_rate, c.fmax, c.floor, c.frame_samples,
                                c.frame_step, standardize)
        return f.reshape(f.shape[0], -1)

    def fit(self, waveforms: np.ndarray) -> FeatureExtractor:
        """Fit per-feature mean and standard deviation on (training) windows."""
        f = self.raw(waveforms)
        self.mean_ = f.mean(axis=0, dtype=np.float64).astype(np.float32)
        # A constant feature (e.g. a dead channel in every window) keeps unit scale.
        self.std_ = np.maximum(f.std(axis=0, dtype=np.float64), 1e-6).astype(np.float32)
        return self

    def transform(self, waveforms: np.ndarray) -> np.ndarray:
        """Standardised features, shape (n_windows, n_features), float32."""
        if self.mean_ is None:
            raise ConfigError("feature statistics are not fitted; call fit on training windows")
        # Standardised chunk by chunk inside the spectral pass (one trip through memory).
        shape = self._layout(waveforms)
        return self.raw(waveforms, (self.mean_.reshape(shape), self.std_.reshape(shape)))

    def _layout(self, waveforms) -> tuple[int, ...]:
        """Shape of one window's unflattened features (channels, [frames,] bins)."""
        c, n_samples = len(self.channel_index), np.asarray(waveforms).shape[-1]
        if self.config.kind == "logspectrum":
            return (c, frequency_bins(n_samples, self.sampling_rate, self.config.fmax).size)
        n_frames = 1 + (n_samples - self.config.frame_samples) // self.config.frame_step
        bins = frequency_bins(self.config.frame_samples, self.sampling_rate, self.config.fmax)
        return (c, n_frames, bins.size)

    def input_shape(self, n_samples: int) -> tuple[int]:
        """Shape of one transformed window (without the batch axis)."""
        if self.mean_ is None:
            raise ConfigError("feature statistics are not fitted; call fit on training windows")
        return (int(self.mean_.size),)

    def state(self) -> dict:
        """JSON-ready state: config and the fitted statistics."""
        return {
            "config": asdict(self.config),
            "components": self.components,
            "sampling_rate": self.sampling_rate,
            "mean": None if self.mean_ is None else self.mean_.tolist(),
            "std": None if self.std_ is None else self.std_.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict) -> FeatureExtractor:
        fx = cls(FeatureConfig(**state["config"]), state["components"], state["sampling_rate"])
        if state.get("mean") is not None:
            fx.mean_ = np.asarray(state["mean"], dtype=np.float32)
            fx.std_ = np.asarray(state["std"], dtype=np.float32)
        return fx
