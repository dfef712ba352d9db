"""The canonical in-memory form of labelled seismogram windows.

Inside seisphase every set of windows is a :class:`Windows`: ``float32`` waveforms of shape
``(n_windows, n_channels, n_samples)`` (PyTorch ``Conv1d`` order), ``int64`` labels indexing
:data:`PHASES`, the sampling rate, the component order (one letter per channel, e.g. ``"ZNE"``)
and optional per-window metadata. Loaders convert to this form at the edge; :func:`check_windows`
and :func:`check_labels` are the one place that validates it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from seisphase.errors import DataError

PHASES: tuple[str, ...] = ("P", "S", "N")
"""Class names in label order: 0 = P wave, 1 = S wave, 2 = noise (the lab's and GPD's order)."""

CANONICAL_COMPONENTS = "ZNE"
"""Component order used inside the package."""

SAMPLING_RATE = 100.0
"""Sampling rate (Hz) of every window the package trains on."""

WINDOW_SAMPLES = 400
"""Default window length in samples (4 s at 100 Hz)."""

# Horizontal components named 1/2 (unknown orientation) stand in for N/E.
_COMPONENT_ALIASES = {"1": "N", "2": "E"}


def check_windows(waveforms, *, name: str = "waveforms") -> np.ndarray:
    """Validate waveforms and return them as a C-contiguous ``float32`` array.

    Parameters
    ----------
    waveforms : array_like, shape (n_windows, n_channels, n_samples)
        Floating-point samples, finite everywhere.

    Raises
    ------
    DataError
        On a wrong rank, an empty array, a non-float dtype or NaN/inf values; the message says
        how to fix it.
    """
    arr = np.asarray(waveforms)
    if arr.ndim != 3:
        hint = " for one window use x[None]" if arr.ndim == 2 else ""
        raise DataError(
            f"expected {name} of shape (n_windows, n_channels, n_samples), got shape "
            f"{arr.shape};{hint or ' reshape or stack your windows into a 3-D array'}"
        )
    if arr.size == 0:
        raise DataError(f"{name} are empty (shape {arr.shape}); give at least one window with samples")
    if not np.issubdtype(arr.dtype, np.floating):
        raise DataError(
            f"expected floating-point {name}, got dtype {arr.dtype}; convert with "
            f"x.astype(np.float32) (integer counts are fine once converted)"
        )
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.unique(np.nonzero(~finite)[0])
        raise DataError(
            f"{name} contain NaN or inf in {bad.size} window(s) (first: index {bad[0]}); "
            f"remove those windows or fill the gaps before classifying"
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_labels(labels, n_windows: int) -> np.ndarray:
    """Validate labels against :data:`PHASES` and return them as ``int64``.

    Raises
    ------
    DataError
        If labels are not 1-D integers in ``0..len(PHASES)-1`` with one per window.
    """
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise DataError(f"expected labels of shape (n_windows,), got shape {arr.shape}")
    if arr.shape[0] != n_windows:
        raise DataError(
            f"got {arr.shape[0]} labels for {n_windows} windows; give exactly one label per window"
        )
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise DataError("labels must be whole numbers 0 (P), 1 (S) or 2 (noise)")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise DataError(
            f"expected integer labels 0 (P), 1 (S), 2 (noise), got dtype {arr.dtype}; map phase "
            f"names with {{'P': 0, 'S': 1, 'N': 2}}"
        )
    bad = (arr < 0) | (arr >= len(PHASES))
    if bad.any():
        raise DataError(
            f"labels must be 0 (P), 1 (S) or 2 (noise); found {np.unique(arr[bad]).tolist()} "
            f"in {int(bad.sum())} window(s)"
        )
    return arr.astype(np.int64)


def check_components(components: str, n_channels: int | None = None) -> str:
    """Validate a component string such as ``"ZNE"``, ``"ENZ"``, ``"Z12"`` or ``"Z"``."""
    comps = str(components).upper()
    if not comps or len(set(comps)) != len(comps) or not set(comps) <= set("ZNE12"):
        raise DataError(
            f"components must be distinct letters from Z, N, E (or 1, 2), one per channel, "
            f"e.g. 'ZNE' or 'ENZ'; got {components!r}"
        )
    if n_channels is not None and len(comps) != n_channels:
        raise DataError(
            f"components {comps!r} name {len(comps)} channel(s) but the waveforms have "
            f"{n_channels}; give one letter per channel (e.g. --components ENZ)"
        )
    return comps


def canonical_components(components: str) -> str:
    """Map 1/2 horizontals onto N/E: ``"Z12"`` → ``"ZNE"``."""
    return "".join(_COMPONENT_ALIASES.get(c, c) for c in components.upper())


def component_index(have: str, wanted: str) -> list[int] | None:
    """Channel indices that pick ``wanted`` out of data in order ``have`` (1/2 count as N/E);
    ``None`` when ``have`` lacks one of them."""
    have, wanted = canonical_components(have), canonical_components(wanted)
    if any(c not in have for c in wanted):
        return None
    return [have.index(c) for c in wanted]


@dataclass(eq=False)
class Windows:
    """Labelled (or unlabelled) seismogram windows in the package's canonical form.

    Parameters
    ----------
    waveforms : ndarray, shape (n_windows, n_channels, n_samples)
        ``float32`` samples in counts (or any unit), component order given by ``components``.
    labels : ndarray, shape (n_windows,), optional
        ``int64`` indices into :data:`PHASES`; ``None`` for data to classify.
    sampling_rate : float
        Samples per second.
    components : str
        One letter per channel, e.g. ``"ZNE"``.
    metadata : DataFrame, optional
        One row per window (``event_id``, ``station_id``, ``pick_sample``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> w = Windows(np.zeros((2, 3, 400), np.float32) + 1.0, np.array([0, 2]))
    >>> w.n_windows, w.components
    (2, 'ZNE')
    """

    waveforms: np.ndarray
    labels: np.ndarray | None = None
    sampling_rate: float = SAMPLING_RATE
    components: str = CANONICAL_COMPONENTS
    metadata: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self):
        self.waveforms = check_windows(self.waveforms)
        n = self.waveforms.shape[0]
        if self.labels is not None:
            self.labels = check_labels(self.labels, n)
        self.components = check_components(self.components, self.waveforms.shape[1])
        rate = float(self.sampling_rate)
        if not np.isfinite(rate) or rate <= 0:
            raise DataError(f"sampling_rate must be a positive number of Hz, got {self.sampling_rate!r}")
        self.sampling_rate = rate
        if self.metadata is not None:
            if len(self.metadata) != n:
                raise DataError(
                    f"metadata has {len(self.metadata)} rows for {n} windows; give one row per window"
                )
            self.metadata = self.metadata.reset_index(drop=True)

    @property
    def n_windows(self) -> int:
        return self.waveforms.shape[0]

    @property
    def n_channels(self) -> int:
        return self.waveforms.shape[1]

    @property
    def n_samples(self) -> int:
        return self.waveforms.shape[2]

    def __len__(self) -> int:
        return self.n_windows

    def subset(self, index) -> Windows:
        """Windows at ``index`` (an integer array or boolean mask), metadata included."""
        index = np.asarray(index)
        return Windows(
            self.waveforms[index],
            None if self.labels is None else self.labels[index],
            self.sampling_rate,
            self.components,
            None if self.metadata is None else self.metadata.iloc[index].reset_index(drop=True),
        )

    def with_components(self, components: str) -> Windows:
        """Reorder (or select) channels to ``components``; 1/2 count as N/E.

        A component the data lack raises :class:`DataError`.
        """
        wanted = check_components(components)
        order = component_index(self.components, wanted)
        if order is None:
            have = canonical_components(self.components)
            missing = [c for c in canonical_components(wanted) if c not in have]
            raise DataError(
                f"the data have components {self.components!r} but {''.join(missing)!r} "
                f"is needed; pass the right --components for the file or train a model on "
                f"the components you have"
            )
        if order == list(range(self.n_channels)) and wanted == self.components:
            return self
        return Windows(
            self.waveforms[:, order], self.labels, self.sampling_rate, wanted, self.metadata
        )

    def class_counts(self) -> dict[str, int]:
        """Number of windows per phase (requires labels)."""
        if self.labels is None:
            return {}
        counts = np.bincount(self.labels, minlength=len(PHASES))
        return {p: int(c) for p, c in zip(PHASES, counts, strict=True)}

    def fingerprint(self) -> str:
        """SHA-256 (first 16 hex digits) of waveforms, labels, rate and components."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.waveforms).tobytes())
        if self.labels is not None:
            h.update(self.labels.tobytes())
        h.update(f"{self.sampling_rate}|{self.components}".encode())
        return h.hexdigest()[:16]


def concatenate(parts: list[Windows]) -> Windows:
    """Join several :class:`Windows` (same rate and length) into one, in the first one's order."""
    if not parts:
        raise DataError("nothing to concatenate: give at least one set of windows")
    first = parts[0]
    aligned = []
    for w in parts:
        if w.sampling_rate != first.sampling_rate or w.n_samples != first.n_samples:
            raise DataError(
                f"cannot join windows of {w.n_samples} samples at {w.sampling_rate:g} Hz with "
                f"windows of {first.n_samples} samples at {first.sampling_rate:g} Hz"
            )
        aligned.append(w.with_components(first.components))
    labelled = [w.labels is not None for w in aligned]
    if any(labelled) and not all(labelled):
        raise DataError("cannot join labelled and unlabelled windows")
    metas = [w.metadata for w in aligned]
    meta = None
    if any(m is not None for m in metas):
        meta = pd.concat(
            [m if m is not None else pd.DataFrame(index=range(w.n_windows)) for m, w in zip(metas, aligned, strict=True)],
            ignore_index=True,
        )
    return Windows(
        np.concatenate([w.waveforms for w in aligned]),
        np.concatenate([w.labels for w in aligned]) if all(labelled) else None,
        first.sampling_rate,
        first.components,
        meta,
    )
