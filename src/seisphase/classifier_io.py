"""Saved classifiers: the model directory, its JSON document and the weights beside it.

A saved model is a directory holding ``model.safetensors`` (weights), ``model.json``
(everything needed to rebuild it: architecture, feature statistics, classes, components,
sampling rate, window length, calibration temperature, training config, seed, data
fingerprint, split, metrics, package version) and ``MODEL_CARD.md`` (a summary for people,
see :mod:`seisphase.card`). Loading never unpickles code.

This module owns that format: :func:`model_config` builds the JSON document, :func:`save_model`
writes the directory, :func:`read_model_config` checks and reads the JSON, and
:func:`load_model` rebuilds the classifier. Users call them through
:meth:`PhaseClassifier.save <seisphase.classifier.PhaseClassifier.save>` and
:meth:`PhaseClassifier.load <seisphase.classifier.PhaseClassifier.load>`; this module never
imports :mod:`seisphase.classifier` (the class to build is passed in), so imports go one way.

>>> from seisphase.classifier import PhaseClassifier          # doctest: +SKIP
>>> clf.save("models/mlp"); PhaseClassifier.load("models/mlp") # doctest: +SKIP
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from seisphase import __version__
from seisphase._atomic import atomic_directory
from seisphase.card import model_card
from seisphase.classifier_inputs import extractor_from_state
from seisphase.errors import ModelFileError
from seisphase.features import FeatureConfig
from seisphase.models import build_model
from seisphase.training import History, TrainConfig

FORMAT = "seisphase-model"
FORMAT_VERSION = 1
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "model.json"


def model_config(clf) -> dict:
    """The JSON document saved beside the weights of a fitted classifier.

    Parameters
    ----------
    clf : PhaseClassifier
        A fitted classifier.

    Returns
    -------
    dict
        JSON types only (plus NumPy scalars and arrays, which :func:`save_model` converts):
        ``format``, ``format_version``, ``model``, ``features``, ``train``, ``classes``,
        ``components``, ``sampling_rate``, ``n_samples``, ``temperature``, ``history``, ...
        and the classifier's ``info_`` (data, split, metrics, calibration, pretrained).

    Raises
    ------
    NotFittedError
        If ``clf`` is not fitted.
    """
    n_parameters = clf.n_parameters  # raises NotFittedError before anything else is read
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "seisphase_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": {"name": clf.model, "params": clf.model_params_,
                  "n_parameters": n_parameters},
        "features": clf.extractor_.state(),
        "train": asdict(clf.train_config_),
        "augment": clf.augment or {},
        "seed": clf.train_config_.seed,
        "classes": list(clf.classes_),
        "components": clf.components_,
        "sampling_rate": clf.sampling_rate_,
        "n_samples": clf.n_samples_,
        "temperature": clf.temperature_,
        "class_prior": getattr(clf, "class_prior_", None),
        "history": clf.history_.to_dict(),
        "environment": {"python": platform.python_version(), "torch": torch.__version__},
        **clf.info_,
    }


def save_model(clf, path) -> Path:
    """Write the model directory of a fitted classifier atomically.

    Parameters
    ----------
    clf : PhaseClassifier
        A fitted classifier; its :meth:`~seisphase.classifier.PhaseClassifier.to_config` is
        the JSON document written.
    path : path
        The model directory to write (replaced as a whole; a failure leaves no partial
        directory behind).

    Returns
    -------
    Path
        ``path``.
    """
    from safetensors.torch import save_file

    config = clf.to_config()
    path = Path(path)
    with atomic_directory(path) as tmp:
        state = {k: v.detach().contiguous() for k, v in clf.network_.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_NAME))
        (tmp / CONFIG_NAME).write_text(json.dumps(config, indent=2, default=_json_default))
        (tmp / "MODEL_CARD.md").write_text(model_card(config))
    return path


def read_model_config(path) -> dict:
    """The checked JSON document of a model directory.

    Parameters
    ----------
    path : path
        A model directory written by :func:`save_model`.

    Returns
    -------
    dict
        The parsed ``model.json``: a seisphase model file of a format version this package
        reads.

    Raises
    ------
    ModelFileError
        If the directory lacks ``model.json`` or ``model.safetensors``, the JSON is not valid
        or not a seisphase model file, or its format version is newer than this package reads.
    """
    path = Path(path)
    cfg_path, w_path = path / CONFIG_NAME, path / WEIGHTS_NAME
    if not cfg_path.exists() or not w_path.exists():
        raise ModelFileError(
            f"{path} is not a seisphase model directory (expected {CONFIG_NAME} and "
            f"{WEIGHTS_NAME}); train one with 'seisphase train ... --out {path}'"
        )
    try:
        cfg = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{cfg_path} is corrupt (not valid JSON: {exc})") from None
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        raise ModelFileError(f"{cfg_path} is not a seisphase model file")
    version = cfg.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses model format version {version}, newer than this seisphase "
            f"({__version__}) reads (<= {FORMAT_VERSION}); upgrade seisphase"
        )
    return cfg


def load_model(cls, path):
    """Rebuild a saved model from its JSON and weights (no unpickling).

    Parameters
    ----------
    cls : type
        The classifier class to build (:class:`~seisphase.classifier.PhaseClassifier` or a
        subclass); called with the saved settings as its constructor arguments.
    path : path
        A model directory written by :func:`save_model`.

    Returns
    -------
    PhaseClassifier
        A fitted classifier (network in ``eval()`` mode) that predicts as the saved one did.

    Raises
    ------
    ModelFileError
        If the directory is not a seisphase model, is of a newer format, or is corrupt or
        incomplete.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    cfg = read_model_config(path)
    try:
        clf = cls(cfg["model"]["name"], model_params=cfg["model"]["params"],
                  features=FeatureConfig(**cfg["features"]["config"]),
                  train=TrainConfig(**cfg["train"]), components=cfg["components"],
                  augment=cfg.get("augment") or None)
        clf.extractor_ = extractor_from_state(cfg["features"])
        input_shape = clf.extractor_.input_shape(cfg["n_samples"])
        clf.network_ = build_model(clf.model, input_shape, len(cfg["classes"]),
                                   **cfg["model"]["params"])
        state = load_file(str(path / WEIGHTS_NAME))
        clf.network_.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError, SafetensorError) as exc:
        raise ModelFileError(f"{path} is corrupt or incomplete: {exc}") from None
    clf.network_.eval()
    clf.classes_ = np.array(cfg["classes"])
    clf.components_ = cfg["components"]
    clf.sampling_rate_ = float(cfg["sampling_rate"])
    clf.n_samples_ = int(cfg["n_samples"])
    clf.model_params_ = cfg["model"]["params"]
    clf.train_config_ = clf.train
    clf.temperature_ = float(cfg.get("temperature", 1.0))
    clf.class_prior_ = cfg.get("class_prior")
    clf.history_ = History.from_dict(cfg["history"])
    clf.info_ = {"data": cfg.get("data"), "split": cfg.get("split"),
                 "metrics": cfg.get("metrics") or {}}
    for key in ("calibration", "pretrained"):
        if key in cfg:
            clf.info_[key] = cfg[key]
    return clf


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot store {type(obj).__name__} in model.json")
