"""The GPD CNN: shapes, parameter counts, fast path = reference path, and the classifier round trip."""

import json

import numpy as np
import pytest
import torch

from seisphase.classifier import PhaseClassifier
from seisphase.data.windows import Windows
from seisphase.errors import ConfigError
from seisphase.features import FeatureConfig
from seisphase.models import MODELS, build_model, count_parameters
from seisphase.models.cnn import GPDNet, gpd_parameter_count
from seisphase.preprocess import preprocess_waveforms
from seisphase.training import TrainConfig


def timing_windows(n=90, seed=0):
    """P: onset near sample 200 on Z only; S: P coda first, then an onset largest on the
    horizontals but clear on Z too; noise: stationary. Counts with gains spanning three orders of magnitude."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.normal(size=(n, 3, 400))
    onset = 200 + rng.integers(-40, 40, n)
    after = np.arange(400)[None, :] >= onset[:, None]
    x[y == 0, 0] += 10 * after[y == 0] * rng.normal(size=(int((y == 0).sum()), 400))
    n_s = int((y == 1).sum())
    x[y == 1] += 3 * rng.normal(size=(n_s, 3, 400)) * np.array([[2.0], [1.0], [1.0]])
    x[y == 1] += after[y == 1, None] * rng.normal(size=(n_s, 3, 400)) * np.array([[8], [15], [15]])
    x *= 10.0 ** rng.uniform(0, 3, n)[:, None, None]
    return Windows(x.astype(np.float32), y)


def _cnn(train=None, **kwargs):
    return PhaseClassifier(
        "cnn", model_params={"width": 0.25},
        features=FeatureConfig(kind="waveform", preprocess={"bandpass": [1, 30]}),
        train=train or TrainConfig(epochs=2, batch_size=32, patience=None),
        augment={"shift": 10, "dropout": 0.2}, **kwargs)


@pytest.mark.parametrize("channels, samples", [(3, 400), (1, 400), (3, 250)])
def test_output_shape(channels, samples):
    net = GPDNet(channels, samples).eval()
    assert net(torch.zeros(5, channels, samples)).shape == (5, 3)
    assert net.features(torch.zeros(2, channels, samples)).shape == (2, 256, samples // 16)


def test_parameter_count_matches_gpd_and_formula():
    net = build_model("cnn", (3, 400))
    assert count_parameters(net) == gpd_parameter_count(3, 400) == 1_741_003
    # the layer-by-layer sum written out once more: convs + their batch norms, FC stack
    convs = sum(ci * co * k + 3 * co for ci, co, k in
                [(3, 32, 21), (32, 64, 15), (64, 128, 11), (128, 256, 9)])
    fc = (6400 * 200 + 3 * 200) + (200 * 200 + 3 * 200) + (200 * 3 + 3)
    assert count_parameters(net) == convs + fc
    assert count_parameters(GPDNet(1, 400)) == gpd_parameter_count(1, 400) < 1_741_003


def test_width_multiplier_shrinks_the_network():
    half = GPDNet(3, 400, width=0.5)
    assert [c.out_channels for c in half.convs] == [16, 32, 64, 128]
    assert half.head[0].out_features == 100
    assert count_parameters(half) == gpd_parameter_count(width=0.5)
    assert count_parameters(half) < 0.3 * gpd_parameter_count()
    assert MODELS["cnn"].defaults == {"width": 1.0}


@pytest.mark.parametrize("training", [False, True])
def test_fast_forward_equals_plain_1d_layers(training):
    torch.manual_seed(0)
    a = GPDNet(3, 400, width=0.25)
    b = GPDNet(3, 400, width=0.25)
    b.load_state_dict(a.state_dict())
    a.train(training)
    b.train(training)
    x = torch.randn(4, 3, 400)
    torch.testing.assert_close(a(x), b.reference_forward(x), rtol=1e-4, atol=1e-5)
    if training:  # both paths update the batch-norm running statistics the same way
        torch.testing.assert_close(a.norms[0].running_mean, b.norms[0].running_mean)
        assert int(a.norms[0].num_batches_tracked) == 1


def test_bad_cnn_parameters_are_explained():
    with pytest.raises(ConfigError, match="width must be positive"):
        build_model("cnn", (3, 400), width=0)
    with pytest.raises(ConfigError, match="use features kind 'waveform'"):
        build_model("cnn", (240,))
    with pytest.raises(ConfigError, match="at least 16 samples"):
        GPDNet(3, 8)


@pytest.mark.slow
def test_classifier_save_load_identical_and_inputs_match_training(tmp_path):
    data = timing_windows()
    clf = _cnn().fit(data)
    proba = clf.predict_proba(data)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # prediction-time inputs are exactly the training-time preprocessing of the same windows
    expected = preprocess_waveforms(data.waveforms, 100.0, clf.extractor_.options)
    np.testing.assert_array_equal(clf.prepare(data), expected)
    clf.save(tmp_path / "cnn")
    loaded = PhaseClassifier.load(tmp_path / "cnn")
    np.testing.assert_array_equal(loaded.predict_proba(data), proba)
    saved = json.loads((tmp_path / "cnn" / "model.json").read_text())
    assert saved["features"]["config"]["preprocess"]["bandpass"] == [1.0, 30.0]
    assert saved["augment"] == {"shift": 10, "dropout": 0.2}
    assert saved["model"]["params"] == {"width": 0.25}


@pytest.mark.slow
def test_vertical_only_classifier_has_one_input_channel():
    clf = _cnn(components="Z").fit(timing_windows(n=60))
    assert clf.network_.convs[0].in_channels == 1
    assert clf.prepare(timing_windows(n=6, seed=1)).shape == (6, 1, 400)


@pytest.mark.slow
def test_channel_dropout_model_classifies_vertical_only_windows():
    train, test = timing_windows(n=300, seed=0), timing_windows(n=150, seed=1)
    clf = PhaseClassifier(
        "cnn", model_params={"width": 0.25}, features=FeatureConfig(kind="waveform"),
        train=TrainConfig(epochs=8, batch_size=32, optimizer="adamw", lr=3e-3, one_cycle=True,
                          patience=None, seed=0),
        augment={"shift": 20, "dropout": 0.3}).fit(train)
    vertical = test.waveforms.copy()
    vertical[:, 1:] = 0.0
    assert clf.score(test) > 0.85
    assert clf.score(Windows(vertical, test.labels)) > 0.75
