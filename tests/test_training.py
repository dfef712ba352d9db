import numpy as np
import pytest
import torch

from seisphase.errors import ConfigError, ModelFileError
from seisphase.models import build_model
from seisphase.training import CHECKPOINT_NAME, TrainConfig, load_checkpoint, train_network


def _data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 10)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)
    return x[:240], y[:240], x[240:], y[240:]


def _train(cfg, **kw):
    torch.manual_seed(123)  # the loop must reseed: this must not matter
    model = build_model("mlp", (10,), hidden=[8])
    return model, train_network(model, *_data(), cfg, progress=False, **kw)


def test_same_seed_same_result_other_seed_differs():
    cfg = TrainConfig(epochs=5, seed=7)
    (m1, h1), (m2, h2) = _train(cfg), _train(cfg)
    assert h1.val_loss == h2.val_loss
    for a, b in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(a, b)
    _, h3 = _train(TrainConfig(epochs=5, seed=8))
    assert h3.val_loss != h1.val_loss


def test_learns_and_restores_best_state():
    model, h = _train(TrainConfig(epochs=30, lr=1e-2, patience=None))
    assert h.val_accuracy[h.best_epoch] > 0.8
    assert h.val_loss[h.best_epoch] == min(h.val_loss)
    x_val, y_val = _data()[2:]
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(torch.as_tensor(x_val)), torch.as_tensor(y_val))
    assert float(loss) == pytest.approx(h.val_loss[h.best_epoch], rel=1e-5)


def test_early_stopping_stops():
    _, h = _train(TrainConfig(epochs=200, lr=0.5, optimizer="sgd", patience=3))
    assert h.stopped_early and h.n_epochs < 200
    assert h.n_epochs - 1 - h.best_epoch == 3


def test_resume_continues_an_interrupted_run(tmp_path):
    cfg = TrainConfig(epochs=8, seed=3, patience=None)
    full_model, full = _train(cfg)
    # "Kill" a run after 3 epochs: train 3 epochs of the same 8-epoch schedule...
    _train(TrainConfig(epochs=3, seed=3, patience=None), checkpoint_dir=tmp_path)
    state = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert state["epoch"] == 2
    # ...then resume with the full config: the remaining epochs replay the uninterrupted run.
    model, resumed = _train(cfg, checkpoint_dir=tmp_path, resume=True)
    assert resumed.n_epochs == 8
    np.testing.assert_allclose(resumed.val_loss, full.val_loss, rtol=1e-5)
    for a, b in zip(model.parameters(), full_model.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
    with pytest.raises(ModelFileError, match="delete it to start over"):
        _train(TrainConfig(epochs=2), checkpoint_dir=tmp_path, resume=True)


@pytest.mark.parametrize("kw, match", [
    ({"optimizer": "rmsprop"}, "valid: sgd, adam, adamw"),
    ({"lr": 0.0}, "positive"),
    ({"epochs": 0}, "at least 1"),
])
def test_bad_config(kw, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**kw)


def test_unknown_model_lists_valid_ones():
    with pytest.raises(ConfigError, match="valid models: .*linear.*mlp"):
        build_model("resnet", (10,))
    with pytest.raises(ConfigError, match="at least one hidden layer"):
        build_model("mlp", (10,), hidden=[])


@pytest.mark.parametrize("hidden, wd", [((), 0.0), ((8,), 1e-3), ((8, 6), 0.0)])
def test_numpy_sgd_path_matches_autograd(hidden, wd):
    """The hand-written plain-SGD epoch must follow torch.optim.SGD step for step."""
    from seisphase.training import _plain_sgd_epoch_fn

    x_tr, y_tr, x_val, y_val = _data()
    cfg = TrainConfig(epochs=3, optimizer="sgd", lr=0.05, weight_decay=wd, batch_size=16,
                      patience=None)
    fast = build_model("mlp" if hidden else "linear", (10,), **({"hidden": list(hidden)} if hidden else {}))
    slow = build_model("mlp" if hidden else "linear", (10,), **({"hidden": list(hidden)} if hidden else {}))
    slow.load_state_dict(fast.state_dict())
    assert _plain_sgd_epoch_fn(fast, cfg) is not None
    h_fast = train_network(fast, x_tr, y_tr, x_val, y_val, cfg, progress=False)
    # a no-op augmenter forces the autograd path
    h_slow = train_network(slow, x_tr, y_tr, x_val, y_val, cfg, progress=False,
                           augment=lambda xb, yb, gen: (xb, yb))
    np.testing.assert_allclose(h_fast.train_loss, h_slow.train_loss, rtol=1e-4)
    np.testing.assert_allclose(h_fast.val_loss, h_slow.val_loss, rtol=1e-4)
    for a, b in zip(fast.parameters(), slow.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
