"""The settings and records of a training run (no torch).

:class:`TrainConfig` (stored in every model file, with the run's :class:`History`) and
:class:`ChunkStream` (training data larger than memory) are plain dataclasses, together with the
valid ``OPTIMIZERS`` and ``TRAINABLE`` choices. The loop that uses them is
:func:`seisphase.training.train_network`; every name here stays importable from
:mod:`seisphase.training`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from seisphase.errors import ConfigError

OPTIMIZERS = ("sgd", "adam", "adamw")
TRAINABLE = ("all", "head")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (JSON types only; stored in the model file).

    Parameters
    ----------
    epochs : int
        Maximum number of passes over the training windows.
    batch_size : int
        Windows per gradient step (the lab: 32).
    optimizer : {"sgd", "adam", "adamw"}
    lr, momentum, weight_decay : float
        Learning rate, SGD momentum (the lab: 0), L2 penalty (the lab's ``weight_decay``).
    patience : int or None
        Stop when the validation loss has not improved for this many epochs and restore the
        best weights; ``None`` trains all epochs (the best weights are still restored).
    seed : int
        Seeds initialisation, shuffling and augmentation.
    class_weighted : bool
        Weight the loss by inverse class frequency of the training windows.
    one_cycle : bool
        One-cycle learning-rate schedule peaking at ``lr`` (helps the CNN).
    trainable : {"all", "head"}
        ``"head"`` trains only the network's classification head (the CNN's fully connected
        layers, an MLP's last layer) and keeps everything below it fixed, batch-norm
        statistics included: fine-tuning a pre-trained model on a few hundred windows.
    """

    epochs: int = 100
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    patience: int | None = 10
    seed: int = 0
    class_weighted: bool = False
    one_cycle: bool = False
    trainable: str = "all"

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"unknown optimizer {self.optimizer!r}; valid: {', '.join(OPTIMIZERS)}"
            )
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("epochs and batch_size must be at least 1")
        if not self.lr > 0:
            raise ConfigError(f"learning rate must be positive, got {self.lr}")
        if self.trainable not in TRAINABLE:
            raise ConfigError(
                f"unknown trainable {self.trainable!r}; valid: {', '.join(TRAINABLE)}"
            )
        if self.patience is not None and self.patience < 1:
            raise ConfigError("patience must be at least 1 (or None to train every epoch)")


@dataclass(frozen=True)
class ChunkStream:
    """Training data larger than memory: ``chunks()`` yields ``(x, y)`` arrays, afresh every epoch.

    Each epoch visits the chunks in the order the factory gives and shuffles within each chunk,
    so memory holds one chunk at a time. ``class_counts`` (per class, for a class-weighted loss)
    and ``n_windows`` (for a one-cycle schedule) are needed only by those options.
    """

    chunks: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]
    n_windows: int | None = None
    class_counts: tuple[int, ...] | None = None


@dataclass
class History:
    """Per-epoch training record."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(**d)

    @property
    def n_epochs(self) -> int:
        return len(self.train_loss)
