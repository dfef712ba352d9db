"""``seisphase report``: one self-contained HTML report of a run directory."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report", help="write one self-contained HTML report of a run directory",
        description="Write one HTML file (images embedded, no JavaScript, nothing fetched from "
                    "the network) with the data, models, training curves, metrics, confusion "
                    "matrices, calibration, sweep and scan results found in RUN_DIR: the output "
                    "directory of 'seisphase demo', a model directory of 'seisphase train', or "
                    "any directory holding some of their files.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--out", metavar="HTML",
                   help="report file to write (default: RUN_DIR/report.html)")
    p.set_defaults(run=run)


def run(args) -> int:
    from seisphase.report import write_report

    out = Path(args.out) if args.out else Path(args.run_dir) / "report.html"
    path = write_report(args.run_dir, out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
