"""On-the-fly, seeded augmentation of waveform training batches.

:func:`make_augmenter` turns a JSON dict of options (defaults in :class:`AugmentConfig`) into the
``augment(xb, yb, generator) -> (xb, yb)`` hook of :func:`seisphase.training.train_network`.
Every random draw comes from ``generator``, so a training run reproduces from its seed, and
every step is a tensor operation on the whole batch (no Python loop over windows). Labels are
never changed: each augmentation keeps a P window a P window.

In order, each window (independently, with the given probabilities):

1. ``shift``: rolled in time by a whole number of samples in ``[-shift, shift]`` (default 20,
   so a pick in samples 150–249 stays within 130–269, near the centre the model learns);
2. ``polarity``: multiplied by −1 (all channels: the source's first motion is arbitrary);
3. ``rotate``: horizontals rotated by a uniform random angle (sensor orientation is arbitrary;
   3-component input only);
4. ``gain``: each channel scaled by its own factor in ``[1/(1+gain), 1+gain]`` (log-uniform;
   mis-calibrated components);
5. ``noise``: real-looking noise added: another noise-class window of the batch, rolled by a
   random lag and scaled to a peak of ``U(0, noise_level)`` times the window's own peak (a batch
   with no noise window uses band-limited Gaussian noise); dead channels stay dead;
6. ``dropout``: made vertical-only (N and E set exactly to zero), as recorded at the many
   single-component stations;
7. re-normalisation (``renormalize``, see below);
8. ``scale``: whole-window amplitude factor in ``[1/(1+scale), 1+scale]`` (log-uniform).

Scale consistency with prediction: the classifier preprocesses (by default divides every window
by its peak over all channels) *before* augmenting, and prediction sees preprocessed windows
only. Rotation, gain, noise and dropout change a window's peak, so with
``renormalize="peak"`` (default) each window is rescaled to the peak absolute value it had
before augmentation — 1 for peak-normalised inputs, exactly what a vertical-only window looks
like after preprocessing at prediction time. Use ``"std"`` with ``normalize="std"``
preprocessing, ``"none"`` to leave amplitudes as augmented. ``scale`` comes after and only
makes sense for un-normalised inputs (``normalize="none"``); it is off by default.

Component order: the horizontals are found from ``components`` (``make_augmenter(...,
components="ZNE")``); when it is not given, 3-channel batches are taken to be in the package's
canonical ``ZNE`` order and other channel counts to have no horizontals (``rotate`` and
``dropout`` then do nothing).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F

from seisphase.data.windows import CANONICAL_COMPONENTS, PHASES, canonical_components
from seisphase.errors import ConfigError

NOISE_LABEL = PHASES.index("N")
RENORMALIZATIONS = ("peak", "std", "none")
_TINY = 1e-12


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation options (JSON types only; the classifier stores the dict in the model file).

    A probability of 0 (or ``shift=0``, ``gain=0``, ``scale=0``) switches a step off.

    Parameters
    ----------
    shift : int
        Largest time shift in samples (roll, both directions).
    polarity : float
        Probability of flipping the sign of a window.
    rotate : float
        Probability of rotating the horizontals by a uniform random angle.
    gain : float
        Per-channel gain range: factors in ``[1/(1+gain), 1+gain]``.
    noise : float
        Probability of adding noise to a window.
    noise_level : float
        Largest peak of the added noise relative to the window's peak.
    dropout : float
        Probability of making a window vertical-only (the prototype used 0.15).
    renormalize : {"peak", "std", "none"}
        Statistic restored to its pre-augmentation value per window (see the module docs).
    scale : float
        Whole-window amplitude range ``[1/(1+scale), 1+scale]``; keep 0 for normalised inputs.
    """

    shift: int = 20
    polarity: float = 0.5
    rotate: float = 1.0
    gain: float = 0.0
    noise: float = 0.0
    noise_level: float = 0.5
    dropout: float = 0.15
    renormalize: str = "peak"
    scale: float = 0.0

    def __post_init__(self):
        for name in ("polarity", "rotate", "noise", "dropout"):
            p = getattr(self, name)
            if not 0.0 <= float(p) <= 1.0:
                raise ConfigError(f"augment option {name!r} is a probability in [0, 1], got {p}")
        for name in ("shift", "gain", "noise_level", "scale"):
            if not float(getattr(self, name)) >= 0:
                raise ConfigError(f"augment option {name!r} must be >= 0, got {getattr(self, name)}")
        if int(self.shift) != self.shift:
            raise ConfigError(f"augment option 'shift' is a whole number of samples, got {self.shift}")
        if self.renormalize not in RENORMALIZATIONS:
            raise ConfigError(
                f"augment option 'renormalize' must be one of {', '.join(RENORMALIZATIONS)}, "
                f"got {self.renormalize!r}"
            )

    @classmethod
    def from_dict(cls, options: dict | None) -> AugmentConfig:
        """Build from a JSON dict; an unknown key lists the valid ones."""
        options = dict(options or {})
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise ConfigError(f"unknown augment option(s) {unknown}; valid: {sorted(valid)}")
        return cls(**options)

    @classmethod
    def from_text(cls, text: str | None) -> AugmentConfig:
        """Build from ``"key=value,key=value"`` (the CLI's ``--augment``); empty: defaults.

        Values are converted to each option's type (``dropout=0.5,shift=10,renormalize=std``).
        """
        options = {}
        types = {f.name: type(f.default) for f in fields(cls)}
        for item in filter(None, (part.strip() for part in (text or "").split(","))):
            key, sep, value = item.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or key not in types:
                raise ConfigError(f"--augment takes key=value pairs separated by commas (keys: "
                                  f"{', '.join(types)}), got {item!r}")
            try:
                v = types[key](value.strip()) if types[key] is not int else float(value)
            except ValueError:
                raise ConfigError(f"augment option {key!r} needs a {types[key].__name__}, "
                                  f"got {value.strip()!r}") from None
            # a whole-number option keeps a fractional value, for __post_init__ to refuse
            options[key] = int(v) if types[key] is int and v.is_integer() else v
        return cls.from_dict(options)

    def to_dict(self) -> dict:
        return asdict(self)


def _uniform(n: int, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """``n`` uniform [0, 1) draws from ``generator`` (on the CPU), moved to ``like``'s device."""
    return torch.rand(n, generator=generator).to(device=like.device, dtype=like.dtype)


def _coin(p: float, n: int, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """Per-window mask (n, 1, 1) of probability ``p``; always drawn so the stream stays aligned."""
    return (_uniform(n, generator, like) < p).view(n, 1, 1)


def _log_uniform(shape, spread: float, generator: torch.Generator, like: torch.Tensor):
    u = torch.rand(shape, generator=generator).to(device=like.device, dtype=like.dtype)
    return torch.exp((2 * u - 1) * math.log1p(spread))


def _window_stat(x: torch.Tensor, how: str) -> torch.Tensor:
    if how == "peak":
        return x.abs().amax(dim=(1, 2), keepdim=True)
    return x.std(dim=(1, 2), keepdim=True)


def roll_windows(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Roll each window by its own number of samples (positive = later in time).

    Parameters
    ----------
    x : Tensor, shape (batch, n_channels, n_samples)
    shifts : Tensor of int64, shape (batch,)
    """
    n = x.shape[-1]
    idx = (torch.arange(n, device=x.device)[None, :] - shifts.to(x.device)[:, None]) % n
    return torch.gather(x, 2, idx[:, None, :].expand_as(x))


def _coloured_gaussian(shape, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """Gaussian noise smoothed by a 5-sample Hann kernel (energy mostly below ~20 Hz at 100 Hz)."""
    white = torch.randn(shape, generator=generator).to(device=like.device, dtype=like.dtype)
    kernel = torch.hann_window(7, periodic=False, dtype=like.dtype, device=like.device)[1:-1]
    b, c, s = shape
    out = F.conv1d(white.reshape(b * c, 1, s), (kernel / kernel.sum()).view(1, 1, -1), padding=2)
    return out.reshape(shape)


class Augmenter:
    """The callable returned by :func:`make_augmenter`; see the module docs for the steps.

    Parameters
    ----------
    config : AugmentConfig
    components : str, optional
        Channel order of the batches (e.g. ``"ZNE"``, ``"ENZ"``, ``"Z"``).
    """

    def __init__(self, config: AugmentConfig, components: str | None = None):
        self.config = config
        self.components = components

    def _horizontals(self, n_channels: int) -> tuple[int, int] | None:
        comps = self.components
        if comps is None:
            comps = CANONICAL_COMPONENTS if n_channels == 3 else ""
        elif len(comps) != n_channels:
            raise ConfigError(
                f"augmenter built for components {comps!r} got batches of {n_channels} channels"
            )
        comps = canonical_components(comps)
        if "N" in comps and "E" in comps:
            return comps.index("N"), comps.index("E")
        return None

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor,
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Augment one batch.

        Parameters
        ----------
        xb : Tensor, shape (batch, n_channels, n_samples)
            Preprocessed windows (not modified in place).
        yb : Tensor of int64, shape (batch,)
            Labels, returned unchanged.
        generator : torch.Generator
            Source of every random draw (CPU generator).

        Returns
        -------
        (Tensor, Tensor)
            Augmented windows of the same shape and dtype, and ``yb``.
        """
        c = self.config
        b, n_ch, n_s = xb.shape
        ref = None if c.renormalize == "none" else _window_stat(xb, c.renormalize)
        x = xb
        if c.shift > 0:
            shifts = torch.randint(-int(c.shift), int(c.shift) + 1, (b,), generator=generator)
            x = roll_windows(x, shifts)
        if c.polarity > 0:
            x = torch.where(_coin(c.polarity, b, generator, x), -x, x)
        horiz = self._horizontals(n_ch)
        if horiz is not None and c.rotate > 0:
            x = self._rotate(x, horiz, generator)
        if c.gain > 0:
            x = x * _log_uniform((b, n_ch, 1), c.gain, generator, x)
        if c.noise > 0:
            x = self._add_noise(x, yb, generator)
        if horiz is not None and c.dropout > 0:
            keep = torch.ones(b, n_ch, 1, dtype=x.dtype, device=x.device)
            drop = _coin(c.dropout, b, generator, x)  # (b, 1, 1)
            keep[:, list(horiz)] = (~drop).to(x.dtype)
            x = x * keep
        if ref is not None:
            # Restore each window's pre-augmentation peak (or std): inputs keep the scale the
            # preprocessing gave them, which is the scale they have at prediction time.
            x = x * (ref / (_window_stat(x, c.renormalize) + _TINY))
        if c.scale > 0:
            x = x * _log_uniform((b, 1, 1), c.scale, generator, x)
        return x, yb

    def _rotate(self, x, horiz, generator):
        b = x.shape[0]
        theta = 2 * math.pi * _uniform(b, generator, x)
        theta = torch.where(_coin(self.config.rotate, b, generator, x).view(b), theta, 0.0)
        cos, sin = torch.cos(theta)[:, None], torch.sin(theta)[:, None]
        i_n, i_e = horiz
        n, e = x[:, i_n], x[:, i_e]
        x = x.clone()
        x[:, i_n] = cos * n - sin * e
        x[:, i_e] = sin * n + cos * e
        return x

    def _add_noise(self, x, yb, generator):
        c = self.config
        b, _, n_s = x.shape
        add = _coin(c.noise, b, generator, x)
        level = c.noise_level * _uniform(b, generator, x).view(b, 1, 1)
        pick = _uniform(b, generator, x)
        lags = torch.randint(0, n_s, (b,), generator=generator)
        noise_idx = torch.nonzero(yb == NOISE_LABEL).flatten()
        if noise_idx.numel() > 0:
            # Each window borrows a noise window of the batch (its own, if it is one: adding
            # a rolled copy of itself is still noise) at a random lag.
            src = noise_idx[(pick * noise_idx.numel()).long().clamp_max(noise_idx.numel() - 1)]
            noise = roll_windows(x[src], lags)
        else:
            noise = _coloured_gaussian(x.shape, generator, x)
        alive = (x.abs().amax(dim=2, keepdim=True) > 0).to(x.dtype)
        noise = noise * alive
        factor = level * x.abs().amax(dim=(1, 2), keepdim=True)
        factor = factor / (noise.abs().amax(dim=(1, 2), keepdim=True) + _TINY)
        return torch.where(add, x + factor * noise, x)


def make_augmenter(options: dict | None, components: str | None = None) -> Augmenter:
    """Build the training-batch augmentation hook from a JSON dict of options.

    Parameters
    ----------
    options : dict
        Keys of :class:`AugmentConfig`; missing keys take its defaults. (``PhaseClassifier``
        treats an empty dict as "no augmentation": give at least one key to augment.)
    components : str, optional
        Channel order of the batches (``"ZNE"`` assumed for 3 channels when omitted).

    Returns
    -------
    Augmenter
        ``augment(xb, yb, generator) -> (xb, yb)`` with ``xb`` of shape
        (batch, n_channels, n_samples).

    Examples
    --------
    >>> import torch
    >>> aug = make_augmenter({"shift": 20, "dropout": 0.15})
    >>> x, y = torch.randn(8, 3, 400), torch.tensor([0, 1, 2, 2, 0, 1, 2, 0])
    >>> xa, ya = aug(x, y, torch.Generator().manual_seed(0))
    >>> xa.shape, bool((ya == y).all())
    (torch.Size([8, 3, 400]), True)
    """
    return Augmenter(AugmentConfig.from_dict(options), components)
