"""Honest pick scores for a picker fine-tuned on your own labelled continuous records.

A picker fine-tuned on some records and scored on the same records (or on other records of the
same stations) looks better than it is. :func:`cross_fit_picker` splits the stations in two
halves; it fine-tunes the picker on one half's records (:func:`~seisphase.picker.train_picker`
with ``init``, real crops mixed with synthetic ones), chooses the P and S thresholds that
maximise F1 on that same half, and picks the other half's records; then the halves swap. Every
record is thus picked by a model that never saw its station, with thresholds chosen without
it, and the picks of both halves are scored together
(:func:`~seisphase.pick_scoring.match_picks`). It is what ``benchmarks/bench_picker.py
--cross-fit`` and the demo report for the shipped real records.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from seisphase.data.continuous_records import records_from_waveforms
from seisphase.data.picklist import read_picks
from seisphase.errors import ConfigError, DataError
from seisphase.pick_scoring import match_picks
from seisphase.picker import Picker, train_picker
from seisphase.picks import extract_picks, picks_to_dataframe
from seisphase.scan import scan

THRESHOLDS = np.round(np.arange(0.1, 0.96, 0.05), 2)
"""Thresholds tried for P and S (0.10, 0.15, ..., 0.95)."""


@dataclass
class CrossFit:
    """Result of :func:`cross_fit_picker`.

    Attributes
    ----------
    picks : list of Pick
        Every record's picks, each made by the picker fine-tuned on the other half of the
        stations (:func:`~seisphase.picks.write_picks_csv` / ``write_quakeml`` write them).
    scores : dict
        ``{tolerance_s: match_picks(...)}`` of ``picks`` against all reference picks.
    thresholds : dict
        ``{half: (threshold_p, threshold_s)}`` used to pick that half.
    halves : dict
        ``{"NET.STA": 0 or 1}``.
    hours : float
        Duration of all scanned records.
    steps : list of int
        Training steps run for each half's picker.
    """

    picks: list
    scores: dict
    thresholds: dict
    halves: dict
    hours: float
    steps: list


def station_halves(stations) -> dict:
    """Two station groups of (nearly) equal size: sorted ``NET.STA`` codes alternate 0, 1."""
    return {s: i % 2 for i, s in enumerate(sorted(set(stations)))}


def _picks(probabilities: list, threshold_p: float, threshold_s: float) -> list:
    return [q for probs in probabilities for q in extract_picks(probs, threshold_p, threshold_s)]


def picks_at(probabilities: list, threshold_p: float, threshold_s: float) -> pd.DataFrame:
    """Picks of several probability streams (:func:`~seisphase.scan.scan` outputs) as one table."""
    return picks_to_dataframe(_picks(probabilities, threshold_p, threshold_s))


def best_thresholds(probabilities: list, reference: pd.DataFrame, hours: float,
                    tolerance_s: float = 0.5) -> tuple[float, float]:
    """The thresholds of :data:`THRESHOLDS` with the best P and the best S F1 against
    ``reference`` (each threshold's picks are extracted and matched once for both phases)."""
    scores = [match_picks(picks_at(probabilities, t, t), reference, tolerance_s, hours)
              for t in THRESHOLDS]
    best = []
    for phase in ("P", "S"):
        f1 = [s[phase]["f1"] for s in scores]
        if np.all(np.isnan(f1)):
            raise DataError(f"no {phase} reference picks to choose a threshold with")
        best.append(float(THRESHOLDS[int(np.nanargmax(f1))]))
    return best[0], best[1]


def _hours(streams) -> float:
    return sum(max(tr.stats.endtime - tr.stats.starttime for tr in st) for st in streams) / 3600


def cross_fit_picker(files, picks, base: Picker, *, steps: int = 1500, lr: float = 1e-3,
                     real_fraction: float = 0.7, stride: int = 4, record_s: float = 30.0,
                     tolerances=(0.5, 0.1), seed: int = 0, progress=None) -> CrossFit:
    """Fine-tune ``base`` on one station half's records, pick the other half; swap (see module).

    Parameters
    ----------
    files : list of path
        Labelled continuous records in any ObsPy format (one or more files per station).
    picks : path or DataFrame
        Their analyst picks (:func:`~seisphase.data.picklist.read_picks`: CSV or QuakeML).
    base : Picker
        The picker to fine-tune (e.g. trained on synthetic records); not changed.
    steps, lr, real_fraction :
        Fine-tuning steps, peak learning rate and the share of real crops in each batch.
    stride : int
        Scan stride in samples.
    record_s : float
        Length of the training records cut from ``files``.
    tolerances : sequence of float
        Tolerances (s) of the returned scores; thresholds are chosen at the first.
    seed : int
        Seeds the two fine-tunings (``2 * seed`` and ``2 * seed + 1``); with 92 picks a
        phase, scores of different seeds spread by a few hundredths, so compare several.
    progress : callable, optional
        Called with a one-line message after each half.
    """
    import obspy

    if not isinstance(base, Picker):
        raise ConfigError("cross_fit_picker fine-tunes a trained Picker; load or train one first")
    reference = read_picks(picks)
    streams = {str(f): obspy.read(str(f)) for f in files}
    station_of = {f: f"{st[0].stats.network}.{st[0].stats.station}" for f, st in streams.items()}
    halves = station_halves(station_of.values())
    if len(halves) < 2:
        raise DataError("cross-fitting needs records from at least two stations")
    ref_half = (reference.network + "." + reference.station).map(halves)
    found, thresholds, steps_run = [], {}, []
    for h in (0, 1):
        fit = [f for f in streams if halves[station_of[f]] == h]
        test = [f for f in streams if halves[station_of[f]] != h]
        traces, table, _ = records_from_waveforms(fit, reference[ref_half == h], record_s=record_s)
        picker = train_picker(replace(base.config, max_steps=steps, lr=lr, seed=2 * seed + h,
                                      max_seconds=1e9, calibrate=False),
                              extra=(traces, table), extra_fraction=real_fraction, init=base)
        fit_probs = [scan(streams[f], picker, stride=stride)[0] for f in fit]
        fit_hours = _hours(streams[f] for f in fit)
        tp, ts = best_thresholds(fit_probs, reference[ref_half == h], fit_hours, tolerances[0])
        thresholds[1 - h] = (tp, ts)
        steps_run.append(int(picker.history_.get("steps", steps)))
        found += _picks([scan(streams[f], picker, stride=stride)[0] for f in test], tp, ts)
        if progress:
            progress(f"half {h}: fine-tuned {steps_run[-1]} steps on {len(fit)} records; "
                     f"thresholds (P, S) = ({tp}, {ts}); picking {len(test)} records of the "
                     f"other stations")
    hours = _hours(streams.values())
    table = picks_to_dataframe(found)
    scores = {tol: match_picks(table, reference, tol, hours) for tol in tolerances}
    return CrossFit(found, scores, thresholds, halves, hours, steps_run)
