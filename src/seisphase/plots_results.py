"""Figures of results: history, sweeps, confusion, precision–recall, reliability, realism.

Every function returns a :class:`matplotlib.figure.Figure` (no pyplot); save it with
:func:`seisphase.plots.save_figure`. These are also importable from :mod:`seisphase.plots`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from seisphase.data.windows import PHASES
from seisphase.errors import ConfigError, DataError
from seisphase.plots import PHASE_COLORS, PHASE_NAMES, SERIES_COLORS, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_LABELS = {
    "val_accuracy": "Validation accuracy", "train_accuracy": "Training accuracy",
    "test_accuracy": "Test accuracy", "val_loss": "Validation loss", "lr": "Learning rate",
    "hidden": "Hidden widths", "depth": "Depth", "width": "Width", "accuracy": "Accuracy",
}


def _label(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " ").capitalize())


def _history_dict(history) -> dict:
    d = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    if not d.get("train_loss"):
        raise DataError("the training history is empty: nothing to plot")
    return d


def plot_history(history) -> Figure:
    """Training and validation loss (left) and accuracy (right) per epoch; best epoch marked.

    Parameters
    ----------
    history : History or dict
        Per-epoch ``train_loss``, ``val_loss``, ``train_accuracy``, ``val_accuracy`` and the
        0-based ``best_epoch`` (as in :class:`seisphase.training.History`).

    Returns
    -------
    Figure
        Two axes.
    """
    h = _history_dict(history)
    epochs = np.arange(1, len(h["train_loss"]) + 1)
    best = int(h.get("best_epoch", -1))
    fig, axes = new_figure(1, 2, size=(9.0, 3.4), sharex=True)
    for ax, key, name in ((axes[0, 0], "loss", "Loss (cross-entropy)"),
                          (axes[0, 1], "accuracy", "Accuracy")):
        ax.plot(epochs, h[f"train_{key}"], color=SERIES_COLORS[0], label="training")
        if h.get(f"val_{key}"):
            ax.plot(epochs[: len(h[f"val_{key}"])], h[f"val_{key}"], color=SERIES_COLORS[5],
                    label="validation")
            if 0 <= best < len(h[f"val_{key}"]):
                ax.axvline(best + 1, color="grey", ls=":", lw=1)
                ax.plot(best + 1, h[f"val_{key}"][best], "o", color=SERIES_COLORS[6],
                        label=f"best epoch ({best + 1})")
        ax.set_xlabel("Epoch")
        ax.set_ylabel(name)
        ax.legend(fontsize="small")
    axes[0, 1].set_ylim(0, 1)
    axes[0, 0].set_title("Loss")
    axes[0, 1].set_title("Accuracy")
    return fig


def plot_learning_curves(histories: dict) -> Figure:
    """Validation (solid) and training (dashed) loss and accuracy of several runs.

    Parameters
    ----------
    histories : dict of str to History
        Run name → history (e.g. ``{"linear": h1, "mlp 40": h2}``).

    Returns
    -------
    Figure
        Two axes (loss, accuracy).
    """
    if not histories:
        raise DataError("no histories to plot")
    fig, axes = new_figure(1, 2, size=(9.0, 3.4), sharex=True)
    for n, (name, history) in enumerate(histories.items()):
        h = _history_dict(history)
        color = SERIES_COLORS[n % len(SERIES_COLORS)]
        epochs = np.arange(1, len(h["train_loss"]) + 1)
        for ax, key in ((axes[0, 0], "loss"), (axes[0, 1], "accuracy")):
            val = h.get(f"val_{key}") or []
            ax.plot(epochs, h[f"train_{key}"], color=color, ls="--", lw=0.9, alpha=0.7)
            ax.plot(epochs[: len(val)], val, color=color, lw=1.6, label=str(name))
            best = int(h.get("best_epoch", -1))
            if 0 <= best < len(val):
                ax.plot(best + 1, val[best], "o", color=color, ms=4)
    axes[0, 0].set_ylabel("Loss (cross-entropy)")
    axes[0, 1].set_ylabel("Accuracy")
    axes[0, 1].set_ylim(0, 1)
    for ax, title in zip(axes[0], ("Loss", "Accuracy"), strict=True):
        ax.set_xlabel("Epoch")
        ax.set_title(f"{title} (solid: validation, dashed: training)", fontsize="medium")
    axes[0, 1].legend(fontsize="small")
    return fig


def plot_sweep(rows_df, x: str = "lr", hue=None, y: str = "val_accuracy") -> Figure:
    """Score against a swept setting, one line per ``hue`` group; mean ± std over seeds.

    Parameters
    ----------
    rows_df : pandas.DataFrame
        One row per run, with columns ``x``, ``y`` and the ``hue`` column(s).
    x : str
        Column on the x axis (log scale when all values are positive, as for ``lr``).
    hue : str or list of str, optional
        Column(s) distinguishing lines (e.g. ``"hidden"`` or ``["hidden", "depth"]``), in
        order of first appearance; list values such as ``[40, 40]`` are fine.
    y : str
        Score column.

    Returns
    -------
    Figure
        One axis.
    """
    hues = [] if hue is None else [hue] if isinstance(hue, str) else list(hue)
    missing = [c for c in [x, y, *hues] if c not in rows_df.columns]
    if missing:
        raise ConfigError(f"the sweep table has no column(s) {missing}; columns: "
                          f"{', '.join(map(str, rows_df.columns))}")
    if len(rows_df) == 0:
        raise DataError("the sweep table is empty")
    df = rows_df[[x, y, *hues]].copy()
    # Widths such as [40, 40] are lists (unhashable): group on their text.
    df["_group"] = (df[hues].astype(str).agg(", ".join, axis=1) if hues else "all runs")
    fig, axes = new_figure(1, 1, size=(5.6, 3.8))
    ax = axes[0, 0]
    for n, (group, part) in enumerate(df.groupby("_group", sort=False)):
        stats = part.groupby(x)[y].agg(["mean", "std", "count"]).sort_index()
        color = SERIES_COLORS[n % len(SERIES_COLORS)]
        label = f"{' / '.join(hues)} = {group}" if hues else group
        ax.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0.0), color=color,
                    marker="o", ms=4, capsize=3, label=label)
    if (df[x] > 0).all():
        ax.set_xscale("log")
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y) + " (mean ± std over seeds)")
    ax.set_title(f"{_label(y)} vs {_label(x).lower()}")
    ax.legend(fontsize="small")
    return fig


def plot_confusion(confusion) -> Figure:
    """Confusion matrix as counts (left) and row-normalised, i.e. recall (right).

    Parameters
    ----------
    confusion : Evaluation or array_like, shape (n_classes, n_classes)
        ``confusion[i][j]`` counts windows of true class ``i`` predicted as ``j``.

    Returns
    -------
    Figure
        Two axes.
    """
    cm = np.asarray(getattr(confusion, "confusion", confusion), dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise DataError(f"expected a square confusion matrix, got shape {cm.shape}")
    k = cm.shape[0]
    names = list(PHASES) if k == len(PHASES) else [str(i) for i in range(k)]
    totals = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)
    fig, axes = new_figure(1, 2, size=(8.4, 3.8))
    panels = ((cm, "Counts", "{:.0f}", cm.max() or 1.0),
              (norm, "Row-normalised (recall)", "{:.2f}", 1.0))
    for ax, (values, title, fmt, vmax) in zip(axes[0], panels, strict=True):
        ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax)
        for i in range(k):
            for j in range(k):
                dark = values[i, j] > 0.6 * vmax
                ax.text(j, i, fmt.format(values[i, j]), ha="center", va="center",
                        color="white" if dark else "black")
        ax.set_xticks(range(k), names)
        ax.set_yticks(range(k), names)
        ax.set_xlabel("Predicted class")
        ax.set_ylabel("True class")
        ax.set_title(title)
    fig.suptitle(f"Confusion matrix ({int(cm.sum())} windows)")
    return fig


def plot_precision_recall(y_true, proba) -> Figure:
    """Precision–recall curve of each class (one-vs-rest), average precision in the legend.

    Parameters
    ----------
    y_true : array_like, shape (n_windows,)
    proba : array_like, shape (n_windows, 3)
        Class probabilities in :data:`PHASES` order.

    Returns
    -------
    Figure
        One axis.
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve

    y, p = np.asarray(y_true), np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or y.shape != (p.shape[0],) or p.shape[0] == 0:
        raise DataError(f"expected labels (n,) and probabilities (n, n_classes), got {y.shape} "
                        f"and {p.shape}")
    fig, axes = new_figure(1, 1, size=(5.0, 4.2))
    ax = axes[0, 0]
    for k in range(p.shape[1]):
        positive = y == k
        if not positive.any():
            continue
        phase = PHASES[k] if k < len(PHASES) else str(k)
        precision, recall, _ = precision_recall_curve(positive, p[:, k])
        ap = average_precision_score(positive, p[:, k])
        ax.step(recall, precision, where="post", color=PHASE_COLORS.get(phase, "black"), lw=1.6,
                label=f"{PHASE_NAMES.get(phase, phase)} (AP {ap:.2f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Recall")
    ax.set_ylabel("Precision")
    ax.set_title("Precision–recall per class")
    ax.legend(fontsize="small", loc="lower left")
    return fig


def plot_reliability(y_true, proba, proba_calibrated=None, *, n_bins: int = 15) -> Figure:
    """Reliability diagram (top) and confidence histogram (bottom), before/after calibration.

    Parameters
    ----------
    y_true : array_like, shape (n_windows,)
    proba : array_like, shape (n_windows, n_classes)
        Probabilities before calibration.
    proba_calibrated : array_like, shape (n_windows, n_classes), optional
        The same windows after calibration (e.g. temperature scaling).
    n_bins : int
        Equal-width confidence bins.

    Returns
    -------
    Figure
        Two axes; the legend gives each curve's expected calibration error (ECE).
    """
    from seisphase.calibration import expected_calibration_error, reliability_bins

    series = [("uncalibrated", proba, SERIES_COLORS[0])]
    if proba_calibrated is not None:
        series.append(("calibrated", proba_calibrated, SERIES_COLORS[6]))
    fig, axes = new_figure(2, 1, size=(4.8, 5.6), sharex=True, height_ratios=(3, 1))
    top, bottom = axes[0, 0], axes[1, 0]
    top.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="perfect calibration")
    edges = np.linspace(0, 1, n_bins + 1)
    for name, p, color in series:
        confidence, accuracy, counts = reliability_bins(y_true, p, n_bins)
        ece = expected_calibration_error(y_true, p, n_bins)
        used = counts > 0
        top.plot(confidence[used], accuracy[used], "o-", color=color, ms=4,
                 label=f"{name} (ECE {ece:.3f})")
        bottom.stairs(counts, edges, color=color, lw=1.4)
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("Accuracy (fraction correct)")
    top.set_title("Reliability (top-label)")
    top.legend(fontsize="small", loc="upper left")
    bottom.set_xlabel("Confidence (top probability)")
    bottom.set_ylabel("Windows")
    return fig


def _by_phase(values, name: str) -> dict:
    """``{phase: array}`` from a dict keyed by phase or an array indexed by class."""
    if isinstance(values, dict):
        return {p: np.asarray(v, dtype=np.float64) for p, v in values.items() if v is not None}
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[0] > len(PHASES):
        raise DataError(f"expected {name} as {{phase: array}} or an array (n_classes, ...), "
                        f"got shape {arr.shape}")
    return {PHASES[k]: arr[k] for k in range(arr.shape[0])}


def plot_realism(freqs, spectra_syn, spectra_real, env_syn, env_real, *,
                 sampling_rate: float = 100.0, components: str = "ZNE") -> Figure:
    """Synthetic vs real class-wise median spectra (top row) and envelopes (bottom row).

    Real data are drawn in the phase's colour, synthetic data in black dashes; with
    per-channel spectra the vertical is a thick line and the horizontals' mean a thin one.

    Parameters
    ----------
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz) of the spectra; f = 0 is left out of the log axes.
    spectra_syn, spectra_real : dict or ndarray
        Per class: ``{phase: (n_freqs,) or (n_channels, n_freqs)}`` (as returned by
        :func:`seisphase.data.realism.median_spectra`) or an array ``(n_classes, n_freqs)``
        / ``(n_classes, n_channels, n_freqs)`` in :data:`PHASES` order.
    env_syn, env_real : dict or ndarray
        Per class median envelopes: ``{phase: (n_samples,)}`` or ``(n_classes, n_samples)``.
    sampling_rate : float
        Of the envelopes, for the time axis (s).
    components : str
        Channel order of per-channel spectra (vertical first).

    Returns
    -------
    Figure
        ``2 x 3`` axes (one column per phase).
    """
    freqs = np.asarray(freqs, dtype=np.float64)
    spectra = [_by_phase(spectra_syn, "spectra_syn"), _by_phase(spectra_real, "spectra_real")]
    envs = [_by_phase(env_syn, "env_syn"), _by_phase(env_real, "env_real")]
    for part in spectra:
        for phase, s in part.items():
            if s.shape[-1] != freqs.size or s.ndim > 2:
                raise DataError(f"the {phase} spectrum has shape {s.shape}; expected "
                                f"({freqs.size},) or (n_channels, {freqs.size}) to match freqs")
    positive = freqs > 0
    fig, axes = new_figure(2, len(PHASES), size=(3.6 * len(PHASES), 6.0), sharey="row")
    styles = (("synthetic", "--", lambda color: "black"), ("real", "-", lambda color: color))
    for k, phase in enumerate(PHASES):
        color = PHASE_COLORS[phase]
        top, bottom = axes[0, k], axes[1, k]
        for (name, ls, pick_color), spec, env in zip(styles, spectra, envs, strict=True):
            c = pick_color(color)
            if phase in spec:
                s = spec[phase]
                first = s if s.ndim == 1 else s[0]
                label = name if s.ndim == 1 else f"{name} {components[0]}"
                top.plot(freqs[positive], first[positive], color=c, ls=ls, lw=1.8, label=label)
                if s.ndim == 2 and s.shape[0] > 1:
                    top.plot(freqs[positive], s[1:].mean(0)[positive], color=c, ls=ls, lw=0.8,
                             label=f"{name} {'/'.join(components[1:s.shape[0]])}")
            if phase in env:
                t = np.arange(env[phase].size) / sampling_rate
                bottom.plot(t, env[phase], color=c, ls=ls, lw=1.5, label=name)
        if not top.lines:
            top.text(0.5, 0.5, "no windows", ha="center", va="center", transform=top.transAxes)
        else:
            top.set_xscale("log")
            top.set_yscale("log")
        top.set_title(PHASE_NAMES[phase])
        top.set_xlabel("Frequency (Hz)")
        bottom.set_xlabel("Time (s)")
    axes[0, 0].set_ylabel("Median amplitude (relative)")
    axes[1, 0].set_ylabel("Median envelope (relative)")
    for ax in (axes[0, 0], axes[1, 0]):
        if ax.lines:
            ax.legend(fontsize="small")
    fig.suptitle("Synthetic (black, dashed) vs real windows")
    return fig


def plot_scan(waveforms, probabilities, picks, *, station: str = "") -> Figure:
    """Waveforms (each normalised), probability traces and picks of one station.

    Parameters
    ----------
    waveforms, probabilities : obspy.Stream
        The scanned traces and the probability traces from :func:`seisphase.scan.scan`
        (channel names ending in the phase letter).
    picks : list of :class:`seisphase.picks.Pick`
    """
    fig, axes = new_figure(2, 1, size=(12, 6), sharex=True)
    ax_w, ax_p = axes[:, 0]
    t0 = min(tr.stats.starttime for tr in waveforms)
    for k, tr in enumerate(sorted(waveforms, key=lambda t: t.stats.channel)):
        data = np.asarray(tr.data, dtype=float)
        data = data - data.mean()
        ax_w.plot(tr.times() + (tr.stats.starttime - t0), data / (np.abs(data).max() or 1) / 2 - k,
                  lw=0.5, color="k")
        ax_w.text(0, -k + 0.3, tr.stats.channel, fontsize=8)
    for tr in probabilities:
        phase = tr.stats.channel[-1]
        ax_p.plot(tr.times() + (tr.stats.starttime - t0), tr.data, lw=1,
                  color=PHASE_COLORS.get(phase, "0.5"), ls=":" if phase == "N" else "-",
                  label=PHASE_NAMES.get(phase, phase))
    for q in picks:
        for ax in (ax_w, ax_p):
            ax.axvline(q.time - t0, color=PHASE_COLORS.get(q.phase, "k"), lw=0.8, alpha=0.7)
    ax_w.set_yticks([])
    ax_w.set_title(f"{station + ': ' if station else ''}waveforms and picks "
                   "(P blue, S vermillion)")
    ax_p.set_ylim(-0.02, 1.02)
    ax_p.set_ylabel("probability")
    ax_p.set_xlabel(f"seconds after {t0}")
    handles, labels = ax_p.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax_p.legend(unique.values(), unique.keys(), loc="upper right", fontsize=8)
    return fig
