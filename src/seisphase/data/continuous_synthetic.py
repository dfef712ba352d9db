"""Synthetic *continuous* 3-component records with known P and S arrival times.

:func:`make_continuous` builds long traces (tens of seconds to hours) for training and testing
pickers that scan continuous data. It reuses the physics of :mod:`seisphase.data.synthetic`
(the draws of :mod:`seisphase.data.synthetic_physics`: Brune source spectrum, attenuation
``t*``, P/S polarisation, scattering coda that decays with lapse time, station noise spectra,
gains) but draws every piece at the trace's full length, so codas run on after the event, several events can share a trace and the noise between them is
long, coloured and slowly varying. Per trace:

* background: the station's coloured noise spectrum (red slope, cultural bump, white floor),
  a narrow-band microseism, and a slow drift of the noise level (x0.6 ... x1.6 over minutes);
* events: a Poisson number (``events_per_trace`` on average); each has a P and an S arrival
  (S − P from the distance) with SNR, S/P ratio, corner frequencies and coda as in
  :func:`~seisphase.data.synthetic.make_synthetic`; events may start before the trace (only
  their coda is seen) or run past its end;
* defects: vertical-only stations (E = N = 0), constant padding at the start or end of a trace
  (as in the real records' gap fill), spikes and steps;
* counts: per-station gain over orders of magnitude, integer counts, per-channel mean removed.

Data only: numpy (and obspy, imported lazily, for ``as_stream=True``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import fft as sfft

from seisphase.data import synthetic_physics as _phys
from seisphase.data.synthetic_physics import SyntheticConfig
from seisphase.data.windows import SAMPLING_RATE
from seisphase.errors import ConfigError

T0 = "2024-01-01T00:00:00"
"""Start time of every trace of :func:`make_continuous` (stations are named by trace)."""

EVALUATION_EVENTS_PER_HOUR = 45.0
"""Event rate of the held-out records the picker is scored on (demo and benchmark):
``events_per_trace = duration_s * EVALUATION_EVENTS_PER_HOUR / 3600``."""

PICK_COLUMNS = ("trace", "network", "station", "phase", "sample", "time", "event_id",
                "source_station", "snr", "magnitude", "distance_km", "sp_seconds",
                "vertical_only")


def _coloured(rng, shape_amp: np.ndarray, n: int, n_channels: int = 3) -> np.ndarray:
    """Gaussian noise (n_channels, n) with amplitude spectrum ``shape_amp``, unit variance per channel."""
    nf = shape_amp.size
    white = rng.standard_normal((n_channels, nf)) + 1j * rng.standard_normal((n_channels, nf))
    x = sfft.irfft(white * shape_amp[None, :], n=n, axis=-1)
    x /= x.std(axis=-1, keepdims=True) + 1e-30
    return x.astype(np.float32)


def _background(rng, st: dict, k: int, cfg: SyntheticConfig, n: int) -> np.ndarray:
    """Station ``k``'s noise (3, n) with unit RMS over all channels."""
    f = sfft.rfftfreq(n, 1.0 / SAMPLING_RATE)
    one = {key: value[[k]] for key, value in st.items()}
    shape = _phys._noise_shapes(one, cfg, f)[0].astype(np.float64)
    chan = np.concatenate([[1.0], st["hv"][k]])
    chan /= np.sqrt((chan**2).mean())
    ratio = st["micro"][k]
    broad = 1.0 / np.sqrt(1.0 + ratio**2 / 2)
    x = _coloured(rng, shape, n) * (chan * broad)[:, None].astype(np.float32)
    micro_hz = rng.uniform(cfg.microseism_min_hz, cfg.microseism_max_hz)
    band = np.exp(-0.5 * ((f - micro_hz) / 0.03) ** 2)
    band[0] = 0.0
    x += _coloured(rng, band, n) * (chan * ratio * broad / np.sqrt(2))[:, None].astype(np.float32)
    # slow drift of the noise level (minutes), unit mean square
    t = np.arange(n) / SAMPLING_RATE
    drift = sum(rng.normal(0, 0.15) * np.sin(2 * np.pi * t / rng.uniform(30, 600) + rng.uniform(0, 6.3))
                for _ in range(3))
    level = np.exp(drift)
    level /= np.sqrt((level**2).mean())
    return x * level[None, :].astype(np.float32)


def _phase(rng, cfg: SyntheticConfig, rec: dict, i: int, phase: str, onset: float, amp: float,
           accel: bool, n: int) -> tuple[int, np.ndarray]:
    """One phase of record ``i`` from ``onset`` (samples, may be < 0) to the end: (first sample, (3, m))."""
    first = max(0, int(np.ceil(onset)))
    m = n - first
    if m <= 0:
        return first, np.zeros((3, 0), np.float32)
    nfft = sfft.next_fast_len(m + 64)
    f = sfft.rfftfreq(nfft, 1.0 / SAMPLING_RATE)
    fc, tstar = rec[f"fc_{phase}"][i], rec[f"tstar_{phase}"][i]
    shape = f / (1.0 + (f / fc) ** 2) * np.exp(-np.pi * f * tstar) * _phys._lowpass(f, cfg)
    if accel:
        shape = shape * f / 10.0
    g = _coloured(rng, shape, nfft)[:, :m].astype(np.float64)
    s = ((first + np.arange(m) - onset) / SAMPLING_RATE)[None, :]
    idx = np.array([i])
    ed, ec = _phys._envelopes(s, cfg.coda_exponent, *_phys._env_params(rec, idx, phase))
    mix = _phys._polarisation(rec, idx, phase)
    scale = amp / _phys._unit_rms(cfg, rec, idx, phase, mix)[0]
    wz, wh = _phys._coda_weights(cfg, phase, s[0])
    fields = (0,) if phase == "p" else (1, 2)
    out = sum(mix[0, :, k, None] * g[None, k] for k in fields) * (scale * ed)
    out[0] += wz * scale * ec[0] * g[0]
    out[1:] += wh * scale * ec[0] * g[1:]
    return first, out.astype(np.float32)


def _defects(rng, x: np.ndarray, vertical_only: bool, spike_rate: float, step_rate: float) -> None:
    """Spikes and steps (Poisson numbers per trace), in place, relative to the channel's RMS."""
    n = x.shape[1]
    live = [0] if vertical_only else [0, 1, 2]
    rms = np.sqrt((x**2).mean(axis=1)) + 1e-30
    for _ in range(rng.poisson(spike_rate)):
        c = rng.choice(live)
        x[c, rng.integers(n)] += rng.choice([-1, 1]) * rng.uniform(5, 30) * rms[c]
    for _ in range(rng.poisson(step_rate)):
        c = rng.choice(live)
        x[c, rng.integers(n):] += rng.choice([-1, 1]) * rng.uniform(1, 5) * rms[c]


def make_continuous(n_traces: int, duration_s: float = 120.0, seed: int = 0,
                    config: SyntheticConfig | None = None, *, events_per_trace: float = 1.5,
                    vertical_only_fraction: float = 0.15, padding_fraction: float = 0.1,
                    spikes_per_trace: float = 0.1, steps_per_trace: float = 0.05,
                    as_stream: bool = False):
    """Continuous synthetic records with events at known times.

    Parameters
    ----------
    n_traces : int
        Number of records (each from its own station, named ``SY.C0000``, ``SY.C0001``...).
    duration_s : float
        Length of each record in seconds (at 100 Hz), at least 5 s.
    seed : int
        Seed; the same arguments give identical output.
    config : SyntheticConfig, optional
        Source, path, amplitude and noise parameters (the defaults of ``make_synthetic``).
    events_per_trace : float
        Mean number of events per record (Poisson); onsets uniform over the record and the
        10 s before it.
    vertical_only_fraction : float
        Fraction of records whose E and N channels are zero.
    padding_fraction : float
        Fraction of records with a constant (gap-filled) stretch of 1–20 s at the start or end.
    spikes_per_trace, steps_per_trace : float
        Mean numbers of spikes and of steps per record.
    as_stream : bool
        Return an ``obspy.Stream`` (channels ``HHZ``, ``HHN``, ``HHE``; vertical-only records
        hold only ``HHZ``) instead of a list of arrays.

    Returns
    -------
    traces : list of ndarray (3, n_samples) float32, or obspy.Stream
        Components ``ZNE``, counts, per-channel mean removed, starting at :data:`T0`.
    picks : pandas.DataFrame
        One row per arrival inside a record's live data: ``trace`` (index), ``network``,
        ``station``, ``phase`` (``"P"``/``"S"``), ``sample`` (float, onset in samples from the
        record start), ``time`` (ISO 8601), ``event_id``, ``source_station``, ``snr`` (RMS over
        1 s after the onset / noise RMS), ``magnitude``, ``distance_km``, ``sp_seconds``,
        ``vertical_only``.

    Examples
    --------
    >>> traces, picks = make_continuous(2, duration_s=30, seed=1)
    >>> traces[0].shape, traces[0].dtype
    ((3, 3000), dtype('float32'))
    """
    cfg = SyntheticConfig() if config is None else config
    if int(n_traces) != n_traces or n_traces < 1:
        raise ConfigError(f"n_traces must be a positive whole number, got {n_traces!r}")
    if not duration_s >= 5:
        raise ConfigError(f"duration_s must be at least 5 s, got {duration_s!r}")
    for name, value in (("vertical_only_fraction", vertical_only_fraction),
                        ("padding_fraction", padding_fraction)):
        if not 0 <= value <= 1:
            raise ConfigError(f"{name} must lie in [0, 1], got {value!r}")
    if events_per_trace < 0:
        raise ConfigError(f"events_per_trace must be >= 0, got {events_per_trace!r}")
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * SAMPLING_RATE))
    st = _phys._draw_stations(rng, cfg)
    traces, rows, event_base = [], [], 0
    for t in range(int(n_traces)):
        k = int(rng.integers(cfg.n_stations))
        vertical_only = bool(rng.random() < vertical_only_fraction)
        accel = bool(st["accel"][k])
        x = _background(rng, st, k, cfg, n)
        n_ev = int(rng.poisson(events_per_trace))
        rec = _phys._draw_records(rng, max(n_ev, 1), cfg)
        onsets = rng.uniform(-10 * SAMPLING_RATE, n - 0.5 * SAMPLING_RATE, n_ev)
        for i in range(n_ev):
            amp_p = rec["snr_p"][i]
            sp = rec["sp"][i] * SAMPLING_RATE
            for phase, onset, amp in (("p", onsets[i], amp_p), ("s", onsets[i] + sp, amp_p * rec["s_to_p"][i])):
                a, sig = _phase(rng, cfg, rec, i, phase, onset, amp, accel, n)
                x[:, a:] += sig
                rows.append({"trace": t, "phase": phase.upper(), "sample": float(onset),
                             "event_id": event_base + i, "source_station": f"SY.S{k:03d}",
                             "snr": float(amp), "magnitude": float(rec["magnitude"][i]),
                             "distance_km": float(rec["distance"][i]),
                             "sp_seconds": float(rec["sp"][i]), "vertical_only": vertical_only})
        event_base += n_ev
        _defects(rng, x, vertical_only, spikes_per_trace, steps_per_trace)
        x *= np.float32(10.0 ** (st["gain_log10"][k] + rec["gain_jitter"][0]))
        if cfg.quantize:
            np.rint(x, out=x)
        if vertical_only:
            x[1:] = 0.0
        x -= x.mean(axis=1, keepdims=True)
        live = (0, n)
        if rng.random() < padding_fraction:
            m = int(rng.uniform(1, min(20, duration_s / 3)) * SAMPLING_RATE)
            zero = rng.random() < 0.5
            if rng.random() < 0.5:
                x[:, :m] = 0.0 if zero else x[:, m:m + 1]
                live = (m, n)
            else:
                x[:, n - m:] = 0.0 if zero else x[:, n - m - 1:n - m]
                live = (0, n - m)
        rows = [r for r in rows if r["trace"] != t or live[0] <= r["sample"] < live[1]]
        traces.append(x)
    picks = _pick_table(rows)
    if as_stream:
        return _to_stream(traces), picks
    return traces, picks


def _pick_table(rows: list) -> pd.DataFrame:
    from obspy import UTCDateTime

    table = pd.DataFrame(rows, columns=[c for c in PICK_COLUMNS if c not in ("network", "station", "time")])
    table.insert(1, "network", "SY")
    table.insert(2, "station", [f"C{t:04d}" for t in table["trace"]])
    t0 = UTCDateTime(T0)
    table.insert(5, "time", [str(t0 + s / SAMPLING_RATE) for s in table["sample"]])
    return table.sort_values(["trace", "sample"], kind="stable").reset_index(drop=True)


def _to_stream(traces: list):
    from obspy import Stream, Trace, UTCDateTime

    out = Stream()
    for t, x in enumerate(traces):
        vertical_only = not x[1:].any()
        for c, comp in enumerate("ZNE"):
            if c and vertical_only:
                continue
            out.append(Trace(x[c].copy(), header={
                "network": "SY", "station": f"C{t:04d}", "channel": f"HH{comp}",
                "sampling_rate": SAMPLING_RATE, "starttime": UTCDateTime(T0)}))
    return out
