"""How real do windows look? Class-wise statistics to compare synthetic with real windows.

Three statistics per window, chosen because they separate P, S and noise on real data (and because
on real data the whole-window spectra of P and S are nearly the same; what differs is timing):

* ``hv``: mean horizontal energy over vertical energy, ``(E_N + E_E) / (2 E_Z)``, in the second
  half of the window (from 2 s), i.e. after the pick;
* ``centroid_hz``: power-weighted mean frequency of the vertical channel's spectrum over 1–25 Hz;
* ``after_before``: RMS over all channels from 2.5 s to the end over RMS over the first 1.5 s.

On the 3-component windows of ``tests/data/real_dev.npz`` these give the class medians in
:data:`REAL_MEDIANS`. (The plain ratio ``(E_N + E_E) / E_Z`` is twice ``hv``; amplitude-weighted
centroids come out 0.2–1.6 Hz higher than the power-weighted ones.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import uniform_filter1d

from seisphase.data.windows import PHASES, Windows
from seisphase.errors import DataError

STATISTICS = ("hv", "centroid_hz", "after_before")
"""Per-window statistics, in table order."""

REAL_MEDIANS = pd.DataFrame(
    {"hv": [1.58, 3.00, 1.36], "centroid_hz": [13.12, 12.16, 9.99], "after_before": [13.13, 2.24, 1.01]},
    index=pd.Index(PHASES, name="phase"),
)
"""Class medians of the 128 P, 69 S and 128 noise 3-component windows of ``real_dev.npz``."""

RATIO_TOLERANCE = 1.5
"""``hv`` and ``after_before`` match when within this factor of the real value."""

CENTROID_TOLERANCE_HZ = 2.0
"""``centroid_hz`` matches when within this many Hz of the real value."""

_HV_FROM_S, _BEFORE_TO_S, _AFTER_FROM_S = 2.0, 1.5, 2.5
_CENTROID_BAND_HZ = (1.0, 25.0)


def _zne(windows: Windows) -> np.ndarray:
    if windows.labels is None:
        raise DataError("realism statistics need labelled windows (labels 0 = P, 1 = S, 2 = noise)")
    return windows.with_components("ZNE").waveforms.astype(np.float64)


def _three_component(x: np.ndarray) -> np.ndarray:
    """Windows whose N and E channels are not all zero (vertical-only stations store zeros)."""
    return np.any(x[:, 1:] != 0, axis=(1, 2))


def window_statistics(windows: Windows) -> pd.DataFrame:
    """The realism statistics of every window.

    Parameters
    ----------
    windows : Windows
        Labelled windows with Z, N and E channels (any order), ``(n_windows, 3, n_samples)``.

    Returns
    -------
    DataFrame
        One row per window: ``hv``, ``centroid_hz``, ``after_before`` (NaN where a denominator
        is zero), ``class`` (phase name) and ``three_component`` (False when N and E are zero).
    """
    x = _zne(windows)
    rate = windows.sampling_rate
    energy = (x[:, :, int(round(_HV_FROM_S * rate)):] ** 2).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        hv = (energy[:, 1] + energy[:, 2]) / (2 * energy[:, 0])
        freqs = np.fft.rfftfreq(x.shape[-1], 1.0 / rate)
        band = (freqs >= _CENTROID_BAND_HZ[0]) & (freqs <= _CENTROID_BAND_HZ[1])
        power = np.abs(np.fft.rfft(x[:, 0], axis=-1)[:, band]) ** 2
        centroid = (power * freqs[band]).sum(-1) / power.sum(-1)
        before = np.sqrt((x[:, :, : int(round(_BEFORE_TO_S * rate))] ** 2).mean((1, 2)))
        after = np.sqrt((x[:, :, int(round(_AFTER_FROM_S * rate)):] ** 2).mean((1, 2)))
        after_before = after / before
    clean = lambda a: np.where(np.isfinite(a), a, np.nan)  # noqa: E731
    return pd.DataFrame({
        "hv": clean(hv), "centroid_hz": clean(centroid), "after_before": clean(after_before),
        "class": np.array(PHASES)[windows.labels], "three_component": _three_component(x),
    })


def class_medians(windows: Windows) -> pd.DataFrame:
    """Median of each statistic per class over the 3-component windows.

    Returns
    -------
    DataFrame
        Index: phase (``P``, ``S``, ``N``, those present); columns :data:`STATISTICS` and
        ``n_windows``.
    """
    stats = window_statistics(windows)
    stats = stats[stats["three_component"]]
    grouped = stats.groupby("class")[list(STATISTICS)]
    out = grouped.median()
    out["n_windows"] = grouped.size()
    order = [p for p in PHASES if p in out.index]
    out = out.loc[order]
    out.index.name = "phase"
    return out


def compare_to_real(synthetic: Windows, real: Windows | pd.DataFrame | None = None, *,
                    ratio_tolerance: float = RATIO_TOLERANCE,
                    centroid_tolerance_hz: float = CENTROID_TOLERANCE_HZ) -> pd.DataFrame:
    """Compare the class medians of synthetic windows with those of real ones.

    Parameters
    ----------
    synthetic : Windows
        Labelled windows to judge.
    real : Windows or DataFrame, optional
        Real windows, or their :func:`class_medians`; defaults to :data:`REAL_MEDIANS`.
    ratio_tolerance, centroid_tolerance_hz : float
        ``hv`` and ``after_before`` must lie within a factor ``ratio_tolerance`` of the real
        value, ``centroid_hz`` within ``centroid_tolerance_hz`` Hz.

    Returns
    -------
    DataFrame
        One row per (phase, statistic): ``synthetic``, ``real``, ``ratio`` (synthetic / real),
        ``difference`` (synthetic - real), ``tolerance`` (text) and ``within_tolerance`` (bool).
    """
    syn = class_medians(synthetic)
    ref = REAL_MEDIANS if real is None else real if isinstance(real, pd.DataFrame) else class_medians(real)
    rows = []
    for phase in [p for p in PHASES if p in syn.index and p in ref.index]:
        for stat in STATISTICS:
            s, r = float(syn.loc[phase, stat]), float(ref.loc[phase, stat])
            if stat == "centroid_hz":
                ok, tol = abs(s - r) <= centroid_tolerance_hz, f"±{centroid_tolerance_hz:g} Hz"
            else:
                ok, tol = (r / ratio_tolerance <= s <= r * ratio_tolerance), f"×/÷{ratio_tolerance:g}"
            rows.append({"phase": phase, "statistic": stat, "synthetic": s, "real": r,
                         "ratio": s / r if r else np.nan, "difference": s - r,
                         "tolerance": tol, "within_tolerance": bool(ok)})
    return pd.DataFrame(rows)


def format_comparison(df: pd.DataFrame) -> str:
    """A printable table of :func:`compare_to_real`'s result, one line per (phase, statistic)."""
    lines = [f"{'phase':<6}{'statistic':<14}{'synthetic':>10}{'real':>9}{'ratio':>8}"
             f"{'diff':>8}  {'tolerance':<10}ok"]
    for row in df.itertuples(index=False):
        lines.append(f"{row.phase:<6}{row.statistic:<14}{row.synthetic:>10.2f}{row.real:>9.2f}"
                     f"{row.ratio:>8.2f}{row.difference:>8.2f}  {row.tolerance:<10}"
                     f"{'yes' if row.within_tolerance else 'NO'}")
    n_ok = int(df["within_tolerance"].sum()) if len(df) else 0
    lines.append(f"{n_ok} of {len(df)} statistics within tolerance")
    return "\n".join(lines)


def median_spectra(windows: Windows, *, normalize: bool = True):
    """Class-wise median amplitude spectra of whole windows, per channel (3-component windows).

    Parameters
    ----------
    windows : Windows
        Labelled windows with Z, N, E channels, ``(n_windows, 3, n_samples)``.
    normalize : bool
        Divide each window by its RMS over all channels first, so gains do not matter.

    Returns
    -------
    freqs : ndarray, shape (n_freqs,)
        ``rfftfreq(n_samples)`` in Hz.
    spectra : dict
        Phase name → ndarray ``(3, n_freqs)``, channels in Z, N, E order; phases without
        3-component windows are left out.
    """
    x = _zne(windows)
    keep = _three_component(x)
    if normalize:
        rms = np.sqrt((x**2).mean((1, 2), keepdims=True))
        x = x / np.where(rms > 0, rms, 1.0)
    amp = np.abs(np.fft.rfft(x, axis=-1))
    freqs = np.fft.rfftfreq(x.shape[-1], 1.0 / windows.sampling_rate)
    spectra = {p: np.median(amp[keep & (windows.labels == k)], axis=0)
               for k, p in enumerate(PHASES) if np.any(keep & (windows.labels == k))}
    return freqs, spectra


def median_envelopes(windows: Windows, *, smooth_s: float = 0.1):
    """Class-wise median envelopes over time, each window normalised by its first 1.5 s.

    The envelope is the moving RMS (over ``smooth_s`` seconds) of the three-component amplitude
    ``sqrt(Z**2 + N**2 + E**2)``; dividing by its level before 1.5 s makes the jump at the pick
    comparable between windows of any gain (the median P envelope then rises to ~13).

    Returns
    -------
    times : ndarray, shape (n_samples,)
        Seconds from the window start.
    envelopes : dict
        Phase name → ndarray ``(n_samples,)``.
    """
    x = _zne(windows)
    keep = _three_component(x)
    power = uniform_filter1d((x**2).sum(1), size=max(1, int(round(smooth_s * windows.sampling_rate))),
                             axis=-1, mode="nearest")
    env = np.sqrt(power)
    ref = np.sqrt(power[:, : int(round(_BEFORE_TO_S * windows.sampling_rate))].mean(-1, keepdims=True))
    env = env / np.where(ref > 0, ref, 1.0)
    times = np.arange(x.shape[-1]) / windows.sampling_rate
    envelopes = {p: np.median(env[keep & (windows.labels == k)], axis=0)
                 for k, p in enumerate(PHASES) if np.any(keep & (windows.labels == k))}
    return times, envelopes
