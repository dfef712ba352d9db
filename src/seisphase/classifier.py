"""The user-facing classifier: features + network + config, with the scikit-learn contract.

>>> from seisphase.classifier import PhaseClassifier          # doctest: +SKIP
>>> clf = PhaseClassifier("mlp", hidden=(40,)).fit(train)      # doctest: +SKIP
>>> clf.predict_proba(test).sum(axis=1)                        # doctest: +SKIP
array([1., 1., ...])
>>> clf.save("models/mlp"); PhaseClassifier.load("models/mlp") # doctest: +SKIP

This module owns fitting (:meth:`~PhaseClassifier.fit`, fine-tuning, streamed training) and
prediction. The saved-model format (a directory of ``model.safetensors`` and ``model.json``;
loading never unpickles code) belongs to :mod:`seisphase.classifier_io`, to which
:meth:`~PhaseClassifier.save` and :meth:`~PhaseClassifier.load` delegate; the helpers on the way
in (arrays to windows, the feature extractor of a feature kind, the validation split) live in
:mod:`seisphase.classifier_inputs`.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from seisphase.calibration import softmax

# names imported "as" themselves are re-exported: they were first defined in this module
from seisphase.classifier_inputs import as_windows as as_windows
from seisphase.classifier_inputs import data_summary, train_validation
from seisphase.classifier_inputs import extractor_from_state as extractor_from_state
from seisphase.classifier_inputs import make_extractor as make_extractor
from seisphase.classifier_io import CONFIG_NAME as CONFIG_NAME
from seisphase.classifier_io import FORMAT as FORMAT
from seisphase.classifier_io import FORMAT_VERSION as FORMAT_VERSION
from seisphase.classifier_io import WEIGHTS_NAME as WEIGHTS_NAME
from seisphase.classifier_io import load_model, model_config, save_model
from seisphase.data.windows import (
    CANONICAL_COMPONENTS,
    PHASES,
    Windows,
    check_components,
    concatenate,
)
from seisphase.errors import ConfigError, DataError, NotFittedError
from seisphase.features import FeatureConfig
from seisphase.models import build_model, count_parameters, model_spec
from seisphase.training import ChunkStream, TrainConfig, train_network


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
        train_w, val_w, split_info = train_validation(data, validation, comps, tcfg.seed,
                                                      split_info)
        extractor = make_extractor(fcfg, comps, data.sampling_rate).fit(train_w.waveforms)
        x_train = extractor.transform(train_w.waveforms)
        return self._train(extractor, x_train, train_w.labels, val_w, data.n_samples, params,
                           tcfg, data_summary(data), split_info, checkpoint_dir, resume)

    def fine_tune(self, X, y=None, *, train: TrainConfig | None = None, augment=None,
                  validation=None, checkpoint_dir=None, resume=False,
                  split_info=None) -> PhaseClassifier:
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
        augment : dict, optional
            Augmentation of the fine-tuning (:class:`~seisphase.augment.AugmentConfig`
            options; default: the pre-training's), recorded in the new model.

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
        train_w, val_w, split_info = train_validation(data, validation, self.components_,
                                                      tcfg.seed, split_info)
        tuned = PhaseClassifier(self.model, hidden=self.hidden, model_params=self.model_params_,
                                features=self.extractor_.config, train=tcfg,
                                components=self.components_,
                                augment=self.augment if augment is None else augment,
                                progress=self.progress)
        network = copy.deepcopy(self.network_)
        tuned._train(self.extractor_, self.extractor_.transform(train_w.waveforms),
                     train_w.labels, val_w, self.n_samples_, self.model_params_, tcfg,
                     data_summary(data), split_info, checkpoint_dir, resume, network=network)
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
        return torch.cat([self.forward_inputs(xb) for xb in inputs.split(batch_size)]).numpy()

    def forward_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits of prepared inputs (:meth:`prepare`): the network's outputs plus the
        class-prior offsets; differentiable (explanations take gradients through it)."""
        out = self.network_(inputs)
        prior = getattr(self, "class_prior_", None)
        if prior is None:
            return out
        return out + torch.as_tensor(prior["offsets"], dtype=out.dtype)

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

    # -- persistence: seisphase.classifier_io ---------------------------------------------
    def to_config(self) -> dict:
        """The JSON document saved beside the weights (see :mod:`seisphase.classifier_io`)."""
        return model_config(self)

    def save(self, path) -> Path:
        """Write the model directory atomically; returns its path."""
        return save_model(self, path)

    @classmethod
    def load(cls, path) -> PhaseClassifier:
        """Rebuild a saved model from its JSON and weights (no unpickling)."""
        return load_model(cls, path)

    def with_train(self, **changes) -> PhaseClassifier:
        """A new unfitted classifier with the same settings and ``TrainConfig`` changes."""
        _, _, tcfg = self._resolved()
        return PhaseClassifier(self.model, hidden=self.hidden, model_params=self.model_params,
                               features=self.features, train=replace(tcfg, **changes),
                               components=self.components, augment=self.augment,
                               progress=self.progress)

