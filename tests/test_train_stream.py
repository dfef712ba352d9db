"""Training from SeisBench-format data sets: the shipped split is respected; --stream trains chunk by chunk."""

import json

import numpy as np
import pandas as pd
import pytest

from seisphase.cli import main
from seisphase.data.split import split_from_column
from seisphase.data.windows import Windows
from seisphase.errors import DataError


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from seisphase.data.seisbench import write_seisbench
    from seisphase.data.synthetic import make_synthetic

    w = make_synthetic(600, seed=3)
    parts = np.array(["train", "dev", "test"])[np.arange(600) % 10 // 7 + (np.arange(600) % 10 == 9)]
    meta = w.metadata.copy()
    meta["split"] = parts
    path = tmp_path_factory.mktemp("sb") / "set"
    write_seisbench(Windows(w.waveforms, w.labels, w.sampling_rate, w.components, meta), path)
    return path, parts


def test_split_column_is_read():
    meta = pd.DataFrame({"split": ["train", "dev", "test", "TRAIN"]})
    sp = split_from_column(Windows(np.ones((4, 3, 10), np.float32), np.zeros(4, int), metadata=meta))
    assert sp.train.tolist() == [0, 3] and sp.validation.tolist() == [1] and sp.test.tolist() == [2]
    meta = pd.DataFrame({"split": ["train", "holdout"]})
    with pytest.raises(DataError, match="holdout"):
        split_from_column(Windows(np.ones((2, 3, 10), np.float32), np.zeros(2, int), metadata=meta))


def test_train_respects_the_data_sets_split(dataset, tmp_path):
    path, parts = dataset
    assert main(["train", str(path), "--model", "linear", "--epochs", "2", "--quiet",
                 "--out", str(tmp_path / "m")]) == 0
    cfg = json.loads((tmp_path / "m" / "model.json").read_text())
    assert cfg["split"]["group_by"] == "split column"
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["n_windows"] == int((parts == "test").sum())  # one trace per exported window


@pytest.mark.slow
def test_stream_training_matches_the_in_memory_split(dataset, tmp_path, capsys):
    path, parts = dataset
    assert main(["train", str(path), "--stream", "--chunk-size", "64", "--model", "mlp",
                 "--hidden", "16", "--epochs", "12", "--lr", "3e-3", "--quiet",
                 "--out", str(tmp_path / "s")]) == 0
    metrics = json.loads((tmp_path / "s" / "metrics.json").read_text())
    assert metrics["n_windows"] == int((parts == "test").sum())
    assert metrics["accuracy"] > 0.5
    cfg = json.loads((tmp_path / "s" / "model.json").read_text())
    assert cfg["data"]["streamed"] is True
    assert len(cfg["history"]["train_loss"]) >= 1


def test_stream_needs_one_folder(tmp_path, capsys):
    assert main(["train", "synthetic:30", "--stream", "--out", str(tmp_path / "x")]) == 2
    assert "exactly one SeisBench" in capsys.readouterr().err
