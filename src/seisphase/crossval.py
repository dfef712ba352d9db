"""Grouped cross-validation: how well does a model do on stations it has never seen?

:func:`cross_validate` answers the question a seismologist asks before trusting a model on their
network: take a model pre-trained elsewhere (e.g. on synthetic windows), fine-tune it on the
labelled windows of some stations and score it on stations it has never seen. Per seed, the
windows are split into ``n_folds`` folds grouped by ``column`` (no station in two folds,
classes balanced, :func:`seisphase.data.split.group_kfold`); per fold the model is fine-tuned on
the other folds (a grouped 15 % of them held out to pick the best epoch) and scored on the
fold, next to the pre-trained model as it was ("zero-shot"). Given an unfitted classifier it
trains one from scratch per fold instead (the "real data only" baseline). Vertical-only windows (metadata
``n_components == 1``) are also counted on their own.

Scores are kept as correct / total counts per fold, so :class:`CVResult` reports both the mean
± standard deviation over folds (with a 95 % interval of the mean) and the pooled accuracy over
every scored window.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from seisphase.classifier import PhaseClassifier
from seisphase.data.split import group_kfold, split_windows
from seisphase.data.windows import Windows
from seisphase.errors import DataError
from seisphase.training import TrainConfig

PARTS = ("all", "3-C", "vertical")


@dataclass
class FoldResult:
    """Correct and total windows per part (``all``, ``3-C``, ``vertical``) of one test fold."""

    seed: int
    fold: int
    fine_tuned: dict
    zero_shot: dict
    seconds: float
    n_train: int

    def accuracy(self, model: str = "fine_tuned", part: str = "all") -> float:
        ok, n = getattr(self, model)[part]
        return ok / n if n else float("nan")


@dataclass
class CVResult:
    """All folds of :func:`cross_validate` and their summaries."""

    folds: list[FoldResult] = field(default_factory=list)
    column: str = "station_id"
    n_folds: int = 5
    train: dict | list = field(default_factory=dict)
    class_prior: bool = False

    def summary(self, model: str = "fine_tuned", part: str = "all") -> dict:
        """Mean, std, 95 % interval half-width (over folds with windows) and pooled accuracy."""
        if not all(getattr(f, model) for f in self.folds):
            return {"mean": float("nan"), "std": float("nan"), "ci95": float("nan"),
                    "n_folds": 0, "pooled": float("nan"), "correct": 0, "windows": 0}
        acc = np.array([f.accuracy(model, part) for f in self.folds if getattr(f, model)[part][1]])
        ok = sum(getattr(f, model)[part][0] for f in self.folds)
        n = sum(getattr(f, model)[part][1] for f in self.folds)
        std = float(acc.std(ddof=1)) if acc.size > 1 else 0.0
        return {"mean": float(acc.mean()) if acc.size else float("nan"), "std": std,
                "ci95": 1.96 * std / np.sqrt(acc.size) if acc.size else float("nan"),
                "n_folds": int(acc.size), "pooled": ok / n if n else float("nan"),
                "correct": int(ok), "windows": int(n)}

    def to_dict(self) -> dict:
        return {"column": self.column, "n_folds": self.n_folds, "train": self.train,
                "class_prior": self.class_prior,
                "seeds": sorted({f.seed for f in self.folds}),
                "summary": {m: {p: self.summary(m, p) for p in PARTS}
                            for m in ("fine_tuned", "zero_shot")},
                "folds": [asdict(f) for f in self.folds]}

    def format_table(self) -> str:
        seeds = sorted({f.seed for f in self.folds})
        lines = [f"station-grouped {self.n_folds}-fold cross-validation (by {self.column}), "
                 f"seeds {seeds}, {len(self.folds)} folds",
                 f"{'model':<11}{'windows':<10}{'per fold mean ± std (95% CI)':<34}pooled"]
        for model in ("zero_shot", "fine_tuned"):
            for part in PARTS:
                s = self.summary(model, part)
                if not s["windows"]:
                    continue
                lines.append(f"{model.replace('_', '-'):<11}{part:<10}"
                             f"{s['mean']:.3f} ± {s['std']:.3f} (±{s['ci95']:.3f})".ljust(55)
                             + f"{s['correct']}/{s['windows']} = {s['pooled']:.3f}")
        return "\n".join(lines)


def vertical_only(windows: Windows) -> np.ndarray:
    """Mask of windows recorded on one component (metadata ``n_components == 1``)."""
    meta = windows.metadata
    if meta is not None and "n_components" in meta:
        return meta["n_components"].to_numpy() == 1
    return np.zeros(windows.n_windows, bool)


def _counts(clf: PhaseClassifier, windows: Windows, vertical: np.ndarray) -> dict:
    ok = clf.predict(windows) == windows.labels
    return {name: (int(ok[m].sum()), int(m.sum())) for name, m in
            (("all", np.ones_like(vertical)), ("3-C", ~vertical), ("vertical", vertical))}


def grouped_fine_tune(base: PhaseClassifier, windows: Windows, train, *, seed: int = 0,
                      column: str = "station_id", class_prior: bool = False):
    """``base`` fine-tuned on ``windows`` (or trained from scratch when unfitted), with a
    ``column``-grouped 15 % held out to choose the epoch; ``train`` is one
    :class:`TrainConfig` or several stages (their seeds replaced by ``seed``). With
    ``class_prior`` the result is re-targeted to the class mix of ``windows``.

    Returns ``(model, split)``; ``split`` holds the training and validation indices.
    """
    stages = [train] if isinstance(train, TrainConfig) else list(train)
    inner = split_windows(windows, (0.85, 0.15, 0.0), seed=seed, group_by=column)
    fit_w, args = windows.subset(inner.train), {"validation": windows.subset(inner.validation),
                                                "split_info": inner.summary()}
    tuned = base
    for i, cfg in enumerate(replace(t, seed=seed) for t in stages):
        if i or hasattr(base, "network_"):
            tuned = tuned.fine_tune(fit_w, train=cfg, **args)
        else:
            tuned = base.with_train(**asdict(cfg)).fit(fit_w, **args)
    if class_prior:
        tuned.set_class_prior(windows.class_counts())
    return tuned, inner


def cross_validate(base: PhaseClassifier, windows: Windows, train: TrainConfig, *,
                   n_folds: int = 5, column: str = "station_id", seeds=(0,), folds=None,
                   class_prior: bool = False, progress=None) -> CVResult:
    """Fine-tune ``base`` on all folds but one and score the one, for every fold and seed.

    Parameters
    ----------
    base : PhaseClassifier
        A fitted (pre-trained) model, fine-tuned per fold and not changed; or an unfitted
        one, trained from scratch per fold (then there are no zero-shot scores).
    windows : Windows
        Labelled windows with a ``column`` in their metadata.
    train : TrainConfig or sequence of TrainConfig
        Fine-tuning settings; several are stages run one after the other (e.g. the head
        alone, then every layer at a lower learning rate). Their ``seed`` is replaced by each
        seed in ``seeds`` (which also draws the folds).
    folds : list of int, optional
        Run only these folds of each seed's split.
    class_prior : bool
        Re-target each fine-tuned model to the class mix of its fine-tuning windows
        (:meth:`PhaseClassifier.set_class_prior`); pairs with a class-weighted loss.
    progress : callable, optional
        Called with each finished :class:`FoldResult` (e.g. to print it).
    """
    if windows.labels is None:
        raise DataError("cross-validation needs labelled windows")
    if windows.metadata is None or column not in windows.metadata:
        raise DataError(f"cross-validation groups by the {column!r} metadata column, which "
                        f"these windows lack; pass column= one they have")
    vertical = vertical_only(windows)
    fitted = hasattr(base, "network_")
    stages = [train] if isinstance(train, TrainConfig) else list(train)
    result = CVResult(column=column, n_folds=n_folds, class_prior=class_prior,
                      train=asdict(stages[0]) if len(stages) == 1 else [asdict(t) for t in stages])
    for seed in seeds:
        for k, (tr, te) in enumerate(group_kfold(windows, n_folds, column=column, seed=seed)):
            if folds is not None and k not in folds:
                continue
            t0 = time.perf_counter()
            tuned, inner = grouped_fine_tune(base, windows.subset(tr), stages, seed=int(seed),
                                             column=column, class_prior=class_prior)
            test_w = windows.subset(te)
            row = FoldResult(seed=int(seed), fold=k,
                             fine_tuned=_counts(tuned, test_w, vertical[te]),
                             zero_shot=_counts(base, test_w, vertical[te]) if fitted else {},
                             seconds=time.perf_counter() - t0, n_train=int(inner.train.size))
            result.folds.append(row)
            if progress is not None:
                progress(row)
    return result
