"""Seeded train / validation / test splits, stratified by class and grouped by event or station.

Splitting windows at random lets windows of one event (or one station) fall into both training
and test data, which inflates scores. When the metadata carry a grouping column, every group
lands in exactly one split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seisphase.data.windows import Windows
from seisphase.errors import ConfigError, DataError

GROUP_COLUMNS = ("event_id", "record", "station_id")
"""Metadata columns used for grouping, in order of preference (``group_by="auto"``)."""


@dataclass(frozen=True)
class Split:
    """Indices of the windows in each part, and how they were chosen."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    seed: int
    group_by: str | None
    fractions: tuple[float, float, float]

    def summary(self) -> dict:
        """JSON-ready description (sizes, seed, grouping) for the model file."""
        return {
            "method": f"grouped by {self.group_by}" if self.group_by else "stratified random",
            "group_by": self.group_by,
            "seed": self.seed,
            "fractions": list(self.fractions),
            "sizes": {
                "train": int(self.train.size),
                "validation": int(self.validation.size),
                "test": int(self.test.size),
            },
        }


def resolve_group_column(windows: Windows, group_by: str | None = "auto") -> str | None:
    """The metadata column to group by: ``"auto"`` picks the first of :data:`GROUP_COLUMNS`."""
    if group_by in (None, "none"):
        return None
    meta = windows.metadata
    if group_by == "auto":
        if meta is None:
            return None
        return next((c for c in GROUP_COLUMNS if c in meta.columns), None)
    if meta is None or group_by not in meta.columns:
        have = [] if meta is None else list(meta.columns)
        raise ConfigError(
            f"cannot group by {group_by!r}: the data have no such metadata column "
            f"(columns: {', '.join(have) or 'none'})"
        )
    return group_by


def split_windows(
    windows: Windows,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    *,
    seed: int = 0,
    group_by: str | None = "auto",
) -> Split:
    """Split windows into train / validation / test.

    Parameters
    ----------
    windows : Windows
        Labelled windows.
    fractions : (train, validation, test)
        Target fractions of windows; they must sum to 1. A fraction of 0 gives an empty part.
    seed : int
        Seed of the shuffle; the same seed gives the same split.
    group_by : str or None
        Metadata column whose groups must not straddle parts, ``"auto"`` (first of
        :data:`GROUP_COLUMNS` present) or ``None`` for a stratified random split.

    Returns
    -------
    Split
    """
    if windows.labels is None:
        raise DataError("splitting needs labelled windows")
    fr = np.asarray(fractions, dtype=float)
    if fr.shape != (3,) or (fr < 0).any() or abs(fr.sum() - 1) > 1e-6 or fr[0] <= 0:
        raise ConfigError(
            f"split fractions must be three non-negative numbers summing to 1 with a "
            f"non-empty training part, got {tuple(fractions)}"
        )
    column = resolve_group_column(windows, group_by)
    rng = np.random.default_rng(seed)
    if column is None:
        groups = np.arange(windows.n_windows)
    else:
        groups = np.unique(windows.metadata[column].astype(str).to_numpy(), return_inverse=True)[1]
    parts = _stratified_group_assign(windows.labels, groups, fr, rng)
    return Split(*(np.sort(np.nonzero(parts == k)[0]) for k in range(3)), seed=seed,
                 group_by=column, fractions=tuple(float(f) for f in fr))


def _stratified_group_assign(labels, groups, fractions, rng) -> np.ndarray:
    """Assign whole groups to parts so that each part gets its fraction of every class.

    Groups are visited in random order; each goes to the part whose per-class counts lie
    furthest below their targets (a greedy version of scikit-learn's StratifiedGroupKFold,
    which cannot take unequal fractions).
    """
    n_classes = int(labels.max()) + 1
    n_groups = int(groups.max()) + 1
    counts = np.zeros((n_groups, n_classes))
    np.add.at(counts, (groups, labels), 1)
    target = fractions[:, None] * counts.sum(0)[None, :]
    have = np.zeros_like(target)
    assign = np.empty(n_groups, dtype=np.int64)
    # Large groups first (in random order among equals) so the small ones can even things out.
    order = rng.permutation(n_groups)
    order = order[np.argsort(-counts[order].sum(1), kind="stable")]
    for g in order:
        # Unfilled share of each part's target, weighted by the classes this group holds.
        unfilled = (target - have) / np.maximum(target, 1e-9)
        deficit = (unfilled * counts[g][None, :]).sum(1) / max(counts[g].sum(), 1)
        deficit[fractions == 0] = -np.inf
        k = int(np.argmax(deficit))
        assign[g] = k
        have[k] += counts[g]
    return assign[groups]


def group_kfold(windows: Windows, n_folds: int, *, column: str, seed: int = 0):
    """Yield ``(train_index, test_index)`` for grouped, class-balanced k-fold cross-validation."""
    if windows.labels is None:
        raise DataError("cross-validation needs labelled windows")
    groups = np.unique(windows.metadata[column].astype(str).to_numpy(), return_inverse=True)[1]
    if groups.max() + 1 < n_folds:
        raise ConfigError(f"{n_folds} folds need at least {n_folds} distinct {column} values")
    fr = np.full(n_folds, 1.0 / n_folds)
    fold = _stratified_group_assign(windows.labels, groups, fr, np.random.default_rng(seed))
    for k in range(n_folds):
        yield np.nonzero(fold != k)[0], np.nonzero(fold == k)[0]


SPLIT_NAMES = {"train": 0, "dev": 1, "validation": 1, "val": 1, "test": 2}


def split_from_column(windows: Windows, column: str = "split") -> Split | None:
    """The split a data set ships with (SeisBench's ``split`` column: train / dev / test).

    Returns ``None`` when the metadata have no such column; unknown values are an error.
    """
    meta = windows.metadata
    if meta is None or column not in meta.columns:
        return None
    values = meta[column].astype(str).str.lower().to_numpy()
    unknown = sorted(set(values) - set(SPLIT_NAMES))
    if unknown:
        raise DataError(
            f"the {column!r} column holds {unknown}; expected train, dev (or validation) and test"
        )
    part = np.array([SPLIT_NAMES[v] for v in values])
    idx = [np.nonzero(part == k)[0] for k in range(3)]
    n = max(windows.n_windows, 1)
    return Split(*idx, seed=-1, group_by=f"{column} column",
                 fractions=tuple(float(i.size / n) for i in idx))
