"""The SeisBench format through ``seisbench`` itself: opening and checking a data set folder.

This module owns what reading and writing SeisBench-format data sets (``metadata.csv`` +
``waveforms.hdf5``) share: importing the optional ``seisbench`` package
(:func:`import_seisbench`, with an error that says how to install it), hiding its deprecation
noise (:func:`quiet`), checking a data set folder and its metadata columns
(:func:`check_folder`, :func:`check_columns`), opening it as a ``WaveformDataset`` in the
``"ZNE"`` component order (:func:`open_dataset`), the arrival columns (:data:`ARRIVAL_COLUMN`)
and metadata values as text (:func:`metadata_text`). Cutting windows from a data set and writing
one are in :mod:`seisphase.data.seisbench`. ``seisbench`` is imported inside the functions only
(it imports torch).
"""

from __future__ import annotations

import contextlib
import re
import warnings
from pathlib import Path

import pandas as pd

from seisphase.data.windows import CANONICAL_COMPONENTS, canonical_components, check_components
from seisphase.errors import ConfigError, DataFormatError

ARRIVAL_COLUMN = re.compile(r"^trace_([PS])\w*_arrival_sample$")
"""Metadata columns holding arrival samples; the captured letter is the phase (P or S)."""


def import_seisbench():
    """The ``seisbench.data`` module, or a :class:`DataFormatError` that says how to install it."""
    try:
        import seisbench.data as sbd
    except ImportError:
        raise DataFormatError(
            "reading or writing SeisBench data sets needs the seisbench package, which is not "
            "installed; install it with: pip install seisphase[seisbench]"
        ) from None
    return sbd


@contextlib.contextmanager
def quiet():
    """Hide seisbench's own deprecation noise (pandas ``inplace=``) from our users."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"seisbench\.")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"seisbench\.")
        yield


def check_folder(path: Path) -> None:
    """Raise a :class:`DataFormatError` unless ``path`` is a folder with a SeisBench data set."""
    if not path.is_dir():
        what = "is a file" if path.exists() else ": no such folder"
        raise DataFormatError(f"{path}{' ' if path.exists() else ''}{what}; expected a SeisBench "
                              f"data set folder holding metadata.csv and waveforms.hdf5")
    has = {name: (path / name).is_file() for name in ("metadata.csv", "waveforms.hdf5")}
    if has["metadata.csv"] != has["waveforms.hdf5"]:
        there, missing = sorted(has, key=has.get, reverse=True)
        raise DataFormatError(f"{path} has {there} but no {missing}; copy {missing} next to it")
    if not has["metadata.csv"] and not any(path.glob("metadata*.csv")):
        raise DataFormatError(
            f"{path} holds no metadata.csv and waveforms.hdf5; expected a SeisBench-format data set"
        )


def check_columns(path: Path) -> None:
    """Raise a :class:`DataFormatError` unless every ``metadata*.csv`` in ``path`` has a
    ``trace_name`` and an arrival column (:data:`ARRIVAL_COLUMN`)."""
    for meta_file in sorted(path.glob("metadata*.csv")):
        try:
            columns = list(pd.read_csv(meta_file, nrows=0).columns)
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataFormatError(f"{meta_file} is not a readable CSV file: {exc}") from None
        if "trace_name" not in columns:
            raise DataFormatError(
                f"{meta_file} has no trace_name column (found: {', '.join(columns[:8]) or 'none'}"
                f"); SeisBench metadata needs trace_name to find each waveform"
            )
        if not any(ARRIVAL_COLUMN.match(c) for c in columns):
            raise DataFormatError(
                f"{meta_file} has no arrival column; expected at least one column like "
                f"trace_P_arrival_sample or trace_Sg_arrival_sample (pick sample per trace)"
            )


def open_dataset(path, *, components, sampling_rate, split):
    """Open the data set with SeisBench, output component order ``"ZNE"``, optional split."""
    sbd = import_seisbench()
    path = Path(path)
    check_folder(path)
    check_columns(path)
    try:
        with quiet():
            ds = sbd.WaveformDataset(
                path, sampling_rate=sampling_rate, component_order=CANONICAL_COMPONENTS,
                dimension_order="NCW", cache=None, missing_components="pad",
                resample_zerophase=True,
            )
    except (OSError, ValueError, KeyError, pd.errors.ParserError) as exc:
        raise DataFormatError(
            f"{path} is not a readable SeisBench data set (corrupt or truncated HDF5 or CSV?): "
            f"{' '.join(str(exc).split())}"
        ) from None
    meta = ds.metadata
    if components is not None:
        meta["trace_component_order"] = check_components(components)
    order = meta.get("trace_component_order")
    if order is None or order.isna().any():
        raise DataFormatError(
            f"{path} does not say its component order (no data_format/component_order nor "
            f"trace_component_order column); pass components, e.g. components='ENZ'"
        )
    meta["trace_component_order"] = [canonical_components(str(c)) for c in order]
    ds.component_order = CANONICAL_COMPONENTS  # rebuild the mapping from the (new) orders
    if meta["trace_sampling_rate_hz"].isna().any():
        raise DataFormatError(
            f"{path} does not say its sampling rate; add a trace_sampling_rate_hz column "
            f"(or data_format/sampling_rate in the HDF5 file)"
        )
    if split is not None:
        if "split" not in meta.columns:
            raise ConfigError(f"split={split!r} asked for, but {path} has no split column")
        found = sorted(meta["split"].dropna().astype(str).unique())
        if split not in found:
            raise ConfigError(f"split {split!r} not in {path}; its splits are {found}")
        ds.filter((meta["split"] == split).to_numpy(), inplace=True)
    return ds


def metadata_text(value) -> str:
    """Metadata value as text; missing (None / NaN) → ``""``."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)
