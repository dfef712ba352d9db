"""Shared fixtures: small, seeded windows and the real dev windows shipped in tests/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"
REAL_DEV = DATA / "real_dev.npz"


def toy_windows(n=120, seed=0, n_samples=400):
    """Cheap labelled windows whose class shows in the spectrum (P high, S low, N white)."""
    from seisphase.data.windows import Windows

    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    t = np.arange(n_samples) / 100.0
    x = rng.normal(size=(n, 3, n_samples)).astype(np.float32)
    freq = np.where(labels == 0, 12.0, 3.0)[:, None, None]
    onset = (t >= 2.0)[None, None, :]
    signal = 4 * np.sin(2 * np.pi * freq * t[None, None, :]) * onset
    x += np.where(labels[:, None, None] < 2, signal, 0).astype(np.float32)
    meta = pd.DataFrame({"event_id": [f"ev{i // 6}" for i in range(n)],
                         "station_id": [f"XX.S{i % 7}" for i in range(n)]})
    return Windows(x, labels, 100.0, "ZNE", meta)


@pytest.fixture
def windows():
    return toy_windows()


@pytest.fixture(scope="session")
def real_dev():
    import warnings

    from seisphase.data.npz import load_windows

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_windows(REAL_DEV)


@pytest.fixture(scope="session")
def quick_demo(tmp_path_factory):
    """One ``seisphase demo --quick`` run shared by the tests that inspect its output."""
    import contextlib
    import io

    from seisphase.cli import main

    out = tmp_path_factory.mktemp("quick_demo") / "demo"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["demo", "--quick", "--quiet", "--out", str(out)])
    return out, code, printed.getvalue()
