"""Realistic synthetic 3-component P / S / noise windows: the package's embedded default data.

Each *record* is one event seen at one station. It gives (by default) one P window, one S window and
one pre-event noise window, all sharing ``event_id`` and ``station_id``, so grouped splits work as
on real data. Every arrival is enveloped, coloured Gaussian noise (the stochastic method):

* source: Brune ω² velocity spectrum, corner frequency from magnitude and stress drop (P corner
  higher than S); path: attenuation ``exp(-π f t*)`` (t* of S larger), anti-alias low-pass;
* P: rectilinear along a steep ray (mostly vertical); S: larger (RMS over its first second
  ~2.4× with a wide spread), SV/SH on a steeper ray (mostly horizontal), after P by the S–P time
  ``distance / 8 km/s``; both followed by a scattering coda that decays with lapse time (short
  near the source, long far away; the P coda turns horizontal by P-to-S scattering), so S windows
  hold the P coda and short S–P puts the S arrival inside P windows;
* background: coloured noise (microseism 0.1–0.3 Hz, cultural 1–10 Hz bump, red spectrum, white
  floor), SNR over a wide range with a hard low tail, per-station gain (counts over orders of
  magnitude), integer counts, a few spikes, steps, clipped and dead channels, vertical-only
  stations (E = N = 0); noise windows sometimes hold a weak unrelated arrival.

Signals are built in the frequency domain, in batches, with no Python loop over windows. The
defaults reproduce the class medians of the real windows in ``tests/data/real_dev.npz`` (see
:mod:`seisphase.data.realism`).

This module owns the windowed generator :func:`make_synthetic` (class counts, P / S / noise
signals cut to 400 samples, defects, metadata). The physical model it shares with
:mod:`seisphase.data.continuous_synthetic` — :class:`SyntheticConfig` and the draws of stations,
records, spectra, polarisation and envelopes — lives in :mod:`seisphase.data.synthetic_physics`;
``SyntheticConfig`` and those helpers stay importable from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import fft as sfft

from seisphase.data.synthetic_physics import (
    _NFFT,
    SyntheticConfig,
    _coda_weights,
    _draw_records,
    _draw_stations,
    _env_params,
    _envelopes,
    _lowpass,
    _noise_shapes,
    _polarisation,
    _unit_rms,
    _unit_variance,
    _white,
)
from seisphase.data.windows import CANONICAL_COMPONENTS, SAMPLING_RATE, WINDOW_SAMPLES, Windows
from seisphase.errors import ConfigError

_BATCH = 2048        # windows per batch: arrays stay in cache, memory stays proportional to n
_PICK_LO, _PICK_HI = 150, 249
_ARTIFACTS = ("", "spike", "step", "clip", "dead")


def _class_counts(n: int, fractions) -> np.ndarray:
    frac = np.asarray(fractions, dtype=np.float64)
    if frac.shape != (3,) or np.any(frac < 0) or frac.sum() <= 0:
        raise ConfigError(f"class_fractions must be three non-negative numbers (P, S, noise), got {fractions!r}")
    frac = frac / frac.sum()
    counts = np.floor(frac * n).astype(np.int64)
    rest = np.argsort(-(frac * n - counts), kind="stable")[: n - counts.sum()]
    counts[rest] += 1
    return counts


def _phase_signal(rng, cfg, rec, idx, onset, amp, phase, accel, f):
    """One phase (n, 3, 400): onsets in samples, amplitudes as RMS over its first second."""
    n = len(idx)
    fc, tstar = rec[f"fc_{phase}"][idx][:, None], rec[f"tstar_{phase}"][idx][:, None]
    shape = f / (1.0 + (f / fc) ** 2) * np.exp(-np.pi * f * tstar) * _lowpass(f, cfg)
    shape *= np.where(accel[:, None], f / 10.0, 1.0)      # accelerometers: one more factor f
    g = sfft.irfft(_white(rng, n, f.size) * _unit_variance(shape)[:, None, :], n=_NFFT, axis=-1)[..., :WINDOW_SAMPLES]
    s = ((np.arange(WINDOW_SAMPLES)[None, :] - onset[:, None]) / SAMPLING_RATE).astype(np.float32)
    ed, ec = _envelopes(s, np.float32(cfg.coda_exponent), *_env_params(rec, idx, phase, np.float32))
    mix = _polarisation(rec, idx, phase)
    scale = amp / _unit_rms(cfg, rec, idx, phase, mix)
    mix = (mix * scale[:, None, None]).astype(np.float32)
    ec *= scale.astype(np.float32)[:, None]
    wz, wh = _coda_weights(cfg, phase, s)
    fields = (0,) if phase == "p" else (1, 2)
    direct = sum(mix[:, :, k, None] * g[:, None, k] for k in fields)
    direct *= ed[:, None, :]
    g[:, 0] *= wz * ec
    g[:, 1:] *= (wh * ec)[:, None, :]
    return direct + g


def _noise(rng, st, station, shapes, micro_hz, micro_phase, drift, f):
    """Background noise (n, 3, 400) with unit expected RMS over all channels."""
    n = len(station)
    ratio = st["micro"][station]
    broad = 1.0 / np.sqrt(1.0 + ratio**2 / 2)              # broad**2 + (ratio * broad)**2 / 2 = 1
    chan = np.concatenate([np.ones((n, 1)), st["hv"][station]], 1)
    chan /= np.sqrt((chan**2).mean(1, keepdims=True))
    shape = shapes[station][:, None, :] * (chan * broad[:, None]).astype(np.float32)[:, :, None]
    x = sfft.irfft(_white(rng, n, f.size) * shape, n=_NFFT, axis=-1)[..., :WINDOW_SAMPLES]
    u = np.arange(WINDOW_SAMPLES, dtype=np.float32) / WINDOW_SAMPLES - 0.5
    trend = np.exp(drift.astype(np.float32)[:, None] * u)  # slowly rising or falling noise level
    trend /= np.sqrt((trend**2).mean(1, keepdims=True))
    x *= trend[:, None, :]
    # microseism: one sinusoid per window, its own phase on each channel
    arg = (2 * np.pi * micro_hz).astype(np.float32)[:, None] * (u + 0.5) * np.float32(WINDOW_SAMPLES / SAMPLING_RATE)
    amp = chan * (ratio * broad)[:, None]
    x += (amp * np.cos(micro_phase)).astype(np.float32)[:, :, None] * np.cos(arg)[:, None, :]
    x -= (amp * np.sin(micro_phase)).astype(np.float32)[:, :, None] * np.sin(arg)[:, None, :]
    return x


def _apply_defects(x, code, channel, position, size):
    """Spikes, steps, clipping and dead channels, in place, on a batch (n, 3, 400) in counts."""
    rows = np.flatnonzero(code == 1)
    if rows.size:
        ch = channel[rows]
        rms = np.sqrt((x[rows, ch] ** 2).mean(-1))
        x[rows, ch, position[rows]] += (size[rows] * 10 * rms).astype(np.float32)
    rows = np.flatnonzero(code == 2)
    if rows.size:
        ch = channel[rows]
        rms = np.sqrt((x[rows, ch] ** 2).mean(-1))
        after = np.arange(WINDOW_SAMPLES)[None, :] >= position[rows, None]
        x[rows, ch] += ((size[rows] * 3 * rms)[:, None] * after).astype(np.float32)
    rows = np.flatnonzero(code == 3)
    if rows.size:   # the digitiser saturates at a fraction of the window's peak
        level = np.abs(x[rows]).max((1, 2)) * (0.2 + 0.5 * np.abs(size[rows]) / 10)
        x[rows] = np.clip(x[rows], -level[:, None, None], level[:, None, None])
    rows = np.flatnonzero(code == 4)
    if rows.size:
        x[rows, channel[rows]] = 0.0


def make_synthetic(n: int, seed: int = 0, config: SyntheticConfig | None = None, *,
                   class_fractions=(1 / 3, 1 / 3, 1 / 3)) -> Windows:
    """Generate labelled synthetic P / S / noise windows that look like real ones.

    Parameters
    ----------
    n : int
        Number of windows.
    seed : int
        Seed; the same seed (and config) gives bitwise identical output.
    config : SyntheticConfig, optional
        Physical parameters; the defaults match the real windows in ``tests/data``.
    class_fractions : sequence of 3 floats
        Relative numbers of P, S and noise windows.

    Returns
    -------
    Windows
        ``waveforms`` float32 ``(n, 3, 400)`` in counts, components ``"ZNE"``, 100 Hz, demeaned
        per channel; ``labels`` int64 ``(n,)`` (0 = P, 1 = S, 2 = noise); ``metadata`` with
        ``event_id``, ``station_id``, ``pick_sample`` (-1 for noise), ``snr`` (NaN for noise),
        ``magnitude``, ``distance_km``, ``sp_seconds``, ``vertical_only``,
        ``other_pick_in_window`` (S inside a P window, P inside an S window) and ``artifact``
        (``""``, ``"spike"``, ``"step"``, ``"clip"`` or ``"dead"``).

    Examples
    --------
    >>> w = make_synthetic(30, seed=1)
    >>> w.waveforms.shape, w.class_counts()
    ((30, 3, 400), {'P': 10, 'S': 10, 'N': 10})
    """
    cfg = SyntheticConfig() if config is None else config
    if not isinstance(cfg, SyntheticConfig):
        raise ConfigError(f"config must be a SyntheticConfig, got {type(cfg).__name__}")
    if int(n) != n or n < 1:
        raise ConfigError(f"n must be a positive number of windows, got {n!r}")
    n = int(n)
    rng = np.random.default_rng(seed)
    counts = _class_counts(n, class_fractions)
    st = _draw_stations(rng, cfg)
    rec = _draw_records(rng, int(counts.max()), cfg)
    order = rng.permutation(n)
    labels = np.repeat(np.arange(3), counts)[order]
    win_rec = np.concatenate([np.arange(c) for c in counts])[order]   # record r gives P, S, noise

    # Where the record's P and S lie in each window, and how strong they are.
    pick = rng.integers(_PICK_LO, _PICK_HI + 1, n)
    sp = rec["sp"][win_rec] * SAMPLING_RATE
    snr_p = rec["snr_p"][win_rec]
    s_to_p = rec["s_to_p"][win_rec]
    weak = rng.random(n) < cfg.weak_signal_fraction
    weak_snr = np.exp(rng.uniform(np.log(cfg.weak_snr_min), np.log(cfg.weak_snr_max), n))
    noise_onset = rng.uniform(-2 * SAMPLING_RATE, WINDOW_SAMPLES, n)
    is_noise = labels == 2
    onset_p = np.where(labels == 0, pick, np.where(labels == 1, pick - sp, noise_onset))
    # a weak unrelated event in some noise windows: its larger phase (S) has SNR weak_snr
    amp_p = np.where(is_noise, np.where(weak, weak_snr / s_to_p, 0.0), snr_p)
    onset_s, amp_s = onset_p + sp, amp_p * s_to_p

    station = rec["station"][win_rec]
    accel = st["accel"][station]
    vertical_only = st["vertical_only"][station]
    gain = (10.0 ** (st["gain_log10"][station] + rec["gain_jitter"][win_rec])).astype(np.float32)
    cut = np.cumsum([cfg.spike_fraction, cfg.step_fraction, cfg.clip_fraction, cfg.dead_channel_fraction])
    code = np.searchsorted(cut, rng.random(n), side="right")
    code = np.where(code == 4, 0, code + 1)                 # 0 = none, 1..4 = spike..dead
    channel = np.where(vertical_only, 0, rng.integers(0, 3, n))
    code[(code == 4) & vertical_only] = 0                   # never a window of zeros
    position = rng.integers(0, WINDOW_SAMPLES, n)
    size = rng.choice([-1.0, 1.0], n) * rng.uniform(1.0, 10.0, n)
    micro_hz = rng.uniform(cfg.microseism_min_hz, cfg.microseism_max_hz, n)
    micro_phase = rng.uniform(0, 2 * np.pi, (n, 3))
    drift = cfg.noise_drift_sigma * rng.standard_normal(n)

    f = np.fft.rfftfreq(_NFFT, 1.0 / SAMPLING_RATE)
    shapes = _noise_shapes(st, cfg, f)
    out = np.empty((n, 3, WINDOW_SAMPLES), dtype=np.float32)
    for start in range(0, n, _BATCH):
        b = slice(start, min(n, start + _BATCH))
        x = _noise(rng, st, station[b], shapes, micro_hz[b], micro_phase[b], drift[b], f)
        for phase, onset, amp in (("p", onset_p[b], amp_p[b]), ("s", onset_s[b], amp_s[b])):
            need = np.flatnonzero((amp > 0) & (onset < WINDOW_SAMPLES))
            if need.size:
                x[need] += _phase_signal(rng, cfg, rec, win_rec[b][need], onset[need], amp[need],
                                         phase, accel[b][need], f)
        x *= gain[b, None, None]
        _apply_defects(x, code[b], channel[b], position[b], size[b])
        if cfg.quantize:
            np.rint(x, out=x)
        x[vertical_only[b], 1:] = 0.0
        np.subtract(x, x.mean(-1, keepdims=True), out=out[b])

    width = max(3, len(str(cfg.n_stations - 1)))
    names = np.array([f"SY.S{k:0{width}d}" for k in range(cfg.n_stations)])
    meta = pd.DataFrame({
        "event_id": rec["event"][win_rec],
        "station_id": names[station],
        "pick_sample": np.where(is_noise, -1, pick).astype(np.int64),
        "snr": np.where(labels == 0, snr_p, np.where(labels == 1, snr_p * s_to_p, np.nan)),
        "magnitude": rec["magnitude"][win_rec],
        "distance_km": rec["distance"][win_rec],
        "sp_seconds": rec["sp"][win_rec],
        "vertical_only": vertical_only,
        "other_pick_in_window": ((labels == 0) & (onset_s < WINDOW_SAMPLES)) | ((labels == 1) & (onset_p >= 0)),
        "artifact": np.array(_ARTIFACTS)[code],
    })
    return Windows(out, labels.astype(np.int64), SAMPLING_RATE, CANONICAL_COMPONENTS, meta)
