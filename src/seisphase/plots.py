"""Figures of the data and of the lab's toy material; every function returns a ``Figure``.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through ``pyplot``:
no window opens, no global figure state is kept, and plotting works on headless machines. Save
them with :func:`save_figure`. Phases are coloured with :data:`PHASE_COLORS` everywhere.

Result figures (training history, sweeps, confusion, precision–recall, reliability, synthetic
vs real) live in :mod:`seisphase.plots_results` and can be imported from here as well.

>>> from seisphase.plots import plot_activations, save_figure        # doctest: +SKIP
>>> save_figure(plot_activations(), "activations.png")              # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seisphase.data.windows import PHASES
from seisphase.errors import ConfigError, DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PHASE_COLORS = {"P": "#0072B2", "S": "#D55E00", "N": "#7F7F7F"}
"""Colour of each phase (Okabe–Ito blue, vermillion and grey: safe for colour-blind readers)."""

SERIES_COLORS = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2",
                 "#D55E00", "#F0E442")
"""Okabe–Ito palette for series that are not phases (models, toy classes, before/after)."""

PHASE_NAMES = {"P": "P wave", "S": "S wave", "N": "noise"}

FORMATS = (".png", ".svg", ".pdf")
"""File types :func:`save_figure` writes, chosen by the path's suffix."""

_RESULTS = ("plot_history", "plot_learning_curves", "plot_sweep", "plot_confusion",
            "plot_precision_recall", "plot_reliability", "plot_realism", "plot_scan")


def __getattr__(name):
    # Result plots live in plots_results (which imports this module); re-export them lazily.
    if name in _RESULTS:
        from seisphase import plots_results

        return getattr(plots_results, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def new_figure(nrows: int = 1, ncols: int = 1, *, size=None, **kwargs):
    """A constrained-layout ``Figure`` and its axes (always a 2-D array), without pyplot."""
    from matplotlib.figure import Figure

    size = size or (4.0 * ncols, 3.0 * nrows)
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = 150) -> Path:
    """Write ``fig`` atomically as PNG, SVG or PDF (chosen by the suffix); returns the path.

    The figure is written to a temporary file with the same suffix beside ``path`` and renamed
    onto it, so a failure never leaves a half-written file.

    Raises
    ------
    ConfigError
        For any other suffix.
    """
    from seisphase._atomic import atomic_path

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(
            f"cannot save a figure as {path.name!r}: use a name ending in "
            f"{', '.join(FORMATS)} (the suffix chooses the format)"
        )
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=suffix[1:], dpi=dpi)
    return path


def _phase(label) -> str:
    return PHASES[int(label)] if label is not None else "?"


def _pick_sample(windows, i: int) -> float | None:
    """Pick sample of window ``i`` from metadata, the window centre otherwise; None for noise."""
    meta = windows.metadata
    for column in ("pick_sample", "pick_offset"):
        if meta is not None and column in meta.columns:
            value = meta[column].iloc[i]
            if value is None or not np.isfinite(float(value)) or float(value) < 0:
                return None
            return float(value)
    if windows.labels is not None and PHASES[int(windows.labels[i])] == "N":
        return None
    return windows.n_samples / 2


def plot_examples(windows, n_per_class: int = 2) -> Figure:
    """Example waveforms: one column per window, one row per component, coloured by phase.

    The pick is marked with a dashed line at the metadata's ``pick_sample`` (or ``pick_offset``)
    when present, else at the window centre (labelled P and S windows only).

    Parameters
    ----------
    windows : Windows
        Windows ``(n_windows, n_channels, n_samples)``; labelled or not.
    n_per_class : int
        Windows shown per class (the first ones of each class); unlabelled data show the first
        ``3 * n_per_class`` windows.

    Returns
    -------
    Figure
        ``n_channels x n_shown`` axes.
    """
    if n_per_class < 1:
        raise ConfigError(f"n_per_class must be at least 1, got {n_per_class}")
    if windows.labels is None:
        chosen = list(range(min(windows.n_windows, 3 * n_per_class)))
    else:
        chosen = [int(i) for k in range(len(PHASES))
                  for i in np.nonzero(windows.labels == k)[0][:n_per_class]]
    if not chosen:
        raise DataError("no windows to plot")
    n_ch = windows.n_channels
    fig, axes = new_figure(n_ch, len(chosen), size=(2.6 * len(chosen), 1.3 * n_ch + 0.9),
                           sharex=True, sharey="col")
    t = np.arange(windows.n_samples) / windows.sampling_rate
    for col, i in enumerate(chosen):
        phase = _phase(None if windows.labels is None else windows.labels[i])
        color = PHASE_COLORS.get(phase, "black")
        pick = _pick_sample(windows, i)
        for row in range(n_ch):
            ax = axes[row, col]
            ax.plot(t, windows.waveforms[i, row], color=color, lw=0.7)
            if pick is not None:
                ax.axvline(pick / windows.sampling_rate, color="black", ls="--", lw=0.8)
            if col == 0:
                ax.set_ylabel(f"{windows.components[row]} (counts)")
            if row == n_ch - 1:
                ax.set_xlabel("Time (s)")
        axes[0, col].set_title(f"{PHASE_NAMES.get(phase, 'unlabelled')} #{i}", color=color,
                               fontsize="medium")
    fig.suptitle("Example windows (dashed: pick)")
    return fig


def median_spectra(windows) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Class-wise median, 25th and 75th percentile amplitude spectra (f > 0).

    Each window's spectra are divided by the window's peak spectral amplitude (gains differ
    by orders of magnitude); dead (all-zero) channels are left out of that channel's statistics.

    Returns
    -------
    freqs : ndarray, shape (n_freqs,)
    median, q25, q75 : ndarray, shape (n_classes, n_channels, n_freqs)
        NaN for a class without windows.
    """
    import scipy.fft

    if windows.labels is None:
        raise DataError("class-wise spectra need labelled windows")
    amp = np.abs(scipy.fft.rfft(windows.waveforms.astype(np.float64), axis=-1))[..., 1:]
    freqs = scipy.fft.rfftfreq(windows.n_samples, 1.0 / windows.sampling_rate)[1:]
    peak = amp.reshape(len(amp), -1).max(axis=1)
    amp /= np.where(peak > 0, peak, 1.0)[:, None, None]
    amp[~(amp.max(axis=-1) > 0)] = np.nan  # dead channels
    shape = (len(PHASES), windows.n_channels, freqs.size)
    stats = [np.full(shape, np.nan) for _ in range(3)]
    for k in range(len(PHASES)):
        sel = amp[windows.labels == k]
        if len(sel) == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a channel dead in every window
            for s, q in zip(stats, (50, 25, 75), strict=True):
                s[k] = np.nanpercentile(sel, q, axis=0)
    return freqs, *stats


def plot_median_spectra(windows) -> Figure:
    """Class-wise median amplitude spectra, one panel per component, log–log axes.

    Shaded bands span the 25th–75th percentiles. Spectra are relative to each window's peak.

    Parameters
    ----------
    windows : Windows
        Labelled windows.

    Returns
    -------
    Figure
        ``n_channels`` axes.
    """
    freqs, med, q25, q75 = median_spectra(windows)
    n_ch = windows.n_channels
    fig, axes = new_figure(1, n_ch, size=(3.6 * n_ch, 3.2), sharey=True)
    for c in range(n_ch):
        ax = axes[0, c]
        for k, phase in enumerate(PHASES):
            if np.isnan(med[k, c]).all():
                continue
            color = PHASE_COLORS[phase]
            ax.fill_between(freqs, q25[k, c], q75[k, c], color=color, alpha=0.2, lw=0)
            ax.plot(freqs, med[k, c], color=color, lw=1.5, label=PHASE_NAMES[phase])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("Frequency (Hz)")
        ax.set_title(f"component {windows.components[c]}")
    axes[0, 0].set_ylabel("Amplitude (relative to window peak)")
    axes[0, 0].legend(fontsize="small")
    fig.suptitle("Median amplitude spectra by class (band: 25–75 %)")
    return fig


def plot_features(features, labels, *, freqs=None, components=None) -> Figure:
    """Feature images: windows (rows, sorted by class) × features (columns).

    Parameters
    ----------
    features : ndarray, shape (n_windows, n_features) or (n_windows, n_channels, n_bins, ...)
        2-D: one panel. 3-D or more: one panel per channel (trailing axes flattened).
    labels : ndarray, shape (n_windows,)
    freqs : ndarray, shape (n_bins,), optional
        Frequencies of the columns (3-D spectra), used for the x axis.
    components : str, optional
        Channel names for the panel titles.

    Returns
    -------
    Figure
        One axis per panel plus one colour bar.
    """
    f = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels)
    if f.ndim < 2 or f.shape[0] != y.shape[0] or y.ndim != 1 or f.shape[0] == 0:
        raise DataError(
            f"expected features of shape (n_windows, ...) and labels (n_windows,), got "
            f"{f.shape} and {y.shape}"
        )
    panels = f[:, None, :] if f.ndim == 2 else f.reshape(f.shape[0], f.shape[1], -1)
    order = np.argsort(y, kind="stable")
    panels, y = panels[order], y[order]
    n_panels, n_cols = panels.shape[1], panels.shape[2]
    use_freqs = freqs is not None and len(freqs) == n_cols
    extent = ((freqs[0], freqs[-1]) if use_freqs else (-0.5, n_cols - 0.5)) + (len(y) - 0.5, -0.5)
    lim = np.nanpercentile(np.abs(panels), 99) or 1.0
    fig, axes = new_figure(1, n_panels, size=(3.4 * n_panels + 1.0, 4.0), sharey=True)
    image = None
    for c in range(n_panels):
        ax = axes[0, c]
        image = ax.imshow(panels[:, c], aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim,
                          extent=extent, interpolation="nearest")
        ax.set_xlabel("Frequency (Hz)" if use_freqs else "Feature index")
        if n_panels > 1:
            ax.set_title(f"component {components[c]}" if components else f"channel {c}")
        for k in range(1, len(PHASES)):
            boundary = np.searchsorted(y, k) - 0.5
            if 0 < boundary < len(y) - 1:
                ax.axhline(boundary, color="black", lw=2)
    present = [k for k in range(len(PHASES)) if (y == k).any()]
    centres = [np.mean(np.nonzero(y == k)[0]) for k in present]
    axes[0, 0].set_yticks(centres, [PHASES[k] for k in present])
    axes[0, 0].set_ylabel("Windows (sorted by class)")
    fig.colorbar(image, ax=axes[0, :].tolist(), label="Standardised value", shrink=0.9)
    fig.suptitle("Features by class")
    return fig


def plot_activations() -> Figure:
    """The lab's activation functions: sigmoid and ReLU on ``-5 <= f <= 5`` (two axes)."""
    f = np.linspace(-5, 5, 1000)
    fig, axes = new_figure(1, 2, size=(7.5, 3.0))
    curves = (
        ("Sigmoid  1 / (1 + e^(−f))", 1 / (1 + np.exp(-f))),
        ("ReLU  max(0, f)", np.maximum(f, 0)),
    )
    for ax, (title, values) in zip(axes[0], curves, strict=True):
        ax.plot(f, values, color=SERIES_COLORS[5], lw=2)
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_title(title)
        ax.set_xlabel("f")
        ax.set_ylabel("Activation φ(f)")
    return fig


def plot_decision_boundary(predict_fn, X2d, y, *, resolution: int = 200) -> Figure:
    """Decision regions of a classifier on 2-D toy data, with the data on top.

    Parameters
    ----------
    predict_fn : callable
        ``predict_fn(points (m, 2)) -> labels (m,)`` or class scores ``(m, n_classes)``.
    X2d : ndarray, shape (n_points, 2)
    y : ndarray, shape (n_points,)
        Integer classes.
    resolution : int
        Grid points per axis.

    Returns
    -------
    Figure
        One axis.
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap

    x = np.asarray(X2d)
    y = np.asarray(y).astype(int)
    if x.ndim != 2 or x.shape[1] != 2 or y.shape != (x.shape[0],) or x.shape[0] == 0:
        raise DataError(f"expected points of shape (n, 2) and labels (n,), got {x.shape} and "
                        f"{y.shape}")
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    g0, g1 = (np.linspace(lo[i] - pad[i], hi[i] + pad[i], resolution) for i in range(2))
    grid = np.stack(np.meshgrid(g0, g1), axis=-1).reshape(-1, 2).astype(x.dtype)
    pred = np.asarray(predict_fn(grid))
    if pred.ndim == 2:
        pred = pred.argmax(axis=1)
    n_classes = int(max(y.max(), pred.max())) + 1
    colors = [SERIES_COLORS[1:][k % (len(SERIES_COLORS) - 1)] for k in range(n_classes)]
    cmap = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(n_classes + 1) - 0.5, n_classes)
    fig, axes = new_figure(1, 1, size=(5.0, 4.6))
    ax = axes[0, 0]
    ax.contourf(g0, g1, pred.reshape(resolution, resolution), levels=np.arange(n_classes + 1) - 0.5,
                cmap=cmap, norm=norm, alpha=0.3)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap=cmap, norm=norm, s=18, edgecolors="black",
               linewidths=0.4)
    on_data = np.asarray(predict_fn(x))
    accuracy = float(np.mean((on_data.argmax(axis=1) if on_data.ndim == 2 else on_data) == y))
    ax.set_title(f"Decision regions ({n_classes} classes, accuracy {accuracy:.2f})")
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    return fig
