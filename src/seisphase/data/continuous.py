"""Cut labelled windows from continuous waveforms (any ObsPy format) and a pick list.

Waveforms are read with :func:`obspy.read`; picks come from a CSV file, a QuakeML file
(:func:`obspy.read_events`) or a DataFrame (see :func:`seisphase.data.picklist.read_picks`).
Picks are matched to waveforms by network + station only (location and channel codes may
differ).

Per station:

* each pick is cut from one instrument (location + band/instrument code, e.g. ``00.HH``): the
  one with the most samples among those with data at the pick; channels are mapped by their
  last letter (Z, N, E; 1 → N, 2 → E; any case);
* traces at another rate are resampled with ObsPy's ``Trace.interpolate`` (Lanczos, a = 12,
  which keeps the time of every sample exact), after a zero-phase Butterworth low-pass at 0.4 ×
  the new rate when decimating, so that pick times do not move;
* overlapping or touching traces are merged with ``Stream.merge(method=1)``; gaps split the data
  into gap-free segments and no window is ever cut across a gap;
* a missing horizontal is filled with zeros and the window flagged ``vertical_only`` when the
  station has no horizontal at all (the convention of the project's real data).
"""

from __future__ import annotations

import bisect
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from seisphase.data.picklist import read_picks
from seisphase.data.windows import (
    CANONICAL_COMPONENTS,
    PHASES,
    SAMPLING_RATE,
    WINDOW_SAMPLES,
    Windows,
)
from seisphase.errors import ConfigError, DataFormatError

_COMPONENT = {"Z": "Z", "N": "N", "E": "E", "1": "N", "2": "E"}
_LANCZOS_A = 12


def _read_waveforms(files, rate):
    """Traces per station and component, resampled to ``rate``: {station: {comp: [(tr, stem)]}}."""
    import obspy

    if isinstance(files, (str, os.PathLike)):
        files = [files]
    if not files:
        raise ConfigError("no waveform files given; pass one or more ObsPy-readable files")
    by_instrument = defaultdict(lambda: defaultdict(list))
    counts = {"resampled_traces": 0, "ignored_traces": 0}
    for f in files:
        path = Path(f)
        if not path.is_file():
            raise DataFormatError(f"{path}: no such waveform file")
        if path.stat().st_size == 0:
            raise DataFormatError(f"{path} is empty (0 bytes); re-create or re-download it")
        try:
            stream = obspy.read(str(path))
        except Exception as exc:  # ObsPy raises TypeError, ValueError, ... on bad files
            raise DataFormatError(
                f"{path} is not a readable waveform file (miniSEED, SAC, ... any ObsPy "
                f"format): {exc}"
            ) from None
        for tr in stream:
            comp = _COMPONENT.get(tr.stats.channel[-1:].upper())
            if comp is None or tr.stats.npts == 0:
                counts["ignored_traces"] += 1
                continue
            tr.data = np.asarray(tr.data, dtype=np.float64)
            if abs(tr.stats.sampling_rate - rate) > 1e-6 * rate:
                if tr.stats.sampling_rate > rate:
                    tr.filter("lowpass", freq=0.4 * rate, corners=8, zerophase=True)
                tr.interpolate(sampling_rate=rate, method="lanczos", a=_LANCZOS_A)
                counts["resampled_traces"] += 1
            s = tr.stats
            key = (s.network, s.station)
            by_instrument[key][(s.location, s.channel[:-1])].append((comp, tr, path.stem))
    stations = {}
    for key, instruments in by_instrument.items():
        # Instruments of a station, most samples first (ties: by name); a pick goes to the
        # first one with data at its time, so one pick never gives two windows.
        order = sorted(sorted(instruments),
                       key=lambda k: -sum(t.stats.npts for _, t, _ in instruments[k]))
        stations[key] = []
        for name in order:
            comps = defaultdict(list)
            for comp, tr, stem in instruments[name]:
                comps[comp].append((tr, stem))
            stations[key].append(_Instrument(comps, rate))
    return stations, counts


class _Component:
    """Gap-free segments of one component: sorted starts (s), data arrays and file stems."""

    def __init__(self, traces, rate):
        from obspy import Stream

        traces = sorted(traces, key=lambda x: x[0].stats.starttime)
        self.rate = rate
        self.trace_id = traces[0][0].id
        self.spans = [(float(t.stats.starttime), float(t.stats.endtime), stem) for t, stem in traces]
        chains, current = [], [traces[0][0]]
        end = float(traces[0][0].stats.endtime)
        for tr, _ in traces[1:]:
            if float(tr.stats.starttime) <= end + 1.5 / rate:  # touching or overlapping
                current.append(tr)
            else:
                chains.append(current)
                current = [tr]
            end = max(end, float(tr.stats.endtime))
        chains.append(current)
        self.starts, self.data = [], []
        for chain in chains:
            st = Stream(chain).merge(method=1, fill_value=None).split()  # split at masked gaps
            for tr in sorted(st, key=lambda t: t.stats.starttime):
                self.starts.append(float(tr.stats.starttime))
                self.data.append(tr.data)
        self.first, self.last = self.starts[0], max(
            s + (len(d) - 1) / rate for s, d in zip(self.starts, self.data, strict=True))

    def find(self, t0: float, n: int):
        """(segment index, first sample) of a segment holding samples t0 … t0+(n-1)/rate, or None."""
        k = bisect.bisect_right(self.starts, t0 + 0.5 / self.rate) - 1
        if k < 0:
            return None
        i = int(round((t0 - self.starts[k]) * self.rate))
        if i < 0 or i + n > len(self.data[k]):
            return None
        return k, i

    def covers(self, t: float) -> bool:
        k = bisect.bisect_right(self.starts, t) - 1
        return k >= 0 and t <= self.starts[k] + (len(self.data[k]) - 1) / self.rate

    def stem(self, t: float) -> str:
        for start, end, stem in self.spans:
            if start <= t <= end:
                return stem
        return ""


class _Instrument:
    """The Z/N/E components of one instrument (location + band code) of a station."""

    def __init__(self, traces: dict, rate: float):
        self.comps = {c: _Component(v, rate) for c, v in traces.items()}
        self.ref = self.comps.get("Z") or next(iter(self.comps.values()))
        self.first = min(c.first for c in self.comps.values())
        self.last = max(c.last for c in self.comps.values())
        self.vertical_only = not ({"N", "E"} & set(self.comps))

    def covers(self, t: float) -> bool:
        return any(c.covers(t) for c in self.comps.values())


def _cut(comps, t0, n):
    """Window (3, n) starting at time t0 (ZNE, zeros for absent components), or None.

    None when a component has no gap-free segment over the whole window; NaN/inf samples count
    as a gap too.
    """
    out = np.zeros((3, n), dtype=np.float64)
    for c, component in comps.items():
        hit = component.find(t0, n)
        if hit is None:
            return None
        k, i = hit
        out[CANONICAL_COMPONENTS.index(c)] = component.data[k][i:i + n]
    return out if np.isfinite(out).all() else None


def windows_from_waveforms(
    files: list[str],
    picks: str | os.PathLike | pd.DataFrame,
    *,
    window_samples: int = WINDOW_SAMPLES,
    sampling_rate: float = SAMPLING_RATE,
    noise_per_pick: int = 1,
    noise_min_distance_s: float = 2.0,
    seed: int = 0,
) -> tuple[Windows, dict]:
    """Cut labelled P / S / noise windows from continuous waveforms and a pick list.

    Parameters
    ----------
    files : list of path
        Waveform files in any ObsPy format (miniSEED, SAC, ...); traces of one station may be
        spread over several files.
    picks : path or DataFrame
        Pick list, see :func:`seisphase.data.picklist.read_picks`.
    window_samples : int
        Window length (400 = 4 s at 100 Hz).
    sampling_rate : float
        Rate of the windows in Hz; traces at other rates are resampled (see module docstring).
    noise_per_pick : int
        Noise windows per pick window, drawn at random in the station's gap-free data at least
        ``noise_min_distance_s`` from every pick of that station.
    noise_min_distance_s : float
        Minimum time between a noise window and any pick of the station.
    seed : int
        Seed of the pick offsets (uniform in 150–249 for 400 samples) and noise positions.

    Returns
    -------
    windows : Windows
        ``(n_windows, 3, window_samples)`` float32, components ``"ZNE"``, demeaned per channel;
        metadata ``station_id``, ``trace_id``, ``pick_time``, ``pick_sample`` (-1 for noise),
        ``phase_hint``, ``record`` (file stem), ``event_id``, ``window_start``, ``vertical_only``.
    summary : dict
        ``n_picks``, ``n_windows``, ``n_P``, ``n_S``, ``n_noise``, ``skipped_outside`` (pick not
        inside the station's data), ``skipped_gap`` (window would cross a gap),
        ``skipped_edge`` (window would run over the start or end of the data),
        ``picks_without_station`` (part of ``skipped_outside``: no waveform of that station),
        ``noise_short`` (noise windows that found no room), ``n_stations``,
        ``resampled_traces``, ``ignored_traces`` (empty, or an unknown component letter).

    Examples
    --------
    >>> w, s = windows_from_waveforms(["day.mseed"], "picks.csv")        # doctest: +SKIP
    >>> w.waveforms.shape, s["skipped_gap"]                                # doctest: +SKIP
    """
    if window_samples < 2:
        raise ConfigError(f"window_samples must be at least 2, got {window_samples}")
    if noise_per_pick < 0 or noise_min_distance_s < 0:
        raise ConfigError("noise_per_pick and noise_min_distance_s must not be negative")
    rate = float(sampling_rate)
    table = read_picks(picks)
    stations, counts = _read_waveforms(files, rate)
    rng = np.random.default_rng(seed)
    lo, hi = int(0.375 * window_samples), int(0.625 * window_samples)
    n = window_samples
    summary = {"n_picks": len(table), "skipped_outside": 0, "skipped_gap": 0, "skipped_edge": 0,
               "picks_without_station": 0, "noise_short": 0, "n_stations": 0, **counts}
    pieces, labels, records = [], [], []
    table["t"] = [float(t) for t in table["time"]]
    by_station = {k: g.sort_values(["t", "phase"]) for k, g in table.groupby(["network", "station"])}
    for key, group in sorted(by_station.items()):
        instruments = stations.get(key)
        if instruments is None:
            summary["skipped_outside"] += len(group)
            summary["picks_without_station"] += len(group)
            continue
        station_id = f"{key[0]}.{key[1]}"
        pick_times = group["t"].to_numpy()
        n_cut = defaultdict(int)
        for pick in group.itertuples():
            # the first instrument with data at the pick, else one whose span holds it (a gap)
            inst = next((i for i in instruments if i.covers(pick.t)), None) or next(
                (i for i in instruments if i.first <= pick.t <= i.last), None)
            if inst is None:
                summary["skipped_outside"] += 1
                continue
            offset = int(rng.integers(lo, hi))
            ref = inst.ref
            k = bisect.bisect_right(ref.starts, pick.t) - 1
            origin = ref.starts[max(k, 0)]  # the reference segment's sample grid
            t0 = origin + (round((pick.t - origin) * rate) - offset) / rate
            window = _cut(inst.comps, t0, n)
            if window is None:
                edge = t0 < inst.first - 0.5 / rate or t0 + (n - 1) / rate > inst.last + 0.5 / rate
                summary["skipped_edge" if edge else "skipped_gap"] += 1
                continue
            pieces.append(window)
            labels.append(PHASES.index(pick.phase))
            records.append(_record(station_id, inst, pick.t, offset, pick.phase_hint,
                                   pick.event_id, t0))
            n_cut[id(inst)] += 1
        for inst in instruments:
            wanted = noise_per_pick * n_cut[id(inst)]
            starts = _noise_starts(inst.ref, pick_times, n, noise_min_distance_s, wanted, rng)
            summary["noise_short"] += wanted - len(starts)
            for t0 in starts:
                window = _cut(inst.comps, t0, n)
                if window is None:  # another component has a gap here
                    summary["noise_short"] += 1
                    continue
                pieces.append(window)
                labels.append(PHASES.index("N"))
                records.append(_record(station_id, inst, None, -1, "", "", t0))
        summary["n_stations"] += 1
    if not pieces:
        raise DataFormatError(
            f"no window could be cut from {summary['n_picks']} picks: "
            f"{summary['skipped_outside']} outside the waveforms' time span or stations, "
            f"{summary['skipped_gap']} across gaps, {summary['skipped_edge']} over the data's "
            f"edge; check that the picks and waveforms belong together (network + station, time)"
        )
    x = np.stack(pieces)
    x -= x.mean(axis=2, keepdims=True)
    y = np.array(labels, dtype=np.int64)
    windows = Windows(x.astype(np.float32), y, rate, CANONICAL_COMPONENTS, pd.DataFrame(records))
    summary.update(n_windows=len(y), n_P=int((y == 0).sum()), n_S=int((y == 1).sum()),
                   n_noise=int((y == 2).sum()))
    return windows, summary


def _record(station_id, inst, t_pick, pick_sample, hint, event_id, t0) -> dict:
    from obspy import UTCDateTime

    t_ref = t0 if t_pick is None else t_pick
    return {
        "station_id": station_id, "trace_id": inst.ref.trace_id,
        "pick_time": "" if t_pick is None else str(UTCDateTime(t_pick)),
        "pick_sample": int(pick_sample), "phase_hint": str(hint), "record": inst.ref.stem(t_ref),
        "event_id": str(event_id), "window_start": str(UTCDateTime(t0)),
        "vertical_only": bool(inst.vertical_only),
    }


def _noise_starts(ref, pick_times, n, min_distance_s, wanted, rng) -> list[float]:
    """Up to ``wanted`` distinct start times of windows inside ``ref``'s segments, away from picks."""
    if wanted <= 0:
        return []
    rate = ref.rate
    length = (n - 1) / rate
    candidates = []  # (segment start time, first allowed index, last allowed index)
    for start, data in zip(ref.starts, ref.data, strict=True):
        lo, hi = 0, len(data) - n
        # per pick: last allowed start before it, first allowed start after it
        bad = sorted(
            (int(np.floor((t - min_distance_s - length - start) * rate + 1e-6)),
             int(np.ceil((t + min_distance_s - start) * rate - 1e-6)))
            for t in pick_times
        )
        for b0, b1 in bad:
            if b0 >= lo:
                candidates.append((start, lo, min(b0, hi)))
            lo = max(lo, b1)
        candidates.append((start, lo, hi))
    candidates = [(s, a, b) for s, a, b in candidates if b >= a]
    sizes = np.array([b - a + 1 for _, a, b in candidates], dtype=np.int64)
    total = int(sizes.sum())
    if total == 0:
        return []
    flat = rng.choice(total, size=min(wanted, total), replace=False)
    bounds = np.cumsum(sizes)
    out = []
    for f in np.sort(flat):
        j = int(np.searchsorted(bounds, f, side="right"))
        s, a, _ = candidates[j]
        out.append(s + (a + int(f - (bounds[j] - sizes[j]))) / rate)
    return out
