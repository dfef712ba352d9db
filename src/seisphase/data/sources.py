"""Turn a ``DATA`` argument into windows: an NPZ file, ``synthetic:N[:seed]`` or a data-set folder."""

from __future__ import annotations

from pathlib import Path

from seisphase.data.npz import load_windows
from seisphase.data.windows import Windows, concatenate
from seisphase.errors import ConfigError, DataFormatError


def parse_synthetic(spec: str) -> tuple[int, int]:
    """``"synthetic:N[:seed]"`` → ``(N, seed)``; the seed defaults to 0."""
    parts = spec.split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        n = int(parts[1])
        seed = int(parts[2]) if len(parts) == 3 else 0
    except ValueError:
        raise ConfigError(
            f"cannot read {spec!r}: write synthetic:N or synthetic:N:SEED, e.g. synthetic:3000:1"
        ) from None
    if n < 3:
        raise ConfigError(f"{spec!r}: ask for at least 3 windows (one per class)")
    return n, seed


def load_data(spec: str, *, components: str | None = None, require_labels: bool = True) -> Windows:
    """Load one ``DATA`` argument.

    Parameters
    ----------
    spec : str
        Path of an NPZ file, a SeisBench-format data-set folder (``metadata.csv`` +
        ``waveforms.hdf5``), or ``synthetic:N[:seed]``.
    components : str, optional
        Component order of the file's channels, overriding what the file says.
    require_labels : bool
        Whether labels must be present.
    """
    if spec.startswith("synthetic:"):
        from seisphase.data.synthetic import make_synthetic

        n, seed = parse_synthetic(spec)
        return make_synthetic(n, seed=seed)
    path = Path(spec)
    if path.is_dir():
        if (path / "metadata.csv").exists():
            from seisphase.data.seisbench import load_seisbench

            return load_seisbench(path, components=components)
        raise DataFormatError(
            f"{path} is a folder without metadata.csv; expected an .npz file or a "
            f"SeisBench-format data set (metadata.csv + waveforms.hdf5)"
        )
    return load_windows(path, components=components, require_labels=require_labels)


def load_many(specs: list[str], **kwargs) -> Windows:
    """Load and concatenate several ``DATA`` arguments (same rate and window length)."""
    return concatenate([load_data(s, **kwargs) for s in specs])
