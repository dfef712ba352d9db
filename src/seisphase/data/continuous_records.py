"""Equal-length labelled records from continuous waveforms and a pick list, for training pickers.

:func:`records_from_waveforms` reads waveforms and picks the way
:func:`~seisphase.data.continuous.windows_from_waveforms` does (ObsPy formats, channel codes
Z/N/E and Z/1/2, resampling that keeps sample times exact, merging, gaps), then cuts every
gap-free stretch of every instrument into records of ``record_s`` seconds, each overlapping
the previous by half (the last one aligned with the stretch's end), so that no pick is left
out or only seen at a record's edge, where a picker's outputs do not reach; stretches
shorter than one record are skipped and counted. Records without picks are kept: a picker
learns from them what noise and codas look like.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from seisphase.data.continuous import _cut, _read_waveforms
from seisphase.data.picklist import read_picks
from seisphase.data.windows import SAMPLING_RATE
from seisphase.errors import ConfigError, DataFormatError


def _starts(n_data: int, n: int) -> list[int]:
    """First samples of records of ``n`` covering ``n_data`` samples, half overlapping (the
    last one end-aligned): every sample away from the data's ends lies at least ``n / 4``
    from the edges of some record, where a picker's outputs reach it."""
    if n_data < n:
        return []
    starts = list(range(0, n_data - n + 1, max(n // 2, 1)))
    if starts[-1] + n < n_data:
        starts.append(n_data - n)
    return starts


def records_from_waveforms(files, picks: str | os.PathLike | pd.DataFrame, *,
                           record_s: float = 30.0, sampling_rate: float = SAMPLING_RATE):
    """Records ``(3, n)`` (ZNE, zeros for missing components) and their picks as sample indices.

    Parameters
    ----------
    files : list of path
        Waveform files in any ObsPy format.
    picks : path or DataFrame
        Pick list (:func:`seisphase.data.picklist.read_picks`: CSV or QuakeML).
    record_s : float
        Record length in seconds (all records have ``round(record_s * sampling_rate)`` samples).
    sampling_rate : float
        Rate of the records in Hz; other rates are resampled.

    Returns
    -------
    traces : list of ndarray (3, n), float32
        Demeaned per channel.
    table : DataFrame
        One row per pick inside a record: ``trace`` (index into ``traces``), ``phase``,
        ``sample`` (float, from the record's first sample), ``station_id``.
    summary : dict
        ``n_records``, ``hours``, ``n_picks`` (in the list), ``picks_used`` (rows of
        ``table``; a pick seen by two instruments counts twice), ``picks_outside`` (in no
        record), ``short_stretches`` (gap-free data shorter than one record), ``n_stations``.
    """
    rate = float(sampling_rate)
    n = int(round(record_s * rate))
    if n < 1:
        raise ConfigError(f"record_s must be positive, got {record_s}")
    table = read_picks(picks)
    table["t"] = [float(t) for t in table["time"]]
    stations, _ = _read_waveforms(files, rate)
    traces, rows, used = [], [], set()
    summary = {"n_picks": len(table), "short_stretches": 0, "n_stations": len(stations)}
    for (net, sta), instruments in sorted(stations.items()):
        mine = table[(table.network == net) & (table.station == sta)]
        for inst in instruments:
            for seg_start, data in zip(inst.ref.starts, inst.ref.data, strict=True):
                starts = _starts(len(data), n)
                summary["short_stretches"] += not starts
                for i in starts:
                    t0 = seg_start + i / rate
                    x = _cut(inst.comps, t0, n)
                    if x is None:  # another component has a gap here
                        continue
                    inside = mine[(mine.t >= t0) & (mine.t <= t0 + (n - 1) / rate)]
                    k = len(traces)
                    traces.append((x - x.mean(axis=1, keepdims=True)).astype(np.float32))
                    rows += [{"trace": k, "phase": p.phase, "sample": (p.t - t0) * rate,
                              "station_id": f"{net}.{sta}"} for p in inside.itertuples()]
                    used.update(inside.index)
    if not traces:
        raise DataFormatError(
            f"no record of {record_s:g} s could be cut from the waveforms "
            f"({summary['short_stretches']} gap-free stretches were shorter); pass longer "
            f"data or a smaller record length")
    summary.update(n_records=len(traces), hours=len(traces) * n / rate / 3600,
                   picks_used=len(rows), picks_outside=len(table) - len(used))
    columns = ["trace", "phase", "sample", "station_id"]
    return traces, pd.DataFrame(rows, columns=columns), summary
