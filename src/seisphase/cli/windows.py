"""``seisphase windows``: cut labelled windows from continuous waveforms and a pick list."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "windows", help="cut labelled P / S / noise windows from waveforms + picks",
        description="Read waveform files (miniSEED, SAC, any ObsPy format) and a pick list "
                    "(CSV with phase, time and trace_id or network + station; or QuakeML), cut "
                    "4-s windows with each pick in the central second plus noise windows away "
                    "from the picks, and write them as an NPZ file.",
    )
    p.add_argument("waveforms", nargs="+", metavar="WAVEFORMS", help="waveform file(s)")
    p.add_argument("--picks", required=True, metavar="FILE",
                   help="pick list: CSV (picks.csv) or QuakeML (picks.xml)")
    p.add_argument("--out", required=True, metavar="NPZ", help="NPZ file to write")
    p.add_argument("--noise-per-pick", type=int, default=1, metavar="N",
                   help="noise windows per pick window (default 1)")
    p.add_argument("--noise-distance", type=float, default=2.0, metavar="SECONDS",
                   help="minimum time between a noise window and any pick of its station "
                        "(default 2.0)")
    p.add_argument("--seed", type=int, default=0, help="seed of pick offsets and noise positions")
    p.set_defaults(run=run)


def run(args) -> int:
    from seisphase.data.continuous import windows_from_waveforms
    from seisphase.data.npz import save_windows

    windows, s = windows_from_waveforms(
        list(args.waveforms), args.picks, noise_per_pick=args.noise_per_pick,
        noise_min_distance_s=args.noise_distance, seed=args.seed,
    )
    save_windows(args.out, windows)
    print(format_summary(args.out, s))
    return 0


def format_summary(out, s: dict) -> str:
    """One line: windows written per class and picks skipped per reason."""
    return (
        f"wrote {out}: {s['n_windows']} windows (P {s['n_P']}, S {s['n_S']}, noise "
        f"{s['n_noise']}) from {s['n_picks']} picks at {s['n_stations']} stations; skipped "
        f"{s['skipped_outside']} outside the data"
        + (f" ({s['picks_without_station']} at stations without waveforms)"
           if s.get("picks_without_station") else "")
        + f", {s['skipped_gap']} across a gap, "
        f"{s['skipped_edge']} at the data's edge"
    )
