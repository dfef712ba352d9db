"""Read a pick list: CSV, QuakeML or a DataFrame, into one table with one row per P or S pick.

:func:`read_picks` is what :func:`seisphase.data.continuous.windows_from_waveforms` cuts its
windows at; :func:`normalize_phase` maps the phase names of catalogues (Pg, Pn, Sb, ...) to
``"P"`` and ``"S"``.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from seisphase.errors import DataFormatError

_P_NAMES = re.compile(r"^[Pp][gnb*]?$")
_S_NAMES = re.compile(r"^[Ss][gnb*]?$")


def normalize_phase(name) -> str | None:
    """Map a phase name to ``"P"`` or ``"S"`` (P, Pg, Pn, Pb, P*, p and the S analogues), else None."""
    name = "" if name is None else str(name).strip()
    if _P_NAMES.match(name):
        return "P"
    if _S_NAMES.match(name):
        return "S"
    return None


def _utc(value):
    from obspy import UTCDateTime

    if isinstance(value, UTCDateTime):
        return value
    if isinstance(value, datetime):
        return UTCDateTime(value)
    return UTCDateTime(str(value).strip())


def _picks_from_quakeml(path: Path) -> pd.DataFrame:
    import obspy

    try:
        catalog = obspy.read_events(str(path))
    except Exception as exc:  # obspy raises many types for a bad file
        raise DataFormatError(f"{path} is not a readable QuakeML file: {exc}") from None
    rows = []
    for event in catalog:
        for pick in event.picks:
            wid = pick.waveform_id
            rows.append({
                "network": getattr(wid, "network_code", None) or "",
                "station": getattr(wid, "station_code", None) or "",
                "trace_id": wid.get_seed_string() if wid is not None else "",
                "phase": pick.phase_hint, "time": pick.time,
                "event_id": str(event.resource_id.id) if event.resource_id else "",
            })
    if not rows:
        raise DataFormatError(f"{path} holds no picks; expected events with Pick elements")
    return pd.DataFrame(rows)


def read_picks(picks: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    """Read a pick list into a table with one row per pick.

    Parameters
    ----------
    picks : path or DataFrame
        CSV file (columns ``phase``, ``time`` and ``trace_id`` or ``network`` + ``station``;
        optional ``event_id``), QuakeML file (``Pick.phase_hint``, ``waveform_id``), or a
        DataFrame with the CSV columns.

    Returns
    -------
    DataFrame
        Columns ``network``, ``station``, ``trace_id``, ``phase`` (``"P"``/``"S"``),
        ``phase_hint`` (the name as given), ``time`` (ObsPy ``UTCDateTime``), ``event_id``.

    Raises
    ------
    DataFormatError
        Missing or empty file, missing columns, unreadable times, or phase names other than
        P-type and S-type ones (they are listed).
    """
    source = "picks"
    if isinstance(picks, pd.DataFrame):
        table = picks.copy()
    else:
        path = Path(picks)
        source = str(path)
        if not path.is_file():
            raise DataFormatError(f"{path}: no such pick file; expected a CSV or QuakeML file")
        if path.stat().st_size == 0:
            raise DataFormatError(f"{path} is empty (0 bytes); expected a CSV or QuakeML pick list")
        with open(path, "rb") as f:
            head = f.read(256).lstrip()
        if head.startswith(b"<"):
            table = _picks_from_quakeml(path)
        else:
            try:
                table = pd.read_csv(path, dtype=str, keep_default_na=False)
            except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
                raise DataFormatError(f"{path} is not a readable CSV file: {exc}") from None
    cols = set(table.columns)
    has_station = "trace_id" in cols or {"network", "station"} <= cols
    missing = [c for c in ("phase", "time") if c not in cols] + ([] if has_station else ["trace_id"])
    if missing:
        raise DataFormatError(
            f"{source} lacks column(s) {', '.join(missing)} (found: "
            f"{', '.join(map(str, table.columns)) or 'none'}); expected phase, time and trace_id "
            f"(NET.STA.LOC.CHA) or network + station"
        )
    if table.empty:
        raise DataFormatError(f"{source} holds no picks (header only)")
    phases = [normalize_phase(p) for p in table["phase"]]
    unknown = sorted({str(p) for p, n in zip(table["phase"], phases, strict=True) if n is None})
    if unknown:
        raise DataFormatError(
            f"{source}: unknown phase name(s) {unknown}; expected P-type (P, Pg, Pn, Pb, p) or "
            f"S-type (S, Sg, Sn, Sb, s); rename or drop those rows"
        )
    if "trace_id" in cols:
        trace_ids = table["trace_id"].astype(str)
    else:
        trace_ids = table["network"].astype(str) + "." + table["station"].astype(str) + ".."
    parts = trace_ids.str.split(".")
    network = table["network"].astype(str) if "network" in cols else parts.str[0]
    station = table["station"].astype(str) if "station" in cols else parts.str[1].fillna("")
    times = []
    for i, value in enumerate(table["time"]):
        try:
            times.append(_utc(value))
        except Exception:
            raise DataFormatError(
                f"{source}: cannot read time {value!r} of pick {i}; write ISO 8601 UTC, "
                f"e.g. 2017-10-07T09:28:56.920000Z"
            ) from None
    event = table["event_id"].astype(str) if "event_id" in cols else ""
    return pd.DataFrame({
        "network": network.str.strip().to_numpy(), "station": station.str.strip().to_numpy(),
        "trace_id": trace_ids.to_numpy(), "phase": phases,
        "phase_hint": table["phase"].astype(str).to_numpy(), "time": times, "event_id": event,
    })
