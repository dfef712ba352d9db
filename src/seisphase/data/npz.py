"""Read and write labelled windows as NPZ files.

Two layouts are read, both with ``X`` of shape ``(n_windows, n_samples, n_channels)``:

* the lab's ``seismograms.npz``: only ``X`` and ``Y``; the component order is not stored and is
  assumed to be N, E, Z (with a warning saying how to override it);
* the project's layout (also that of ``real_dev.npz``): ``X``, ``Y``, ``channel_order``,
  ``sampling_rate`` and any number of 1-D per-window metadata arrays.

:func:`save_windows` writes the second layout, so files round-trip.
"""

from __future__ import annotations

import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from seisphase._atomic import atomic_path
from seisphase.data.windows import Windows, check_components
from seisphase.errors import DataError, DataFormatError, SeisphaseWarning

LAB_COMPONENTS = "NEZ"
"""Component order assumed for files that do not state theirs (the lab's data set)."""

_RESERVED = {"X", "Y", "label", "channel_order", "components", "sampling_rate"}


def load_windows(
    path: str | os.PathLike,
    *,
    components: str | None = None,
    require_labels: bool = True,
) -> Windows:
    """Load windows from an NPZ file and convert them to the canonical form.

    Parameters
    ----------
    path : path
        NPZ file with ``X`` (n_windows, n_samples, n_channels) and ``Y`` (n_windows,).
    components : str, optional
        Component order of the file's channels (e.g. ``"ENZ"``); overrides what the file says.
        Files that do not say are read as N, E, Z with a warning.
    require_labels : bool
        Raise if ``Y`` is missing (training, evaluation); ``False`` for prediction.

    Returns
    -------
    Windows
        Waveforms ``(n_windows, n_channels, n_samples)`` in the file's component order.
    """
    path = Path(path)
    if not path.exists():
        raise DataFormatError(f"{path}: no such file")
    if path.is_dir():
        raise DataFormatError(f"{path} is a directory; expected an .npz file")
    if path.stat().st_size == 0:
        raise DataFormatError(f"{path} is empty (0 bytes); re-create or re-download it")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise DataFormatError(
            f"{path} is not a readable NPZ file (corrupt or truncated?): {exc}"
        ) from None
    if "X" not in arrays:
        raise DataFormatError(
            f"{path} has no array 'X' (found: {', '.join(sorted(arrays)) or 'none'}); expected "
            f"X of shape (n_windows, n_samples, n_channels) and labels Y"
        )
    labels = arrays.get("Y", arrays.get("label"))
    if labels is None and require_labels:
        raise DataFormatError(
            f"{path} has no labels 'Y' (found: {', '.join(sorted(arrays))}); training and "
            f"evaluation need Y with 0 = P, 1 = S, 2 = noise"
        )
    x = arrays["X"]
    if x.ndim != 3:
        raise DataError(
            f"{path}: expected X of shape (n_windows, n_samples, n_channels), got {x.shape}"
            + ("; for one window use X[None]" if x.ndim == 2 else "")
        )
    stored = arrays.get("channel_order", arrays.get("components"))
    if components is None:
        if stored is not None:
            components = str(stored)
        else:
            if x.shape[2] not in (1, 3):
                raise DataError(
                    f"{path} has {x.shape[2]} channels and does not store their order; pass "
                    f"--components with one letter per channel (e.g. --components ZN)"
                )
            components = LAB_COMPONENTS if x.shape[2] == 3 else "Z"
            warnings.warn(
                f"{path.name} does not store its component order; assuming "
                f"{components} (the lab's). Pass --components (e.g. --components ENZ) if wrong",
                SeisphaseWarning,
                stacklevel=2,
            )
    components = check_components(components, x.shape[2])
    rate = float(arrays["sampling_rate"]) if "sampling_rate" in arrays else 100.0
    meta = _metadata(arrays, x.shape[0])
    return Windows(np.transpose(x, (0, 2, 1)), labels, rate, components, meta)


def _metadata(arrays: dict, n: int) -> pd.DataFrame | None:
    cols = {
        k: v for k, v in arrays.items()
        if k not in _RESERVED and v.ndim == 1 and v.shape[0] == n
    }
    return pd.DataFrame(cols) if cols else None


def save_windows(path: str | os.PathLike, windows: Windows) -> Path:
    """Write ``windows`` as NPZ (project layout) atomically; returns the path.

    The file holds ``X`` (n_windows, n_samples, n_channels), ``Y`` (when labelled),
    ``channel_order``, ``sampling_rate`` and one array per metadata column.
    """
    path = Path(path)
    arrays = {
        "X": np.transpose(windows.waveforms, (0, 2, 1)),
        "channel_order": np.array(windows.components),
        "sampling_rate": np.array(windows.sampling_rate, dtype=np.float64),
    }
    if windows.labels is not None:
        arrays["Y"] = windows.labels
    if windows.metadata is not None:
        for col in windows.metadata.columns:
            values = windows.metadata[col].to_numpy()
            if values.dtype == object:
                values = values.astype(str)
            arrays[str(col)] = values
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, **arrays)
    return path
