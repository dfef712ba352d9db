"""Every plotting function returns a labelled Figure; save_figure is atomic and picky."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from seisphase import plots
from seisphase.data.windows import PHASES, Windows
from seisphase.errors import ConfigError
from seisphase.plots import (
    PHASE_COLORS,
    plot_activations,
    plot_decision_boundary,
    plot_examples,
    plot_features,
    plot_median_spectra,
    save_figure,
)
from seisphase.plots_results import (
    plot_confusion,
    plot_history,
    plot_learning_curves,
    plot_precision_recall,
    plot_realism,
    plot_reliability,
    plot_sweep,
)
from seisphase.training import History


def tiny_windows(metadata=True):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3, 400)).astype(np.float32)
    x[3, 1:] = 0.0  # a vertical-only window (dead N, E)
    meta = pd.DataFrame({"pick_sample": [170, 200, 230, 180, -1, -1]}) if metadata else None
    return Windows(x, np.array([0, 0, 1, 1, 2, 2]), components="ZNE", metadata=meta)


def labels_of(ax):
    return ax.get_xlabel(), ax.get_ylabel(), ax.get_title()


def history(n=5, best=2):
    return History(train_loss=list(np.linspace(1, 0.5, n)), val_loss=list(np.linspace(1.1, 0.7, n)),
                   train_accuracy=list(np.linspace(0.4, 0.8, n)),
                   val_accuracy=list(np.linspace(0.35, 0.7, n)), seconds=[0.1] * n,
                   best_epoch=best)


def test_phase_colors_cover_every_phase_and_differ():
    assert set(PHASE_COLORS) == set(PHASES)
    assert len(set(PHASE_COLORS.values())) == len(PHASES)


def test_plot_examples_grid_labels_and_pick_from_metadata():
    fig = plot_examples(tiny_windows(), n_per_class=2)
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert len(axes) == 3 * 6  # components x windows
    assert axes[0].get_ylabel() == "Z (counts)"
    assert axes[-1].get_xlabel() == "Time (s)"
    assert axes[0].get_title().startswith("P wave")
    assert axes[0].lines[0].get_color() == PHASE_COLORS["P"]
    pick_line = axes[0].lines[1]
    assert pick_line.get_xdata()[0] == pytest.approx(1.70)  # sample 170 at 100 Hz
    assert len(axes[4].lines) == 1  # noise window: no pick


def test_plot_examples_without_metadata_marks_window_centre():
    fig = plot_examples(tiny_windows(metadata=False), n_per_class=1)
    assert len(fig.axes) == 3 * 3
    assert fig.axes[0].lines[1].get_xdata()[0] == pytest.approx(2.0)


def test_plot_median_spectra_one_loglog_panel_per_component():
    fig = plot_median_spectra(tiny_windows())
    assert len(fig.axes) == 3
    for ax, comp in zip(fig.axes, "ZNE", strict=True):
        assert ax.get_xscale() == ax.get_yscale() == "log"
        assert ax.get_xlabel() == "Frequency (Hz)"
        assert comp in ax.get_title()
    assert "Amplitude" in fig.axes[0].get_ylabel()
    assert len(fig.axes[0].lines) == 3  # one median per class


@pytest.mark.parametrize("shape, n_panels", [((9, 20), 1), ((9, 3, 20), 3)])
def test_plot_features_panels_sorted_by_class(shape, n_panels):
    features = np.random.default_rng(1).normal(size=shape)
    labels = np.array([2, 0, 1] * 3)
    fig = plot_features(features, labels, components="ZNE")
    assert len(fig.axes) == n_panels + 1  # panels + colour bar
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Feature index"
    assert [t.get_text() for t in ax.get_yticklabels()] == list(PHASES)
    shown = ax.images[0].get_array()
    first_p = features[1] if features.ndim == 2 else features[1, 0]
    np.testing.assert_allclose(shown[0], first_p)  # the first row is the first P window


def test_plot_history_marks_best_epoch():
    fig = plot_history(history(best=2))
    assert len(fig.axes) == 2
    assert labels_of(fig.axes[0])[:2] == ("Epoch", "Loss (cross-entropy)")
    assert fig.axes[1].get_ylabel() == "Accuracy"
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "best epoch (3)" in legend


def test_plot_learning_curves_one_validation_line_per_run():
    fig = plot_learning_curves({"linear": history(), "mlp 40": history(4, 1)})
    assert len(fig.axes) == 2
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend == ["linear", "mlp 40"]
    assert fig.axes[0].get_xlabel() == "Epoch"


def test_plot_confusion_counts_and_row_normalised():
    cm = [[8, 1, 1], [2, 6, 2], [0, 0, 10]]
    fig = plot_confusion(cm)
    assert len(fig.axes) == 2
    assert labels_of(fig.axes[0]) == ("Predicted class", "True class", "Counts")
    assert "Row-normalised" in fig.axes[1].get_title()
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert texts[:3] == ["0.80", "0.10", "0.10"]


def test_plot_precision_recall_one_curve_per_class():
    rng = np.random.default_rng(0)
    y = np.arange(30) % 3
    proba = np.eye(3)[y] + rng.uniform(0, 0.8, size=(30, 3))
    proba /= proba.sum(1, keepdims=True)
    fig = plot_precision_recall(y, proba)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Recall", "Precision")
    assert len(ax.lines) == 3
    assert [line.get_color() for line in ax.lines] == [PHASE_COLORS[p] for p in PHASES]


def test_plot_reliability_before_after_with_ece_in_legend():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    logits = 4 * (np.eye(3)[y] + rng.normal(size=(200, 3)))
    from seisphase.calibration import softmax

    fig = plot_reliability(y, softmax(logits), softmax(logits, 4.0))
    assert len(fig.axes) == 2
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(legend) == 3 and all("ECE" in t for t in legend[1:])
    assert fig.axes[1].get_xlabel() == "Confidence (top probability)"


def test_plot_decision_boundary_toy_data():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)
    x = rng.normal(size=(30, 2)) + 3 * np.eye(3)[y][:, :2]
    fig = plot_decision_boundary(lambda p: (p[:, 0] > 1.5).astype(int), x, y, resolution=20)
    assert len(fig.axes) == 1
    assert fig.axes[0].get_xlabel() == "x₁"
    assert "accuracy" in fig.axes[0].get_title()


def test_plot_activations_sigmoid_and_relu():
    fig = plot_activations()
    assert len(fig.axes) == 2
    sig = fig.axes[0].lines[0].get_ydata()
    assert sig.min() > 0 and sig.max() < 1
    assert "ReLU" in fig.axes[1].get_title()
    assert fig.axes[0].get_ylabel() == "Activation φ(f)"


def test_plot_sweep_mean_and_std_over_seeds_log_x():
    rows = pd.DataFrame({
        "lr": [1e-3, 1e-3, 1e-2, 1e-2] * 2,
        "hidden": [[40]] * 4 + [[100]] * 4,
        "seed": [0, 1] * 4,
        "val_accuracy": [0.5, 0.6, 0.7, 0.7, 0.55, 0.65, 0.8, 0.9],
    })
    fig = plot_sweep(rows, x="lr", hue="hidden")
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Learning rate"
    assert len(ax.containers) == 2  # one error-bar line per width
    mean_line = ax.containers[0].lines[0]
    np.testing.assert_allclose(np.asarray(mean_line.get_ydata(), float), [0.55, 0.7])  # means of hidden [40]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["hidden = [40]", "hidden = [100]"]
    with pytest.raises(ConfigError, match="no column"):
        plot_sweep(rows, hue="depth")


def test_plot_realism_rows_of_spectra_and_envelopes():
    freqs = np.linspace(0.25, 20, 80)
    spec = np.abs(np.random.default_rng(0).normal(size=(3, 80))) + 0.1
    env = np.abs(np.random.default_rng(1).normal(size=(3, 400)))
    fig = plot_realism(freqs, spec, spec * 1.1, env, env * 0.9)
    assert len(fig.axes) == 6
    assert fig.axes[0].get_xlabel() == "Frequency (Hz)"
    assert fig.axes[0].get_xscale() == "log"
    assert fig.axes[3].get_xlabel() == "Time (s)"
    assert fig.axes[0].get_title() == "P wave"
    assert fig.axes[0].lines[1].get_color() == PHASE_COLORS["P"]  # real in the phase colour


def test_plot_realism_takes_realism_dicts_with_channels():
    from seisphase.data.realism import median_envelopes, median_spectra

    w = tiny_windows()
    freqs, spectra = median_spectra(w)
    times, envelopes = median_envelopes(w)
    fig = plot_realism(freqs, spectra, spectra, envelopes, envelopes)
    assert len(fig.axes) == 6
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["synthetic Z", "synthetic N/E", "real Z", "real N/E"]
    assert len(fig.axes[4].lines) == 2  # S envelopes: synthetic and real


def test_result_plots_are_importable_from_plots():
    assert plots.plot_history is plot_history
    assert plots.plot_realism is plot_realism
    with pytest.raises(AttributeError):
        plots.no_such_plot  # noqa: B018


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                           (".pdf", b"%PDF")])
def test_save_figure_writes_each_format(tmp_path, suffix, magic):
    path = save_figure(plot_activations(), tmp_path / f"act{suffix}")
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [f"act{suffix}"]  # no temporary left


def test_save_figure_refuses_unknown_suffix_and_leaves_nothing(tmp_path):
    with pytest.raises(ConfigError, match=r"\.png, \.svg, \.pdf"):
        save_figure(plot_activations(), tmp_path / "act.xyz")
    assert list(tmp_path.iterdir()) == []
