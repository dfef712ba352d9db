"""Scan continuous waveforms with a window classifier: one probability trace per class.

:func:`scan` slides the model's window (``n_samples_`` samples, e.g. 4 s) over every station's
continuous data with a step of ``stride`` samples and turns the class probabilities of each
window into ObsPy traces.

What happens to the input, per station (``NET.STA.LOC``):

* **channels → components:** the last letter of the channel code (any case) names the
  component: ``Z``, ``N``, ``E``; ``1`` and ``2`` count as ``N`` and ``E``. Other channels
  (``BHT``, hydrophones...) are skipped and listed in the report. When a station has several
  instruments (``HH?`` and ``HN?``), the one with a vertical, the most components and the
  sampling rate closest to the model's is scanned; the others are listed in the report.
* **rate:** traces at another rate are resampled to the model's (``scipy.signal.resample_poly``
  for rational ratios such as 50 → 100 or 200 → 100 Hz, ObsPy's FFT ``resample`` otherwise);
* **overlaps and gaps:** NaN/inf samples count as gaps; traces are merged (``Stream.merge(method=1)``: overlaps keep the later
  trace) and split at gaps; the station's gap-free *segments* are the times when every present
  component has data. Segments shorter than one window are listed in ``report`` and skipped;
* **missing components:** a 3-component model given a station without horizontals (or without
  one of them) reads zeros there, which is the way vertical-only data were trained for (the real
  training windows of vertical-only stations have all-zero E/N). A model that needs a component
  the data lack otherwise (the vertical) raises :class:`~seisphase.errors.DataError`.

Output naming and timing
------------------------
For each station, segment and class, one ``float32`` trace with the input's network, station
and location codes and channel ``PR<class>`` (``PRP``, ``PRS``, ``PRN``): three letters, so the
traces can be written to miniSEED, and not a waveform channel code, so they never collide with
the data. Its ``sampling_rate`` is ``model_rate / stride`` (10 Hz for stride 10 at 100 Hz) and
sample ``i`` is the probability of the window that starts ``i * stride`` samples after the
segment start, placed at the window's centre: ``starttime = segment_start + (n_samples / 2) /
model_rate`` exactly. The first ``n_samples / 2`` samples of a segment and its last
``n_samples / 2`` (plus the remainder of ``(length - n_samples) % stride``) are not covered.
``trace.stats.seisphase`` holds the phase, the id of the waveform trace picks refer to (the
vertical channel), the components read and the zero-filled ones (kept in memory only, not
in miniSEED).

Memory
------
Windows are cut lazily from each segment in chunks of ``batch_size`` windows with
``numpy.lib.stride_tricks.sliding_window_view`` (a view; one ``float32`` copy per chunk), so a
day at 100 Hz never holds more than ``batch_size`` windows at once.

Fast path
---------
A model that can run over continuous data itself (e.g. a fully convolutional network) may
provide ``scan_continuous(data, stride) -> ndarray``: ``data`` is a ``float32`` array
``(n_channels, n)`` in the model's component order and the result ``(n_windows, n_classes)``
holds the probabilities of the windows starting at ``0, stride, ...`` with
``n_windows = (n - n_samples) // stride + 1``. :func:`scan` then calls it on each chunk instead
of ``predict_proba``.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from seisphase.data.windows import Windows, canonical_components
from seisphase.errors import DataError, NotFittedError

CHANNEL_PREFIX = "PR"
"""Probability traces are named ``PR<class>``: ``PRP``, ``PRS``, ``PRN``."""

DEFAULT_BATCH = 2048
"""Windows per chunk (about 10 MB of ``float32`` for 3 × 400-sample windows)."""

_COMPONENT = {"Z": "Z", "N": "N", "E": "E", "1": "N", "2": "E"}


def probability_channel(phase: str) -> str:
    """Channel code of the probability trace of ``phase``: ``"P"`` → ``"PRP"``."""
    return f"{CHANNEL_PREFIX}{phase}"


def component_of(channel: str) -> str | None:
    """Component (``Z``, ``N`` or ``E``) named by a channel code's last letter, or ``None``."""
    return _COMPONENT.get(channel[-1:].upper()) if channel else None


def _check_model(model):
    missing = [a for a in ("components_", "sampling_rate_", "n_samples_", "classes_")
               if not hasattr(model, a)]
    if missing:
        raise NotFittedError(
            f"the model has no {', '.join(missing)}; scan needs a fitted classifier "
            f"(PhaseClassifier.load(path) or .fit(windows))"
        )
    return (canonical_components(model.components_), float(model.sampling_rate_),
            int(model.n_samples_), [str(c) for c in model.classes_])


def _resample(tr, rate: float):
    """Return ``tr`` (float64) at ``rate`` Hz."""
    tr.data = np.asarray(tr.data, dtype=np.float64)
    old = tr.stats.sampling_rate
    if old == rate:
        return tr
    ratio = Fraction(rate / old).limit_denominator(1000)
    if abs(float(ratio) - rate / old) <= 1e-9 * rate / old and tr.stats.npts > 1:
        from scipy.signal import resample_poly

        tr.data = resample_poly(tr.data, ratio.numerator, ratio.denominator)
        tr.stats.sampling_rate = rate
    else:
        tr.resample(rate)
        tr.data = np.asarray(tr.data, dtype=np.float64)
    return tr


def _choose_instrument(traces, components: str, rate: float):
    """Split a station's traces into the instrument to scan and the rest."""
    by_inst: dict[str, list] = {}
    for tr in traces:
        by_inst.setdefault(tr.stats.channel[:-1].upper(), []).append(tr)

    def key(item):
        inst, trs = item
        comps = {component_of(t.stats.channel) for t in trs}
        rate_gap = min(abs(math.log(t.stats.sampling_rate / rate)) for t in trs)
        wanted = sum(c in comps for c in components)
        return ("Z" in comps, wanted, len(comps), -rate_gap, inst[-1:] == "H", inst)

    best = max(by_inst.items(), key=key)[0]
    keep = by_inst.pop(best)
    return best, keep, [t for trs in by_inst.values() for t in trs]


def _pieces(traces, rate: float) -> list:
    """Gap-free float32 traces of one component at ``rate`` Hz, sorted by start time."""
    from obspy import Stream

    st = Stream()
    for tr in traces:
        tr = tr.copy()
        bad = ~np.isfinite(tr.data)
        if bad.any():  # NaN / inf samples count as gaps
            tr.data = np.ma.masked_array(tr.data, mask=bad)
        st.append(tr)
    st = st.split()
    for tr in st:
        tr.stats.channel = "XXX"  # one id per component, whatever the original channel codes
        _resample(tr, rate)
    try:
        st.merge(method=1, fill_value=None)
    except Exception as exc:  # ObsPy raises a bare Exception on incompatible traces
        raise DataError(f"cannot merge the traces of {traces[0].id}: {exc}") from None
    pieces = sorted(st.split(), key=lambda t: t.stats.starttime)
    for tr in pieces:  # windows are float32 anyway; halves the memory of a day of data
        tr.data = np.ascontiguousarray(tr.data, dtype=np.float32)
    return pieces


def _segments(pieces: dict, ref: str, rate: float) -> list:
    """Times when every component has data: ``(start_ns, n, {comp: (array, offset)})``."""
    delta = 1e9 / rate
    spans = [(p.stats.starttime.ns, p.stats.starttime.ns + (p.stats.npts - 1) * delta, {ref: p})
             for p in pieces[ref]]
    for comp, plist in pieces.items():
        if comp == ref:
            continue
        spans = [(max(a, q.stats.starttime.ns), min(b, q.stats.starttime.ns + (q.stats.npts - 1) * delta),
                  {**d, comp: q})
                 for a, b, d in spans for q in plist
                 if q.stats.starttime.ns <= b and q.stats.starttime.ns + (q.stats.npts - 1) * delta >= a]
    segments = []
    for a, b, d in spans:
        r = d[ref]
        r0 = r.stats.starttime.ns
        i0 = max(0, int(round((a - r0) / delta)))
        t0 = r0 + int(round(i0 * delta))
        n = int(round((b - r0) / delta)) - i0 + 1
        views = {}
        for comp, p in d.items():
            j0 = max(0, int(round((t0 - p.stats.starttime.ns) / delta)))
            n = min(n, p.stats.npts - j0)
            views[comp] = (p.data, j0)
        if n > 0:
            segments.append((t0, n, views))
    return segments


def _chunk(views: dict, components: str, start: int, n_windows: int, n_samples: int,
           stride: int) -> np.ndarray:
    """Continuous data ``(n_channels, span)`` covering windows ``start .. start + n_windows``."""
    span = (n_windows - 1) * stride + n_samples
    block = np.zeros((len(components), span), dtype=np.float32)
    for k, comp in enumerate(components):
        if comp in views:
            data, offset = views[comp]
            a = offset + start * stride
            block[k] = data[a:a + span]
    return block


def _classify(model, block: np.ndarray, components: str, rate: float, n_samples: int,
              stride: int) -> np.ndarray:
    if hasattr(model, "scan_continuous"):
        return np.asarray(model.scan_continuous(block, stride))
    windows = sliding_window_view(block, n_samples, axis=-1)[:, ::stride]  # (n_ch, n_w, n_s)
    windows = np.ascontiguousarray(windows.transpose(1, 0, 2))
    return np.asarray(model.predict_proba(Windows(windows, None, rate, model.components_)))


def too_short_error(n_samples: int, rate: float, longest_s: float, station: str) -> DataError:
    """The error raised when no segment holds one window."""
    return DataError(
        f"no gap-free segment is as long as one window ({n_samples} samples = "
        f"{n_samples / rate:g} s at {rate:g} Hz); the longest is {longest_s:g} s"
        f"{f' ({station})' if station else ''}; give longer data or fill the gaps"
    )


def _iso(t_ns: int) -> str:
    from obspy import UTCDateTime

    return str(UTCDateTime(ns=int(t_ns)))


def scan(stream, model, stride: int = 10, batch_size: int = DEFAULT_BATCH, progress: bool = False,
         allow_empty: bool = False):
    """Classify every window of continuous data; return probability traces and a report.

    Parameters
    ----------
    stream : obspy.Stream
        Continuous waveforms of one or more stations (any rate, gaps and overlaps allowed).
    model : PhaseClassifier
        Fitted classifier (or any object with ``components_``, ``sampling_rate_``,
        ``n_samples_``, ``classes_`` and ``predict_proba(Windows) -> (n_windows, n_classes)``,
        or ``scan_continuous``; see the module notes).
    stride : int
        Step between windows in samples at the model's rate (10 = 0.1 s at 100 Hz).
    batch_size : int
        Windows classified at once; bounds memory.
    progress : bool
        Show a progress bar per station.
    allow_empty : bool
        Return an empty stream (and the report) instead of raising when no segment is as long
        as one window; for callers that scan station after station.

    Returns
    -------
    probabilities : obspy.Stream
        Per station, segment and class a ``float32`` trace ``NET.STA.LOC.PR<class>`` at
        ``model_rate / stride`` Hz, each value at its window's centre (see module notes).
    report : dict
        ``stations`` (per station id ``NET.STA`` or ``NET.STA.LOC``: ``trace_id``, ``instrument``, ``components``,
        ``zero_filled``, ``resampled_from``, ``segments`` and ``short_segments`` with ISO
        ``start``/``end``), ``short_segments`` and ``skipped`` (all stations), ``n_stations``,
        ``n_segments``, ``n_windows``, ``hours`` (duration of the scanned segments),
        ``seconds`` (wall time), ``stride``, ``sampling_rate``.

    Raises
    ------
    DataError
        Empty stream, no segment as long as one window, a component the model needs is
        missing, or bad ``stride``/``batch_size``.

    Examples
    --------
    >>> probs, report = scan(obspy.read("day.mseed"), PhaseClassifier.load("model"))  # doctest: +SKIP
    >>> picks = extract_picks(probs)                                                   # doctest: +SKIP
    """
    from obspy import Stream, Trace, UTCDateTime
    from obspy.core.util import AttribDict
    from tqdm.auto import tqdm

    components, rate, n_samples, classes = _check_model(model)
    if not isinstance(stride, (int, np.integer)) or stride < 1:
        raise DataError(f"stride must be a positive whole number of samples, got {stride!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise DataError(f"batch_size must be a positive whole number, got {batch_size!r}")
    if not isinstance(stream, Stream) or len(stream) == 0:
        raise DataError("nothing to scan: the stream holds no traces; read waveforms with obspy.read")
    t_begin = time.perf_counter()
    groups: dict[str, list] = {}
    skipped = []
    for tr in stream:
        if component_of(tr.stats.channel) is None:
            skipped.append({"trace_id": tr.id, "reason": "channel code names no Z/N/E/1/2 component"})
        elif tr.stats.npts > 0:
            groups.setdefault((tr.stats.network, tr.stats.station, tr.stats.location), []).append(tr)

    out = Stream()
    stations, short, longest = {}, [], (0.0, "")
    for (net, sta, loc), traces in sorted(groups.items()):
        sid = f"{net}.{sta}.{loc}" if loc else f"{net}.{sta}"
        inst, traces, others = _choose_instrument(traces, components, rate)
        skipped += [{"trace_id": t.id, "reason": f"another instrument ({inst}) scanned"} for t in others]
        by_comp: dict[str, list] = {}
        for tr in traces:
            by_comp.setdefault(component_of(tr.stats.channel), []).append(tr)
        present = "".join(c for c in "ZNE" if c in by_comp)
        need = [c for c in components if c not in by_comp]
        if need and not (len(components) == 3 and "Z" in by_comp and "Z" not in need):
            raise DataError(
                f"station {sid} has components {present!r} but the model reads "
                f"{model.components_!r} and {''.join(need)!r} is missing; leave the station out "
                f"or use a model trained on the components it has"
            )
        ref = next(c for c in components if c in by_comp)
        pieces = {c: _pieces(by_comp[c], rate) for c in present if c in components}
        segs = _segments(pieces, ref, rate)
        z_trace = by_comp[ref][0]
        info = {
            "trace_id": z_trace.id, "instrument": inst,
            "components": present, "zero_filled": "".join(need),
            "resampled_from": sorted({t.stats.sampling_rate for t in traces} - {rate}),
            "segments": [], "short_segments": [],
        }
        long_segs = [(t0, n, v) for t0, n, v in segs if n >= n_samples]
        total = sum((n - n_samples) // stride + 1 for _, n, _ in long_segs)
        bar = tqdm(total=total, desc=sid, unit="win", disable=not progress, leave=False)
        for t0, n, views in segs:
            entry = {"start": _iso(t0), "end": _iso(t0 + round((n - 1) * 1e9 / rate)),
                     "duration_s": n / rate}
            longest = max(longest, (n / rate, sid))
            if n < n_samples:
                info["short_segments"].append(entry)
                short.append({"station": sid, **entry})
                continue
            n_windows = (n - n_samples) // stride + 1
            probs = np.empty((n_windows, len(classes)), dtype=np.float32)
            for a in range(0, n_windows, batch_size):
                m = min(batch_size, n_windows - a)
                block = _chunk(views, components, a, m, n_samples, stride)
                probs[a:a + m] = _classify(model, block, model.components_, rate, n_samples, stride)
                bar.update(m)
            entry["n_windows"] = n_windows
            info["segments"].append(entry)
            start = UTCDateTime(ns=int(t0)) + (n_samples / 2) / rate
            for k, phase in enumerate(classes):
                tr = Trace(np.ascontiguousarray(probs[:, k]))
                tr.stats.update({"network": net, "station": sta, "location": loc,
                                 "channel": probability_channel(phase),
                                 "sampling_rate": rate / stride, "starttime": start})
                tr.stats.seisphase = AttribDict(
                    phase=phase, trace_id=info["trace_id"], components=present,
                    zero_filled=info["zero_filled"], segment=len(info["segments"]) - 1)
                out.append(tr)
        bar.close()
        stations[sid] = info

    n_windows = sum(s["n_windows"] for i in stations.values() for s in i["segments"])
    if n_windows == 0 and not allow_empty:
        if not stations:
            raise DataError("no trace has a channel code ending in Z, N, E, 1 or 2; nothing to scan")
        raise too_short_error(n_samples, rate, *longest)
    report = {
        "stations": stations, "short_segments": short, "skipped": skipped,
        "n_stations": sum(bool(i["segments"]) for i in stations.values()),
        "n_segments": sum(len(i["segments"]) for i in stations.values()),
        "n_windows": n_windows,
        "hours": sum(s["duration_s"] for i in stations.values() for s in i["segments"]) / 3600,
        "seconds": time.perf_counter() - t_begin,
        "stride": int(stride), "sampling_rate": rate,
        "longest_segment": {"station": longest[1], "duration_s": longest[0]},
    }
    return out, report
