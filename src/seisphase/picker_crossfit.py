"""Honest pick scores for a picker fine-tuned on your own labelled continuous records.

A picker fine-tuned on some records and scored on the same records (or on other records of the
same stations) looks better than it is. :func:`cross_fit_picker` splits the stations into
``folds`` groups (two halves by default); for each group it fine-tunes the picker on the other
groups' records (:func:`~seisphase.picker.train_picker` with ``init``, real crops mixed with
synthetic ones), chooses the P and S thresholds that maximise F1 on those same records (S
separately for the stations without horizontals: :func:`best_thresholds`), and picks the
group's records. Every record is thus picked by a model that never saw its station, with
thresholds chosen without it, and the picks of all groups are scored together
(:func:`~seisphase.pick_scoring.match_picks`). It is what ``benchmarks/bench_picker.py
--cross-fit`` and the demo report for the shipped real records. More folds fine-tune on more
of the records each time (on the 92 shipped records, 4 folds: 66–72 records instead of 41–51), which
is closer to what a picker fine-tuned on all of them would do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from seisphase.data.continuous_records import records_from_waveforms
from seisphase.data.picklist import read_picks
from seisphase.errors import ConfigError, DataError
from seisphase.pick_scoring import match_picks, station_keys
from seisphase.picker import (
    FINETUNE_LR,
    FINETUNE_REAL_FRACTION,
    FINETUNE_STEPS,
    REAL_S_SIGMA_S,
    Picker,
    train_picker,
)
from seisphase.picks import extract_picks, picks_to_dataframe, vertical_only
from seisphase.scan import scan

THRESHOLDS = np.round(np.arange(0.1, 0.96, 0.05), 2)
"""Thresholds tried for P and S (0.10, 0.15, ..., 0.95)."""


@dataclass
class CrossFit:
    """Result of :func:`cross_fit_picker`.

    Attributes
    ----------
    picks : list of Pick
        Every record's picks, each made by the picker fine-tuned on the other folds'
        stations (:func:`~seisphase.picks.write_picks_csv` / ``write_quakeml`` write them).
    scores : dict
        ``{tolerance_s: match_picks(...)}`` of ``picks`` against all reference picks.
    thresholds : dict
        ``{fold: (threshold_p, threshold_s, threshold_s_vertical)}`` used to pick that fold.
    folds : dict
        ``{"NET.STA": fold}`` (0 .. ``folds - 1``).
    hours : float
        Duration of all scanned records.
    steps : list of int
        Training steps run for each fold's picker (last fold first).
    """

    picks: list
    scores: dict
    thresholds: dict
    folds: dict
    hours: float
    steps: list


def station_folds(stations, folds: int = 2) -> dict:
    """``folds`` station groups of (nearly) equal size: sorted ``NET.STA`` codes take
    0, 1, ..., folds - 1 in turn."""
    return {s: i % folds for i, s in enumerate(sorted(set(stations)))}


def _picks(probabilities: list, threshold_p: float, threshold_s: float,
           threshold_s_vertical: float | None = None) -> list:
    return [q for probs in probabilities
            for q in extract_picks(probs, threshold_p, threshold_s,
                                   threshold_s_vertical=threshold_s_vertical)]


def picks_at(probabilities: list, threshold_p: float, threshold_s: float,
             threshold_s_vertical: float | None = None) -> pd.DataFrame:
    """Picks of several probability streams (:func:`~seisphase.scan.scan` outputs) as one table."""
    return picks_to_dataframe(_picks(probabilities, threshold_p, threshold_s, threshold_s_vertical))


def _vertical_stations(probabilities: list) -> set:
    """``NET.STA`` of the stations all of whose probability traces were scanned without
    horizontals."""
    vertical = {}
    for tr in (tr for st in probabilities for tr in st):
        sid = f"{tr.stats.network}.{tr.stats.station}"
        flag = vertical_only(getattr(tr.stats, "seisphase", None))
        vertical[sid] = vertical.get(sid, True) and flag
    return {sid for sid, flag in vertical.items() if flag}


def best_thresholds(probabilities: list, reference: pd.DataFrame, hours: float,
                    tolerance_s: float = 0.5) -> tuple[float, float, float]:
    """The thresholds of :data:`THRESHOLDS` with the best F1 against ``reference``: P on all
    stations, S on the 3-component stations, and S on the stations scanned without
    horizontals (``threshold_s_vertical``; ``threshold_s`` when there are none).

    Why S apart: without horizontals the picker's S probabilities are lower. On the 92 real
    records (station cross-fit, 3 seeds) a separate vertical-only S threshold (chosen around
    0.3 against 0.7) raised the S F1 from 0.703 ± 0.018 to 0.734 ± 0.010; the same split for
    P lowered the P F1 (0.805 ± 0.041 against 0.821 ± 0.016: about 11 records a half are too
    few to choose two P thresholds). ``hours`` only scales the false-pick rates, not the choice.
    """
    vertical = _vertical_stations(probabilities)
    in_ref = station_keys(reference).isin(vertical).to_numpy()
    parts = {"P": (None, None), "S": (False, ~in_ref), "S vertical": (True, in_ref)}
    f1 = {name: [] for name in parts}
    for t in THRESHOLDS:  # each threshold's picks are extracted once and scored per part
        table = picks_at(probabilities, t, t)
        in_picks = table["station_id"].isin(vertical).to_numpy()
        for name, (flag, keep) in parts.items():
            picks = table if flag is None else table[in_picks == flag]
            ref = reference if keep is None else reference[keep]
            f1[name].append(match_picks(picks, ref, tolerance_s, hours)[name[0]]["f1"])

    def best(name):
        return None if np.all(np.isnan(f1[name])) else float(THRESHOLDS[int(np.nanargmax(f1[name]))])

    tp, ts, tsv = best("P"), best("S"), best("S vertical")
    if tp is None:
        raise DataError("no P reference picks to choose a threshold with")
    if ts is None and tsv is None:
        raise DataError("no S reference picks to choose a threshold with")
    ts = tsv if ts is None else ts
    return tp, ts, ts if tsv is None else tsv


def thresholds_on_records(picker: Picker, streams: list, picks, stride: int = 4,
                          tolerance_s: float = 0.5) -> tuple[float, float, float]:
    """:func:`best_thresholds` of ``picker`` on labelled records: ObsPy streams (or waveform
    files) and their analyst picks (path or DataFrame). ``seisphase train-picker`` uses it to
    set a fine-tuned picker's thresholds on the records it was fine-tuned on, which is what
    :func:`cross_fit_picker` does for each fold (and so what its scores measure)."""
    import obspy

    streams = [st if isinstance(st, obspy.Stream) else obspy.read(str(st)) for st in streams]
    probabilities = [scan(st, picker, stride=stride)[0] for st in streams]
    return best_thresholds(probabilities, read_picks(picks), _hours(streams), tolerance_s)


def _hours(streams) -> float:
    return sum(max(tr.stats.endtime - tr.stats.starttime for tr in st) for st in streams) / 3600


def cross_fit_picker(files, picks, base: Picker, *, steps: int = FINETUNE_STEPS,
                     lr: float = FINETUNE_LR, real_fraction: float = FINETUNE_REAL_FRACTION,
                     stride: int = 4, record_s: float = 30.0,
                     tolerances=(0.5, 0.1), seed: int = 0, s_sigma_s: float | None = REAL_S_SIGMA_S,
                     folds: int = 2, progress=None) -> CrossFit:
    """Fine-tune ``base`` on all station groups but one, pick that one; for each group (see
    module).

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
    s_sigma_s : float or None
        S label width (s) of the fine-tuning (:data:`~seisphase.picker.REAL_S_SIGMA_S`;
        ``None``: the base picker's).
    seed : int
        Seeds the fine-tunings: the one that picks fold ``k`` gets ``folds * seed + folds - 1
        - k`` (with two folds ``2 * seed`` fits half 0, ``2 * seed + 1`` half 1); with 92 picks
        a phase, scores of different seeds spread by a few hundredths, so compare several.
    folds : int
        Station groups (:func:`station_folds`), at least 2 and at most the number of stations.
    progress : callable, optional
        Called with a one-line message after each fold.
    """
    import obspy

    if not isinstance(base, Picker):
        raise ConfigError("cross_fit_picker fine-tunes a trained Picker; load or train one first")
    reference = read_picks(picks)
    streams = {str(f): obspy.read(str(f)) for f in files}
    station_of = {f: f"{st[0].stats.network}.{st[0].stats.station}" for f, st in streams.items()}
    n_stations = len(set(station_of.values()))
    if n_stations < 2:
        raise DataError("cross-fitting needs records from at least two stations")
    if not isinstance(folds, (int, np.integer)) or not 2 <= folds <= n_stations:
        raise ConfigError(f"folds must be a whole number from 2 to the number of stations "
                          f"({n_stations}), got {folds!r}")
    group = station_folds(station_of.values(), folds)
    ref_fold = (reference.network + "." + reference.station).map(group)
    widths = {} if s_sigma_s is None else {"s_sigma_s": s_sigma_s}
    found, thresholds, steps_run = [], {}, []
    for k in reversed(range(folds)):
        fit = [f for f in streams if group[station_of[f]] != k]
        test = [f for f in streams if group[station_of[f]] == k]
        known = reference[ref_fold.notna() & (ref_fold != k)]
        traces, table, _ = records_from_waveforms(fit, known, record_s=record_s)
        picker = train_picker(replace(base.config, max_steps=steps, lr=lr,
                                      seed=folds * seed + folds - 1 - k,
                                      max_seconds=1e9, calibrate=False, **widths),
                              extra=(traces, table), extra_fraction=real_fraction, init=base)
        tp, ts, tsv = thresholds_on_records(picker, [streams[f] for f in fit], known, stride,
                                            tolerances[0])
        thresholds[k] = (tp, ts, tsv)
        steps_run.append(int(picker.history_.get("steps", steps)))
        found += _picks([scan(streams[f], picker, stride=stride)[0] for f in test], tp, ts, tsv)
        if progress:
            progress(f"fold {k}: fine-tuned {steps_run[-1]} steps on the {len(fit)} records of "
                     f"the other folds; thresholds (P, S, S vertical-only) = ({tp}, {ts}, {tsv}); "
                     f"picking its {len(test)} records")
    hours = _hours(streams.values())
    table = picks_to_dataframe(found)
    scores = {tol: match_picks(table, reference, tol, hours) for tol in tolerances}
    return CrossFit(found, scores, thresholds, group, hours, steps_run)
