"""``seisphase export``: write windows as a SeisBench data set or an NPZ file."""

from __future__ import annotations

from seisphase.cli._common import add_components_arg

FORMATS = ("seisbench", "npz")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export", help="write windows as a SeisBench data set or NPZ",
        description="Load DATA (NPZ file, SeisBench data-set folder or synthetic:N[:seed]) and "
                    "write it as a SeisBench-format data set (folder with metadata.csv + "
                    "waveforms.hdf5, one trace per window) or as an NPZ file.",
    )
    p.add_argument("data", metavar="DATA")
    add_components_arg(p)
    p.add_argument("--format", choices=FORMATS, dest="format",
                   help="output format (default: npz if --out ends in .npz, else seisbench)")
    p.add_argument("--out", required=True, metavar="PATH", help="output file or folder")
    p.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from seisphase.data.npz import save_windows
    from seisphase.data.seisbench import write_seisbench
    from seisphase.data.sources import load_data
    from seisphase.errors import ConfigError

    fmt = getattr(args, "format", None) or ("npz" if str(args.out).endswith(".npz") else "seisbench")
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(args.out)
    if fmt == "seisbench" and out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file; a SeisBench data set is a folder, give a folder path")
    data = load_data(args.data, components=getattr(args, "components", None), require_labels=False)
    if fmt == "npz":
        save_windows(out, data)
    else:
        write_seisbench(data, out)
    counts = data.class_counts()
    detail = f" ({', '.join(f'{p} {n}' for p, n in counts.items())})" if counts else ""
    print(f"wrote {out} ({fmt}): {data.n_windows} windows{detail}")
    return 0
