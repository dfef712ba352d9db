import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from tests.conftest import REAL_DEV, toy_windows

from seisphase.cli import main
from seisphase.data.npz import save_windows

QUICK = ["--epochs", "4", "--quiet"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    data = save_windows(d / "toy.npz", toy_windows(150))
    assert main(["train", str(data), "--model", "mlp", "--hidden", "16", *QUICK,
                 "--out", str(d / "model")]) == 0
    return d, data


def test_train_writes_the_model_directory(trained):
    d, _ = trained
    names = {p.name for p in (d / "model").iterdir()}
    assert {"model.json", "model.safetensors", "history.json", "metrics.json", "split.npz"} <= names
    metrics = json.loads((d / "model" / "metrics.json").read_text())
    assert metrics["n_windows"] == np.load(d / "model" / "split.npz")["test"].size
    assert not (d / "model.checkpoint").exists()
    assert len(json.loads((d / "model" / "history.json").read_text())["val_loss"]) == 4


def test_evaluate_json_has_the_promised_keys(trained, capsys):
    d, data = trained
    assert main(["evaluate", str(d / "model"), str(data), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"accuracy", "macro_f1", "mcc", "per_class", "confusion", "n_windows", "ece",
            "ece_uncalibrated"} <= set(out)
    assert 0 <= out["ece"] <= 1
    assert out["n_windows"] == 150
    assert sum(map(sum, out["confusion"])) == 150


def test_predict_writes_one_row_per_window(trained, tmp_path):
    d, data = trained
    out = tmp_path / "p.csv"
    assert main(["predict", str(d / "model"), str(data), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert len(table) == 150
    np.testing.assert_allclose(table[["prob_P", "prob_S", "prob_N"]].sum(axis=1), 1, atol=1e-5)
    assert set(table["phase"]) <= {"P", "S", "N"}


def test_train_on_real_dev_with_components_override(tmp_path, capsys):
    # real_dev says ENZ; an explicit (wrong) override is honoured, proving the flag reaches the loader
    assert main(["train", str(REAL_DEV), "--model", "linear", *QUICK, "--components", "ZNE",
                 "--out", str(tmp_path / "m")]) == 0
    assert "accuracy" in capsys.readouterr().out


def _error(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize("make, argv_tail, match", [
    (lambda p: p.write_bytes(b""), [], "is empty"),
    (lambda p: np.savez(p, X=np.zeros((4, 400, 3), np.float32)), [], "no labels 'Y'"),
    (lambda p: np.savez(p, X=np.full((3, 400, 3), np.nan, np.float32), Y=[0, 1, 2],
                        channel_order="ZNE"), [], "NaN or inf"),
    (lambda p: np.savez(p, X=np.zeros((3, 400, 3), np.float32), Y=[0, 1, 5],
                        channel_order="ZNE"), [], r"found \[5\]"),
    (lambda p: np.savez(p, X=np.zeros((3, 400, 3), np.int16), Y=[0, 1, 2]), [], "floating-point"),
    (lambda p: None, [], "no such file"),
])
def test_train_errors_exit_2_with_one_line_and_no_output(tmp_path, capsys, make, argv_tail, match):
    data = tmp_path / "data.npz"
    make(data)
    code, err = _error(["train", str(data), *QUICK, "--out", str(tmp_path / "out"), *argv_tail], capsys)
    assert code == 2
    errors = [line for line in err.splitlines() if not line.startswith("seisphase: warning:")]
    assert len(errors) == 1 and errors[0].startswith("seisphase: error: ")
    assert "Traceback" not in err
    assert re.search(match, errors[0])
    assert not (tmp_path / "out").exists()


def test_evaluate_errors(trained, tmp_path, capsys):
    d, data = trained
    code, err = _error(["evaluate", str(tmp_path), str(data)], capsys)
    assert code == 2 and "not a seisphase model directory" in err
    short = tmp_path / "short.npz"
    np.savez(short, X=np.ones((3, 300, 3), np.float32), Y=[0, 1, 2], channel_order="ZNE")
    code, err = _error(["evaluate", str(d / "model"), str(short)], capsys)
    assert code == 2 and "windows of 400 samples, got 300" in err
    code, err = _error(["predict", str(d / "model"), str(short), "--out", str(tmp_path / "p.csv")],
                       capsys)
    assert code == 2 and not (tmp_path / "p.csv").exists()


def test_help_and_version_do_not_import_torch():
    code = ("import sys; from seisphase.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False")
    ver = subprocess.run([sys.executable, "-m", "seisphase", "--version"], capture_output=True,
                         text=True, check=True)
    assert ver.stdout.startswith("seisphase ")
