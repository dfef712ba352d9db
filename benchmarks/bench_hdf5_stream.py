"""Stream growing SeisBench data sets with ``iter_seisbench``: windows/s and peak memory.

Writes synthetic SeisBench-format data sets (3 × 3000-sample traces at 100 Hz with a P and an S
arrival each) of growing size into a temporary folder, then streams each one in a fresh
process (so that each peak RSS is that size's own) and prints windows per second and peak
resident memory, next to ``load_seisbench`` (everything in memory) for reference. With a fixed
``--chunk-size`` the streaming peak stays nearly flat while the data set grows (what grows is
the metadata table): memory is bounded by one chunk of traces, not by the data set.

Run: ``python benchmarks/bench_hdf5_stream.py [--sizes 2000 8000 32000] [--chunk-size 1024]``
(needs ``seisbench``; about a minute on two cores, 1.5 GB of temporary disk).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

NPTS = 3000
SPLITS = ("train",) * 8 + ("dev", "test")


def write_dataset(path: Path, n_traces: int, seed: int = 0) -> float:
    """Write ``n_traces`` synthetic traces; returns the file size in MB."""
    import contextlib
    import io

    import seisbench.data as sbd

    rng = np.random.default_rng(seed)
    base = rng.standard_normal((64, 3, NPTS), dtype=np.float32)
    with contextlib.redirect_stderr(io.StringIO()), \
            sbd.WaveformDataWriter(path / "metadata.csv", path / "waveforms.hdf5") as writer:
        writer.data_format = {"dimension_order": "CW", "component_order": "ZNE",
                              "sampling_rate": 100.0}
        for i in range(n_traces):
            p = int(rng.integers(800, 2000))
            writer.add_trace({
                "trace_name": f"tr{i}", "trace_P_arrival_sample": p,
                "trace_S_arrival_sample": p + int(rng.integers(50, 600)),
                "split": SPLITS[i % 10], "station_network_code": "XX", "station_code": f"S{i % 50}",
            }, base[i % 64] * (1 + i % 7))
    return (path / "waveforms.hdf5").stat().st_size / 1e6


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1e6


def stream(path: str, chunk_size: int) -> dict:
    """Read one data set (run in its own process); returns counts, time and memory.

    ``chunk_size > 0`` streams with ``iter_seisbench``; ``0`` loads everything at once with
    ``load_seisbench`` (the in-memory reference); ``< 0`` trains one epoch of an MLP with
    ``seisphase train --stream --chunk-size -chunk_size`` (streamed training).
    """
    import seisbench.data  # noqa: F401  (import cost is not streaming cost)

    from seisphase.data.seisbench import iter_seisbench, load_seisbench

    baseline = _rss_mb()
    t0 = time.perf_counter()
    n = 0
    if chunk_size < 0:
        import tempfile

        from seisphase.cli import main as cli

        with tempfile.TemporaryDirectory() as out:
            cli(["train", path, "--stream", "--chunk-size", str(-chunk_size), "--model", "mlp",
                 "--epochs", "1", "--quiet", "--out", f"{out}/m"])
            n = json.loads(Path(f"{out}/m/model.json").read_text())["split"]["sizes"]["validation"]
    elif chunk_size > 0:
        for windows in iter_seisbench(path, chunk_size=chunk_size):
            n += windows.n_windows
    else:
        n = load_seisbench(path).n_windows
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB → MB on Linux
    return {"windows": n, "seconds": seconds, "baseline_mb": baseline, "peak_mb": peak}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000, 32000])
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument("--no-compare", action="store_true",
                        help="skip the load_seisbench (all in memory) reference rows")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "CHUNK"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(stream(args.child[0], int(args.child[1]))))
        return 0
    print(f"chunk_size={args.chunk_size} traces; traces 3 x {NPTS} float32")
    print(f"{'traces':>7} {'hdf5 MB':>8} {'write s':>8} {'mode':>6} {'windows':>8} {'read s':>7} "
          f"{'windows/s':>10} {'base MB':>8} {'peak MB':>8} {'peak-base':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = Path(tmp) / f"ds{size}"
            t0 = time.perf_counter()
            mb = write_dataset(path, size)
            write_s = time.perf_counter() - t0
            for chunk in [args.chunk_size, -args.chunk_size] + ([] if args.no_compare else [0]):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), str(chunk)],
                    check=True, capture_output=True, text=True,
                ).stdout
                r = json.loads(out.strip().splitlines()[-1])
                mode = {1: "stream", -1: "train", 0: "load"}[int(np.sign(chunk))]
                print(f"{size:>7} {mb:>8.0f} {write_s:>8.1f} {mode:>6} {r['windows']:>8} "
                      f"{r['seconds']:>7.2f} {r['windows'] / r['seconds']:>10.0f} "
                      f"{r['baseline_mb']:>8.0f} {r['peak_mb']:>8.0f} "
                      f"{r['peak_mb'] - r['baseline_mb']:>9.0f}", flush=True)
            for f in path.iterdir():
                f.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
