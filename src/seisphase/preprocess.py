"""Waveform preprocessing for the CNN: detrend, optional band-pass, per-window normalisation.

The same :class:`WaveformPreprocessor` runs at training and at prediction time and is saved in
the model file (its :meth:`~WaveformPreprocessor.state`), so a loaded model sees its inputs
exactly as it saw them in training. Options live in ``FeatureConfig.preprocess`` (a JSON dict);
their defaults are in :class:`PreprocessConfig`:

* ``detrend``: ``"demean"`` (default), ``"linear"`` or ``None``, per window and channel;
* ``bandpass``: ``None`` (default) or ``[fmin, fmax]`` in Hz, a zero-phase Butterworth filter
  (``scipy.signal.butter`` + ``sosfiltfilt``) of order ``filter_order`` (default 4); GPD used
  3–20 Hz;
* ``normalize``: ``"peak"`` (default; divide each window by its peak absolute value over all
  channels, as GPD does, so amplitudes in counts of any gain look alike and the ratios between
  components are kept), ``"std"`` (by its standard deviation over all channels) or ``"none"``.

Everything is vectorised over all windows (chunks of a few thousand to bound memory).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import scipy.signal

from seisphase.data.windows import check_components
from seisphase.errors import ConfigError, DataError
from seisphase.features import FeatureConfig, feature_channels

DETRENDS = ("demean", "linear", None)
NORMALIZATIONS = ("peak", "std", "none")
_CHUNK = 4096  # windows per chunk: bounds the float64 filter buffers to ~50 MB
_TINY = 1e-30  # an all-zero window stays zero instead of becoming NaN


@dataclass(frozen=True)
class PreprocessConfig:
    """Options of the ``waveform`` feature kind (``FeatureConfig.preprocess``; JSON types only).

    Parameters
    ----------
    detrend : {"demean", "linear", None}
        Remove each channel's mean or least-squares line; ``None`` keeps it.
    bandpass : list of two floats or None
        ``[fmin, fmax]`` in Hz with ``0 < fmin < fmax < sampling_rate / 2``; ``None`` = no filter.
    filter_order : int
        Butterworth order (applied forward and backward: zero phase, twice the roll-off).
    normalize : {"peak", "std", "none"}
        Divide each window by its peak absolute value or standard deviation over all channels.
    """

    detrend: str | None = "demean"
    bandpass: list | None = None
    filter_order: int = 4
    normalize: str = "peak"

    @classmethod
    def from_dict(cls, options: dict | None) -> PreprocessConfig:
        """Build from a JSON dict; an unknown key lists the valid ones."""
        options = dict(options or {})
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise ConfigError(
                f"unknown waveform preprocessing option(s) {unknown}; valid: {sorted(valid)}"
            )
        if options.get("detrend") == "none":
            options["detrend"] = None
        return cls(**options)

    def __post_init__(self):
        if self.detrend not in DETRENDS:
            raise ConfigError(
                f"detrend must be 'demean', 'linear' or None, got {self.detrend!r}"
            )
        if self.normalize not in NORMALIZATIONS:
            raise ConfigError(
                f"normalize must be one of {', '.join(NORMALIZATIONS)}, got {self.normalize!r}"
            )
        if self.bandpass is not None:
            band = list(self.bandpass)
            if len(band) != 2 or not 0 < float(band[0]) < float(band[1]):
                raise ConfigError(
                    f"bandpass must be [fmin, fmax] with 0 < fmin < fmax (Hz), e.g. [3, 20]; "
                    f"got {self.bandpass!r}"
                )
            object.__setattr__(self, "bandpass", [float(band[0]), float(band[1])])
        if int(self.filter_order) < 1:
            raise ConfigError(f"filter_order must be at least 1, got {self.filter_order}")


def bandpass_sos(fmin: float, fmax: float, sampling_rate: float, order: int = 4) -> np.ndarray:
    """Second-order sections of a Butterworth band-pass (``scipy.signal.butter``)."""
    nyquist = sampling_rate / 2
    if not 0 < fmin < fmax < nyquist:
        raise ConfigError(
            f"bandpass [{fmin:g}, {fmax:g}] Hz must lie strictly between 0 and the Nyquist "
            f"frequency {nyquist:g} Hz of {sampling_rate:g} Hz data"
        )
    return scipy.signal.butter(order, [fmin, fmax], btype="bandpass", fs=sampling_rate,
                               output="sos")


def preprocess_waveforms(waveforms: np.ndarray, sampling_rate: float,
                         config: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """Detrend, band-pass and normalise every window.

    Parameters
    ----------
    waveforms : ndarray, shape (n_windows, n_channels, n_samples)
    sampling_rate : float
        Hz.
    config : PreprocessConfig

    Returns
    -------
    ndarray, shape (n_windows, n_channels, n_samples), float32
        With ``normalize="peak"`` every window that is not all zeros has ``max |x| == 1``.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(4, 3, 400)) * 1e4
    >>> y = preprocess_waveforms(x, 100.0)
    >>> float(np.abs(y).max(axis=(1, 2)).min())
    1.0
    """
    x = np.asarray(waveforms)
    out = np.empty(x.shape, dtype=np.float32)
    sos = None
    if config.bandpass is not None:
        sos = bandpass_sos(*config.bandpass, sampling_rate, int(config.filter_order))
    for a in range(0, x.shape[0], _CHUNK):
        out[a:a + _CHUNK] = _process_chunk(x[a:a + _CHUNK], sos, config)
    return out


def _process_chunk(x: np.ndarray, sos, config: PreprocessConfig) -> np.ndarray:
    # float64 through the filter: sosfiltfilt on float32 counts of 1e6 loses digits.
    y = x.astype(np.float64)
    if config.detrend == "demean":
        y -= y.mean(axis=-1, keepdims=True)
    elif config.detrend == "linear":
        y = scipy.signal.detrend(y, axis=-1, type="linear")
    if sos is not None:
        y = scipy.signal.sosfiltfilt(sos, y, axis=-1)
    if config.normalize == "peak":
        y /= np.abs(y).max(axis=(1, 2), keepdims=True) + _TINY
    elif config.normalize == "std":
        y /= y.std(axis=(1, 2), keepdims=True) + _TINY
    return y


class WaveformPreprocessor:
    """Windows → preprocessed waveforms for waveform models (the ``waveform`` feature kind).

    Same interface as :class:`seisphase.features.FeatureExtractor`; there is nothing to learn,
    so :meth:`fit` only records the window length it was fitted on.

    Parameters
    ----------
    config : FeatureConfig
        ``kind="waveform"``; ``config.preprocess`` holds the :class:`PreprocessConfig` options and
        ``config.components`` optionally selects a subset of channels.
    components : str
        Component order of the windows this preprocessor will see (the model's order).
    sampling_rate : float

    Examples
    --------
    >>> fc = FeatureConfig(kind="waveform", preprocess={"bandpass": [3, 20]})
    >>> pre = WaveformPreprocessor(fc, "ZNE", 100.0)
    >>> x = np.random.default_rng(0).normal(size=(8, 3, 400)).astype(np.float32)
    >>> pre.fit(x).transform(x).shape
    (8, 3, 400)
    """

    def __init__(self, config: FeatureConfig, components: str, sampling_rate: float):
        if config.kind != "waveform":
            raise ConfigError(f"WaveformPreprocessor needs kind='waveform', got {config.kind!r}")
        self.config = config
        self.options = PreprocessConfig.from_dict(config.preprocess)
        self.components = check_components(components)
        self.sampling_rate = float(sampling_rate)
        if self.options.bandpass is not None:  # fail now, not at the first transform
            bandpass_sos(*self.options.bandpass, self.sampling_rate, self.options.filter_order)
        self.channel_index = feature_channels(config, self.components)
        self.n_samples_: int | None = None

    def _check(self, waveforms) -> np.ndarray:
        x = np.asarray(waveforms)
        if x.ndim != 3 or x.shape[1] != len(self.components):
            raise DataError(
                f"expected windows of shape (n_windows, {len(self.components)}, n_samples) "
                f"in component order {self.components}, got {x.shape}"
            )
        return x

    def fit(self, waveforms: np.ndarray) -> WaveformPreprocessor:
        """Record the window length (nothing is learned from the data)."""
        self.n_samples_ = int(self._check(waveforms).shape[-1])
        return self

    def transform(self, waveforms: np.ndarray) -> np.ndarray:
        """Preprocessed windows, shape (n_windows, n_selected_channels, n_samples), float32."""
        x = self._check(waveforms)
        if self.channel_index != list(range(x.shape[1])):
            x = x[:, self.channel_index]
        return preprocess_waveforms(x, self.sampling_rate, self.options)

    def input_shape(self, n_samples: int) -> tuple[int, int]:
        """Shape of one transformed window (without the batch axis): (n_channels, n_samples)."""
        return (len(self.channel_index), int(n_samples))

    def state(self) -> dict:
        """JSON-ready state: the feature config with the resolved preprocessing options."""
        config = asdict(self.config)
        config["preprocess"] = asdict(self.options)
        return {
            "config": config,
            "components": self.components,
            "sampling_rate": self.sampling_rate,
            "n_samples": self.n_samples_,
        }

    @classmethod
    def from_state(cls, state: dict) -> WaveformPreprocessor:
        pre = cls(FeatureConfig(**state["config"]), state["components"], state["sampling_rate"])
        pre.n_samples_ = state.get("n_samples")
        return pre
