"""Model layer: network architectures and the registry that names them.

Models only know tensors: no files, no features. Each registry entry says which kind of input
the model takes (feature vectors or waveforms) and builds the ``nn.Module`` from JSON-type
parameters, so a saved model is rebuilt from its JSON alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from seisphase.errors import ConfigError


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry: builder, input kind and default features/parameters."""

    build: Callable  # (input_shape: tuple, n_classes: int, **params) -> nn.Module
    input: str  # "features" (n_features,) or "waveforms" (n_channels, n_samples)
    default_features: str
    defaults: dict


def _build_linear(input_shape, n_classes, **params):
    from seisphase.models.mlp import MLP

    if params:
        raise ConfigError(f"the linear model takes no parameters, got {sorted(params)}")
    return MLP(int(input_shape[0]), (), n_classes)


def _build_mlp(input_shape, n_classes, hidden=(40,)):
    from seisphase.models.mlp import MLP

    hidden = tuple(int(h) for h in hidden)
    if not hidden or any(h <= 0 for h in hidden):
        raise ConfigError(
            f"mlp needs at least one hidden layer of positive width (e.g. --hidden 40 40), got {hidden}"
        )
    return MLP(int(input_shape[0]), hidden, n_classes)


def _build_cnn(input_shape, n_classes, width=1.0):
    from seisphase.models.cnn import GPDNet

    if len(input_shape) != 2:
        raise ConfigError(
            f"the cnn takes waveforms of shape (n_channels, n_samples), got inputs of shape "
            f"{tuple(input_shape)}; use features kind 'waveform'"
        )
    return GPDNet(int(input_shape[0]), int(input_shape[1]), n_classes, width=float(width))


def _build_picknet(input_shape, n_classes, width=16):
    from seisphase.models.picknet import PickNet

    if len(input_shape) != 2:
        raise ConfigError(
            f"picknet takes waveforms of shape (n_channels, n_samples), got inputs of shape "
            f"{tuple(input_shape)}; use features kind 'waveform'"
        )
    return PickNet(int(input_shape[0]), int(input_shape[1]), n_classes, width=int(width))


MODELS: dict[str, ModelSpec] = {
    "linear": ModelSpec(_build_linear, "features", "logspectrum", {}),
    "mlp": ModelSpec(_build_mlp, "features", "logspectrum", {"hidden": [40]}),
    # GPD (Ross et al. 2018) on preprocessed waveforms; width=0.5 is the small, fast variant.
    "cnn": ModelSpec(_build_cnn, "waveforms", "waveform", {"width": 1.0}),
    # fully convolutional picker: scans continuous data in one pass (seisphase.picker)
    "picknet": ModelSpec(_build_picknet, "waveforms", "waveform", {"width": 16}),
}


def model_spec(name: str) -> ModelSpec:
    """The registry entry for ``name``; an unknown name lists the valid ones."""
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(
            f"unknown model {name!r}; valid models: {', '.join(sorted(MODELS))}"
        ) from None


def build_model(name: str, input_shape: tuple, n_classes: int = 3, **params):
    """Build the network ``name`` for inputs of ``input_shape`` (without the batch axis)."""
    spec = model_spec(name)
    merged = {**spec.defaults, **params}
    try:
        return spec.build(tuple(input_shape), n_classes, **merged)
    except TypeError as exc:
        raise ConfigError(f"bad parameters for model {name!r}: {exc}") from None


def count_parameters(model) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
