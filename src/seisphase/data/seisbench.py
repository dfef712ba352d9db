"""Read and write SeisBench-format data sets (``metadata.csv`` + ``waveforms.hdf5``).

The format is read and written with :mod:`seisbench.data` itself (``WaveformDataset``,
``WaveformDataWriter``); nothing here parses the HDF5 layout. SeisBench resamples (zero-phase
for integer decimation, FFT otherwise), maps the component order onto ``"ZNE"`` (missing
components become zeros) and rescales every ``*_sample`` column to the new rate; this module cuts
the labelled windows:

* one window per P or S arrival (any column ``trace_<P|S>...arrival_sample``, e.g. ``trace_Pg_``,
  ``trace_Sn_``), the pick at a seeded-random sample in the central second (150–249 of 400);
* ``noise_per_trace`` noise windows ending at least ``noise_min_distance_s`` before the first
  arrival (anywhere in traces with no arrival);
* a trace exactly one window long (what :func:`write_seisbench` writes) is taken whole, so
  ``write_seisbench`` → ``load_seisbench`` gives back the same windows and labels.

Random offsets come from a generator seeded with ``(seed, trace index)``, so the windows do not
depend on ``chunk_size``. ``seisbench`` is optional (``pip install seisphase[seisbench]``) and is
imported inside the functions only (it imports torch).

This module owns cutting windows (:func:`load_seisbench`, :func:`iter_seisbench`) and writing
them (:func:`write_seisbench`); opening and checking a data set folder with seisbench is in
:mod:`seisphase.data.seisbench_format`.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from seisphase._atomic import atomic_directory
from seisphase.data.seisbench_format import (
    ARRIVAL_COLUMN,
    import_seisbench,
    metadata_text,
    open_dataset,
    quiet,
)
from seisphase.data.windows import (
    CANONICAL_COMPONENTS,
    PHASES,
    SAMPLING_RATE,
    WINDOW_SAMPLES,
    Windows,
    canonical_components,
    concatenate,
)
from seisphase.errors import ConfigError, DataFormatError, SeisphaseWarning

_GROUP_COLUMN = "_seisphase_block"


def _cut_trace(wave, row, arrival_cols, rng, *, window_samples, noise_per_trace, noise_gap):
    """Window starts for one trace: list of (start, label, pick_sample_in_window)."""
    n = wave.shape[-1]
    arrivals = set()
    for col, phase in arrival_cols.items():
        value = row[col]
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        if np.isfinite(value):
            arrivals.add((int(round(value)), PHASES.index(phase)))
    cuts, skipped = [], 0
    lo, hi = int(0.375 * window_samples), int(0.625 * window_samples)
    for sample, label in sorted(arrivals):
        if n == window_samples:  # a stored window: take it whole
            start = 0
        else:
            start = sample - int(rng.integers(lo, hi))
        if start < 0 or start + window_samples > n or not 0 <= sample - start < window_samples:
            skipped += 1
            continue
        cuts.append((start, label, sample - start))
    last_start = (min(s for s, _ in arrivals) - noise_gap if arrivals else n) - window_samples
    if noise_per_trace > 0 and last_start >= 0:
        k = min(noise_per_trace, last_start + 1)
        for start in np.sort(rng.choice(last_start + 1, size=k, replace=False)):
            cuts.append((int(start), PHASES.index("N"), -1))
    return cuts, skipped


def _station_id(row) -> str:
    parts = [metadata_text(row.get("station_network_code")), metadata_text(row.get("station_code"))]
    return ".".join(p for p in parts if p)


def _prepare(path, chunk_size, *, components, window_samples, sampling_rate, noise_per_trace,
             noise_min_distance_s, seed, split):
    """Check the options and open the data set now (errors are raised here, not mid-stream)."""
    if window_samples < 2 or chunk_size < 1 or noise_per_trace < 0 or noise_min_distance_s < 0:
        raise ConfigError(
            f"window_samples must be >= 2, chunk_size >= 1, noise_per_trace and "
            f"noise_min_distance_s >= 0; got {window_samples}, {chunk_size}, {noise_per_trace}, "
            f"{noise_min_distance_s}"
        )
    rate = float(sampling_rate)
    ds = open_dataset(path, components=components, sampling_rate=rate, split=split)
    ds.metadata[_GROUP_COLUMN] = np.arange(len(ds.metadata)) // chunk_size
    with quiet():
        ds.grouping = _GROUP_COLUMN
    cut = {"window_samples": window_samples, "noise_per_trace": noise_per_trace,
           "noise_gap": int(round(noise_min_distance_s * rate))}
    return ds, cut, rate, seed


def _generate(path, ds, cut, rate, seed, counts) -> Iterator[Windows]:
    """Windows of each chunk (group) of traces; updates ``counts``."""
    meta = ds.metadata
    arrival_cols = {c: ARRIVAL_COLUMN.match(c).group(1) for c in meta.columns
                    if ARRIVAL_COLUMN.match(c)}
    has_split = "split" in meta.columns
    n = cut["window_samples"]
    trace_index = 0
    for group in range(len(ds.groups)):
        try:
            with quiet():
                waves, rows = ds.get_group_samples(group)
        except (OSError, KeyError, ValueError) as exc:
            raise DataFormatError(
                f"{path}: cannot read the waveforms of traces from number {trace_index} on "
                f"(corrupt or truncated waveforms.hdf5?): {' '.join(str(exc).split())}"
            ) from None
        pieces, labels, records = [], [], []
        for i, wave in enumerate(waves):
            row = {k: v[i] for k, v in rows.items()}
            rng = np.random.default_rng([seed, trace_index])  # independent of chunking
            cuts, skipped = _cut_trace(wave, row, arrival_cols, rng, **cut)
            counts["skipped_outside"] += skipped
            counts["n_traces"] += 1
            trace_index += 1
            vertical_only = not ({"N", "E"} & set(str(row["trace_component_order"])))
            for start, label, pick in cuts:
                piece = wave[:, start:start + n]
                if not np.isfinite(piece).all():
                    counts["skipped_nonfinite"] += 1
                    continue
                pieces.append(piece)
                labels.append(label)
                records.append({
                    "trace_name": (metadata_text(row.get("trace_name_original"))
                                   or metadata_text(row["trace_name"])),
                    "station_id": _station_id(row), "event_id": metadata_text(row.get("source_id")),
                    "pick_sample": pick, "win_start": start, "vertical_only": vertical_only,
                    **({"split": metadata_text(row["split"])} if has_split else {}),
                })
        if pieces:
            yield Windows(np.stack(pieces).astype(np.float32, copy=False), np.array(labels),
                          rate, CANONICAL_COMPONENTS, pd.DataFrame(records))
        del waves, rows, pieces


def _new_counts() -> dict:
    return {"n_traces": 0, "skipped_outside": 0, "skipped_nonfinite": 0}


def _warn_skipped(path, counts) -> None:
    if counts["skipped_outside"] or counts["skipped_nonfinite"]:
        warnings.warn(
            f"{Path(path).name}: skipped {counts['skipped_outside']} pick window(s) that would "
            f"run outside their trace and {counts['skipped_nonfinite']} window(s) holding NaN or "
            f"inf ({counts['n_traces']} traces read)",
            SeisphaseWarning, stacklevel=3,
        )


def iter_seisbench(
    path: str | os.PathLike,
    chunk_size: int = 4096,
    *,
    components: str | None = None,
    window_samples: int = WINDOW_SAMPLES,
    sampling_rate: float = SAMPLING_RATE,
    noise_per_trace: int = 1,
    noise_min_distance_s: float = 0.5,
    seed: int = 0,
    split: str | None = None,
) -> Iterator[Windows]:
    """Stream windows from a SeisBench data set, ``chunk_size`` traces at a time.

    Memory stays bounded by one chunk of traces (``chunk_size`` × channels × trace samples)
    plus the data set's metadata table, so sets larger than memory can be processed. Arguments
    as in :func:`load_seisbench`; the windows do not depend on ``chunk_size``. The data set is
    opened and checked when this is called, so bad input fails before the first chunk.

    Yields
    ------
    Windows
        ``(n_windows, 3, window_samples)`` at ``sampling_rate``, components ``"ZNE"``; chunks
        that give no window are not yielded. A :class:`SeisphaseWarning` at the end counts the
        windows skipped (outside their trace, or holding NaN/inf).
    """
    prepared = _prepare(
        path, chunk_size, components=components, window_samples=window_samples,
        sampling_rate=sampling_rate, noise_per_trace=noise_per_trace,
        noise_min_distance_s=noise_min_distance_s, seed=seed, split=split,
    )

    def chunks():
        counts = _new_counts()
        yield from _generate(path, *prepared, counts)
        _warn_skipped(path, counts)

    return chunks()


def load_seisbench(
    path: str | os.PathLike,
    *,
    components: str | None = None,
    window_samples: int = WINDOW_SAMPLES,
    sampling_rate: float = SAMPLING_RATE,
    noise_per_trace: int = 1,
    noise_min_distance_s: float = 0.5,
    seed: int = 0,
    split: str | None = None,
) -> Windows:
    """Cut labelled P / S / noise windows from a SeisBench-format data set.

    Parameters
    ----------
    path : path
        Folder with ``metadata.csv`` and ``waveforms.hdf5`` (chunked sets work too).
    components : str, optional
        Component order of the stored traces (e.g. ``"ENZ"``, ``"Z12"``), overriding what the
        data set says. Output is always ``"ZNE"``; missing components are zeros
        (``vertical_only`` in the metadata).
    window_samples : int
        Window length after resampling (400 = 4 s at 100 Hz).
    sampling_rate : float
        Output rate in Hz; SeisBench resamples traces at other rates and rescales picks.
    noise_per_trace : int
        Noise windows per trace, before the first arrival (fewer if there is no room).
    noise_min_distance_s : float
        Minimum time from a noise window's end to the trace's first arrival.
    seed : int
        Seed of the pick offsets (150–249 for 400 samples) and noise positions.
    split : {"train", "dev", "test"}, optional
        Read only the traces of this split (the ``split`` column).

    Returns
    -------
    Windows
        ``(n_windows, 3, window_samples)`` float32, labels (0 = P, 1 = S, 2 = noise) and
        metadata ``trace_name``, ``station_id``, ``event_id``, ``pick_sample`` (-1 for noise),
        ``win_start``, ``vertical_only`` and ``split`` when the data set has one. Skipped
        windows are counted in a :class:`SeisphaseWarning`.

    Raises
    ------
    DataFormatError
        Missing ``metadata.csv`` / ``waveforms.hdf5``, missing columns, corrupt HDF5, no
        seisbench installed, or no window at all.

    Examples
    --------
    >>> w = load_seisbench("my_dataset", split="train")            # doctest: +SKIP
    >>> w.waveforms.shape, w.class_counts()                          # doctest: +SKIP
    """
    prepared = _prepare(
        path, 1024, components=components, window_samples=window_samples,
        sampling_rate=sampling_rate, noise_per_trace=noise_per_trace,
        noise_min_distance_s=noise_min_distance_s, seed=seed, split=split,
    )
    counts = _new_counts()
    parts = list(_generate(path, *prepared, counts))
    _warn_skipped(path, counts)
    if not parts:
        raise DataFormatError(
            f"{path}: no window could be cut from {counts['n_traces']} trace(s) "
            f"({counts['skipped_outside']} outside their trace); are the traces at least "
            f"{window_samples} samples long at {float(sampling_rate):g} Hz?"
        )
    return parts[0] if len(parts) == 1 else concatenate(parts)


def write_seisbench(windows: Windows, path: str | os.PathLike) -> Path:
    """Write windows as a SeisBench data set, one trace per window, atomically.

    Parameters
    ----------
    windows : Windows
        ``(n_windows, n_channels, n_samples)``; reordered to ``"ZNE"`` when it has those
        components. Labels give ``trace_P_arrival_sample`` / ``trace_S_arrival_sample``
        (metadata ``pick_sample`` or ``pick_offset``, else the window centre) and ``trace_label``;
        noise windows have neither arrival.
    path : path
        Output folder (``metadata.csv`` + ``waveforms.hdf5``), written to a temporary folder
        and renamed, so a failure never leaves half a data set.

    Returns
    -------
    Path
        ``path``. Metadata ``split``, ``station_id`` (→ ``station_network_code`` +
        ``station_code``) and ``event_id`` (→ ``source_id``) are kept.
    """
    sbd = import_seisbench()
    comps = canonical_components(windows.components)
    if set(CANONICAL_COMPONENTS) <= set(comps):
        windows = windows.with_components(CANONICAL_COMPONENTS)
        comps = CANONICAL_COMPONENTS
    records = ([{}] * windows.n_windows if windows.metadata is None
               else windows.metadata.to_dict("records"))
    centre = windows.n_samples // 2
    path = Path(path)
    with atomic_directory(path) as tmp, contextlib.redirect_stderr(io.StringIO()), quiet():
        # redirect_stderr: silence the writer's tqdm bar; errors still propagate.
        with sbd.WaveformDataWriter(tmp / "metadata.csv", tmp / "waveforms.hdf5") as writer:
            writer.data_format = {"dimension_order": "CW", "component_order": comps,
                                  "sampling_rate": windows.sampling_rate}
            for i in range(windows.n_windows):
                writer.add_trace(_trace_row(windows, records[i], i, comps, centre),
                                 windows.waveforms[i])
    return path


def _trace_row(windows, rec: dict, i, comps, centre) -> dict:
    row = {"trace_name": f"window_{i:07d}", "trace_sampling_rate_hz": windows.sampling_rate,
           "trace_npts": windows.n_samples, "trace_component_order": comps,
           "trace_P_arrival_sample": np.nan, "trace_S_arrival_sample": np.nan}
    phase = PHASES[int(windows.labels[i])] if windows.labels is not None else ""
    if phase in ("P", "S"):
        # pick_offset: the name in real_dev.npz
        pick = rec.get("pick_sample", rec.get("pick_offset"))
        pick = centre if pick is None or pd.isna(pick) or int(pick) < 0 else int(pick)
        row[f"trace_{phase}_arrival_sample"] = pick
    row["trace_label"] = phase
    row["trace_category"] = {"P": "earthquake", "S": "earthquake", "N": "noise"}.get(phase, "")
    if "split" in rec:
        row["split"] = metadata_text(rec["split"])
    if metadata_text(rec.get("station_id")):
        net, _, sta = metadata_text(rec["station_id"]).rpartition(".")
        row["station_network_code"], row["station_code"] = net, sta
    if "event_id" in rec:
        row["source_id"] = metadata_text(rec["event_id"])
    return row
