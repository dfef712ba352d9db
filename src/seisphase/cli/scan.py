"""``seisphase scan``: pick P and S in continuous waveforms (files or an SDS archive).

Scans station after station (a progress bar each), extracts picks, and writes the picks CSV and,
on request, QuakeML, the probability traces (miniSEED) and one figure per station. All outputs
are written to temporary files first and renamed only when everything succeeded.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from pathlib import Path

from seisphase.errors import ConfigError, DataError, DataFormatError

_PLOT_POINTS = 20000  # waveform samples kept per trace for a figure


def add_parser(sub) -> None:
    p = sub.add_parser(
        "scan", help="pick P and S in continuous waveforms",
        description="Slide a saved model over continuous waveforms (ObsPy-readable files or an "
                    "SDS archive), write probability traces and picks.")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("waveforms", metavar="WAVEFORMS", nargs="*",
                   help="waveform files (miniSEED, SAC, ... anything obspy.read reads)")
    g = p.add_argument_group("SDS archive (instead of files)")
    g.add_argument("--sds", metavar="ROOT", help="root of an SDS archive")
    g.add_argument("--start", metavar="TIME",
                   help="start time, e.g. 2024-01-01T00:00:00 (required with --sds; trims files)")
    g.add_argument("--end", metavar="TIME", help="end time (required with --sds; trims files)")
    g.add_argument("--stations", metavar="NET.STA,...",
                   help="stations to scan (default: all in the archive or files)")
    g = p.add_argument_group("picking")
    g.add_argument("--stride", type=int, default=10, metavar="N",
                   help="window step in samples at the model's rate (default 10)")
    g.add_argument("--threshold-p", metavar="P",
                   help="P trigger probability (default: a picker's calibrated threshold, 0.5 for "
                        "other models), or precision:0.9 for the threshold that reached that "
                        "window precision on the model's validation split")
    g.add_argument("--threshold-s", metavar="P",
                   help="S trigger probability (default: as --threshold-p), or precision:0.9")
    g.add_argument("--threshold-s-vertical", metavar="P",
                   help="S trigger probability at stations without horizontals (default: the "
                        "picker's own, chosen on labelled records by train-picker --waveforms; "
                        "else --threshold-s)")
    g.add_argument("--min-separation", type=float, default=1.0, metavar="SECONDS",
                   help="minimum time between two picks of one phase and station (default 1)")
    g = p.add_argument_group("outputs")
    g.add_argument("--out", required=True, metavar="CSV", help="picks CSV to write")
    g.add_argument("--quakeml", metavar="XML", help="also write the picks as QuakeML")
    g.add_argument("--probabilities", metavar="MSEED", help="write the probability traces (miniSEED)")
    g.add_argument("--plot", metavar="DIR", help="write one figure per station into DIR")
    g.add_argument("--quiet", action="store_true", help="no progress bars and no summary")
    p.set_defaults(run=run)


def _time(value: str, name: str):
    from obspy import UTCDateTime

    try:
        return UTCDateTime(value)
    except Exception:  # UTCDateTime raises several types on bad strings
        raise ConfigError(f"{name} {value!r} is not a time; use e.g. 2024-01-01T00:00:00") from None


def _check_args(args):
    """Validate options before any work, so that a bad call writes nothing."""
    if bool(args.waveforms) == bool(args.sds):
        raise ConfigError("give waveform files or --sds ROOT (one of the two)")
    start = _time(args.start, "--start") if args.start else None
    end = _time(args.end, "--end") if args.end else None
    if args.sds and (start is None or end is None):
        raise ConfigError("--sds needs --start and --end")
    if start is not None and end is not None and end <= start:
        raise ConfigError(f"--end ({end}) must come after --start ({start})")
    if args.stride < 1:
        raise ConfigError(f"--stride must be at least 1 sample, got {args.stride}")
    for name in ("threshold_p", "threshold_s", "threshold_s_vertical"):
        value = getattr(args, name)
        if value is None:
            continue
        number = value.split(":", 1)[1] if value.startswith("precision:") else value
        try:
            ok = 0 < float(number) <= 1
        except ValueError:
            ok = False
        if not ok:
            raise ConfigError(f"--{name.replace('_', '-')} must be a probability in (0, 1] or "
                              f"precision:TARGET, got {value!r}")
    for name in ("out", "quakeml", "probabilities"):
        path = getattr(args, name)
        if path and Path(path).is_dir():
            raise ConfigError(f"--{name} {path} is a directory; give a file name")
    if args.plot and Path(args.plot).exists() and not Path(args.plot).is_dir():
        raise ConfigError(f"--plot {args.plot} exists and is not a directory")
    if args.sds and not Path(args.sds).is_dir():
        raise DataFormatError(f"--sds {args.sds}: no such directory")
    stations = None
    if args.stations:
        stations = [s.strip() for s in args.stations.split(",") if s.strip()]
        bad = [s for s in stations if len(s.split(".")) not in (2, 3)]
        if bad or not stations:
            raise ConfigError(f"--stations takes NET.STA[.LOC] codes separated by commas, got {args.stations!r}")
    return start, end, stations


def _wanted(tr, stations) -> bool:
    s = tr.stats
    return any(code in (f"{s.network}.{s.station}", f"{s.network}.{s.station}.{s.location}")
               for code in stations)


def _read_files(paths, start, end, stations):
    """One stream per station (``NET.STA``) from waveform files."""
    import obspy

    st = obspy.Stream()
    for path in paths:
        if not Path(path).is_file():
            raise DataFormatError(f"{path}: no such file")
        try:
            st += obspy.read(path)
        except Exception as exc:  # ObsPy raises TypeError, ValueError, ... on unreadable files
            raise DataFormatError(f"{path}: cannot read waveforms ({type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else 'unknown format'})") from None
    if start is not None or end is not None:
        st.trim(start, end)
    if stations:
        st = obspy.Stream([tr for tr in st if _wanted(tr, stations)])
        if not st:
            raise DataError(f"no trace of the stations {', '.join(stations)} in the files")
    groups: dict[str, obspy.Stream] = {}
    for tr in st:
        groups.setdefault(f"{tr.stats.network}.{tr.stats.station}", obspy.Stream()).append(tr)
    for key in sorted(groups):
        yield key, groups[key]


def _read_sds(root, start, end, stations):
    """One stream per station (``NET.STA``) from an SDS archive."""
    from obspy.clients.filesystem.sds import Client

    client = Client(str(root))
    if stations is None:
        codes = sorted({(n, s) for n, s, _, _ in client.get_all_nslc(datetime=start)})
        stations = [f"{n}.{s}" for n, s in codes]
        if not stations:
            raise DataError(f"the SDS archive {root} holds no data for {start.year}")
    for code in stations:
        net, sta, loc = (code.split(".") + ["*"])[:3]
        yield code, client.get_waveforms(net, sta, loc, "*", start, end)


def _thin(stream):
    """A light copy of waveforms for a figure: high-passed at 1 Hz, at most ``_PLOT_POINTS``
    samples per trace."""
    import numpy as np

    out = stream.copy().split()
    for tr in out:
        tr.data = tr.data.astype(np.float64)
        tr.filter("highpass", freq=1.0)  # microseisms hide local events at this scale
        step = max(1, tr.stats.npts // _PLOT_POINTS)
        if step > 1:
            tr.data = tr.data[::step]
            tr.stats.sampling_rate /= step
    return out


def _plot(waveforms, probabilities, picks, station, path):
    from seisphase.plots import plot_scan, save_figure

    save_figure(plot_scan(waveforms, probabilities, picks, station=station), path, dpi=100)


def _thresholds(args, model) -> dict:
    """extract_picks thresholds: the options given, else the picker's own, else 0.5."""
    own = model.thresholds() if hasattr(model, "thresholds") else {}
    tp = (own.get("threshold_p", 0.5) if args.threshold_p is None
          else _threshold(args.threshold_p, model, "P"))
    if args.threshold_s is None:
        ts, tsv = own.get("threshold_s", 0.5), own.get("threshold_s_vertical")
    else:
        ts = _threshold(args.threshold_s, model, "S")
        tsv = None  # an S threshold given by the user holds everywhere unless told otherwise
    if args.threshold_s_vertical is not None:
        tsv = _threshold(args.threshold_s_vertical, model, "S")
    return {"threshold_p": tp, "threshold_s": ts, "threshold_s_vertical": tsv}


def _threshold(value: str, model, phase: str) -> float:
    """A probability, or the validation threshold stored for a target precision."""
    if not value.startswith("precision:"):
        return float(value)
    target = f"{float(value.split(':', 1)[1]):g}"
    table = ((getattr(model, "info_", None) or {}).get("calibration") or {}).get(
        "thresholds_for_precision", {})
    if target not in table.get(phase, {}):
        have = ", ".join(table.get(phase, {})) or "none"
        raise ConfigError(f"the model stores no {phase} threshold for precision {target} "
                          f"(stored: {have}); give a probability instead")
    return float(table[phase][target])


def run(args) -> int:
    import obspy

    from seisphase._atomic import atomic_path
    from seisphase.classifier import PhaseClassifier
    from seisphase.picks import extract_picks, picks_to_catalog, picks_to_dataframe
    from seisphase.scan import scan, too_short_error

    start, end, stations = _check_args(args)
    t_begin = time.perf_counter()
    if (Path(args.model_dir) / "picker.json").exists():  # the scan-ready picker
        from seisphase.picker import Picker

        model = Picker.load(args.model_dir)
    else:
        model = PhaseClassifier.load(args.model_dir)
    thresholds = _thresholds(args, model)
    source = (_read_sds(args.sds, start, end, stations) if args.sds
              else _read_files(args.waveforms, start, end, stations))
    probabilities, reports, thinned = obspy.Stream(), [], {}
    for code, stream in source:
        if not stream:
            warnings.warn(f"no data for {code} between {start} and {end}", stacklevel=1)
            continue
        probs, report = scan(stream, model, stride=args.stride, progress=not args.quiet,
                             allow_empty=True)
        probabilities += probs
        reports.append(report)
        if args.plot and probs:
            thinned[code] = _thin(stream)
    n_windows = sum(r["n_windows"] for r in reports)
    if n_windows == 0:
        if not reports:
            raise DataError("no waveforms to scan")
        longest = max(r["longest_segment"]["duration_s"] for r in reports)
        station = next(r["longest_segment"]["station"] for r in reports
                       if r["longest_segment"]["duration_s"] == longest)
        raise too_short_error(model.n_samples_, model.sampling_rate_, longest, station)
    short = sum(len(r["short_segments"]) for r in reports)
    if short:
        warnings.warn(f"{short} gap-free segment(s) shorter than one window were not scanned",
                      stacklevel=1)
    picks = extract_picks(probabilities, min_separation_s=args.min_separation, **thresholds)

    with contextlib.ExitStack() as stack:  # rename every output only when all are written
        tmp = stack.enter_context(atomic_path(args.out))
        picks_to_dataframe(picks).to_csv(tmp, index=False)
        if args.quakeml:
            tmp = stack.enter_context(atomic_path(args.quakeml))
            picks_to_catalog(picks).write(str(tmp), format="QUAKEML")
        if args.probabilities:
            tmp = stack.enter_context(atomic_path(args.probabilities))
            probabilities.write(str(tmp), format="MSEED")
        for code, waveforms in thinned.items():
            net, sta = code.split(".")[:2]
            tmp = stack.enter_context(atomic_path(Path(args.plot) / f"{code}.png"))
            _plot(waveforms, probabilities.select(network=net, station=sta),
                  [q for q in picks if q.station_id == f"{net}.{sta}"], code, tmp)

    if not args.quiet:
        n_st = sum(r["n_stations"] for r in reports)
        hours = sum(r["hours"] for r in reports)
        counts = {ph: sum(q.phase == ph for q in picks) for ph in ("P", "S")}
        print(f"scanned {n_st} station(s), {hours:.2f} h of data: {counts['P']} P and "
              f"{counts['S']} S picks in {time.perf_counter() - t_begin:.1f} s -> {args.out}")
    return 0
