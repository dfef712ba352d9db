import json

import numpy as np
import pytest

from seisphase.classifier import PhaseClassifier
from seisphase.data.split import split_windows
from seisphase.errors import DataError, ModelFileError, NotFittedError
from seisphase.features import FeatureConfig
from seisphase.training import TrainConfig

FAST = TrainConfig(epochs=15, lr=3e-3, patience=None)


@pytest.fixture(scope="module")
def fitted():
    from tests.conftest import toy_windows

    w = toy_windows(150)
    return PhaseClassifier("mlp", hidden=(16,), train=FAST).fit(w), w


def test_probabilities_sum_to_one_and_argmax_is_predict(fitted):
    clf, w = fitted
    p = clf.predict_proba(w)
    assert p.shape == (w.n_windows, 3)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-9)
    assert (p >= 0).all()
    np.testing.assert_array_equal(p.argmax(1), clf.predict(w))
    assert list(clf.classes_) == ["P", "S", "N"]


def test_save_load_gives_identical_probabilities(fitted, tmp_path):
    clf, w = fitted
    clf.save(tmp_path / "m")
    back = PhaseClassifier.load(tmp_path / "m")
    np.testing.assert_array_equal(back.predict_proba(w), clf.predict_proba(w))
    cfg = json.loads((tmp_path / "m" / "model.json").read_text())
    for key in ("model", "features", "classes", "components", "sampling_rate", "n_samples",
                "split", "seed", "data", "seisphase_version", "temperature", "train"):
        assert key in cfg
    assert cfg["data"]["fingerprint"] == w.fingerprint()
    assert len(cfg["features"]["mean"]) == 240


def test_component_order_of_the_data_does_not_matter(fitted):
    clf, w = fitted
    np.testing.assert_allclose(clf.predict_proba(w.with_components("ENZ")), clf.predict_proba(w))


def test_learns_the_toy_task_beyond_chance(fitted):
    from tests.conftest import toy_windows

    clf, _ = fitted
    assert clf.score(toy_windows(90, seed=5)) > 0.9


def test_real_dev_beats_the_majority_class(real_dev):
    sp = split_windows(real_dev, seed=0, group_by="station_id")
    clf = PhaseClassifier("linear", features=FeatureConfig(kind="logspectrogram"),
                          train=TrainConfig(epochs=60, lr=1e-3)).fit(
        real_dev.subset(sp.train), validation=real_dev.subset(sp.validation))
    test = real_dev.subset(sp.test)
    majority = np.bincount(test.labels).max() / test.n_windows
    assert clf.score(test) > majority + 0.15


def test_unfitted_and_wrong_inputs(fitted):
    with pytest.raises(NotFittedError, match="call fit"):
        PhaseClassifier().predict(np.zeros((1, 3, 400), np.float32))
    clf, w = fitted
    with pytest.raises(DataError, match="windows of 400 samples, got 300"):
        clf.predict(w.waveforms[:, :, :300])
    from seisphase.data.windows import Windows

    with pytest.raises(DataError, match="sampled at 50 Hz but the model at 100 Hz"):
        clf.predict(Windows(w.waveforms[:2], sampling_rate=50.0))
    with pytest.raises(DataError, match="'NE' is needed"):
        clf.predict(Windows(w.waveforms[:2, :1], components="Z"))


def test_loading_bad_model_dirs(fitted, tmp_path):
    clf, _ = fitted
    with pytest.raises(ModelFileError, match="not a seisphase model directory"):
        PhaseClassifier.load(tmp_path)
    path = clf.save(tmp_path / "m")
    cfg = json.loads((path / "model.json").read_text())
    cfg["format_version"] = 99
    (path / "model.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFileError, match="version 99, newer.*upgrade"):
        PhaseClassifier.load(path)
    (path / "model.json").write_text("{ not json")
    with pytest.raises(ModelFileError, match="corrupt"):
        PhaseClassifier.load(path)
    path = clf.save(tmp_path / "m2")
    (path / "model.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(ModelFileError, match="corrupt or incomplete"):
        PhaseClassifier.load(path)


def test_vertical_only_model_takes_one_channel(windows):
    clf = PhaseClassifier("linear", components="Z", train=TrainConfig(epochs=3)).fit(windows)
    assert clf.extractor_.input_shape(400) == (80,)
    z_only = windows.with_components("Z")
    np.testing.assert_allclose(clf.predict_proba(z_only), clf.predict_proba(windows))


def test_same_seed_same_model_whatever_ran_before(windows):
    import torch

    def fit():
        return PhaseClassifier("mlp", hidden=(8,), train=TrainConfig(epochs=3, seed=5)).fit(windows)

    torch.manual_seed(1)
    a = fit()
    torch.rand(1000)  # consume global random numbers: must not matter
    b = fit()
    np.testing.assert_array_equal(a.predict_proba(windows), b.predict_proba(windows))
    c = PhaseClassifier("mlp", hidden=(8,), train=TrainConfig(epochs=3, seed=6)).fit(windows)
    assert not np.array_equal(a.predict_proba(windows), c.predict_proba(windows))
