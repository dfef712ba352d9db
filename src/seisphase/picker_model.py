"""The scan-ready phase picker itself: its config, trace-level normalisation, fast scans, files.

:class:`Picker` wraps a :class:`~seisphase.models.picknet.PickNet` with the normalisation it was
trained with and has what :func:`seisphase.scan.scan` needs (``components_``,
``sampling_rate_``, ``n_samples_``, ``classes_``, ``predict_proba`` and the fast
``scan_continuous``), so ``scan(stream, picker, stride=4)`` runs the network once over every chunk
instead of once per window. This module owns :class:`PickerConfig`, the normalisation, the
:class:`Picker` class and its saved files (``picker.json`` and ``model.safetensors``); training
(:func:`~seisphase.picker.train_picker`) lives in :mod:`seisphase.picker`, which re-exports
everything here, so ``from seisphase.picker import Picker`` keeps working.

Normalisation (:func:`normalize_trace`), the same for a trace and for every window cut from it
away from the edges: remove a 1-s running mean (also a gentle high-pass against microseisms);
``rms(t)`` = 1-s running RMS over the live (not all-zero) channels, with dead stretches
(constant padding or gap fill, ``rms`` ~ 0) filled with the nearest live value so that they do
not drag the median below the noise next to them; ``scale(t)`` = running
median of ``rms`` over 30 s (31 values 1 s apart), so an earthquake does not shrink its own
amplitude; ``x / scale`` compressed by ``sign(x) log(1 + |x|)``. Every step is a running
filter, so shifting the trace shifts the result. A window classified on its own
(:meth:`Picker.predict_proba`) uses the median of its own ``rms`` instead.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from seisphase._atomic import atomic_directory
from seisphase.data.windows import CANONICAL_COMPONENTS, PHASES, SAMPLING_RATE
from seisphase.errors import DataError, ModelFileError
from seisphase.models.picknet import GRID, PickNet

FORMAT = "seisphase-picker"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class PickerConfig:
    """Settings of :func:`train_picker` and of the saved picker (JSON types, defaults here)."""

    width: int = 32                 # PickNet first-layer filters
    context: int = 2                # PickNet long-range blocks (2: 11.6-s field and windows)
    sigma_s: float = 0.1            # Gaussian label width (s)
    s_sigma_s: float | None = None  # S label width (s); None: sigma_s
    n_traces: int = 4000            # synthetic records
    duration_s: float = 60.0
    events_per_trace: float = 1.5
    crop_outputs: int = 64          # outputs per training crop (crop = rf + GRID * (n - 1))
    near_pick_fraction: float = 0.5
    batch_size: int = 32
    lr: float = 2e-3
    max_seconds: float = 600.0      # safety stop on slow machines
    max_steps: int = 3000           # the learning-rate schedule spans these steps
    seed: int = 0
    threshold_p: float = 0.5        # recommended extract_picks thresholds (calibrated on
    threshold_s: float = 0.5        # synthetic validation records when ``calibrate``)
    threshold_s_vertical: float | None = None  # S threshold of stations without horizontals
    pick_weight: float = 0.0        # loss weight 1 + pick_weight * P(pick) per output position
    vertical_only_fraction: float = 0.15  # synthetic records with E = N = 0
    padding_fraction: float = 0.1   # synthetic records with a constant stretch at an end
    calibrate: bool = True          # choose threshold_p / _s on held-out synthetic records


# -- normalisation --------------------------------------------------------------------------
def normalize_trace(data: np.ndarray, sampling_rate: float = SAMPLING_RATE,
                    window: bool = False) -> np.ndarray:
    """Trace-level normalisation (see the module notes), vectorised over leading axes.

    Parameters
    ----------
    data : ndarray, shape (..., n_channels, n_samples)
        Counts (any gain).
    sampling_rate : float
        Hz; sets the 1-s and 30-s filter lengths.
    window : bool
        Treat each ``(n_channels, n_samples)`` as one short window: one scale per window (the
        median of its running RMS) instead of the 30-s running median.

    Returns
    -------
    ndarray, same shape, float32
        ``sign(y) log(1 + |y|)`` with ``y`` the normalised data; all-zero channels stay zero.
    """
    x = np.asarray(data, dtype=np.float32)
    if x.ndim < 2:
        raise DataError(f"expected data of shape (..., n_channels, n_samples), got {x.shape}")
    one = max(1, int(round(sampling_rate)))
    y = x - ndimage.uniform_filter1d(x, one, axis=-1, mode="nearest")
    live = np.maximum((np.abs(y).max(axis=-1) > 0).sum(axis=-1), 1)  # (...,)
    power = ndimage.uniform_filter1d((y * y).sum(axis=-2), one, axis=-1, mode="nearest")
    rms = np.sqrt(np.maximum(power, 0.0) / live[..., None])
    rms = _fill_dead(rms, 2 * one)
    if window:
        scale = np.median(rms, axis=-1, keepdims=True)
    else:
        footprint = np.zeros(30 * one + 1, dtype=bool)
        footprint[::one] = True
        footprint = footprint.reshape((1,) * (rms.ndim - 1) + (-1,))
        scale = ndimage.median_filter(rms, footprint=footprint, mode="nearest")
    floor = 1e-4 * np.median(rms, axis=-1, keepdims=True) + 1e-20
    y /= np.maximum(scale, floor)[..., None, :]
    return (np.sign(y) * np.log1p(np.abs(y))).astype(np.float32)


def _fill_dead(rms: np.ndarray, margin: int = 0) -> np.ndarray:
    """``rms`` with dead stretches (constant padding / gap fill: running RMS ~ 0), widened by
    ``margin`` samples on each side (the filters' transition), replaced by the nearest live
    value before them (after them at the start), along the last axis.

    Without this a long flat stretch pulls the 30-s running median towards zero and the
    noise next to it is blown up into false picks. Index-local, so shift-consistent.
    """
    ref = np.median(rms, axis=-1, keepdims=True)
    big = rms.max(axis=-1, keepdims=True)
    dead = rms <= 1e-5 * np.where(ref > 0, ref, big)
    if not dead.any():
        return rms
    if margin:
        dead = ndimage.maximum_filter1d(dead, 2 * margin + 1, axis=-1, mode="nearest")
    idx = np.broadcast_to(np.arange(rms.shape[-1]), rms.shape)
    fwd = np.maximum.accumulate(np.where(dead, -1, idx), axis=-1)
    last = rms.shape[-1] - 1
    bwd = last - np.maximum.accumulate(np.where(dead, -1, last - idx)[..., ::-1], axis=-1)[..., ::-1]
    src = np.where(fwd >= 0, fwd, bwd)
    src = np.where(src > last, idx, src)  # all dead: leave as is
    return np.take_along_axis(rms, src, axis=-1)


def _softmax(logits: np.ndarray, axis: int) -> np.ndarray:
    z = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


@torch.inference_mode()
def window_logits(network: PickNet, z: np.ndarray, stride: int) -> np.ndarray:
    """Logits ``(n_windows, n_classes)`` of the windows starting at ``0, stride, ...`` of ``z``.

    ``z`` is preprocessed data ``(n_channels, n)``; ``n_windows = (n - n_samples) // stride + 1``.
    One :meth:`PickNet.forward_continuous` pass per distinct ``start % GRID`` (one pass when
    ``stride`` is a multiple of :data:`GRID`, two for stride 10).
    """
    n = z.shape[-1]
    n_windows = (n - network.n_samples) // stride + 1
    if n_windows < 1:
        raise DataError(f"need at least {network.n_samples} samples, got {n}")
    starts = np.arange(n_windows) * stride
    out = np.empty((n_windows, network.head.out_channels), dtype=np.float32)
    x = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))[None]
    network.eval()
    for r in np.unique(starts % GRID):
        sel = starts % GRID == r
        logits = network.forward_continuous(x[..., r:])[0].numpy()
        out[sel] = logits[:, (starts[sel] - r) // GRID + network.window_index].T
    return out


# -- the picker -----------------------------------------------------------------------------
class Picker:
    """A trained PickNet with its normalisation: a model :func:`seisphase.scan.scan` can run.

    Parameters
    ----------
    network : PickNet
    config : PickerConfig
    history : dict, optional
        Training record (loss per step block, seconds).

    Examples
    --------
    >>> picker = train_picker(PickerConfig(max_steps=3000))          # doctest: +SKIP
    >>> probs, report = scan(stream, picker, stride=4)              # doctest: +SKIP
    >>> picks = extract_picks(probs, **picker.thresholds())          # doctest: +SKIP
    """

    classes_ = np.array(PHASES)
    components_ = CANONICAL_COMPONENTS
    sampling_rate_ = SAMPLING_RATE

    def __init__(self, network: PickNet, config: PickerConfig = PickerConfig(),
                 history: dict | None = None):
        self.network_ = network.eval()
        self.config = config
        self.history_ = history or {}
        self.n_samples_ = network.n_samples

    def thresholds(self) -> dict:
        """The recommended :func:`~seisphase.picks.extract_picks` thresholds (keyword
        arguments): ``threshold_p``, ``threshold_s`` and ``threshold_s_vertical`` (for stations
        scanned without horizontals; ``threshold_s`` when the config has none)."""
        c = self.config
        vertical = c.threshold_s if c.threshold_s_vertical is None else c.threshold_s_vertical
        return {"threshold_p": c.threshold_p, "threshold_s": c.threshold_s,
                "threshold_s_vertical": vertical}

    @torch.inference_mode()
    def predict_proba(self, X) -> np.ndarray:
        """Probabilities of windows ``(n_windows, 3, n_samples_)`` (or :class:`Windows`), each
        normalised alone."""
        x = np.asarray(getattr(X, "waveforms", X), dtype=np.float32)
        comps = getattr(X, "components", self.components_)
        if comps != self.components_:
            x = X.with_components(self.components_).waveforms
        if x.ndim != 3 or x.shape[1:] != (3, self.n_samples_):
            raise DataError(f"expected windows of shape (n_windows, 3, {self.n_samples_}), got {x.shape}")
        z = torch.from_numpy(normalize_trace(x, self.sampling_rate_, window=True))
        logits = torch.cat([self.network_(b) for b in z.split(4096)])
        return _softmax(logits.numpy(), axis=1)

    def probabilities(self, z: np.ndarray, stride: int) -> np.ndarray:
        """Window probabilities ``(n_windows, 3)`` of *normalised* data ``z`` (n_channels, n).

        Window ``k`` starts at ``k * stride``; ``n_windows = (n - n_samples) // stride + 1``;
        equal (within float rounding) to the network's :meth:`~PickNet.forward` on each window.
        """
        return _softmax(window_logits(self.network_, z, stride), axis=1)

    def scan_continuous(self, data: np.ndarray, stride: int) -> np.ndarray:
        """The fast path of :func:`seisphase.scan.scan`: normalise ``data`` (3, n), then
        :meth:`probabilities`."""
        return self.probabilities(normalize_trace(data, self.sampling_rate_), stride)

    # -- persistence ---------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write ``picker.json`` and ``model.safetensors`` into directory ``path``."""
        from safetensors.torch import save_file

        path = Path(path)
        doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": asdict(self.config),
               "n_samples": self.n_samples_, "classes": list(self.classes_),
               "components": self.components_, "sampling_rate": self.sampling_rate_,
               "history": self.history_}
        with atomic_directory(path) as tmp:
            state = {k: v.detach().contiguous() for k, v in self.network_.state_dict().items()}
            save_file(state, str(tmp / "model.safetensors"))
            (tmp / "picker.json").write_text(json.dumps(doc, indent=2))
        return path

    @classmethod
    def load(cls, path) -> Picker:
        """Rebuild a saved picker from its JSON and weights (no unpickling)."""
        from safetensors.torch import load_file

        path = Path(path)
        try:
            doc = json.loads((path / "picker.json").read_text())
            if doc.get("format") != FORMAT or doc.get("format_version", 99) > FORMAT_VERSION:
                raise ModelFileError(f"{path} is not a seisphase picker this version reads")
            config = PickerConfig(**doc["config"])
            net = PickNet(3, int(doc["n_samples"]), len(doc["classes"]), config.width, config.context)
            net.load_state_dict(load_file(str(path / "model.safetensors")))
        except (OSError, KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise ModelFileError(f"cannot load a picker from {path}: {exc}") from None
        return cls(net, config, doc.get("history"))
