"""What a trained classifier looks at: frequency bands, components and moments of a window.

* :func:`spectral_importance`: permutation importance of the spectral models' features, per
  (component, frequency band): shuffle one band of one component across windows and measure how
  much the true class's log-probability (or the accuracy) drops;
* :func:`linear_weights`: the linear model's weights laid out as component × frequency × class;
* :func:`occlusion`: the drop in the true class's probability when a time segment of one
  component is set to zero (any model, the CNN included);
* :func:`saliency`: ``|d p_true / d input|`` of the CNN, by autograd.

>>> freqs, imp = spectral_importance(clf, test)                      # doctest: +SKIP
>>> save_figure(plot_spectral_importance(freqs, imp, "ZNE"), "importance.png")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from seisphase.classifier import as_windows
from seisphase.data.windows import PHASES, Windows
from seisphase.errors import ConfigError, DataError, NotFittedError
from seisphase.features import frequency_bins
from seisphase.plots import PHASE_COLORS, PHASE_NAMES, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SPECTRAL_KINDS = ("logspectrum", "logspectrogram")
SCORES = ("logprob", "accuracy")


def _fitted(classifier):
    if getattr(classifier, "network_", None) is None:
        raise NotFittedError("the classifier is not fitted yet; call fit(windows) or "
                             "PhaseClassifier.load(path) first")
    return classifier


def spectral_layout(classifier) -> tuple[str, np.ndarray, int]:
    """How a spectral model's feature columns map onto components, frequencies and frames.

    Returns
    -------
    components : str
        Components the features use, in column order.
    freqs : ndarray, shape (n_freqs,)
        Centre frequency of each band (Hz).
    n_frames : int
        Time frames per component (1 for ``logspectrum``); the columns are laid out as
        ``(n_components, n_frames, n_freqs)`` flattened.
    """
    fx = _fitted(classifier).extractor_
    kind = fx.config.kind
    if kind not in SPECTRAL_KINDS:
        raise ConfigError(
            f"this model reads {kind!r} inputs, not a spectrum; spectral explanations need "
            f"features {' or '.join(SPECTRAL_KINDS)} (for the cnn use occlusion or saliency)"
        )
    components = "".join(fx.components[i] for i in fx.channel_index)
    n = classifier.n_samples_ if kind == "logspectrum" else fx.config.frame_samples
    bins = frequency_bins(n, fx.sampling_rate, fx.config.fmax)
    n_features = fx.input_shape(classifier.n_samples_)[0]
    return components, bins * fx.sampling_rate / n, n_features // (len(components) * bins.size)


@torch.no_grad()
def _log_proba(classifier, inputs: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Calibrated log-probabilities from model inputs (features or preprocessed waveforms)."""
    classifier.network_.eval()
    out = [torch.log_softmax(classifier.forward_inputs(xb).double() / classifier.temperature_, dim=1)
           for xb in torch.as_tensor(inputs).split(batch_size)]
    return torch.cat(out).numpy()


def _targets(classifier, data: Windows, labels) -> np.ndarray:
    """True labels (given, or the windows'); the model's own predictions when there are none."""
    y = labels if labels is not None else data.labels
    if y is None:
        return classifier.predict(data)
    y = np.asarray(y, dtype=np.int64)
    if y.shape != (data.n_windows,):
        raise DataError(f"expected {data.n_windows} labels, got shape {y.shape}")
    return y


def spectral_importance(classifier, windows, n_repeats: int = 3, seed: int = 0, *,
                        score: str = "logprob", labels=None) -> tuple[np.ndarray, np.ndarray]:
    """Permutation importance of each (component, frequency band) of a spectral model.

    For every band of every component, that feature (all its time frames for
    ``logspectrogram``) is shuffled across the windows ``n_repeats`` times and the score is
    recomputed; the importance is the mean drop. Bands the model ignores score about 0.

    Parameters
    ----------
    classifier : PhaseClassifier
        Fitted, with ``logspectrum`` or ``logspectrogram`` features.
    windows : Windows or ndarray, shape (n_windows, n_channels, n_samples)
        Held-out windows; labels from ``labels`` or the windows, else the model's predictions.
    n_repeats : int
        Shuffles per band.
    seed : int
        Seed of the shuffles.
    score : {"logprob", "accuracy"}
        ``"logprob"``: drop in the true class's log-probability, averaged per true class;
        ``"accuracy"``: drop in accuracy over all windows.
    labels : array_like, shape (n_windows,), optional

    Returns
    -------
    freqs : ndarray, shape (n_freqs,)
    importance : ndarray, shape (n_components, n_freqs, n_classes) or (n_components, n_freqs, 1)
        Components in the order of :func:`spectral_layout`; a class without windows is NaN.
    """
    if score not in SCORES:
        raise ConfigError(f"unknown score {score!r}; valid: {', '.join(SCORES)}")
    if int(n_repeats) < 1:
        raise ConfigError(f"n_repeats must be at least 1, got {n_repeats}")
    components, freqs, n_frames = spectral_layout(classifier)
    data = as_windows(windows, classifier.sampling_rate_)
    x = classifier.prepare(data)  # standardised features: shuffling columns is the same
    y = _targets(classifier, data, labels)
    n, rows = len(y), np.arange(len(y))
    if n < 2:
        raise DataError("permutation importance needs at least 2 windows")
    columns = np.arange(x.shape[1]).reshape(len(components), n_frames, freqs.size)

    def scores(lp: np.ndarray) -> np.ndarray:  # lp: (n_repeats * n, n_classes)
        lp = lp.reshape(-1, n, lp.shape[-1])
        if score == "accuracy":
            return np.array([(lp.argmax(-1) == y).mean()])
        true = lp[:, rows, y].mean(axis=0)
        return np.array([true[y == k].mean() if (y == k).any() else np.nan
                         for k in range(len(PHASES))])

    reference = scores(_log_proba(classifier, x))
    rng = np.random.default_rng(seed)
    importance = np.empty((len(components), freqs.size, reference.size))
    stacked = np.repeat(x[None], n_repeats, axis=0)  # one copy per repeat, reused for every band
    for c in range(len(components)):
        for f in range(freqs.size):
            cols = columns[c, :, f]
            for r in range(n_repeats):
                stacked[r][:, cols] = x[np.ix_(rng.permutation(n), cols)]
            permuted = scores(_log_proba(classifier, stacked.reshape(-1, x.shape[1])))
            importance[c, f] = reference - permuted
            stacked[:, :, cols] = x[None][:, :, cols]
    return freqs, importance


def linear_weights(classifier) -> tuple[np.ndarray, np.ndarray]:
    """The linear model's weights per component, frequency and class.

    The weights act on standardised features: a weight is the change of that class's logit
    when the band's log amplitude rises by one standard deviation (of the training windows).

    Returns
    -------
    freqs : ndarray, shape (n_freqs,)
    weights : ndarray, shape (n_components, n_freqs, n_classes)
        Or ``(n_components, n_frames, n_freqs, n_classes)`` for ``logspectrogram`` features.
    """
    components, freqs, n_frames = spectral_layout(classifier)
    linears = [m for m in classifier.network_.modules() if isinstance(m, torch.nn.Linear)]
    if classifier.model != "linear" or len(linears) != 1:
        raise ConfigError(f"linear_weights needs the linear model, got {classifier.model!r}; "
                          f"use spectral_importance for other models")
    w = linears[0].weight.detach().numpy().astype(np.float64)  # (n_classes, n_features)
    w = w.reshape(w.shape[0], len(components), n_frames, freqs.size)
    w = np.moveaxis(w, 0, -1)
    return freqs, (w[:, 0] if classifier.extractor_.config.kind == "logspectrum" else w)


def occlusion(classifier, windows, window_samples: int = 40, stride: int = 20, *,
              labels=None) -> np.ndarray:
    """Drop in the true class's probability when a time segment of one component is zeroed.

    Works for any model (it only calls ``predict_proba``).

    Parameters
    ----------
    classifier : PhaseClassifier
    windows : Windows or ndarray, shape (n_windows, n_channels, n_samples)
        Labels from ``labels`` or the windows, else the model's predictions.
    window_samples, stride : int
        Length of the zeroed segment and its step (samples); step ``s`` zeroes samples
        ``s * stride`` to ``s * stride + window_samples``.

    Returns
    -------
    ndarray, shape (n_windows, n_channels, n_steps)
        Channels in the model's component order (``classifier.components_``); ``n_steps =
        1 + (n_samples - window_samples) // stride``. Positive: the segment supported the class.
    """
    _fitted(classifier)
    data = as_windows(windows, classifier.sampling_rate_).with_components(classifier.components_)
    n_samples = data.n_samples
    if not 1 <= int(window_samples) <= n_samples or int(stride) < 1:
        raise ConfigError(f"window_samples must lie in 1..{n_samples} and stride be at least 1, "
                          f"got {window_samples} and {stride}")
    y = _targets(classifier, data, labels)
    rows = np.arange(len(y))
    reference = classifier.predict_proba(data)[rows, y]
    n_steps = 1 + (n_samples - window_samples) // stride
    x = data.waveforms.copy()
    out = np.empty((data.n_windows, data.n_channels, n_steps))
    for c in range(data.n_channels):
        for s in range(n_steps):
            a, b = s * stride, s * stride + window_samples
            kept = x[:, c, a:b].copy()
            x[:, c, a:b] = 0.0
            occluded = Windows(x, None, data.sampling_rate, data.components)
            out[:, c, s] = reference - classifier.predict_proba(occluded)[rows, y]
            x[:, c, a:b] = kept
    return out


def saliency(classifier, windows, *, labels=None, batch_size: int = 256) -> np.ndarray:
    """``|d p_true / d input|`` of a waveform model (the CNN), by autograd.

    The input is what the network sees: the windows after ``classifier.extractor_.transform``
    (detrending, filtering, normalisation), so the map is per preprocessed sample.

    Returns
    -------
    ndarray, shape (n_windows, n_channels, n_samples)
        Channels as the network reads them (the model's components, or the feature subset).
    """
    fx = _fitted(classifier).extractor_
    if fx.config.kind != "waveform":
        raise ConfigError(f"saliency needs a waveform model (the cnn), this one reads "
                          f"{fx.config.kind!r} features; use spectral_importance or occlusion")
    data = as_windows(windows, classifier.sampling_rate_)
    y = torch.as_tensor(_targets(classifier, data, labels))
    inputs = torch.as_tensor(classifier.prepare(data))
    classifier.network_.eval()
    out = []
    with torch.enable_grad():
        for xb, yb in zip(inputs.split(batch_size), y.split(batch_size), strict=True):
            xb = xb.clone().requires_grad_(True)
            p = torch.softmax(classifier.forward_inputs(xb) / classifier.temperature_, dim=1)
            # Windows are independent in eval mode: the gradient of the sum is per window.
            (grad,) = torch.autograd.grad(p[torch.arange(len(yb)), yb].sum(), xb)
            out.append(grad.abs())
    return torch.cat(out).numpy()


# -- figures ---------------------------------------------------------------------------------
def plot_spectral_importance(freqs, importance, components: str, *,
                             ylabel: str = "Importance (drop in log-probability)") -> Figure:
    """Importance against frequency, one panel per component, one line per class.

    Parameters
    ----------
    freqs : ndarray, shape (n_freqs,)
    importance : ndarray, shape (n_components, n_freqs, n_classes or 1)
        As returned by :func:`spectral_importance` (or :func:`linear_weights`).
    components : str
        One letter per component (e.g. ``"ZNE"``).

    Returns
    -------
    Figure
        One axis per component, sharing the y axis.
    """
    freqs = np.asarray(freqs, dtype=np.float64)
    imp = np.asarray(importance, dtype=np.float64)
    if imp.ndim != 3 or imp.shape[:2] != (len(components), freqs.size):
        raise DataError(f"expected importance of shape ({len(components)}, {freqs.size}, "
                        f"n_classes) for components {components!r} and {freqs.size} "
                        f"frequencies, got {imp.shape}")
    fig, axes = new_figure(1, len(components), size=(3.6 * len(components), 3.4), sharey=True)
    for c, ax in enumerate(axes[0]):
        for k in range(imp.shape[2]):
            if imp.shape[2] == len(PHASES):
                phase = PHASES[k]
                ax.plot(freqs, imp[c, :, k], color=PHASE_COLORS[phase], lw=1.5,
                        label=PHASE_NAMES[phase])
            else:
                ax.plot(freqs, imp[c, :, k], color="black", lw=1.5, label="all windows")
        ax.axhline(0, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("Frequency (Hz)")
        ax.set_title(f"Component {components[c]}")
    axes[0, 0].set_ylabel(ylabel)
    axes[0, -1].legend(fontsize="small")
    return fig


def plot_occlusion(windows, occ, *, window_samples: int = 40, stride: int = 20,
                   n_show: int = 4) -> Figure:
    """Waveforms of a few windows over the occlusion map (darker: that segment mattered more).

    Parameters
    ----------
    windows : Windows or ndarray, shape (n_windows, n_channels, n_samples)
        In the channel order of ``occ`` (the model's: ``windows.with_components(clf.components_)``).
    occ : ndarray, shape (n_windows, n_channels, n_steps)
        As returned by :func:`occlusion` with the same ``window_samples`` and ``stride``.
    n_show : int
        Windows drawn (the first ones).

    Returns
    -------
    Figure
        One axis per window drawn; traces are coloured by the window's phase.
    """
    data = as_windows(windows)
    occ = np.asarray(occ, dtype=np.float64)
    if occ.ndim != 3 or occ.shape[:2] != (data.n_windows, data.n_channels):
        raise DataError(f"expected occlusion of shape ({data.n_windows}, {data.n_channels}, "
                        f"n_steps) for these windows, got {occ.shape}")
    n_show = max(1, min(int(n_show), data.n_windows))
    rate, n_steps = data.sampling_rate, occ.shape[2]
    # Each step's colour spans `stride` samples around the centre of its zeroed segment.
    centres = np.arange(n_steps) * stride + window_samples / 2
    x_edges = np.append(centres - stride / 2, centres[-1] + stride / 2) / rate
    y_edges = np.arange(data.n_channels + 1) - 0.5
    vmax = max(float(np.nanmax(occ[:n_show])), 1e-9)
    fig, axes = new_figure(n_show, 1, size=(7.0, 1.9 * n_show + 0.6), sharex=True)
    t = np.arange(data.n_samples) / rate
    mesh = None
    for i, ax in enumerate(axes[:, 0]):
        mesh = ax.pcolormesh(x_edges, y_edges, occ[i], cmap="Greys", vmin=0, vmax=vmax)
        phase = PHASES[int(data.labels[i])] if data.labels is not None else None
        color = PHASE_COLORS.get(phase, "black")
        peak = float(np.abs(data.waveforms[i]).max()) or 1.0  # one scale: channels comparable
        for c in range(data.n_channels):
            ax.plot(t, c + 0.45 * data.waveforms[i, c] / peak, color=color, lw=0.7)
        ax.set_yticks(range(data.n_channels), list(data.components))
        ax.set_ylim(data.n_channels - 0.5, -0.5)
        ax.set_title(f"window {i}" + (f": {PHASE_NAMES[phase]}" if phase else ""),
                     color=color, fontsize="medium")
    axes[-1, 0].set_xlabel("Time (s)")
    fig.colorbar(mesh, ax=axes[:, 0].tolist(), label="Drop in true-class probability")
    return fig
