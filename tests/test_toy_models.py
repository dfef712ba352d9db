"""The lab's toy lesson: a linear model separates blobs but not rings; an MLP does both."""

import numpy as np
import pytest

from seisphase.data.toy import blobs, rings
from seisphase.models import build_model
from seisphase.training import TrainConfig, train_network


def _fit_score(name, x, y, n_classes, seed=0, **params):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(y))
    tr, te = idx[: int(0.75 * len(y))], idx[int(0.75 * len(y)):]
    model = build_model(name, (2,), n_classes, **params)
    train_network(model, x[tr], y[tr], x[te], y[te],
                  TrainConfig(epochs=150, lr=2e-2, batch_size=32, patience=None, seed=seed),
                  progress=False)
    import torch

    with torch.no_grad():
        pred = model(torch.as_tensor(x[te])).argmax(1).numpy()
    return float((pred == y[te]).mean()), model


def test_linear_separates_blobs():
    x, y = blobs(100, seed=0)
    acc, _ = _fit_score("linear", x, y, 3)
    assert acc >= 0.95


@pytest.mark.slow
def test_linear_fails_on_rings_where_an_mlp_succeeds():
    x, y = rings(100, seed=0)
    linear, _ = _fit_score("linear", x, y, 5)
    mlp, model = _fit_score("mlp", x, y, 5, hidden=[64, 64])
    assert linear < 0.5
    assert mlp >= 0.90
    import torch

    from seisphase.plots import plot_decision_boundary

    def predict(grid):
        with torch.no_grad():
            return model(torch.as_tensor(grid, dtype=torch.float32)).argmax(1).numpy()

    fig = plot_decision_boundary(predict, x, y)
    assert fig.axes and fig.axes[0].get_title()
