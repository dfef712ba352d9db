"""The physical model behind the synthetic data, shared by both generators.

:class:`SyntheticConfig` holds every physical parameter (source, path, amplitudes, envelopes,
background noise, defects). The helpers draw what both
:func:`~seisphase.data.synthetic.make_synthetic` (400-sample windows) and
:func:`~seisphase.data.continuous_synthetic.make_continuous` (long records) are built from:
per-station parameters and noise spectra, per-record source / path / envelope parameters (one
event seen at one station), the low-pass and white spectra, P and S polarisation, and the
direct-wave and coda envelopes with their expected RMS. The model itself is described in
:mod:`seisphase.data.synthetic`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from seisphase.data.windows import SAMPLING_RATE
from seisphase.errors import ConfigError

_NFFT = 512          # generate 512 samples and keep 400, so windows are not periodic
_VS_OVER_VP = 1 / np.sqrt(3.0)
_WHITE_POWER = 2 * (255**2 - 1) / 12  # E|W|^2 of one white spectral value


@dataclass(frozen=True)
class SyntheticConfig:
    """Every physical parameter of the synthetic data (JSON types; defaults only here).

    Read by :func:`~seisphase.data.synthetic.make_synthetic` and
    :func:`~seisphase.data.continuous_synthetic.make_continuous`.
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
