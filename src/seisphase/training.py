"""One readable training loop for every seisphase network.

The lab re-batches through a Python ``DataLoader`` + ``SubsetRandomSampler`` each step, which
spends most of its time collating single samples. Here the whole training set is one tensor;
each epoch draws one seeded permutation and slices contiguous batches from the shuffled copy,
so there is no per-sample Python work.

This module owns the loop (:func:`train_network`), the head-only freezing
(:func:`head_module`), the optimiser, validation loss and checkpoints. The settings and records
it works with (:class:`TrainConfig`, :class:`ChunkStream`, :class:`History`, ``OPTIMIZERS``,
``TRAINABLE``) live in :mod:`seisphase.training_config` and are re-exported here.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seisphase.errors import ConfigError, ModelFileError
from seisphase.training_config import OPTIMIZERS as OPTIMIZERS
from seisphase.training_config import TRAINABLE as TRAINABLE
from seisphase.training_config import ChunkStream, History, TrainConfig

CHECKPOINT_NAME = "checkpoint.pt"


def head_module(model: nn.Module) -> nn.Module:
    """The classification head: ``model.head`` when the network has one, else its last Linear."""
    head = getattr(model, "head", None)
    if isinstance(head, nn.Module):
        return head
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ConfigError(f"{type(model).__name__} has no head to train on its own; use trainable='all'")
    return linears[-1]


class _FrozenTrunk:
    """Context of a head-only run: the trunk's parameters get no gradient and its batch norms
    stay in evaluation mode (their running statistics are part of what is kept fixed)."""

    def __init__(self, model: nn.Module, active: bool):
        self.model, self.active = model, active
        self.head = head_module(model) if active else None

    def __enter__(self):
        if self.active:
            head_ids = {id(p) for p in self.head.parameters()}
            for p in self.model.parameters():
                p.requires_grad_(id(p) in head_ids)
        return self

    def train_mode(self) -> None:
        self.model.train()
        if self.active:
            head_ids = {id(m) for m in self.head.modules()}
            for m in self.model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm) and id(m) not in head_ids:
                    m.eval()

    def __exit__(self, *exc):
        if self.active:
            for p in self.model.parameters():
                p.requires_grad_(True)
        return False


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay, foreach=True)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, foreach=True)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, foreach=True)


@torch.no_grad()
def evaluate_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn,
                  batch_size: int = 4096) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``(x, y)`` in evaluation mode."""
    model.eval()
    total, correct = 0.0, 0
    for xb, yb in zip(x.split(batch_size), y.split(batch_size), strict=True):
        logits = model(xb)
        total += float(loss_fn(logits, yb)) * len(yb)
        correct += int((logits.argmax(1) == yb).sum())
    return total / len(y), correct / len(y)


def train_network(
    model: nn.Module,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    config: TrainConfig,
    *,
    augment=None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
) -> History:
    """Train ``model`` in place and return its :class:`History`; the best-validation weights are kept.

    Parameters
    ----------
    model : nn.Module
        Maps a batch of inputs to logits of shape (batch, n_classes).
    x_train, x_val : ndarray, shape (n, ...)
        Model inputs (features or preprocessed waveforms), float32. ``x_train`` may also be a
        :class:`ChunkStream` for data larger than memory (then ``y_train`` is ignored).
    y_train, y_val : ndarray, shape (n,)
        Integer labels.
    config : TrainConfig
    augment : callable, optional
        ``augment(xb, yb, generator) -> (xb, yb)`` applied to each training batch (not to
        validation); must use ``generator`` for randomness so runs reproduce.
    checkpoint_dir : path, optional
        Where ``checkpoint.pt`` is written after every epoch.
    resume : bool
        Continue from ``checkpoint_dir/checkpoint.pt`` when it exists.
    progress : bool
        Show a tqdm bar.
    """
    with _FrozenTrunk(model, config.trainable == "head") as frozen:
        return _train(model, x_train, y_train, x_val, y_val, config, frozen, augment,
                      checkpoint_dir, resume, progress)


def _train(model, x_train, y_train, x_val, y_val, config, frozen, augment, checkpoint_dir,
           resume, progress) -> History:
    stream = x_train if isinstance(x_train, ChunkStream) else None
    if len(y_val) == 0 or (stream is None and len(y_train) == 0):
        raise ConfigError("training needs at least one training and one validation window")
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    if stream is None:
        train = ChunkStream(lambda: [(x_train, y_train)], len(y_train),
                            tuple(np.bincount(y_train, minlength=3).tolist()))
    else:
        train = stream
    xv, yv = torch.as_tensor(x_val), torch.as_tensor(y_val, dtype=torch.long)
    weight = None
    if config.class_weighted:
        if train.class_counts is None:
            raise ConfigError("a class-weighted loss needs the class counts of the training data")
        counts = torch.tensor(train.class_counts, dtype=torch.float32).clamp_min(1)
        weight = counts.sum() / (len(counts) * counts)
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    eval_loss_fn = nn.CrossEntropyLoss()
    optimizer = make_optimizer(model, config)
    scheduler = None
    if config.one_cycle:
        if train.n_windows is None:
            raise ConfigError("a one-cycle schedule needs the number of training windows")
        steps_per_epoch = math.ceil(train.n_windows / config.batch_size)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch)

    fast_epoch = (_plain_sgd_epoch_fn(model, config)
                  if augment is None and weight is None and not frozen.active else None)
    history, start_epoch = History(), 0
    best_loss, best_state, bad_epochs = math.inf, copy.deepcopy(model.state_dict()), 0
    ckpt_path = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir else None
    if resume and ckpt_path is not None and ckpt_path.exists():
        state = load_checkpoint(ckpt_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler"):
            scheduler.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        history = History.from_dict(state["history"])
        best_state, best_loss = state["best_state"], state["best_loss"]
        bad_epochs, start_epoch = state["bad_epochs"], state["epoch"] + 1

    bar = _progress(range(start_epoch, config.epochs), progress, start_epoch, config.epochs)
    for epoch in bar:
        if history.stopped_early:
            break
        t0 = time.perf_counter()
        frozen.train_mode()
        total, correct, seen = 0.0, 0, 0
        for x_chunk, y_chunk in train.chunks():
            xc = torch.as_tensor(x_chunk)
            yc = torch.as_tensor(y_chunk, dtype=torch.long)
            # One gather per chunk: a shuffled copy, then contiguous slices (no sampler, no collate).
            perm = torch.randperm(len(yc), generator=gen)
            xs, ys = xc[perm], yc[perm]
            if fast_epoch is not None:
                t, c = fast_epoch(xs.numpy(), ys.numpy())
            else:
                t, c = _autograd_pass(model, xs, ys, config.batch_size, loss_fn, optimizer,
                                      scheduler, augment, gen)
            total, correct, seen = total + float(t), correct + int(c), seen + len(yc)
        if seen == 0:
            raise ConfigError("the training data yielded no windows")
        history.train_loss.append(total / seen)
        history.train_accuracy.append(correct / seen)
        val_loss, val_acc = evaluate_loss(model, xv, yv, eval_loss_fn)
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_acc)
        history.seconds.append(time.perf_counter() - t0)
        if val_loss < best_loss - 1e-6:
            best_loss, bad_epochs, history.best_epoch = val_loss, 0, epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad_epochs += 1
            if config.patience is not None and bad_epochs >= config.patience:
                history.stopped_early = True
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{val_loss:.3f}", acc=f"{val_acc:.3f}")
        if ckpt_path is not None:
            save_checkpoint(ckpt_path, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else {},
                "generator": gen.get_state(), "history": history.to_dict(),
                "best_state": best_state, "best_loss": best_loss,
                "bad_epochs": bad_epochs, "epoch": epoch,
            })
    model.load_state_dict(best_state)
    model.eval()
    return history


def _autograd_pass(model, xs, ys, batch_size, loss_fn, optimizer, scheduler, augment, gen):
    """One pass of minibatch steps over shuffled tensors; returns (summed loss, n correct)."""
    total, correct = 0.0, 0
    for xb, yb in zip(xs.split(batch_size), ys.split(batch_size), strict=True):
        if augment is not None:
            xb, yb = augment(xb, yb, gen)
        optimizer.zero_grad(set_to_none=True)
        logits = model(xb)
        loss = loss_fn(logits, yb)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        # Accumulate as tensors: no host sync per step.
        total += loss.detach() * len(yb)
        correct += (logits.detach().argmax(1) == yb).sum()
    return total, correct


def _plain_sgd_epoch_fn(model: nn.Module, config: TrainConfig):
    """A NumPy epoch for the lab's case: an MLP trained by plain SGD (no momentum, no schedule).

    Small batches of small MLPs spend nearly all their time in PyTorch's per-operation
    dispatch and autograd bookkeeping, not in arithmetic. For this one case the gradients of
    softmax cross-entropy through Linear+ReLU layers are written out by hand and applied in
    place to NumPy views of the model's own parameters: the same mathematics as
    ``torch.optim.SGD`` with ``weight_decay`` (checked against the autograd loop by a test),
    several times faster. Anything else returns ``None`` and uses the autograd loop.
    """
    from seisphase.models.mlp import MLP

    if (not isinstance(model, MLP) or config.optimizer != "sgd" or config.momentum
            or config.one_cycle):
        return None
    linears = [m for m in model.net if isinstance(m, nn.Linear)]
    params = [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in linears]
    lr, wd, bs = config.lr, config.weight_decay, config.batch_size

    def epoch(xs: np.ndarray, ys: np.ndarray) -> tuple[float, int]:
        total, correct = 0.0, 0
        for start in range(0, len(ys), bs):
            xb, yb = xs[start:start + bs], ys[start:start + bs]
            rows = np.arange(len(yb))
            acts = [xb]
            for i, (w, b) in enumerate(params):
                z = acts[-1] @ w.T + b
                acts.append(np.maximum(z, 0, out=z) if i < len(params) - 1 else z)
            logits = acts[-1]
            shifted = logits - logits.max(1, keepdims=True)
            expz = np.exp(shifted)
            norm = expz.sum(1, keepdims=True)
            total -= float((shifted[rows, yb] - np.log(norm[:, 0])).sum())
            correct += int((logits.argmax(1) == yb).sum())
            grad = expz / norm  # d(mean cross-entropy)/d(logits) = (softmax - onehot) / batch
            grad[rows, yb] -= 1.0
            grad /= len(yb)
            for i in range(len(params) - 1, -1, -1):
                w, b = params[i]
                gw, gb = grad.T @ acts[i], grad.sum(0)
                if i:
                    grad = (grad @ w) * (acts[i] > 0)
                if wd:
                    gw += wd * w
                    gb += wd * b
                w -= lr * gw
                b -= lr * gb
        return total, correct

    return epoch


def _progress(iterable, enabled: bool, initial: int, total: int):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, initial=initial, total=total, desc="epochs", leave=False, unit="ep")


def save_checkpoint(path: Path, state: dict) -> None:
    """Write a checkpoint atomically (a kill mid-write leaves the previous one intact)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> dict:
    """Read a checkpoint with ``weights_only=True`` (no code is unpickled)."""
    try:
        return torch.load(path, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise ModelFileError(
            f"cannot resume from {path}: the checkpoint is unreadable ({exc.__class__.__name__}); "
            f"delete it to start over"
        ) from None
