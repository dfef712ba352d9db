"""Training-batch augmentation: shapes, labels, seeding, and what each step does."""

import pytest
import torch

from seisphase.augment import AugmentConfig, make_augmenter, roll_windows
from seisphase.errors import ConfigError

OFF = {"shift": 0, "polarity": 0.0, "rotate": 0.0, "dropout": 0.0, "renormalize": "none"}
ALL_ON = {"shift": 20, "polarity": 0.5, "rotate": 1.0, "gain": 0.2, "noise": 0.8,
          "dropout": 0.3, "renormalize": "peak"}


def _batch(n=16, channels=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, channels, 400, generator=g)
    x = x / x.abs().amax(dim=(1, 2), keepdim=True)  # peak-normalised, as after preprocessing
    return x, torch.arange(n) % 3


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def test_shapes_labels_and_input_untouched():
    x, y = _batch()
    x0, y0 = x.clone(), y.clone()
    xa, ya = make_augmenter(ALL_ON)(x, y, _gen(0))
    assert xa.shape == x.shape and xa.dtype == x.dtype
    assert torch.equal(ya, y0)
    assert torch.equal(x, x0)  # augmentation never writes into the training tensor
    assert torch.isfinite(xa).all()


def test_same_seed_same_output_different_seed_different():
    x, y = _batch()
    aug = make_augmenter(ALL_ON)
    a, _ = aug(x, y, _gen(7))
    b, _ = aug(x, y, _gen(7))
    c, _ = aug(x, y, _gen(8))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_renormalisation_restores_each_windows_peak():
    x, y = _batch()
    xa, _ = make_augmenter(ALL_ON)(x, y, _gen(1))
    torch.testing.assert_close(xa.abs().amax(dim=(1, 2)), torch.ones(len(x)))


def test_channel_dropout_zeroes_horizontals_exactly():
    x, y = _batch()
    xa, _ = make_augmenter({**OFF, "dropout": 1.0, "renormalize": "peak"})(x, y, _gen(0))
    assert torch.all(xa[:, 1:] == 0)  # ZNE: N and E
    torch.testing.assert_close(xa.abs().amax(dim=(1, 2)), torch.ones(len(x)))
    # same data in E, N, Z order: the horizontals are found from the component string
    enz = x[:, [2, 1, 0]]
    xe, _ = make_augmenter({**OFF, "dropout": 1.0}, components="ENZ")(enz, y, _gen(0))
    assert torch.all(xe[:, :2] == 0) and torch.equal(xe[:, 2], enz[:, 2])


def test_dropout_probability_is_respected():
    x, y = _batch(n=2000)
    xa, _ = make_augmenter({**OFF, "dropout": 0.15})(x, y, _gen(0))
    dropped = (xa[:, 1:].abs().amax(dim=(1, 2)) == 0).float().mean()
    assert 0.12 < float(dropped) < 0.18


def test_polarity_flip_negates():
    x, y = _batch()
    xa, _ = make_augmenter({**OFF, "polarity": 1.0})(x, y, _gen(0))
    assert torch.equal(xa, -x)


def test_shift_rolls_each_window_within_the_limit():
    x = torch.zeros(64, 3, 400)
    x[:, :, 200] = 1.0
    y = torch.zeros(64, dtype=torch.long)
    xa, _ = make_augmenter({**OFF, "shift": 20})(x, y, _gen(0))
    pos = xa[:, 0].argmax(dim=1)
    assert pos.min() >= 180 and pos.max() <= 220 and len(pos.unique()) > 10
    shifts = torch.tensor([3, -5])
    rolled = roll_windows(x[:2], shifts)
    assert torch.equal(rolled[0], torch.roll(x[0], 3, dims=-1))
    assert torch.equal(rolled[1], torch.roll(x[1], -5, dims=-1))


def test_rotation_keeps_vertical_and_horizontal_energy():
    x, y = _batch()
    xa, _ = make_augmenter({**OFF, "rotate": 1.0})(x, y, _gen(0))
    assert torch.equal(xa[:, 0], x[:, 0])
    torch.testing.assert_close(xa[:, 1] ** 2 + xa[:, 2] ** 2, x[:, 1] ** 2 + x[:, 2] ** 2)
    assert not torch.allclose(xa[:, 1], x[:, 1])


def test_noise_is_bounded_and_keeps_dead_channels_dead():
    x, y = _batch()
    x[0, 1:] = 0.0  # a vertical-only window
    xa, _ = make_augmenter({**OFF, "noise": 1.0, "noise_level": 0.3})(x, y, _gen(0))
    added = (xa - x).abs().amax(dim=(1, 2))
    assert torch.all(added <= 0.3 + 1e-6) and added.max() > 0.05
    assert torch.all(xa[0, 1:] == 0)


def test_noise_without_noise_windows_uses_gaussian_noise():
    x, _ = _batch()
    y = torch.zeros(len(x), dtype=torch.long)  # no noise-class window to borrow from
    xa, _ = make_augmenter({**OFF, "noise": 1.0})(x, y, _gen(0))
    assert torch.isfinite(xa).all() and not torch.allclose(xa, x)


def test_single_channel_batches_skip_horizontal_steps():
    x, y = _batch(channels=1)
    xa, _ = make_augmenter({**OFF, "rotate": 1.0, "dropout": 1.0})(x, y, _gen(0))
    assert torch.equal(xa, x)


def test_bad_options_are_explained():
    with pytest.raises(ConfigError, match="valid: .*dropout"):
        make_augmenter({"drop": 0.1})
    with pytest.raises(ConfigError, match="'dropout' is a probability"):
        AugmentConfig(dropout=1.5)
    with pytest.raises(ConfigError, match="components 'ZNE' got batches of 1 channels"):
        x, y = _batch(channels=1)
        make_augmenter({}, components="ZNE")(x, y, _gen(0))
