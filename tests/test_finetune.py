"""Fine-tuning a trained model (PhaseClassifier.fine_tune, train --init) and grouped cross-validation."""

import json

import numpy as np
import pytest
import torch
from tests.conftest import toy_windows

from seisphase.classifier import PhaseClassifier
from seisphase.cli import main
from seisphase.crossval import cross_validate
from seisphase.data.npz import save_windows
from seisphase.data.split import group_kfold
from seisphase.data.windows import Windows
from seisphase.errors import ConfigError, DataError, NotFittedError
from seisphase.features import FeatureConfig
from seisphase.training import TrainConfig

FAST = TrainConfig(epochs=6, batch_size=16, optimizer="adam", lr=3e-3, patience=None)


def _swapped(w: Windows) -> Windows:
    """The same windows with P and S labels exchanged: a 'new domain' only fine-tuning can learn."""
    labels = np.array([1, 0, 2])[w.labels]
    return Windows(w.waveforms, labels, w.sampling_rate, w.components, w.metadata)


@pytest.fixture(scope="module")
def base():
    return PhaseClassifier("mlp", hidden=(16,), train=FAST).fit(toy_windows(150, seed=1))


@pytest.fixture(scope="module")
def small_cnn():
    w = toy_windows(90, seed=2)
    return PhaseClassifier("cnn", model_params={"width": 0.125}, components="ZNE",
                           features=FeatureConfig(kind="waveform"),
                           train=TrainConfig(epochs=2, batch_size=16, patience=None)).fit(w)


def test_fine_tuning_learns_the_new_labels_and_leaves_the_base_alone(base):
    new = _swapped(toy_windows(150, seed=3))
    before = {k: v.clone() for k, v in base.network_.state_dict().items()}
    assert base.score(new) < 0.5  # the pre-trained model calls P what the new data call S
    tuned = base.fine_tune(new, train=FAST.__class__(**{**FAST.__dict__, "epochs": 25}))
    assert tuned.score(_swapped(toy_windows(90, seed=4))) > 0.9
    assert all(torch.equal(before[k], v) for k, v in base.network_.state_dict().items())
    assert tuned.network_ is not base.network_


def test_fine_tuning_keeps_the_input_pipeline(base):
    tuned = base.fine_tune(_swapped(toy_windows(60, seed=5)), train=FAST)
    a, b = base.extractor_.state(), tuned.extractor_.state()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert tuned.components_ == base.components_ and tuned.model_params_ == base.model_params_


def test_head_only_training_freezes_the_trunk_and_its_batch_norm_statistics(small_cnn):
    before = {k: v.clone() for k, v in small_cnn.network_.state_dict().items()}
    tuned = small_cnn.fine_tune(toy_windows(60, seed=6),
                                train=TrainConfig(epochs=2, batch_size=16, lr=1e-2,
                                                  patience=None, trainable="head"))
    after = tuned.network_.state_dict()
    trunk = [k for k in before if k.startswith(("convs.", "norms."))]
    head = [k for k in before if k.startswith("head.") and "num_batches" not in k]
    assert trunk and head
    assert all(torch.equal(before[k], after[k]) for k in trunk)
    assert any(not torch.equal(before[k], after[k]) for k in head)
    # and everything is trainable again afterwards (a later fine-tuning may train all layers)
    assert all(p.requires_grad for p in tuned.network_.parameters())


def test_fine_tuned_model_saves_where_it_came_from(base, tmp_path):
    tuned = base.fine_tune(_swapped(toy_windows(60, seed=7)), train=FAST)
    loaded = PhaseClassifier.load(tuned.save(tmp_path / "m"))
    pre = loaded.info_["pretrained"]
    assert pre["fingerprint"] == base.info_["data"]["fingerprint"]
    assert pre["n_windows"] == base.info_["data"]["n_windows"]
    assert "Fine-tuned from a model pre-trained" in (tmp_path / "m" / "MODEL_CARD.md").read_text()
    w = toy_windows(30, seed=8)
    np.testing.assert_array_equal(loaded.predict_proba(w), tuned.predict_proba(w))


def test_fine_tuning_errors(base):
    with pytest.raises(NotFittedError):
        PhaseClassifier("mlp").fine_tune(toy_windows(30))
    w = toy_windows(30)
    with pytest.raises(DataError, match="sampled at 50 Hz"):
        base.fine_tune(Windows(w.waveforms, w.labels, 50.0, "ZNE", w.metadata))
    with pytest.raises(DataError, match="needs labels"):
        base.fine_tune(Windows(w.waveforms, None, 100.0, "ZNE"))
    with pytest.raises(ConfigError, match="unknown trainable"):
        TrainConfig(trainable="trunk")


def test_cli_train_init_fine_tunes_and_refuses_model_options(tmp_path, capsys):
    data = save_windows(tmp_path / "a.npz", toy_windows(120, seed=1))
    new = save_windows(tmp_path / "b.npz", _swapped(toy_windows(120, seed=2)))
    q = ["--epochs", "3", "--quiet"]
    assert main(["train", str(data), "--model", "mlp", "--hidden", "8", *q,
                 "--out", str(tmp_path / "base")]) == 0
    assert main(["train", str(new), "--init", str(tmp_path / "base"), "--trainable", "head",
                 *q, "--out", str(tmp_path / "tuned")]) == 0
    base_cfg = json.loads((tmp_path / "base" / "model.json").read_text())
    cfg = json.loads((tmp_path / "tuned" / "model.json").read_text())
    assert cfg["pretrained"]["fingerprint"] == base_cfg["data"]["fingerprint"]
    assert cfg["train"]["trainable"] == "head"
    assert cfg["model"] == {**base_cfg["model"]}
    capsys.readouterr()
    assert main(["train", str(new), "--init", str(tmp_path / "base"), "--model", "cnn", *q,
                 "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--init keeps the model's architecture" in err[0] and "--model" in err[0]
    assert not (tmp_path / "bad").exists()


def test_cross_validation_scores_every_window_once_per_seed(base):
    w = toy_windows(105, seed=9)
    result = cross_validate(base, w, FAST, n_folds=3, seeds=[0, 1])
    assert len(result.folds) == 6
    for seed in (0, 1):
        folds = [f for f in result.folds if f.seed == seed]
        assert sum(f.fine_tuned["all"][1] for f in folds) == w.n_windows
        assert sum(f.zero_shot["all"][1] for f in folds) == w.n_windows
    s = result.summary("fine_tuned", "all")
    assert s["windows"] == 2 * w.n_windows and 0 <= s["pooled"] <= 1
    assert result.summary("zero_shot")["correct"] == 2 * int((base.predict(w) == w.labels).sum())
    assert "pooled" in result.format_table()


def test_cross_validation_keeps_stations_apart(monkeypatch):
    w = toy_windows(105, seed=10)
    seen = []
    original = PhaseClassifier.fit

    def spy(self, X, *args, **kwargs):
        seen.append((set(X.metadata["station_id"]), set(kwargs["validation"].metadata["station_id"])))
        return original(self, X, *args, **kwargs)

    monkeypatch.setattr(PhaseClassifier, "fit", spy)
    result = cross_validate(PhaseClassifier("linear", train=FAST), w, FAST, n_folds=3)
    assert len(seen) == 3 and all(not f.zero_shot for f in result.folds)
    folds = list(group_kfold(w, 3, column="station_id", seed=0))  # the folds cross_validate drew
    for (train, val), (_, test_idx) in zip(seen, folds, strict=True):
        scored = set(w.metadata["station_id"].to_numpy()[test_idx])
        assert scored and not train & val and not (train | val) & scored


def test_cross_validation_needs_the_group_column(base):
    w = toy_windows(30)
    with pytest.raises(DataError, match="'record' metadata column"):
        cross_validate(base, w, FAST, column="record")


# -- class prior (label-shift correction) ---------------------------------------------------
def test_class_prior_multiplies_the_probabilities_by_the_prior_ratio():
    from seisphase.calibration import softmax

    w = toy_windows(60, seed=11)
    clf = PhaseClassifier("mlp", hidden=(8,), train=TrainConfig(
        epochs=3, patience=None, class_weighted=True)).fit(toy_windows(90, seed=12))
    raw = softmax(clf.logits(w))
    clf.set_class_prior([0.6, 0.1, 0.3])
    expected = raw * np.array([0.6, 0.1, 0.3])  # trained class-weighted: a uniform mix
    np.testing.assert_allclose(clf.predict_proba(w), expected / expected.sum(1, keepdims=True),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(clf.predict_proba(w).sum(1), 1, atol=1e-6)
    clf.set_class_prior(None)
    np.testing.assert_allclose(clf.predict_proba(w), raw, rtol=1e-6)


def test_class_prior_equal_to_the_training_mix_changes_nothing(base):
    w = toy_windows(30, seed=13)
    before = base.predict_proba(w)
    base.set_class_prior(base.info_["data"]["class_counts"])
    try:
        np.testing.assert_allclose(base.predict_proba(w), before, rtol=1e-5, atol=1e-7)
    finally:
        base.set_class_prior(None)


def test_class_prior_round_trips_and_is_in_the_card(base, tmp_path):
    w = toy_windows(30, seed=14)
    tuned = base.fine_tune(toy_windows(45, seed=15), train=FAST).set_class_prior({"P": 3, "S": 1, "N": 2})
    loaded = PhaseClassifier.load(tuned.save(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.predict_proba(w), tuned.predict_proba(w))
    assert loaded.class_prior_["target"] == pytest.approx([0.5, 1 / 6, 1 / 3])
    assert "Class prior: re-targeted to P 0.50, S 0.17, N 0.33" in (tmp_path / "m" / "MODEL_CARD.md").read_text()


@pytest.mark.parametrize("prior", [[1, 2], [1, -1, 1], [0, 1, 1], [np.nan, 1, 1]])
def test_bad_class_priors_are_refused(base, prior):
    with pytest.raises(ConfigError, match="a class prior needs 3 positive numbers"):
        base.set_class_prior(prior)


def test_cli_class_prior(tmp_path, capsys):
    data = save_windows(tmp_path / "a.npz", toy_windows(120, seed=16))
    q = ["--model", "mlp", "--hidden", "8", "--epochs", "2", "--quiet"]
    assert main(["train", str(data), *q, "--class-weighted", "--class-prior", "2,1,1",
                 "--out", str(tmp_path / "m")]) == 0
    cfg = json.loads((tmp_path / "m" / "model.json").read_text())
    assert cfg["class_prior"]["target"] == pytest.approx([0.5, 0.25, 0.25])
    assert cfg["class_prior"]["training"] == pytest.approx([1 / 3] * 3)
    capsys.readouterr()
    for bad, match in ((["--class-prior", "1,x,1"], "three positive numbers"),
                       (["--class-prior", "data", "--stream"], "a stream does not give")):
        assert main(["train", str(data), *q, *bad, "--out", str(tmp_path / "bad")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and match in err[0]
        assert not (tmp_path / "bad").exists()


def test_augment_options_from_text_are_typed_and_checked():
    from seisphase.augment import AugmentConfig

    cfg = AugmentConfig.from_text("dropout=0.5, shift=10,renormalize=std")
    assert (cfg.dropout, cfg.shift, cfg.renormalize) == (0.5, 10, "std")
    assert isinstance(cfg.shift, int) and cfg.polarity == AugmentConfig().polarity
    assert AugmentConfig.from_text("") == AugmentConfig() == AugmentConfig.from_text(None)
    for bad, words in (("dropuot=0.5", "key=value"), ("dropout", "key=value"),
                       ("dropout=half", "needs a float"), ("dropout=1.5", "probability"), ("shift=10.5", "whole number")):
        with pytest.raises(ConfigError, match=words):
            AugmentConfig.from_text(bad)


def test_cli_augment_overrides_are_recorded_and_apply_to_fine_tuning(tmp_path, capsys):
    data = save_windows(tmp_path / "a.npz", toy_windows(90, seed=1))
    q = ["--epochs", "1", "--quiet", "--model", "cnn", "--width", "0.125"]
    assert main(["train", str(data), *q, "--augment", "--out", str(tmp_path / "base")]) == 0
    assert json.loads((tmp_path / "base" / "model.json").read_text())["augment"]["dropout"] == 0.15
    assert main(["train", str(data), "--init", str(tmp_path / "base"), "--epochs", "1", "--quiet",
                 "--augment", "dropout=0.5,shift=5", "--out", str(tmp_path / "tuned")]) == 0
    aug = json.loads((tmp_path / "tuned" / "model.json").read_text())["augment"]
    assert (aug["dropout"], aug["shift"], aug["rotate"]) == (0.5, 5, 1.0)
    capsys.readouterr()
    assert main(["train", str(data), *q, "--augment", "gain=lots", "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "gain" in err[0] and not (tmp_path / "bad").exists()
