"""The model card states everything in the model JSON and tolerates missing parts."""

import ast
from pathlib import Path

import numpy as np
import pytest

import seisphase.card
from seisphase.card import model_card


@pytest.fixture(scope="module")
def config():
    from seisphase.classifier import PhaseClassifier
    from seisphase.evaluation import evaluate_predictions
    from seisphase.training import TrainConfig

    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 3, 400)).astype(np.float32)
    y = np.arange(24) % 3
    clf = PhaseClassifier("linear", train=TrainConfig(epochs=2, seed=7, lr=0.0123)).fit(x, y)
    cfg = clf.to_config()
    cfg["data"]["sources"] = ["synthetic:24:0"]
    cfg["metrics"] = {
        "test": evaluate_predictions(y, np.zeros_like(y)).to_dict(),
        "real": evaluate_predictions(y, y).to_dict(),
    }
    cfg["calibration"] = {"temperature": 1.7, "ece_before": 0.21, "ece_after": 0.04,
                          "n_windows": 6}
    cfg["temperature"] = 1.7
    return cfg


def section(text, title):
    """Text of the ``## title`` section."""
    part = text.split(f"## {title}\n", 1)[1]
    return part.split("\n## ", 1)[0]


def test_card_states_data_split_and_preprocessing(config):
    text = model_card(config)
    data = section(text, "Data")
    assert config["data"]["fingerprint"] in data
    assert "synthetic:24:0" in data and "| P | 8 |" in data
    split = section(text, "Split")
    assert config["split"]["method"] in split
    sizes = config["split"]["sizes"]
    assert f"| train | {sizes['train']} |" in split
    assert f"| validation | {sizes['validation']} |" in split
    pre = section(text, "Input and preprocessing")
    for expected in ("ZNE", "100 Hz", "400 samples (4 s)", "samples 150–249", "logspectrum",
                     "0 < f ≤ 20 Hz", "training split only (240 features)"):
        assert expected in pre


def test_card_states_classes_model_and_training(config):
    text = model_card(config)
    classes = section(text, "Classes")
    assert classes.index("| 0 | P |") < classes.index("| 1 | S |") < classes.index("| 2 | N |")
    arch = section(text, "Architecture")
    assert "linear" in arch and f"{config['model']['n_parameters']:,}" in arch
    train = section(text, "Training")
    assert "Seed: 7" in train and "| lr | 0.0123 |" in train and "| optimizer | adam |" in train
    assert "Epochs run: 2" in train and "Best epoch:" in train


def test_card_tables_metrics_calibration_and_limits(config):
    text = model_card(config)
    metrics = section(text, "Metrics")
    assert "### Test windows" in metrics and "### Real data" in metrics
    test_part = metrics.split("### Real data")[0]
    assert "| accuracy | 0.3333 |" in test_part
    assert "| true \\ predicted | P | S | N |" in metrics
    assert "| accuracy | 1 |" in metrics.split("### Real data")[1]
    cal = section(text, "Calibration")
    assert "Temperature: 1.7" in cal and "before: 0.21, after: 0.04" in cal
    use = section(text, "Intended use")
    assert "4-s windows" in use
    limits = section(text, "Known limits")
    assert "central second" in limits
    assert "not picking quality" in limits
    assert "synthetic windows only" in limits
    assert "No metrics on real data" not in limits  # real metrics are present


@pytest.mark.parametrize("partial", [{}, {"model": {"name": "mlp"}}, {"metrics": None},
                                     {"split": {"method": "grouped by event_id"}},
                                     {"features": {"config": {"kind": "waveform",
                                                              "preprocess": {"filter": "1-20"}}}},
                                     {"history": {"train_loss": [1.0]}}])
def test_card_tolerates_missing_keys(partial):
    text = model_card(partial)
    assert text.startswith("# Model card:") and text.endswith("\n")
    assert "## Known limits" in text
    assert "not recorded" in text


def test_card_describes_waveform_preprocessing():
    cfg = {"features": {"config": {"kind": "waveform", "preprocess": {
        "detrend": "demean", "bandpass": [2.0, 20.0], "filter_order": 4, "normalize": "peak"}}}}
    pre = section(model_card(cfg), "Input and preprocessing")
    assert "Butterworth band-pass 2–20 Hz, order 4, zero phase" in pre
    assert "Detrend: demean" in pre and "Normalisation: peak" in pre
    no_filter = {"features": {"config": {"kind": "waveform", "preprocess": {"bandpass": None}}}}
    assert "Filter: none" in model_card(no_filter)


def test_card_without_real_metrics_or_calibration_says_so(config):
    cfg = {k: v for k, v in config.items() if k != "calibration"}
    cfg["metrics"] = {"test": config["metrics"]["test"]}
    cfg["temperature"] = 1.0
    text = model_card(cfg)
    assert "No metrics on real data" in section(text, "Known limits")
    assert "Not calibrated" in section(text, "Calibration")


def test_save_writes_the_card_beside_the_model(tmp_path):
    from seisphase.classifier import PhaseClassifier
    from seisphase.training import TrainConfig

    x = np.random.default_rng(1).normal(size=(12, 3, 400)).astype(np.float32)
    clf = PhaseClassifier("linear", train=TrainConfig(epochs=1)).fit(x, np.arange(12) % 3)
    path = clf.save(tmp_path / "model")
    card = (path / "MODEL_CARD.md").read_text()
    assert clf.to_config()["data"]["fingerprint"] in card


def test_card_imports_only_window_constants_from_seisphase():
    tree = ast.parse(Path(seisphase.card.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names}
    assert {m for m in imported if m and m.startswith("seisphase")} == {"seisphase.data.windows"}
