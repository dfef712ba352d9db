"""PickNet: a fully convolutional P / S / noise picker that scans continuous data in one pass.

Every layer is a *valid* (unpadded) convolution or a max-pool of 2 with stride 2, so an output
depends only on the input samples under its receptive field and never on where a window starts
or ends. That makes three views of the same network agree exactly (up to float rounding):

* :meth:`PickNet.forward` on a batch of 400-sample windows ``(batch, C, 400)`` returns one set
  of logits per window, "classify the window centred here": the output whose receptive field
  is centred on the window's centre (sample 200);
* :meth:`PickNet.forward_continuous` on a whole trace ``(1, C, n)`` returns logits on a grid of
  :data:`GRID` samples; output ``j`` is the window centred on sample ``offset + GRID * j``
  (:attr:`PickNet.offset`), i.e. starting at ``GRID * (j - window_index)``;
* shifting the input by ``k * GRID`` samples shifts the outputs by ``k`` exactly.

Architecture (``width`` = w, default 16): conv 7 (w) → pool 2 → conv 7 (2w) → pool 2, then at
25 Hz five residual blocks of dilated convolutions (3w filters; kernels 5, 5, 5, 5, 3 with
dilations 1, 2, 4, 8, 16), and a 1 × 1 head. Batch norm and ReLU after each convolution.
Receptive field: 390 samples (3.9 s), inside the 4-s window. About 55 k parameters at w = 16
and about 15 k multiply-adds per input sample (5 GMAC per station-hour).

``context`` > 0 adds that many residual blocks of kernel 3 with dilations 32, 64, ... at 25 Hz
(each doubles the look-ahead and look-back: 6.5 s receptive field with one, 11.6 s with two),
so an output at a P onset can see the S arriving seconds later and one at an S onset the P
before it; the window (``n_samples``) then grows to cover the field (default: the field rounded
up to a multiple of 8 plus 8 samples, 400 for ``context`` 0). They cost little: they run at
25 Hz. The picker's default (``width`` 32, ``context`` 2): about 275 k parameters and 72 k
multiply-adds per input sample (26 GMAC per station-hour).

The logits are trained as a *picker* (:mod:`seisphase.picker`): soft, Gaussian P and S labels
around the analyst's pick, noise elsewhere, so the probability peaks at the arrival.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seisphase.errors import ConfigError

GRID = 4
"""Output step in input samples (two max-pools of 2)."""

_BN_EPS = 1e-3
_STEM = ((7, 1), (7, 2))  # (kernel, channel multiplier) at 100 and 50 Hz
_BLOCKS = ((5, 1), (5, 2), (5, 4), (5, 8), (3, 16))  # (kernel, dilation) at 25 Hz


def blocks(context: int = 0) -> tuple:
    """(kernel, dilation) of the residual blocks at 25 Hz: the five base ones, then ``context``
    blocks of kernel 3 with dilations 32, 64, ..."""
    if int(context) != context or context < 0:
        raise ConfigError(f"picknet context must be a whole number of blocks >= 0, got {context!r}")
    return _BLOCKS + tuple((3, 32 * 2**i) for i in range(int(context)))


def receptive_field(context: int = 0) -> int:
    """Receptive field of one output in input samples (390 for ``context`` 0)."""
    rf, step = 1, 1
    for k, _ in _STEM:
        rf += (k - 1) * step
        rf += step  # max-pool 2
        step *= 2
    for k, d in blocks(context):
        rf += (k - 1) * d * step
    return rf


def window_samples(context: int = 0) -> int:
    """Default window of a PickNet: the receptive field rounded up to a multiple of 8, plus 8
    (400 samples, 4 s, for ``context`` 0)."""
    return -(-receptive_field(context) // 8) * 8 + 8


def n_outputs(n_samples: int, context: int = 0) -> int:
    """Number of outputs for an input of ``n_samples`` samples (0 when shorter than the field)."""
    n = n_samples
    for k, _ in _STEM:
        n = (n - (k - 1)) // 2
    for k, d in blocks(context):
        n -= (k - 1) * d
    return max(n, 0)


class _Block(nn.Module):
    """Residual dilated valid convolution: ``crop(x) + relu(bn(conv(x)))``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel, dilation=dilation, bias=False)
        self.norm = nn.BatchNorm1d(c_out, eps=_BN_EPS)
        self.skip = None if c_in == c_out else nn.Conv1d(c_in, c_out, 1, bias=False)
        self.trim = (kernel - 1) * dilation // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.norm(self.conv(x)))
        x = x[..., self.trim:x.shape[-1] - self.trim]
        return h + (x if self.skip is None else self.skip(x))


class PickNet(nn.Module):
    """Fully convolutional picker: (batch, n_channels, n) → logits (batch, n_classes, m).

    Parameters
    ----------
    n_channels : int
        Input channels (3 for ZNE, 1 for a vertical-only model).
    n_samples : int
        Window length in samples for :meth:`forward` (400 = 4 s); at least the receptive field
        (390) and a multiple of :data:`GRID` plus an even number so that a window's centre lies
        on the output grid.
    n_classes : int
        Outputs per position (P, S, noise).
    width : int
        Filters of the first layer (the others are 2 and 3 times as many).
    context : int
        Extra long-range blocks (see the module notes); ``n_samples`` must cover the field.

    Examples
    --------
    >>> net = PickNet().eval()
    >>> net(torch.zeros(2, 3, 400)).shape
    torch.Size([2, 3])
    >>> net.forward_continuous(torch.zeros(1, 3, 1000)).shape
    torch.Size([1, 3, 153])
    """

    def __init__(self, n_channels: int = 3, n_samples: int | None = None, n_classes: int = 3,
                 width: int = 16, context: int = 0):
        super().__init__()
        width = int(width)
        if width < 1:
            raise ConfigError(f"picknet width must be a positive number of filters, got {width}")
        rf = receptive_field(context)
        n_samples = window_samples(context) if n_samples is None else n_samples
        if n_samples < rf or n_samples % 2:
            raise ConfigError(
                f"picknet needs windows of an even number of samples >= {rf} (its receptive "
                f"field), got {n_samples}; use {window_samples(context)}-sample windows"
            )
        self.n_samples = int(n_samples)
        self.context = int(context)
        self.receptive_field = rf
        layers, c_in = [], n_channels
        for k, mult in _STEM:
            c_out = width * mult
            layers += [nn.Conv1d(c_in, c_out, k, bias=False), nn.BatchNorm1d(c_out, eps=_BN_EPS),
                       nn.ReLU(inplace=True), nn.MaxPool1d(2)]
            c_in = c_out
        self.stem = nn.Sequential(*layers)
        layers = []
        for k, d in blocks(context):
            layers.append(_Block(c_in, 3 * width, k, d))
            c_in = 3 * width
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Conv1d(c_in, n_classes, 1)
        # Window centre on the output grid: output j of a window covers samples
        # [GRID j, GRID j + rf); the window's own output is the middle one.
        m = n_outputs(self.n_samples, context)
        self.window_index = (m - 1) // 2
        self.offset = self.n_samples // 2 - GRID * self.window_index
        """Centre sample of output 0 of :meth:`forward_continuous` (window start + 200 − …)."""

    def forward_continuous(self, x: torch.Tensor) -> torch.Tensor:
        """Logits on the output grid: (batch, C, n) → (batch, n_classes, n_outputs(n)).

        Output ``j`` equals :meth:`forward` of the ``n_samples`` window centred on input
        sample ``offset + GRID * j`` (which starts at ``GRID * (j - window_index)``).
        """
        return self.head(self.blocks(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Window logits: (batch, C, n_samples) → (batch, n_classes), the centred output."""
        if x.shape[-1] != self.n_samples:
            raise ConfigError(
                f"picknet.forward takes windows of {self.n_samples} samples, got {x.shape[-1]}; "
                f"use forward_continuous for longer data"
            )
        return self.forward_continuous(x)[..., self.window_index]
