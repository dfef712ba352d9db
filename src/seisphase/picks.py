"""Picks from probability traces, and their CSV / QuakeML forms.

A :class:`Pick` is a plain record; :func:`extract_picks` makes them from the traces of
:func:`seisphase.scan.scan` (or any traces whose channel names a phase: ``PRP``/``PRS``, or
SeisBench's ``GPD_P``/``GPD_S``), and the functions below convert them to a pandas table, CSV and
ObsPy/QuakeML at the edge.

How a pick is made, per phase and trace:

1. **trigger:** on where the probability reaches the phase's threshold, off where it falls
   below ``threshold * off_ratio`` (:func:`obspy.signal.trigger.trigger_onset`). Stations
   scanned without horizontals (both ``N`` and ``E`` zero-filled, see
   :func:`seisphase.scan.scan`) may get their own S threshold, ``threshold_s_vertical``:
   without horizontals a picker is less sure of S, and on the real records the best S
   threshold there is about half the 3-component one;
2. **time:** the largest probability sample of the trigger, refined to a fraction of a sample by
   a parabola through it and its two neighbours (the vertex, at most half a sample away);
3. **separation:** of two picks of the same phase on the same trace closer than
   ``min_separation_s``, the one with the higher probability is kept;
4. **uncertainty:** the full width at half maximum of the probability peak (linear
   interpolation at the crossings; cut at the trace's ends) converted to the standard
   deviation of a Gaussian of that width, ``sigma = FWHM / (2 sqrt(2 ln 2))``. For a window
   classifier the peak is about as wide as the range of pick positions it was trained with,
   so read this as the picker's resolution rather than a calibrated error.

Pick times are rounded to the microsecond, the precision of the CSV and QuakeML times, so that
writing and reading them back gives equal picks.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from seisphase._atomic import atomic_path
from seisphase.errors import DataError, DataFormatError

FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))
"""Standard deviation of a Gaussian per unit of full width at half maximum (1 / 2.3548)."""

METHOD_ID = "seisphase/scan"
QUAKEML_NAMESPACE = "https://github.com/seisphase/seisphase"

COLUMNS = ("trace_id", "network", "station", "station_id", "phase", "time", "probability",
           "uncertainty_s", "trigger_on", "trigger_off")


@dataclass
class Pick:
    """One phase arrival.

    Parameters
    ----------
    trace_id : str
        ``NET.STA.LOC.CHA`` of the trace the pick refers to (the station's vertical channel
        when known, else the probability trace).
    phase : str
        ``"P"`` or ``"S"``.
    time : obspy.UTCDateTime
        Arrival time.
    probability : float
        Largest class probability of the trigger (NaN for picks without one, e.g. STA/LTA).
    uncertainty_s : float
        One-sigma time uncertainty in seconds (NaN when unknown).
    station_id : str
        ``NET.STA``; derived from ``trace_id`` when empty.
    trigger_on, trigger_off : obspy.UTCDateTime, optional
        Where the trigger switched on and off.
    """

    trace_id: str
    phase: str
    time: object
    probability: float = math.nan
    uncertainty_s: float = math.nan
    station_id: str = ""
    trigger_on: object = None
    trigger_off: object = None

    def __post_init__(self):
        if not self.station_id:
            self.station_id = ".".join(self.trace_id.split(".")[:2])


def phase_of(trace) -> str | None:
    """Phase named by a probability trace: ``stats.seisphase.phase``, ``PR<phase>`` or ``*_<phase>``."""
    extra = getattr(trace.stats, "seisphase", None)
    if extra is not None and "phase" in extra:
        return str(extra["phase"])
    cha = trace.stats.channel
    if "_" in cha:
        return cha.rsplit("_", 1)[1]
    if len(cha) == 3 and cha.upper().startswith("PR"):
        return cha[2].upper()
    return None


def vertical_only(info) -> bool:
    """Whether a probability trace's ``stats.seisphase`` record says both horizontals were
    zero-filled (the station was scanned from its vertical alone)."""
    filled = (info or {}).get("zero_filled", "")
    return "N" in filled and "E" in filled


def _parabolic(p: np.ndarray, k: int) -> float:
    """Offset (samples, within ±0.5) of the vertex of the parabola through p[k-1:k+2]."""
    if k == 0 or k == len(p) - 1:
        return 0.0
    y0, y1, y2 = p[k - 1], p[k], p[k + 1]
    curvature = y0 - 2.0 * y1 + y2
    if curvature >= 0:
        return 0.0
    return float(np.clip(0.5 * (y0 - y2) / curvature, -0.5, 0.5))


def _fwhm(p: np.ndarray, k: int) -> float:
    """Full width at half maximum (samples) of the peak at ``k``, cut at the array's ends."""
    half = p[k] / 2.0
    below = np.nonzero(p[:k] < half)[0]
    if below.size:
        j = below[-1]
        left = j + (half - p[j]) / (p[j + 1] - p[j])
    else:
        left = 0.0
    below = np.nonzero(p[k + 1:] < half)[0]
    if below.size:
        j = k + 1 + below[0]
        right = j - 1 + (p[j - 1] - half) / (p[j - 1] - p[j])
    else:
        right = len(p) - 1.0
    return max(right - left, 1e-3)


def _round_us(t):
    from obspy import UTCDateTime

    return UTCDateTime(ns=int(round(t.ns, -3)))


def _separate(picks: list[Pick], min_separation_s: float) -> list[Pick]:
    kept: list[Pick] = []
    for pick in sorted(picks, key=lambda q: -q.probability):
        if all(abs(pick.time - q.time) >= min_separation_s for q in kept):
            kept.append(pick)
    return kept


def extract_picks(probabilities, threshold_p: float = 0.5, threshold_s: float = 0.5,
                  off_ratio: float = 0.5, min_separation_s: float = 1.0,
                  threshold_s_vertical: float | None = None) -> list[Pick]:
    """Turn probability traces into P and S picks.

    Parameters
    ----------
    probabilities : obspy.Stream
        Probability traces, e.g. from :func:`seisphase.scan.scan`; traces of other phases
        (noise) are ignored.
    threshold_p, threshold_s : float
        Trigger-on probability of P and S picks, in (0, 1].
    off_ratio : float
        Trigger-off level as a fraction of the threshold, in (0, 1].
    min_separation_s : float
        Minimum time between two picks of one phase on one trace; the weaker one is dropped.
    threshold_s_vertical : float, optional
        S threshold of traces scanned without horizontals (``stats.seisphase.zero_filled``
        holds ``N`` and ``E``); ``None``: ``threshold_s``. Traces without that record (e.g.
        read back from miniSEED) use ``threshold_s``.

    Returns
    -------
    list of Pick
        Sorted by time.

    Examples
    --------
    >>> probs, _ = scan(stream, model)                     # doctest: +SKIP
    >>> write_picks_csv(extract_picks(probs), "picks.csv")  # doctest: +SKIP
    """
    from obspy import UTCDateTime
    from obspy.signal.trigger import trigger_onset

    thresholds = {"P": threshold_p, "S": threshold_s}
    if threshold_s_vertical is None:
        threshold_s_vertical = threshold_s
    for name, value in [("threshold_p", threshold_p), ("threshold_s", threshold_s),
                        ("threshold_s_vertical", threshold_s_vertical), ("off_ratio", off_ratio)]:
        if not 0 < value <= 1:
            raise DataError(f"{name} must lie in (0, 1], got {value!r}")
    if min_separation_s < 0:
        raise DataError(f"min_separation_s must be >= 0, got {min_separation_s!r}")
    groups: dict[tuple, list[Pick]] = {}
    for tr in probabilities:
        phase = phase_of(tr)
        if phase not in thresholds or tr.stats.npts == 0:
            continue
        p = np.nan_to_num(np.asarray(tr.data, dtype=np.float64))
        extra = getattr(tr.stats, "seisphase", None) or {}
        thr = thresholds[phase]
        if phase == "S" and vertical_only(extra):
            thr = threshold_s_vertical
        trace_id = extra.get("trace_id", tr.id)
        start, dt = tr.stats.starttime, tr.stats.delta
        for on, off in trigger_onset(p, thr, thr * off_ratio):
            k = int(on + np.argmax(p[on:off + 1]))
            pick = Pick(
                trace_id=trace_id, phase=phase,
                time=_round_us(start + (k + _parabolic(p, k)) * dt),
                probability=float(p[k]),
                uncertainty_s=float(_fwhm(p, k) * dt * FWHM_TO_SIGMA),
                trigger_on=UTCDateTime(start + on * dt), trigger_off=UTCDateTime(start + off * dt),
            )
            groups.setdefault((trace_id, phase), []).append(pick)
    picks = [q for group in groups.values() for q in _separate(group, min_separation_s)]
    return sorted(picks, key=lambda q: (q.time, q.trace_id, q.phase))


# -- tables and CSV -------------------------------------------------------------------------
def picks_to_dataframe(picks: list[Pick]):
    """One row per pick; times as ISO 8601 strings (``2017-10-07T09:28:56.920000Z``).

    Columns: ``trace_id, network, station, station_id, phase, time, probability,
    uncertainty_s, trigger_on, trigger_off`` (empty trigger times when unknown).
    """
    import pandas as pd

    rows = []
    for q in picks:
        parts = q.trace_id.split(".")
        rows.append({
            "trace_id": q.trace_id, "network": parts[0],
            "station": parts[1] if len(parts) > 1 else "", "station_id": q.station_id,
            "phase": q.phase, "time": str(q.time), "probability": float(q.probability),
            "uncertainty_s": float(q.uncertainty_s),
            "trigger_on": "" if q.trigger_on is None else str(q.trigger_on),
            "trigger_off": "" if q.trigger_off is None else str(q.trigger_off),
        })
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_picks_csv(picks: list[Pick], path: str | os.PathLike) -> None:
    """Write picks as CSV (see :func:`picks_to_dataframe`), atomically."""
    with atomic_path(path) as tmp:
        picks_to_dataframe(picks).to_csv(tmp, index=False)


def read_picks_csv(path: str | os.PathLike) -> list[Pick]:
    """Read picks written by :func:`write_picks_csv` (needs ``trace_id``, ``phase``, ``time``)."""
    import pandas as pd
    from obspy import UTCDateTime

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataFormatError(f"cannot read picks from {path}: {exc}") from None
    missing = {"trace_id", "phase", "time"} - set(table.columns)
    if missing:
        raise DataFormatError(f"{path} lacks the pick column(s) {sorted(missing)}")

    def num(row, key):
        value = row.get(key, "")
        return float(value) if value not in ("", None) else math.nan

    def when(value):
        return UTCDateTime(value) if value else None

    try:
        return [Pick(r["trace_id"], r["phase"], UTCDateTime(r["time"]), num(r, "probability"),
                     num(r, "uncertainty_s"), r.get("station_id", ""),
                     when(r.get("trigger_on", "")), when(r.get("trigger_off", "")))
                for r in table.to_dict("records")]
    except (ValueError, TypeError) as exc:
        raise DataFormatError(f"{path} holds a malformed pick: {exc}") from None


# -- QuakeML --------------------------------------------------------------------------------
def picks_to_catalog(picks: list[Pick], method_id: str = METHOD_ID):
    """ObsPy ``Catalog`` with one ``Event`` holding every pick (picks are not associated).

    Each ObsPy ``Pick`` has ``time``, ``time_errors.uncertainty`` (one sigma, s),
    ``waveform_id``, ``phase_hint``, ``method_id``, ``evaluation_mode="automatic"`` and the
    probability as a comment ``probability=0.912345`` and as ``extra["probability"]``.
    """
    from obspy.core.event import (
        Catalog,
        Comment,
        Event,
        QuantityError,
        ResourceIdentifier,
        WaveformStreamID,
    )
    from obspy.core.event import Pick as ObsPick

    event = Event(comments=[Comment(text=f"unassociated picks from {method_id}")])
    for q in picks:
        net, sta, loc, cha = (q.trace_id.split(".") + ["", "", "", ""])[:4]
        obs = ObsPick(
            time=q.time, phase_hint=q.phase, evaluation_mode="automatic",
            waveform_id=WaveformStreamID(net, sta, loc, cha),
            method_id=ResourceIdentifier(method_id),
            comments=[Comment(text=f"probability={q.probability:.6f}")],
        )
        if math.isfinite(q.uncertainty_s):
            obs.time_errors = QuantityError(uncertainty=q.uncertainty_s)
        if math.isfinite(q.probability):
            obs.extra = {"probability": {"value": repr(float(q.probability)),
                                         "namespace": QUAKEML_NAMESPACE}}
        event.picks.append(obs)
    return Catalog(events=[event])


def catalog_to_picks(catalog) -> list[Pick]:
    """Picks of every event of an ObsPy ``Catalog`` (e.g. from ``obspy.read_events``)."""
    picks = []
    for event in catalog:
        for obs in event.picks:
            probability = math.nan
            extra = getattr(obs, "extra", None) or {}
            if "probability" in extra:
                probability = float(extra["probability"]["value"])
            else:
                for c in obs.comments:
                    if c.text.startswith("probability="):
                        probability = float(c.text.split("=", 1)[1])
            err = obs.time_errors.uncertainty if obs.time_errors else None
            picks.append(Pick(obs.waveform_id.get_seed_string(), obs.phase_hint or "", obs.time,
                              probability, math.nan if err is None else float(err)))
    return sorted(picks, key=lambda q: (q.time, q.trace_id, q.phase))


def write_quakeml(picks: list[Pick], path: str | os.PathLike, method_id: str = METHOD_ID) -> None:
    """Write picks as QuakeML (see :func:`picks_to_catalog`), atomically."""
    catalog = picks_to_catalog(picks, method_id)
    with atomic_path(path) as tmp:
        catalog.write(str(tmp), format="QUAKEML")
