"""Scores of a classifier on labelled windows, computed with ``sklearn.metrics``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from seisphase.data.windows import PHASES
from seisphase.errors import DataError


@dataclass(frozen=True)
class Evaluation:
    """Accuracy, macro-F1, Matthews correlation, per-class scores and the confusion matrix.

    ``confusion[i][j]`` counts windows of true class ``i`` predicted as ``j`` (order :data:`PHASES`).
    """

    accuracy: float
    macro_f1: float
    mcc: float
    per_class: dict
    confusion: list
    n_windows: int

    def to_dict(self) -> dict:
        return asdict(self)

    def format_table(self) -> str:
        """Readable multi-line summary."""
        lines = [
            f"windows {self.n_windows}   accuracy {self.accuracy:.3f}   "
            f"macro-F1 {self.macro_f1:.3f}   MCC {self.mcc:.3f}",
            "",
            f"{'class':<7}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}",
        ]
        for phase, s in self.per_class.items():
            lines.append(f"{phase:<7}{s['precision']:>10.3f}{s['recall']:>8.3f}"
                         f"{s['f1']:>7.3f}{s['support']:>9d}")
        lines += ["", "confusion (rows true, columns predicted)",
                  "       " + "".join(f"{p:>7}" for p in PHASES)]
        for phase, row in zip(PHASES, self.confusion, strict=True):
            lines.append(f"{phase:<7}" + "".join(f"{v:>7d}" for v in row))
        return "\n".join(lines)


def evaluate_predictions(y_true, y_pred) -> Evaluation:
    """Score predicted labels against true labels (both int arrays indexing :data:`PHASES`)."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        matthews_corrcoef,
        precision_recall_fscore_support,
    )

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or y_true.size == 0:
        raise DataError(
            f"need equal-length, non-empty label arrays, got {y_true.shape} and {y_pred.shape}"
        )
    labels = list(range(len(PHASES)))
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    per_class = {
        phase: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                "support": int(s[i])}
        for i, phase in enumerate(PHASES)
    }
    present = [k for k in labels if (y_true == k).any()]
    return Evaluation(
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        mcc=float(matthews_corrcoef(y_true, y_pred)),
        per_class=per_class,
        confusion=confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        n_windows=int(y_true.size),
    )


def evaluate(classifier, windows) -> Evaluation:
    """Evaluate a fitted classifier on labelled :class:`~seisphase.data.Windows`."""
    if windows.labels is None:
        raise DataError("evaluation needs labelled windows (the data have no Y)")
    return evaluate_predictions(windows.labels, classifier.predict(windows))
