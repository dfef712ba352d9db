"""What the classifier takes in: windows, its input pipeline and the training / validation split.

This module owns the helpers :class:`~seisphase.classifier.PhaseClassifier` uses on its way in:
:func:`as_windows` (arrays or :class:`~seisphase.data.Windows`), :func:`make_extractor` and
:func:`extractor_from_state` (the feature extractor or waveform preprocessor of a feature kind,
new or rebuilt from a model file), :func:`train_validation` (the windows ``fit`` trains and
stops early on) and :func:`data_summary` (the summary of the training data stored with a model).
The public ones stay importable from :mod:`seisphase.classifier`, where they were first defined.
"""

from __future__ import annotations

import numpy as np

from seisphase.data.split import split_windows
from seisphase.data.windows import CANONICAL_COMPONENTS, Windows
from seisphase.errors import DataError
from seisphase.features import FeatureConfig, FeatureExtractor


def make_extractor(config: FeatureConfig, components: str, sampling_rate: float):
    """Feature extractor for ``config.kind``: spectral features or preprocessed waveforms."""
    if config.kind == "waveform":
        from seisphase.preprocess import WaveformPreprocessor

        return WaveformPreprocessor(config, components, sampling_rate)
    return FeatureExtractor(config, components, sampling_rate)


def extractor_from_state(state: dict):
    """The feature extractor or waveform preprocessor saved as ``state`` in a model file."""
    if state["config"]["kind"] == "waveform":
        from seisphase.preprocess import WaveformPreprocessor

        return WaveformPreprocessor.from_state(state)
    return FeatureExtractor.from_state(state)


def as_windows(x, sampling_rate: float | None = None, components: str | None = None) -> Windows:
    """Accept :class:`Windows` or an array ``(n_windows, n_channels, n_samples)``."""
    if isinstance(x, Windows):
        return x
    arr = np.asarray(x)
    return Windows(
        arr, None, sampling_rate or 100.0,
        components or (CANONICAL_COMPONENTS if arr.ndim == 3 and arr.shape[1] == 3 else "Z"),
    )


def train_validation(data: Windows, validation, components: str, seed: int, split_info):
    """Training and validation windows: ``validation`` as given, or 15 % of ``data`` held out.

    Parameters
    ----------
    data : Windows
        Labelled windows, shape (n_windows, n_channels, n_samples), in ``components`` order.
    validation : Windows or ndarray or None
        Labelled validation windows; ``None`` holds out 15 % of ``data`` (grouped by event or
        station when the metadata allow).
    components : str
        The model's component order; ``validation`` is reordered to it.
    seed : int
        Seed of the held-out split.
    split_info : dict or None
        The caller's description of its split; kept when given.

    Returns
    -------
    train, validation : Windows
    split_info : dict or None
        ``split_info``, or the summary of the held-out split when it was ``None``.
    """
    if validation is None:
        sp = split_windows(data, (0.85, 0.15, 0.0), seed=seed)
        return data.subset(sp.train), data.subset(sp.validation), split_info or sp.summary()
    val_w = as_windows(validation).with_components(components)
    if val_w.labels is None:
        raise DataError("validation windows need labels")
    return data, val_w, split_info


def data_summary(data: Windows) -> dict:
    """Fingerprint, number of windows and class counts of the training data."""
    return {"fingerprint": data.fingerprint(), "n_windows": data.n_windows,
            "class_counts": data.class_counts()}
