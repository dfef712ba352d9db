"""Softmax regression and multi-layer perceptrons on feature vectors (the lab's models)."""

from __future__ import annotations

from torch import nn


class MLP(nn.Module):
    """Fully connected network with ReLU between layers; no hidden layer = softmax regression.

    Parameters
    ----------
    n_features : int
        Length of the input feature vector.
    hidden : sequence of int
        Width of each hidden layer: ``()`` is the lab's linear classifier, ``(40,)`` its 2-layer
        net, ``(40, 40)`` its 3-layer net.
    n_classes : int
        Number of outputs (logits; the softmax is in the loss and in ``predict_proba``).
    """

    def __init__(self, n_features: int, hidden=(), n_classes: int = 3):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        """``x``: (batch, n_features) → logits (batch, n_classes)."""
        return self.net(x)
