"""The GPD convolutional network (Ross et al. 2018) on preprocessed waveform windows.

Architecture (as in the paper and SeisBench's ``GPD``): four blocks of ``Conv1d`` ("same"
padding) → batch norm → ReLU → max-pool 2 with 32/64/128/256 filters of 21/15/11/9 samples,
then fully connected 200 → 200 → ``n_classes`` with batch norm and ReLU after the two hidden
layers. For 3 × 400 inputs that is 1,741,003 parameters (:func:`gpd_parameter_count`).

``width`` scales every filter count and hidden width: ``width=0.5`` (16/32/64/128 filters,
FC 100) is the small, fast variant with about a quarter of the convolution work.

Speed on CPU: the layers are ordinary ``Conv1d``/``BatchNorm1d`` modules (a plain state dict),
but the forward pass runs them as 2-D operations on a ``(batch, channels, 1, samples)`` tensor in
channels-last memory layout, where oneDNN's convolution, batch-norm and pooling kernels are
markedly faster than the 1-D ones (about 25 % less time per training epoch on two cores, see
``benchmarks/bench_cnn_train.py``). :meth:`GPDNet.reference_forward` is the plain 1-D pass; the
tests check both give the same logits. Max-pooling comes before the ReLU: the two commute
exactly (ReLU is monotonic), and pooling first halves the ReLU work.

References
----------
Ross, Z. E., Meier, M.-A., Hauksson, E., & Heaton, T. H. (2018). Generalized seismic phase
detection with deep learning. BSSA 108(5A), 2894–2901. https://doi.org/10.1785/0120180080
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seisphase.errors import ConfigError

FILTERS = (32, 64, 128, 256)
KERNELS = (21, 15, 11, 9)
HIDDEN = 200
BN_EPS = 1e-3  # Keras' default, which the original GPD used
POOL_FACTOR = 2 ** len(FILTERS)  # the conv stack shortens windows 16-fold


def _scaled(n: int, width: float) -> int:
    return max(1, int(round(n * width)))


def gpd_parameter_count(
    n_channels: int = 3, n_samples: int = 400, n_classes: int = 3, width: float = 1.0
) -> int:
    """Number of trainable parameters of :class:`GPDNet`, from the layer sizes alone.

    Each conv layer has ``c_in * c_out * k + c_out`` weights and biases and its batch norm
    ``2 * c_out``; the flattened conv output has ``filters[-1] * (n_samples // 16)`` values.

    >>> gpd_parameter_count()
    1741003
    """
    filters = [_scaled(f, width) for f in FILTERS]
    hidden = _scaled(HIDDEN, width)
    total, c_in = 0, n_channels
    for c_out, k in zip(filters, KERNELS, strict=True):
        total += c_in * c_out * k + c_out + 2 * c_out
        c_in = c_out
    flat = filters[-1] * (n_samples // POOL_FACTOR)
    total += flat * hidden + hidden + 2 * hidden
    total += hidden * hidden + hidden + 2 * hidden
    total += hidden * n_classes + n_classes
    return total


def _batch_norm(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """``bn`` applied to a tensor of any rank (what ``nn.BatchNorm1d.forward`` does)."""
    momentum = bn.momentum
    if bn.training and bn.track_running_stats:
        bn.num_batches_tracked.add_(1)
        if momentum is None:  # cumulative moving average, as in torch
            momentum = 1.0 / float(bn.num_batches_tracked)
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias,
                        bn.training or not bn.track_running_stats, momentum or 0.0, bn.eps)


class GPDNet(nn.Module):
    """GPD-style CNN: waveforms (batch, n_channels, n_samples) → logits (batch, n_classes).

    Parameters
    ----------
    n_channels : int
        Input channels (3 for ZNE, 1 for a vertical-only model).
    n_samples : int
        Window length in samples (400 = 4 s at 100 Hz); at least 16.
    n_classes : int
        Number of outputs (logits; the softmax lives in the loss and in ``predict_proba``).
    width : float
        Multiplier of every filter count and hidden width (1.0 = GPD; 0.5 = small variant).

    Examples
    --------
    >>> import torch
    >>> net = GPDNet(3, 400).eval()
    >>> net(torch.zeros(2, 3, 400)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_channels: int = 3, n_samples: int = 400, n_classes: int = 3,
                 width: float = 1.0):
        super().__init__()
        if not width > 0:
            raise ConfigError(f"cnn width must be positive (1.0 = GPD, 0.5 = small), got {width}")
        if n_samples < POOL_FACTOR:
            raise ConfigError(
                f"the cnn needs windows of at least {POOL_FACTOR} samples, got {n_samples}"
            )
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        c_in = n_channels
        for f, k in zip(FILTERS, KERNELS, strict=True):
            c_out = _scaled(f, width)
            self.convs.append(nn.Conv1d(c_in, c_out, k, padding=k // 2))
            self.norms.append(nn.BatchNorm1d(c_out, eps=BN_EPS))
            c_in = c_out
        hidden = _scaled(HIDDEN, width)
        flat = c_in * (n_samples // POOL_FACTOR)
        self.head = nn.Sequential(
            nn.Linear(flat, hidden), nn.BatchNorm1d(hidden, eps=BN_EPS), nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden, eps=BN_EPS), nn.ReLU(inplace=True),
            nn.Linear(hidden, n_classes),
        )

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Convolution stack: (batch, n_channels, n_samples) → (batch, filters, n_samples // 16)."""
        # (B, C, S) → (B, C, 1, S) in channels-last layout for oneDNN's fast 2-D kernels.
        h = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        for conv, bn in zip(self.convs, self.norms, strict=True):
            pad = conv.kernel_size[0] // 2
            h = F.conv2d(h, conv.weight.unsqueeze(2), conv.bias, padding=(0, pad))
            h = F.max_pool2d(_batch_norm(bn, h), (1, 2))
            h = F.relu(h, inplace=True)
        return h.squeeze(2).contiguous()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: (batch, n_channels, n_samples) → logits (batch, n_classes)."""
        return self.head(self.features(x).flatten(1))

    def reference_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The same network run with plain 1-D layers (slower; used to check :meth:`forward`)."""
        h = x
        for conv, bn in zip(self.convs, self.norms, strict=True):
            h = F.max_pool1d(torch.relu(bn(conv(h))), 2)
        return self.head(h.flatten(1))
