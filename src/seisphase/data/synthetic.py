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
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import fft as sfft

from seisphase.data.windows import CANONICAL_COMPONENTS, SAMPLING_RATE, WINDOW_SAMPLES, Windows
from seisphase.errors import ConfigError

_NFFT = 512          # generate 512 samples and keep 400, so windows are not periodic
_BATCH = 2048        # windows per batch: arrays stay in cache, memory stays proportional to n
_PICK_LO, _PICK_HI = 150, 249
_VS_OVER_VP = 1 / np.sqrt(3.0)
_WHITE_POWER = 2 * (255**2 - 1) / 12  # E|W|^2 of one white spectral value
_ARTIFACTS = ("", "spike", "step", "clip", "dead")


@dataclass(frozen=True)
class SyntheticConfig:
    """Every physical parameter of :func:`make_synthetic` (JSON types; defaults only here).

    ``*_sigma`` values are standard deviations of the natural log unless named ``log10``.
    """

    # source and event
    magnitude_min: float = 0.5
    magnitude_max: float = 4.5
    b_value: float = 1.0                    # Gutenberg-Richter
    stress_drop_mpa: float = 3.0            # Brune corner frequency
    shear_velocity_km_s: float = 3.5
    p_corner_factor: float = 1.5            # fc_P = factor * fc_S
    stations_per_event: float = 2.0         # mean records per event
    n_stations: int = 200
    # path
    distance_median_km: float = 14.0        # hypocentral, log-normal
    distance_sigma: float = 0.9
    distance_min_km: float = 2.0
    distance_max_km: float = 150.0
    sp_velocity_km_s: float = 8.0           # S-P time = distance / this
    sp_sigma: float = 0.1
    kappa_s: float = 0.03                   # site t* of S (s)
    kappa_sigma: float = 0.6
    q_s: float = 400.0                      # path Q of S: t*_S = kappa + distance / (vs Q)
    p_tstar_factor: float = 0.55            # t*_P = factor * t*_S
    accelerometer_fraction: float = 0.25    # stations recording acceleration (spectrum * f)
    lowpass_hz: float = 38.0                # anti-alias filter (8-pole Butterworth amplitude)
    incidence_min_deg: float = 25.0
    incidence_max_deg: float = 55.0
    # amplitudes
    snr_median: float = 10.5                # P: RMS(1 s after pick) / RMS(noise), all channels
    snr_log10_sigma_low: float = 0.6        # split log-normal: spread below the median ...
    snr_log10_sigma_high: float = 0.95      # ... and above it
    snr_min: float = 0.3
    snr_max: float = 3000.0
    s_to_p_median: float = 2.4              # S / P, RMS over each one's first second
    s_to_p_sigma: float = 0.7
    gain_log10_min: float = -0.3            # noise RMS in counts, per station
    gain_log10_max: float = 2.7
    gain_log10_sigma: float = 0.2           # per record
    quantize: bool = True                   # integer counts before demeaning
    # envelopes (times in s; each drawn log-normal with envelope_sigma)
    p_velocity_km_s: float = 6.0            # P travel time = distance / this; S adds S-P
    p_rise_s: float = 0.05                  # rise time of the onset
    s_rise_s: float = 0.1
    direct_base_s: float = 0.1              # decay time of the direct pulse: base ...
    direct_per_travel: float = 0.15         # ... + this * travel time (scattering broadens it)
    p_coda_level: float = 1.0               # coda amplitude relative to the direct wave
    s_coda_level: float = 0.5
    coda_exponent: float = 1.0              # coda ~ (lapse / travel time)**-exponent ...
    coda_decay_s: float = 0.5               # ... * exp(-time after onset / decay), decay = this
    coda_decay_per_travel: float = 1.0      # ... + this * travel time (longer codas far away)
    p_coda_hv_start: float = 1.0            # horizontal / vertical amplitude of the P coda ...
    p_coda_hv: float = 2.0                  # ... growing to this (P-to-S scattering)
    p_coda_conversion_s: float = 0.5        # ... over this time
    s_coda_hv: float = 1.5
    envelope_sigma: float = 0.3
    # background noise
    noise_hv: float = 1.0                   # horizontal / vertical noise amplitude
    noise_hv_sigma: float = 0.7
    noise_drift_sigma: float = 0.25         # change of log noise amplitude across a window
    noise_slope_min: float = 1.0            # power ~ f**-slope above 0.5 Hz
    noise_slope_max: float = 2.5
    noise_floor: float = 0.1                # white instrument noise, relative to 1 Hz
    cultural_weight: float = 0.5            # peak of the cultural bump, relative to 1 Hz
    cultural_min_hz: float = 1.0
    cultural_max_hz: float = 10.0
    microseism_ratio: float = 0.3           # microseism / broadband noise amplitude, median
    microseism_sigma: float = 2.0
    microseism_min_hz: float = 0.1
    microseism_max_hz: float = 0.3
    weak_signal_fraction: float = 0.1       # noise windows holding a weak unrelated arrival
    weak_snr_min: float = 0.3
    weak_snr_max: float = 1.5
    # defects (fractions of windows, vertical-only: of stations)
    spike_fraction: float = 0.02
    step_fraction: float = 0.015
    clip_fraction: float = 0.015
    dead_channel_fraction: float = 0.015
    vertical_only_fraction: float = 0.03

    def __post_init__(self):
        fractions = ("accelerometer_fraction", "weak_signal_fraction", "spike_fraction",
                     "step_fraction", "clip_fraction", "dead_channel_fraction",
                     "vertical_only_fraction")
        for name in fractions:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"SyntheticConfig.{name} must lie in [0, 1], got {getattr(self, name)}")
        if self.spike_fraction + self.step_fraction + self.clip_fraction + self.dead_channel_fraction > 1:
            raise ConfigError("SyntheticConfig: spike, step, clip and dead-channel fractions add up to more than 1")
        for lo, hi in (("magnitude_min", "magnitude_max"), ("snr_min", "snr_max"),
                       ("distance_min_km", "distance_max_km"), ("weak_snr_min", "weak_snr_max"),
                       ("gain_log10_min", "gain_log10_max")):
            if getattr(self, lo) > getattr(self, hi):
                raise ConfigError(f"SyntheticConfig.{lo} must not exceed {hi}")
        if self.n_stations < 1 or self.stations_per_event < 1:
            raise ConfigError("SyntheticConfig needs n_stations >= 1 and stations_per_event >= 1")

    @classmethod
    def from_dict(cls, values: dict) -> SyntheticConfig:
        """Build from a (JSON) dict; unknown keys raise :class:`ConfigError` naming the valid ones."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"unknown SyntheticConfig field(s) {unknown}; valid: {sorted(names)}")
        return cls(**values)


def _lognormal(rng, median, sigma, size):
    return median * np.exp(sigma * rng.standard_normal(size))


def _class_counts(n: int, fractions) -> np.ndarray:
    frac = np.asarray(fractions, dtype=np.float64)
    if frac.shape != (3,) or np.any(frac < 0) or frac.sum() <= 0:
        raise ConfigError(f"class_fractions must be three non-negative numbers (P, S, noise), got {fractions!r}")
    frac = frac / frac.sum()
    counts = np.floor(frac * n).astype(np.int64)
    rest = np.argsort(-(frac * n - counts), kind="stable")[: n - counts.sum()]
    counts[rest] += 1
    return counts


def _draw_stations(rng, cfg: SyntheticConfig) -> dict:
    k = cfg.n_stations
    return {
        "gain_log10": rng.uniform(cfg.gain_log10_min, cfg.gain_log10_max, k),
        "accel": rng.random(k) < cfg.accelerometer_fraction,
        "vertical_only": rng.random(k) < cfg.vertical_only_fraction,
        "slope": rng.uniform(cfg.noise_slope_min, cfg.noise_slope_max, k),
        "cultural_hz": np.exp(rng.uniform(np.log(cfg.cultural_min_hz), np.log(cfg.cultural_max_hz), k)),
        "cultural_w": cfg.cultural_weight * rng.exponential(1.0, k),
        "floor": cfg.noise_floor * rng.exponential(1.0, k),
        "micro": _lognormal(rng, cfg.microseism_ratio, cfg.microseism_sigma, k),
        "hv": _lognormal(rng, cfg.noise_hv, cfg.noise_hv_sigma, (k, 2)),
    }


def _noise_shapes(st: dict, cfg: SyntheticConfig, f: np.ndarray) -> np.ndarray:
    """Amplitude spectra (n_stations, n_freq) of the broadband station noise (unit variance)."""
    ff = np.maximum(f, 1e-3)[None, :]
    power = (ff**2 + 0.25) ** (-st["slope"][:, None] / 2) + st["floor"][:, None]
    power = power + st["cultural_w"][:, None] * np.exp(
        -0.5 * (np.log10(ff / st["cultural_hz"][:, None]) / 0.25) ** 2)
    power = power * np.where(st["accel"][:, None], (ff / 10.0) ** 2, 1.0)
    return _unit_variance(np.sqrt(power) * _lowpass(f, cfg)[None, :])


def _lowpass(f, cfg):
    h = 1.0 / np.sqrt(1.0 + (f / cfg.lowpass_hz) ** 16)
    h[0] = 0.0
    return h


def _white(rng, n: int, n_freq: int) -> np.ndarray:
    """White spectra (n, 3, n_freq) complex64: real and imaginary parts uniform integers in ±127.

    Cheaper than Gaussian draws; the inverse FFT sums hundreds of them, so traces are Gaussian.
    """
    return rng.integers(-127, 128, (n, 3, 2 * n_freq), dtype=np.int8).astype(np.float32).view(np.complex64)


def _unit_variance(h: np.ndarray) -> np.ndarray:
    """Scale amplitude spectra so that ``irfft(H * _white(...))`` has unit variance."""
    weight = np.full(h.shape[-1], 2.0)
    weight[0] = weight[-1] = 1.0
    total = (h**2 * weight).sum(-1, keepdims=True) * _WHITE_POWER
    return (h * np.sqrt(_NFFT**2 / np.maximum(total, 1e-30))).astype(np.float32)


def _draw_records(rng, n_rec: int, cfg: SyntheticConfig) -> dict:
    """Event-station parameters, one row per record (a sequence of records forms one event)."""
    sizes = 1 + rng.poisson(cfg.stations_per_event - 1.0, n_rec)
    event = np.repeat(np.arange(n_rec), sizes)[:n_rec]
    first = np.searchsorted(event, event)                  # index of the event's first record
    base = rng.integers(0, cfg.n_stations, n_rec)[event]
    station = (base + np.arange(n_rec) - first) % cfg.n_stations  # distinct within an event
    span = 1.0 - 10.0 ** (-cfg.b_value * (cfg.magnitude_max - cfg.magnitude_min))
    mag = (cfg.magnitude_min - np.log10(1.0 - rng.random(n_rec) * span) / cfg.b_value)[event]
    dist = np.clip(_lognormal(rng, cfg.distance_median_km, cfg.distance_sigma, n_rec),
                   cfg.distance_min_km, cfg.distance_max_km)
    moment = 10.0 ** (1.5 * mag + 9.1)                      # N m
    fc_s = 0.37 * cfg.shear_velocity_km_s * 1e3 * (16 * cfg.stress_drop_mpa * 1e6 / (7 * moment)) ** (1 / 3)
    tstar_s = (_lognormal(rng, cfg.kappa_s, cfg.kappa_sigma, n_rec)
               + dist / (cfg.shear_velocity_km_s * cfg.q_s))
    sp = dist / cfg.sp_velocity_km_s * _lognormal(rng, 1.0, cfg.sp_sigma, n_rec)
    env = {}
    for ph in ("p", "s"):
        travel = dist / cfg.p_velocity_km_s + (sp if ph == "s" else 0.0)
        env[f"{ph}_travel"] = travel
        env[f"{ph}_rise"] = _lognormal(rng, getattr(cfg, f"{ph}_rise_s"), cfg.envelope_sigma, n_rec)
        env[f"{ph}_direct"] = (cfg.direct_base_s + cfg.direct_per_travel * travel) * _lognormal(
            rng, 1.0, cfg.envelope_sigma, n_rec)
        env[f"{ph}_level"] = _lognormal(rng, getattr(cfg, f"{ph}_coda_level"), cfg.envelope_sigma, n_rec)
        env[f"{ph}_decay"] = (cfg.coda_decay_s + cfg.coda_decay_per_travel * travel) * _lognormal(
            rng, 1.0, cfg.envelope_sigma, n_rec)
    z = rng.standard_normal(n_rec)
    z *= np.where(z < 0, cfg.snr_log10_sigma_low, cfg.snr_log10_sigma_high)
    snr = np.clip(cfg.snr_median * 10.0**z, cfg.snr_min, cfg.snr_max)
    return dict(
        event=event, station=station, magnitude=mag, distance=dist, sp=sp,
        fc_s=fc_s, fc_p=fc_s * cfg.p_corner_factor, tstar_s=tstar_s,
        tstar_p=tstar_s * cfg.p_tstar_factor, snr_p=snr,
        s_to_p=_lognormal(rng, cfg.s_to_p_median, cfg.s_to_p_sigma, n_rec),
        incidence=np.deg2rad(rng.uniform(cfg.incidence_min_deg, cfg.incidence_max_deg, n_rec)),
        baz=rng.uniform(0, 2 * np.pi, n_rec), psi=rng.uniform(0, 2 * np.pi, n_rec),
        gain_jitter=cfg.gain_log10_sigma * rng.standard_normal(n_rec), **env,
    )


def _polarisation(rec: dict, idx, phase: str) -> np.ndarray:
    """Direct-wave mixing matrices (n, 3 channels ZNE, 3 random fields)."""
    i, b = rec["incidence"][idx], rec["baz"][idx]
    mix = np.zeros((len(idx), 3, 3))
    if phase == "p":   # along the ray: steep incidence puts P on the vertical
        mix[:, :, 0] = np.stack([np.cos(i), np.sin(i) * np.cos(b), np.sin(i) * np.sin(b)], 1)
    else:              # SV and SH, perpendicular to the ray: mostly horizontal
        i = np.arcsin(np.sin(i) * _VS_OVER_VP)             # Snell: S rays are steeper than P
        c, s = np.cos(rec["psi"][idx])[:, None], np.sin(rec["psi"][idx])[:, None]
        mix[:, :, 1] = c * np.stack([-np.sin(i), np.cos(i) * np.cos(b), np.cos(i) * np.sin(b)], 1)
        mix[:, :, 2] = s * np.stack([np.zeros_like(b), -np.sin(b), np.cos(b)], 1)
    return mix


def _coda_weights(cfg: SyntheticConfig, phase: str, s):
    """Vertical and horizontal coda weights at times ``s`` after onset (``wz**2 + 2 wh**2 = 1``).

    The P coda turns horizontal as P-to-S scattered energy builds up; the S coda keeps its ratio.
    """
    if phase == "p":
        hv = cfg.p_coda_hv - (cfg.p_coda_hv - cfg.p_coda_hv_start) * np.exp(-np.maximum(s, 0) / cfg.p_coda_conversion_s)
    else:
        hv = np.full_like(s, cfg.s_coda_hv)
    wz = 1.0 / np.sqrt(1.0 + 2 * hv**2)
    return wz, hv * wz


def _envelopes(s, exponent, rise, direct, level, travel, decay):
    """Direct and coda envelopes (n, n_t) at times ``s`` (s) after the onset; zero before it.

    The coda decays with lapse time since the origin, ``((travel + s) / travel)**-exponent``
    (so it is short near the source and long far away) and by ``exp(-s / decay)``.
    """
    sp = np.maximum(s, 0)
    up = -np.expm1(-sp / rise[:, None])
    if exponent == 1:   # the default: a division instead of log1p and exp
        coda = np.exp(-sp / decay[:, None]) / (1 + sp / travel[:, None])
    else:
        coda = np.exp(-exponent * np.log1p(sp / travel[:, None]) - sp / decay[:, None])
    return up * np.exp(-sp / direct[:, None]), (level[:, None] * up) * coda


def _env_params(rec, idx, phase, dtype=np.float64):
    return tuple(rec[f"{phase}_{k}"][idx].astype(dtype)
                 for k in ("rise", "direct", "level", "travel", "decay"))


def _unit_rms(cfg, rec: dict, idx, phase: str, mix):
    """Expected RMS (all channels) of the unit-amplitude phase over its first second."""
    s = (np.arange(int(SAMPLING_RATE)) / SAMPLING_RATE)[None, :]
    ed, ec = _envelopes(s, cfg.coda_exponent, *_env_params(rec, idx, phase))
    wz, wh = _coda_weights(cfg, phase, s)
    # channel c = sum_k mix[c, k] ed g_k + w_c ec g_c, with independent unit-variance g_k
    diag = np.einsum("ncc->nc", mix)
    cross = diag[:, :1] * wz + (diag[:, 1] + diag[:, 2])[:, None] * wh
    power = (ed**2).mean(1) * (mix**2).sum((1, 2)) + (2 * ed * ec * cross + ec**2).mean(1)
    return np.sqrt(power / 3.0)


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
