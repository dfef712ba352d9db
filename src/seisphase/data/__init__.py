"""Data layer: windows, file formats, splits and generators. Never imports torch."""

from seisphase.data.npz import load_windows, save_windows
from seisphase.data.split import Split, split_windows
from seisphase.data.windows import (
    CANONICAL_COMPONENTS,
    PHASES,
    SAMPLING_RATE,
    WINDOW_SAMPLES,
    Windows,
    check_labels,
    check_windows,
    concatenate,
)

__all__ = [
    "CANONICAL_COMPONENTS", "PHASES", "SAMPLING_RATE", "WINDOW_SAMPLES", "Split", "Windows",
    "check_labels", "check_windows", "concatenate", "load_windows", "save_windows", "split_windows",
]
