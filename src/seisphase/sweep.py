"""Hyper-parameter sweeps: the lab's learning-rate, width and depth studies over any grid.

Every configuration of the grid is trained on the same train / validation / test split (its seed
is the base settings' ``split_seed``, by default their ``seed``), in parallel processes. Each
finished run appends one JSON line to ``OUT/results.jsonl``; running the same sweep again skips
the configurations already there, so an interrupted sweep resumes where it stopped and a grid can
be extended later. ``OUT/summary.csv`` holds the table of
:func:`seisphase.sweep_results.aggregate` and two figures show the scores against the learning
rate and the learning curves of the best settings (reading, tabulating and drawing the results is
:mod:`seisphase.sweep_results`).

>>> from seisphase.sweep import run_sweep                            # doctest: +SKIP
>>> from seisphase.sweep_results import aggregate, format_table      # doctest: +SKIP
>>> runs = run_sweep(["synthetic:3000"], {"model": "mlp", "optimizer": "sgd", "epochs": 30},
...                  {"lr": [1e-1, 1e-2, 1e-3, 1e-4, 1e-5], "hidden": [40, 100],
...                   "depth": [1, 2]}, "sweeps/lab", seeds=3)      # doctest: +SKIP
>>> print(format_table(aggregate(runs)))                            # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from seisphase._atomic import atomic_write_text
from seisphase.classifier import PhaseClassifier
from seisphase.data.sources import load_many
from seisphase.data.split import split_windows
from seisphase.errors import ConfigError
from seisphase.evaluation import evaluate
from seisphase.features import FeatureConfig
from seisphase.sweep_results import (
    RESULTS_NAME,
    aggregate,
    config_key,
    describe_config,
    load_results,
    runs_frame,
    to_jsonable,
    write_figures,
)
from seisphase.training import OPTIMIZERS, TrainConfig, make_optimizer

SWEEP_NAME = "sweep.json"
SUMMARY_NAME = "summary.csv"

TRAIN_KEYS = tuple(f.name for f in fields(TrainConfig))
MODEL_KEYS = ("model", "hidden", "width", "model_params", "features", "components", "augment")
DATA_KEYS = ("split", "group_by", "split_seed", "data_components")
GRID_KEYS = (*TRAIN_KEYS, "hidden", "depth", "width")
"""Settings a grid may vary: any ``TrainConfig`` field, the mlp's ``hidden`` widths (with
``depth``: layers of that width) and the cnn's ``width`` multiplier."""

_CASTS = {"lr": float, "momentum": float, "weight_decay": float, "width": float, "epochs": int,
          "batch_size": int, "seed": int, "depth": int, "optimizer": str, "patience": int}


# -- grid ------------------------------------------------------------------------------------
def _cast(key: str, value):
    """Values of one type, so that equal settings give equal keys (``0`` and ``0.0``)."""
    if key == "hidden":
        return tuple(map(int, value)) if isinstance(value, (list, tuple)) else int(value)
    if key in _CASTS and value is not None:
        return _CASTS[key](value)
    return value


def expand_grid(grid: dict[str, list]) -> list[dict]:
    """All combinations of the grid's values, in order (the last key varies fastest).

    Parameters
    ----------
    grid : dict of str to list
        Setting → values to try; keys among :data:`GRID_KEYS`. ``hidden`` values are layer
        widths; with ``depth`` each width is repeated ``depth`` times (``hidden=[40]``,
        ``depth=[1, 2]`` gives ``(40,)`` and ``(40, 40)``); without it a width is one layer
        and a list value such as ``[100, 40]`` is a whole network.

    Returns
    -------
    list of dict
        One configuration per combination, with ``hidden`` as a tuple and no ``depth`` key.

    >>> expand_grid({"lr": [0.1], "hidden": [40], "depth": [1, 2]})
    [{'lr': 0.1, 'hidden': (40,)}, {'lr': 0.1, 'hidden': (40, 40)}]
    """
    unknown = [k for k in grid if k not in GRID_KEYS]
    if unknown:
        raise ConfigError(f"cannot sweep {', '.join(map(repr, unknown))}; settings a grid may "
                          f"vary: {', '.join(GRID_KEYS)}")
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not len(values):
            raise ConfigError(f"grid values of {key!r} must be a non-empty list, got {values!r}")
    if "depth" in grid and "hidden" not in grid:
        raise ConfigError("a grid over depth needs hidden widths too, e.g. "
                          "{'hidden': [40], 'depth': [1, 2]}")
    configs = []
    for combo in itertools.product(*grid.values()):
        config = {k: _cast(k, v) for k, v in zip(grid, combo, strict=True)}
        if "depth" in config:
            depth, width = config.pop("depth"), config["hidden"]
            if isinstance(width, tuple) or depth < 1:
                raise ConfigError(f"with depth, hidden values are single widths and depth is at "
                                  f"least 1, got hidden={width!r}, depth={depth}")
            config["hidden"] = (width,) * depth
        elif isinstance(config.get("hidden"), int):
            config["hidden"] = (config["hidden"],)
        configs.append(config)
    return configs


# -- one run ---------------------------------------------------------------------------------
def make_classifier(settings: dict) -> PhaseClassifier:
    """An unfitted classifier from flat settings (model keys and ``TrainConfig`` fields).

    ``features`` may be a :class:`FeatureConfig` or its dict; ``width`` goes into the model
    parameters (the cnn's multiplier). Invalid values raise :class:`ConfigError`.
    """
    unknown = [k for k in settings if k not in (*MODEL_KEYS, *TRAIN_KEYS, *DATA_KEYS)]
    if unknown:
        raise ConfigError(f"unknown sweep settings {unknown}; valid: "
                          f"{', '.join((*MODEL_KEYS, *TRAIN_KEYS, *DATA_KEYS))}")
    features = settings.get("features")
    if isinstance(features, dict):
        features = FeatureConfig(**features)
    params = dict(settings.get("model_params") or {})
    if settings.get("width") is not None:
        params["width"] = float(settings["width"])
    train = TrainConfig(**{k: settings[k] for k in TRAIN_KEYS if k in settings})
    hidden = settings.get("hidden")
    return PhaseClassifier(settings.get("model", "mlp"),
                           hidden=None if hidden is None else tuple(hidden),
                           model_params=params or None, features=features, train=train,
                           components=settings.get("components"), augment=settings.get("augment"))


def _fit_one(job: tuple, parts: tuple) -> dict:
    """Train one configuration on the shared split and return its results row."""
    key, config, clf = job
    train, validation, test = parts
    t0 = time.perf_counter()
    clf.fit(train, validation=validation)
    seconds = time.perf_counter() - t0
    h, best = clf.history_, clf.history_.best_epoch
    result = evaluate(clf, test) if test.n_windows else None
    metrics = {
        # The best-validation weights are restored after training: score those.
        "val_accuracy": clf.score(validation),
        "val_loss": h.val_loss[best] if best >= 0 else None,  # -1: diverged from the start
        "test_accuracy": result and result.accuracy, "macro_f1": result and result.macro_f1,
        "train_seconds": seconds, "epochs": h.n_epochs, "best_epoch": best,
        "n_parameters": clf.n_parameters,
    }
    return to_jsonable({
        "key": key, "config": config, "metrics": metrics, "history": h.to_dict(),
        "finished": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "pid": os.getpid(),
    })


_worker_parts: tuple = ()  # set once per worker process by _init_worker (the shared split)


def _warm_up() -> None:
    """Pay torch's one-off costs of the first optimizer steps (seconds) outside the timings."""
    import torch

    model = torch.nn.Linear(2, 1)
    for name in OPTIMIZERS:
        optimizer = make_optimizer(model, TrainConfig(optimizer=name))
        model(torch.zeros(1, 2)).sum().backward()
        optimizer.step()


def _init_worker(parts: tuple) -> None:
    global _worker_parts
    import torch

    # Parallelism comes from the processes: one thread each keeps the cores from fighting.
    torch.set_num_threads(1)
    _warm_up()
    _worker_parts = parts


def _fit_in_worker(job: tuple) -> dict:
    return _fit_one(job, _worker_parts)


def _execute(jobs_list: list, parts: tuple, jobs: int, on_row) -> None:
    """Run every job, calling ``on_row(row)`` in this process as each finishes."""
    if not jobs_list:
        return
    if jobs == 1 or len(jobs_list) == 1:
        _warm_up()
        for job in jobs_list:
            on_row(_fit_one(job, parts))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: forking a process whose torch/OpenMP threads are running can deadlock.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(jobs_list)), mp_context=ctx,
                             initializer=_init_worker, initargs=(parts,)) as pool:
        futures = [pool.submit(_fit_in_worker, job) for job in jobs_list]
        try:
            for future in as_completed(futures):
                on_row(future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise


# -- results file ----------------------------------------------------------------------------
def _append_row(path: Path, row: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(row, separators=(",", ":")) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _check_same_sweep(out: Path, record: dict) -> None:
    """Refuse to mix runs of other data or other fixed settings into one results file."""
    path = out / SWEEP_NAME
    if path.exists():
        old = json.loads(path.read_text())
        common = set(old.get("base", {})) & set(record["base"])
        changed = sorted(k for k in common if old["base"][k] != record["base"][k])
        if old.get("fingerprint") != record["fingerprint"]:
            changed.insert(0, "data")
        if changed:
            raise ConfigError(
                f"{out} holds a sweep with other {', '.join(changed)}; resume it with the same "
                f"data and fixed settings, or choose another output folder"
            )
    atomic_write_text(path, json.dumps(record, indent=2))


# -- the sweep -------------------------------------------------------------------------------
def run_sweep(data_specs, base_args: dict, grid: dict, out_dir, jobs: int = 2, seeds: int = 1,
              *, progress: bool = False) -> pd.DataFrame:
    """Train every configuration of ``grid`` on one shared split; resumable.

    Parameters
    ----------
    data_specs : list of str
        ``DATA`` arguments as for ``seisphase train`` (NPZ files, data-set folders,
        ``synthetic:N[:seed]``); they are concatenated.
    base_args : dict
        Fixed settings: model keys (``model``, ``hidden``, ``width``, ``model_params``,
        ``features``, ``components``, ``augment``), any ``TrainConfig`` field, and the split:
        ``split`` (fractions, default 0.7 0.15 0.15), ``group_by`` (default ``"auto"``),
        ``split_seed`` (default: ``seed``, else 0), ``data_components`` (the files' order).
    grid : dict of str to list
        Settings to vary (see :func:`expand_grid`); they override ``base_args``.
    out_dir : path
        Gets ``results.jsonl`` (one line per finished run), ``sweep.json`` (data and fixed
        settings, checked on resume), ``summary.csv`` and the figures.
    jobs : int
        Parallel worker processes (one torch thread each).
    seeds : int
        Training seeds per configuration: ``seed``, ``seed + 1``, ... (unless the grid has
        ``seed``).
    progress : bool
        Print one line per finished run to stderr.

    Returns
    -------
    DataFrame
        One row per configuration (:func:`seisphase.sweep_results.runs_frame`), earlier runs
        included; ``attrs["ran"]`` and ``attrs["skipped"]`` count the runs trained now and those
        found in the results.
    """
    if int(jobs) < 1 or int(seeds) < 1:
        raise ConfigError(f"jobs and seeds must be at least 1, got jobs={jobs}, seeds={seeds}")
    base = dict(base_args)
    grid = dict(grid)
    if "seed" in grid and seeds > 1:
        raise ConfigError("give either seeds or a 'seed' list in the grid, not both")
    if "seed" not in grid:
        grid["seed"] = [int(base.get("seed", 0)) + i for i in range(int(seeds))]
    configs = expand_grid(grid)
    swept = set(grid)
    fixed = {k: v for k, v in base.items() if k not in swept and k not in DATA_KEYS}
    # Build every classifier now: a bad value fails before any process starts.
    jobs_all = [(config_key(c), c, make_classifier({**fixed, **c})) for c in configs]

    data = load_many(list(data_specs), components=base.get("data_components"))
    split = split_windows(data, tuple(base.get("split", (0.7, 0.15, 0.15))),
                          seed=int(base.get("split_seed", base.get("seed", 0))),
                          group_by=base.get("group_by", "auto"))
    if split.validation.size == 0:
        raise ConfigError("the validation split is empty; give it a positive fraction (split)")
    parts = (data.subset(split.train), data.subset(split.validation), data.subset(split.test))
    base["split_seed"] = split.seed

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = {"data": list(data_specs), "fingerprint": data.fingerprint(),
              "split": split.summary(),
              "base": to_jsonable({k: v for k, v in base.items() if k not in swept})}
    _check_same_sweep(out, record)
    done = {row["key"]: row for row in load_results(out, repair=True)}
    todo = [job for job in jobs_all if job[0] not in done]
    results_path = out / RESULTS_NAME

    def on_row(row):
        _append_row(results_path, row)
        done[row["key"]] = row
        if progress:
            m = row["metrics"]
            print(f"[{len(done)}/{len(jobs_all)}] {describe_config(row['config'])}: val accuracy "
                  f"{m['val_accuracy']:.3f} ({m['epochs']} epochs, {m['train_seconds']:.1f} s)",
                  file=sys.stderr)

    _execute(todo, parts, int(jobs), on_row)
    runs = runs_frame([done[key] for key, _, _ in jobs_all])
    runs.attrs.update(ran=len(todo), skipped=len(jobs_all) - len(todo))
    aggregate(runs).to_csv(out / SUMMARY_NAME, index=False)
    write_figures(runs, out)
    return runs
