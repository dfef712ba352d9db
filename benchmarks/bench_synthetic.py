"""Speed and realism of the synthetic generator.

    python benchmarks/bench_synthetic.py [--n 20000] [--repeat 3] [--realism-n 3000]

Prints windows per second of ``make_synthetic(n)`` (best of ``--repeat``, wall clock, with the
CPU time of the same run: on a shared machine the CPU rate is what the code can do) and the
class-median comparison of ``make_synthetic(3000, seed=0)`` with the real 3-component windows in
``tests/data/real_dev.npz`` (H/V, vertical spectral centroid, after/before RMS).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402

from seisphase.data.npz import load_windows  # noqa: E402
from seisphase.data.realism import compare_to_real, format_comparison  # noqa: E402
from seisphase.data.synthetic import make_synthetic  # noqa: E402

REAL_DEV = Path(__file__).parent.parent / "tests" / "data" / "real_dev.npz"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--realism-n", type=int, default=3000)
    args = parser.parse_args(argv)

    print(f"machine: {machine()}")
    make_synthetic(1000, seed=0)                                  # warm up imports and caches
    best_wall = best_cpu = float("inf")
    for seed in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        make_synthetic(args.n, seed=seed)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    print(f"make_synthetic({args.n}): {best_wall:.3f} s -> {args.n / best_wall:,.0f} windows/s "
          f"(wall, best of {args.repeat}); {args.n / best_cpu:,.0f} windows/s per CPU-second")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = load_windows(REAL_DEV).with_components("ZNE")
    table = compare_to_real(make_synthetic(args.realism_n, seed=0), real)
    print(f"\nrealism: make_synthetic({args.realism_n}, seed=0) vs {REAL_DEV.name} "
          f"(3-component windows)")
    print(format_comparison(table))
    return 0 if table["within_tolerance"].all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
