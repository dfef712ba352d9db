"""The user-facing classifier: features + network + config, with the scikit-learn contract.

>>> from seisphase.classifier import PhaseClassifier          # doctest: +SKIP
>>> clf = PhaseClassifier("mlp", hidden=(40,)).fit(train)      # doctest: +SKIP
>>> clf.predict_proba(test).sum(axis=1)                        # doctest: +SKIP
array([1., 1., ...])
>>> clf.save("models/mlp"); PhaseClassifier.load("models/mlp") # doctest: +SKIP

A saved model is a directory holding ``model.safetensors`` (weights) and ``model.json``
(everything needed to rebuild it: architecture, feature statistics, classes, components,
sampling rate, window length, calibration temperature, training config, seed, data
fingerprint, split, metrics, package version). Loading never unpickles code.
"""

from __future__ import annotations

import copy
import json
import platform
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from seisphase import __version__
from seisphase._atomic import atomic_directory
from seisphase.calibration import softmax
from seisphase.card import model_card
from seisphase.data.split import split_windows
from seisphase.data.windows import (
    CANONICAL_COMPONENTS,
    PHASES,
    Windows,
    check_components,
    concatenate,
)
from seisphase.errors import ConfigError, DataError, ModelFileError, NotFittedError
from seisphase.features import FeatureConfig, FeatureExtractor
from seisphase.models import build_model, count_parameters, model_spec
from seisphase.training import ChunkStream, History, TrainConfig, train_network

FORMAT = "seisphase-model"
FORMAT_VERSION = 1
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "model.json"


def make_extractor(config: FeatureConfig, components: str, sampling_rate: float):
    """Feature extractor for ``config.kind``: spectral features or preprocessed waveforms."""
    if config.kind == "waveform":
        from seisphase.preprocess import WaveformPreprocessor

        return WaveformPreprocessor(config, components, sampling_rate)
    return FeatureExtractor(config, components, sampling_rate)


def extractor_from_state(state: dict):
    if state["config"]["kind"] == "waveform":
        from seisphase.preprocess import WaveformPreprocessor

        return WaveformPreprocessor.from_state(state)
    return FeatureExtractor.from_state(state)


def as_windows(x, sampling_rate: float | None = None, components: str | None = None) -> Windows:
    """Accept :class:`Windows` or an array ``(n_windows, n_channels, n_samples)``."""
    if isinstance(x, Windows):
        return x
    arr = np.asarray(x)
    return Windows(
        arr, None, sampling_rate or 100.0,
        components or (CANONICAL_COMPONENTS if arr.ndim == 3 and arr.shape[1] == 3 else "Z"),
    )


def _train_validation(data: Windows, validation, components: str, seed: int, split_info):
    """Training and validation windows: ``validation`` as given, or 15 % of ``data`` held out."""
    if validation is None:
        sp = split_windows(data, (0.85, 0.15, 0.0), seed=seed)
        return data.subset(sp.train), data.subset(sp.validation), split_info or sp.summary()
    val_w = as_windows(validation).with_components(components)
    if val_w.labels is None:
        raise DataError("validation windows need labels")
    return data, val_w, split_info


def _data_info(data: Windows) -> dict:
    return {"fingerprint": data.fingerprint(), "n_windows": data.n_windows,
            "class_counts": data.class_counts()}


class PhaseClassifier:
    """P / S / noise classifier on windows, following the scikit-learn estimator contract.

    Parameters
    ----------
    model : str
        Registry name: ``"linear"``, ``"mlp"``, ``"cnn"`` (see :data:`seisphase.models.MODELS`).
    hidden : tuple of int, optional
        Hidden layer widths of the ``mlp`` (shortcut for ``model_params={"hidden": ...}``).
    model_params : dict, optional
        Other architecture parameters of the chosen model.
    features : FeatureConfig, optional
        Feature settings; default: the model's default kind.
    train : TrainConfig, optional
        Optimisation settings (seed included).
    components : str, optional
        Components the model reads, in order (default ``"ZNE"``; ``"Z"`` for a vertical-only
        model). Data in another order are reordered.
    augment : dict, optional
        Training-time augmentation options (waveform models), see :mod:`seisphase.augment`.
    progress : bool
        Show a progress bar while training.
    """

    def __init__(self, model: str = "mlp", *, hidden=None, model_params=None, features=None,
                 train=None, components=None, augment=None, progress=False):
        self.model = model
        self.hidden = hidden
        self.model_params = model_params
        self.features = features
        self.train = train
        self.components = components
        self.augment = augment
        self.progress = progress

    # -- fitting -------------------------------------------------------------------------
    def _resolved(self):
        spec = model_spec(self.model)
        params = dict(spec.defaults)
        params.update(self.model_params or {})
        if self.hidden is not None:
            params["hidden"] = [int(h) for h in self.hidden]
        features = self.features or FeatureConfig(kind=spec.default_features)
        expected_input = "waveforms" if features.kind == "waveform" else "features"
        if expected_input != spec.input:
            raise DataError(
                f"model {self.model!r} takes {spec.input} but features.kind is {features.kind!r}"
            )
        return params, features, self.train or TrainConfig()

    def fit(self, X, y=None, *, validation=None, checkpoint_dir=None, resume=False,
            split_info=None) -> PhaseClassifier:
        """Fit features (on these windows only) and train the network.

        Parameters
        ----------
        X : Windows or ndarray, shape (n_windows, n_channels, n_samples)
            Training windows (labels inside :class:`Windows` or given as ``y``).
        y : ndarray, shape (n_windows,), optional
        validation : Windows, optional
            Windows for early stopping; default: 15 % of ``X`` held out (grouped by event or
            station when the metadata allow).
        checkpoint_dir, resume :
            Checkpoint every epoch into ``checkpoint_dir``; ``resume`` continues from it.
        split_info : dict, optional
            Description of how the caller split the data, stored with the model.
        """
        data = as_windows(X)
        if y is not None:
            data = Windows(data.waveforms, y, data.sampling_rate, data.components, data.metadata)
        if data.labels is None:
            raise DataError("fit needs labels: pass y or Windows with labels")
        params, fcfg, tcfg = self._resolved()
        comps = check_components(self.components or CANONICAL_COMPONENTS)
        data = data.with_components(comps)
        train_w, val_w, split_info = _train_validation(data, validation, comps, tcfg.seed,
                                                       split_info)
        extractor = make_extractor(fcfg, comps, data.sampling_rate).fit(train_w.waveforms)
        x_train = extractor.transform(train_w.waveforms)
        return self._train(extractor, x_train, train_w.labels, val_w, data.n_samples, params,
                           tcfg, _data_info(data), split_info, checkpoint_dir, resume)

    def fine_tune(self, X, y=None, *, train: TrainConfig | None = None, validation=None,
                  checkpoint_dir=None, resume=False, split_info=None) -> PhaseClassifier:
        """A new classifier that starts from this one's weights and trains on ``X``.

        What was learnt before is kept as it is: the architecture, the component order and
        the input pipeline (waveform preprocessing, or the feature statistics of the
        pre-training data; they are not refitted on the few new windows). ``self`` is not
        changed. The new model records where it came from in ``info_["pretrained"]``
        (sources, data fingerprint, seed and training settings of the pre-training); its
        calibration temperature starts again at 1 (refit it with
        :func:`seisphase.calibration.calibrate`).

        Parameters
        ----------
        X, y, validation, checkpoint_dir, resume, split_info :
            As in :meth:`fit`.
        train : TrainConfig, optional
            Settings of the fine-tuning (default: those of the pre-training). Typical:
            a few tens of epochs at a lower learning rate, ``trainable="head"`` for a few
            hundred windows.

        Examples
        --------
        >>> base = PhaseClassifier.load("models/cnn")                     # doctest: +SKIP
        >>> tuned = base.fine_tune(my_windows, train=TrainConfig(epochs=30, lr=3e-4))  # doctest: +SKIP
        """
        self._check_fitted()
        data = as_windows(X, self.sampling_rate_, self.components_)
        if y is not None:
            data = Windows(data.waveforms, y, data.sampling_rate, data.components, data.metadata)
        if data.labels is None:
            raise DataError("fine_tune needs labels: pass y or Windows with labels")
        self.prepare(data.subset(np.arange(min(1, data.n_windows))))  # rate, length, components
        tcfg = train or self.train_config_
        data = data.with_components(self.components_)
        train_w, val_w, split_info = _train_validation(data, validation, self.components_,
                                                       tcfg.seed, split_info)
        tuned = PhaseClassifier(self.model, hidden=self.hidden, model_params=self.model_params_,
                                features=self.extractor_.config, train=tcfg,
                                components=self.components_, augment=self.augment,
                                progress=self.progress)
        network = copy.deepcopy(self.network_)
        tuned._train(self.extractor_, self.extractor_.transform(train_w.waveforms),
                     train_w.labels, val_w, self.n_samples_, self.model_params_, tcfg,
                     _data_info(data), split_info, checkpoint_dir, resume, network=network)
        before = self.info_.get("data") or {}
        tuned.info_["pretrained"] = {
            "sources": before.get("sources"), "fingerprint": before.get("fingerprint"),
            "n_windows": before.get("n_windows"), "split": self.info_.get("split"),
            "seed": self.train_config_.seed,
            "train": asdict(self.train_config_), "epochs": self.history_.n_epochs,
        }
        return tuned

    def fit_stream(self, chunks, validation, *, stats_windows: int = 8192, checkpoint_dir=None,
                   resume=False, split_info=None) -> PhaseClassifier:
        """Train on windows streamed in chunks, for data sets larger than memory.

        Parameters
        ----------
        chunks : callable
            ``chunks()`` returns a fresh iterator of labelled :class:`Windows` (e.g.
            ``lambda: iter_seisbench(path, split="train")``); it is called once per epoch.
        validation : Windows
            Labelled validation windows (held in memory).
        stats_windows : int
            Feature statistics are fitted on the first ``stats_windows`` training windows.
        """
        params, fcfg, tcfg = self._resolved()
        comps = check_components(self.components or CANONICAL_COMPONENTS)
        val_w = as_windows(validation).with_components(comps)
        sample, n = [], 0
        for w in chunks():
            sample.append(w.with_components(comps))
            n += w.n_windows
            if n >= stats_windows:
                break
        if not sample:
            raise DataError("the training stream yielded no windows")
        first = concatenate(sample)
        extractor = make_extractor(fcfg, comps, first.sampling_rate).fit(first.waveforms)

        def feature_chunks():
            for w in chunks():
                w = w.with_components(comps)
                if w.labels is None:
                    raise DataError("streamed training windows need labels")
                yield extractor.transform(w.waveforms), w.labels

        stream = ChunkStream(feature_chunks)
        data_info = {"fingerprint": f"stream:{first.fingerprint()}", "streamed": True,
                     "statistics_from_windows": first.n_windows}
        return self._train(extractor, stream, None, val_w, first.n_samples, params, tcfg,
                           data_info, split_info, checkpoint_dir, resume)

    def _train(self, extractor, x_train, y_train, val_w, n_samples, params, tcfg, data_info,
               split_info, checkpoint_dir, resume, network=None) -> PhaseClassifier:
        """Build the network (or take ``network`` to continue from), train it, store the state."""
        x_val = extractor.transform(val_w.waveforms)
        torch.manual_seed(tcfg.seed)  # the initial weights depend on the seed alone
        net = network if network is not None else build_model(
            self.model, x_val.shape[1:], len(PHASES), **params)
        augment = None
        if self.augment:
            from seisphase.augment import make_augmenter

            channels = "".join(extractor.components[i] for i in extractor.channel_index)
            augment = make_augmenter(self.augment, components=channels)
        self.history_ = train_network(
            net, x_train, y_train, x_val, val_w.labels, tcfg, augment=augment,
            checkpoint_dir=checkpoint_dir, resume=resume, progress=self.progress,
        )
        self.network_ = net
        self.extractor_ = extractor
        self.classes_ = np.array(PHASES)
        self.components_ = extractor.components
        self.sampling_rate_ = extractor.sampling_rate
        self.n_samples_ = n_samples
        self.model_params_ = params
        self.train_config_ = tcfg
        self.temperature_ = 1.0
        self.class_prior_ = None
        self.info_ = {"data": data_info, "split": split_info, "metrics": {}}
        return self

    # -- prediction ----------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "network_"):
            raise NotFittedError(
                "this PhaseClassifier is not fitted yet; call fit(windows) or "
                "PhaseClassifier.load(path) first"
            )

    def prepare(self, X) -> np.ndarray:
        """Validate windows against the model (components, rate, length) and compute inputs."""
        self._check_fitted()
        data = as_windows(X, self.sampling_rate_, None)
        if data.sampling_rate != self.sampling_rate_:
            raise DataError(
                f"the data are sampled at {data.sampling_rate:g} Hz but the model at "
                f"{self.sampling_rate_:g} Hz; resample the data (e.g. seisphase windows "
                f"resamples continuous data) or train a model at that rate"
            )
        if data.n_samples != self.n_samples_:
            raise DataError(
                f"the model takes windows of {self.n_samples_} samples, got {data.n_samples}; "
                f"cut windows of {self.n_samples_ / self.sampling_rate_:g} s"
            )
        data = data.with_components(self.components_)
        return self.extractor_.transform(data.waveforms)

    @torch.no_grad()
    def logits(self, X, batch_size: int = 4096) -> np.ndarray:
        """Uncalibrated network outputs, shape (n_windows, n_classes), plus the class-prior
        offsets when :meth:`set_class_prior` was used."""
        inputs = torch.as_tensor(self.prepare(X))
        self.network_.eval()
        out = torch.cat([self.network_(xb) for xb in inputs.split(batch_size)]).numpy()
        prior = getattr(self, "class_prior_", None)
        return out if prior is None else out + np.asarray(prior["offsets"], dtype=out.dtype)

    def set_class_prior(self, prior) -> PhaseClassifier:
        """Re-target the model to data whose classes occur with frequencies ``prior``.

        A network learns the class mix of its training data (a uniform one when it was trained
        with a class-weighted loss); data with another mix are better served by adding
        ``log(prior / training mix)`` to the logits (the Bayes correction for label shift,
        Saerens et al. 2002). Example: analyst-picked windows hold more P than S windows, so
        a window that could be either (short S−P: both onsets inside it) is more often P.
        The offsets act in :meth:`logits` and everything built on it (probabilities,
        calibration, scans); set the prior before :func:`~seisphase.calibration.calibrate`.

        Parameters
        ----------
        prior : sequence of 3 numbers, dict by phase, or None
            Class counts or frequencies in ``classes_`` order (e.g. ``windows.class_counts()``
            of labelled windows like the target data); ``None`` removes the correction.
        """
        self._check_fitted()
        if prior is None:
            self.class_prior_ = None
            return self
        if isinstance(prior, dict):
            prior = [prior.get(c, 0) for c in self.classes_]
        target = np.asarray(prior, dtype=np.float64)
        if target.shape != (len(self.classes_),) or not np.all(np.isfinite(target)) \
                or np.any(target <= 0):
            raise ConfigError(f"a class prior needs {len(self.classes_)} positive numbers "
                              f"(counts or frequencies of {', '.join(self.classes_)}), got {prior}")
        training = self._training_mix()
        target = target / target.sum()
        self.class_prior_ = {"target": target.tolist(), "training": training.tolist(),
                             "offsets": (np.log(target) - np.log(training)).tolist()}
        return self

    def _training_mix(self) -> np.ndarray:
        """Class frequencies the network was trained under (uniform for a class-weighted loss)."""
        n = len(self.classes_)
        if self.train_config_.class_weighted:
            return np.full(n, 1.0 / n)
        counts = (self.info_.get("data") or {}).get("class_counts") or {}
        mix = np.array([counts.get(c, 0) for c in self.classes_], dtype=np.float64)
        if mix.sum() <= 0 or np.any(mix <= 0):
            raise ConfigError("the model file does not record the class mix it was trained on "
                              "(or a class was missing); set_class_prior cannot correct for it")
        return mix / mix.sum()

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_windows, 3) in ``classes_`` order; rows sum to 1.

        The stored calibration temperature divides the logits before the softmax.
        """
        return softmax(self.logits(X), self.temperature_)

    def predict(self, X) -> np.ndarray:
        """Predicted label per window, shape (n_windows,), indices into ``classes_``."""
        return self.predict_proba(X).argmax(axis=1)

    def score(self, X, y=None) -> float:
        """Accuracy on labelled windows."""
        data = as_windows(X)
        labels = data.labels if y is None else np.asarray(y)
        if labels is None:
            raise DataError("score needs labels")
        return float((self.predict(data) == labels).mean())

    @property
    def n_parameters(self) -> int:
        self._check_fitted()
        return count_parameters(self.network_)

    # -- persistence ---------------------------------------------------------------------
    def to_config(self) -> dict:
        """The JSON document saved beside the weights."""
        self._check_fitted()
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "seisphase_version": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "model": {"name": self.model, "params": self.model_params_,
                      "n_parameters": self.n_parameters},
            "features": self.extractor_.state(),
            "train": asdict(self.train_config_),
            "augment": self.augment or {},
            "seed": self.train_config_.seed,
            "classes": list(self.classes_),
            "components": self.components_,
            "sampling_rate": self.sampling_rate_,
            "n_samples": self.n_samples_,
            "temperature": self.temperature_,
            "class_prior": getattr(self, "class_prior_", None),
            "history": self.history_.to_dict(),
            "environment": {"python": platform.python_version(), "torch": torch.__version__},
            **self.info_,
        }

    def save(self, path) -> Path:
        """Write the model directory atomically; returns its path."""
        from safetensors.torch import save_file

        config = self.to_config()
        path = Path(path)
        with atomic_directory(path) as tmp:
            state = {k: v.detach().contiguous() for k, v in self.network_.state_dict().items()}
            save_file(state, str(tmp / WEIGHTS_NAME))
            (tmp / CONFIG_NAME).write_text(json.dumps(config, indent=2, default=_json_default))
            (tmp / "MODEL_CARD.md").write_text(model_card(config))
        return path

    @classmethod
    def load(cls, path) -> PhaseClassifier:
        """Rebuild a saved model from its JSON and weights (no unpickling)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

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
        try:
            clf = cls(cfg["model"]["name"], model_params=cfg["model"]["params"],
                      features=FeatureConfig(**cfg["features"]["config"]),
                      train=TrainConfig(**cfg["train"]), components=cfg["components"],
                      augment=cfg.get("augment") or None)
            clf.extractor_ = extractor_from_state(cfg["features"])
            input_shape = clf.extractor_.input_shape(cfg["n_samples"])
            clf.network_ = build_model(clf.model, input_shape, len(cfg["classes"]),
                                       **cfg["model"]["params"])
            state = load_file(str(w_path))
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

    def with_train(self, **changes) -> PhaseClassifier:
        """A new unfitted classifier with the same settings and ``TrainConfig`` changes."""
        _, _, tcfg = self._resolved()
        return PhaseClassifier(self.model, hidden=self.hidden, model_params=self.model_params,
                               features=self.features, train=replace(tcfg, **changes),
                               components=self.components, augment=self.augment,
                               progress=self.progress)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot store {type(obj).__name__} in model.json")
