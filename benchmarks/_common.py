"""Shared bits of the benchmark scripts: data, timing, machine description."""

from __future__ import annotations

import os
import platform
import time

import numpy as np


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def windows(n: int, seed: int = 0):
    """``n`` labelled windows: the synthetic generator when present, else jittered real windows."""
    try:
        from seisphase.data.synthetic import make_synthetic
    except ImportError:
        make_synthetic = None
    if make_synthetic is not None:
        return make_synthetic(n, seed=seed)
    from pathlib import Path

    from seisphase.data.npz import load_windows
    from seisphase.data.windows import Windows

    real = load_windows(Path(__file__).parent.parent / "tests/data/real_dev.npz")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, real.n_windows, n)
    x = real.waveforms[idx] * rng.lognormal(0, 0.3, (n, 1, 1)).astype(np.float32)
    x += rng.normal(0, 1, x.shape).astype(np.float32) * x.std(axis=2, keepdims=True) * 0.2
    return Windows(x, real.labels[idx], 100.0, real.components)


def best_of(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best
