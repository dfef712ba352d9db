"""Explanations find what the synthetic windows were built to carry: 5 Hz (P) and 15 Hz (S) on Z, mid-window."""

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from seisphase.classifier import PhaseClassifier
from seisphase.data.windows import Windows
from seisphase.errors import ConfigError, DataError, NotFittedError
from seisphase.explain import (
    linear_weights,
    occlusion,
    plot_occlusion,
    plot_spectral_importance,
    saliency,
    spectral_importance,
    spectral_layout,
)
from seisphase.plots import PHASE_COLORS
from seisphase.training import TrainConfig

SIGNAL = (150, 250)  # samples carrying the class signal
BANDS = {0: 5.0, 1: 15.0}  # class → frequency of its sinusoid on Z; class 2 is noise only


def band_windows(n, seed, amp=2.0):
    """White noise on Z, N, E; P windows add a 5 Hz and S windows a 15 Hz burst on Z only."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    t = np.arange(400) / 100.0
    x = rng.normal(size=(n, 3, 400)).astype(np.float32)
    seg = slice(*SIGNAL)
    for k, f in BANDS.items():
        phase = rng.uniform(0, 2 * np.pi, size=(int((y == k).sum()), 1))
        x[y == k, 0, seg] += amp * np.sin(2 * np.pi * f * t[None, seg] + phase)
    return Windows(x, y, 100.0, "ZNE")


@pytest.fixture(scope="module")
def data():
    return band_windows(240, 0), band_windows(120, 1)


@pytest.fixture(scope="module")
def linear(data):
    train, test = data
    # Plain SGD on a linear model takes the training loop's fast NumPy path.
    clf = PhaseClassifier("linear", train=TrainConfig(epochs=40, optimizer="sgd", lr=0.05))
    clf.fit(train, validation=test)
    assert clf.score(test) > 0.85
    return clf


def test_spectral_importance_peaks_at_the_signal_bands_on_z(linear, data):
    freqs, imp = spectral_importance(linear, data[1], n_repeats=2)
    assert imp.shape == (3, 80, 3)
    np.testing.assert_allclose(freqs, np.arange(1, 81) * 0.25)
    for k, f in BANDS.items():
        z = imp[0, :, k]
        assert abs(freqs[z.argmax()] - f) <= 1.0
        assert z.max() > 3 * np.abs(imp[1:, :, k]).max()  # N and E carry nothing


def test_accuracy_importance_is_one_column_and_seeded(linear, data):
    freqs, imp = spectral_importance(linear, data[1], n_repeats=2, score="accuracy", seed=3)
    assert imp.shape == (3, 80, 1)
    peak = freqs[imp[0, :, 0].argmax()]
    assert min(abs(peak - f) for f in BANDS.values()) <= 1.0
    np.testing.assert_array_equal(
        imp, spectral_importance(linear, data[1], n_repeats=2, score="accuracy", seed=3)[1])


def test_unlabelled_windows_explain_the_models_own_decisions(linear, data):
    test = data[1]
    waveforms = test.waveforms[:60]
    _, from_predictions = spectral_importance(linear, waveforms, n_repeats=1)
    _, from_labels = spectral_importance(linear, waveforms, n_repeats=1,
                                         labels=linear.predict(waveforms))
    np.testing.assert_allclose(from_predictions, from_labels)


def test_linear_weights_are_the_logits_laid_out_by_component_and_frequency(linear, data):
    freqs, w = linear_weights(linear)
    components, freqs2, n_frames = spectral_layout(linear)
    assert (components, n_frames, w.shape) == ("ZNE", 1, (3, 80, 3))
    np.testing.assert_array_equal(freqs, freqs2)
    # Logits = features (component, frequency) · weights + bias, exactly.
    feats = linear.prepare(data[1]).reshape(-1, 3, 80)
    bias = [m for m in linear.network_.modules() if isinstance(m, torch.nn.Linear)][0].bias
    expected = np.einsum("ncf,cfk->nk", feats, w) + bias.detach().numpy()
    np.testing.assert_allclose(linear.logits(data[1]), expected, rtol=1e-4, atol=1e-4)
    for k, f in BANDS.items():
        assert abs(freqs[w[0, :, k].argmax()] - f) <= 1.0


def test_linear_weights_and_spectra_refuse_other_models(data):
    mlp = PhaseClassifier("mlp", hidden=(4,), train=TrainConfig(epochs=1, optimizer="sgd"))
    with pytest.raises(NotFittedError, match="call fit"):
        spectral_importance(mlp, data[1])
    mlp.fit(data[0], validation=data[1])
    with pytest.raises(ConfigError, match="needs the linear model, got 'mlp'"):
        linear_weights(mlp)
    with pytest.raises(ConfigError, match="valid: logprob, accuracy"):
        spectral_importance(mlp, data[1], score="f1")
    with pytest.raises(ConfigError, match="saliency needs a waveform model"):
        saliency(mlp, data[1])
    with pytest.raises(ConfigError, match="window_samples must lie in 1..400"):
        occlusion(mlp, data[1], window_samples=500)


def test_occlusion_drops_the_true_class_most_where_the_signal_is(linear, data):
    test = data[1]
    occ = occlusion(linear, test, window_samples=40, stride=20)
    assert occ.shape == (120, 3, 19)
    starts = np.arange(19) * 20
    inside = (starts >= SIGNAL[0]) & (starts + 40 <= SIGNAL[1])
    outside = (starts + 40 <= SIGNAL[0]) | (starts >= SIGNAL[1])
    mean = occ[test.labels < 2].mean(axis=0)  # P and S windows
    assert mean[0, inside].mean() > 3 * mean[0, outside].max()
    assert mean[0, inside].mean() > 3 * np.abs(mean[1:]).max()


def test_plot_spectral_importance_draws_each_class_in_its_phase_colour():
    freqs = np.arange(1, 81) * 0.25
    imp = np.zeros((3, 80, 3))
    imp[0, 19, 0] = 1.0
    fig = plot_spectral_importance(freqs, imp, "ZNE")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["Component Z", "Component N", "Component E"]
    colours = [line.get_color() for line in fig.axes[0].lines[:3]]
    assert colours == [PHASE_COLORS["P"], PHASE_COLORS["S"], PHASE_COLORS["N"]]
    assert fig.axes[0].lines[0].get_ydata().max() == 1.0
    one = plot_spectral_importance(freqs, imp[..., :1], "ZNE")
    assert one.axes[0].lines[0].get_label() == "all windows"
    with pytest.raises(DataError, match=r"expected importance of shape \(2, 80, n_classes\)"):
        plot_spectral_importance(freqs, imp, "ZN")


def test_plot_occlusion_one_axis_per_window_and_a_colour_bar(data):
    test = data[1]
    occ = np.random.default_rng(0).uniform(size=(test.n_windows, 3, 19))
    fig = plot_occlusion(test, occ, n_show=2)
    assert len(fig.axes) == 3  # two windows and the colour bar
    assert fig.axes[0].get_title() == "window 0: P wave"
    assert fig.axes[0].lines[0].get_color() == PHASE_COLORS["P"]
    with pytest.raises(DataError, match="expected occlusion of shape"):
        plot_occlusion(test, occ[:, :2])


@pytest.mark.slow
def test_cnn_saliency_and_occlusion_point_at_the_burst_on_z(data):
    train, test = data
    cnn = PhaseClassifier("cnn", model_params={"width": 0.25},
                          train=TrainConfig(epochs=8, lr=3e-3, seed=0)).fit(train, validation=test)
    assert cnn.score(test) > 0.85
    sal = saliency(cnn, test)
    assert sal.shape == (120, 3, 400) and (sal >= 0).all()
    signal = sal[test.labels < 2]
    inside = signal[:, 0, SIGNAL[0]:SIGNAL[1]].mean()
    outside = np.concatenate([signal[:, 0, :SIGNAL[0] - 10], signal[:, 0, SIGNAL[1] + 10:]], 1)
    assert inside > 1.5 * outside.mean()
    occ = occlusion(cnn, test).mean(axis=0)
    assert occ[0, 8:11].min() > 5 * np.abs(occ[0, :5]).max()  # segments 160–240 vs 0–120
    with pytest.raises(ConfigError, match="for the cnn use occlusion or saliency"):
        spectral_importance(cnn, test)



def test_explanations_score_the_model_as_it_predicts_with_a_class_prior(linear, data, tmp_path):
    """A class prior shifts the logits: what the explanations score must be predict_proba's
    probabilities, not the bare network's."""
    from seisphase.explain import _log_proba

    windows = data[1]
    plain = PhaseClassifier.load(linear.save(tmp_path / "m"))
    shifted = PhaseClassifier.load(tmp_path / "m").set_class_prior([0.6, 0.1, 0.3])
    for clf in (plain, shifted):
        np.testing.assert_allclose(np.exp(_log_proba(clf, clf.prepare(windows))),
                                   clf.predict_proba(windows), rtol=1e-5, atol=1e-6)
    assert not np.allclose(shifted.predict_proba(windows), plain.predict_proba(windows), atol=1e-3)
