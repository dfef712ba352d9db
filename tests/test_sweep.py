"""Sweeps: grid expansion, one JSONL row per run, resuming, aggregation over seeds, the CLI."""

import json

import numpy as np
import pandas as pd
import pytest
from tests.conftest import toy_windows

from seisphase.cli import main
from seisphase.data.npz import save_windows
from seisphase.errors import ConfigError, SeisphaseWarning
from seisphase.sweep import expand_grid, run_sweep
from seisphase.sweep_results import (
    RESULTS_NAME,
    aggregate,
    config_key,
    format_table,
    load_results,
)

BASE = {"model": "mlp", "optimizer": "sgd", "epochs": 2}


def test_expand_grid_counts_folds_depth_into_hidden_and_keeps_order():
    grid = {"lr": [1e-1, 1e-2, 1e-3, 1e-4, 1e-5], "hidden": [40, 100], "depth": [1, 2],
            "seed": [0, 1, 2]}
    configs = expand_grid(grid)
    assert len(configs) == 5 * 2 * 2 * 3
    assert {c["hidden"] for c in configs} == {(40,), (40, 40), (100,), (100, 100)}
    assert all("depth" not in c for c in configs)
    assert [c["seed"] for c in configs[:4]] == [0, 1, 2, 0]  # the last key varies fastest
    assert configs[0] == {"lr": 0.1, "hidden": (40,), "seed": 0}
    assert len({config_key(c) for c in configs}) == 60
    assert expand_grid({"hidden": [[100, 40]], "lr": [1]}) == [{"hidden": (100, 40), "lr": 1.0}]


def test_config_key_is_canonical():
    assert config_key({"lr": 0.1, "hidden": (40,)}) == config_key({"hidden": [40], "lr": 0.1})
    assert config_key({"lr": 0.1}) == '{"lr":0.1}'
    # 0 and 0.0 (or "40" and 40) are one setting, so a resumed sweep recognises it.
    assert expand_grid({"weight_decay": [0], "hidden": ["40"]}) == [
        {"weight_decay": 0.0, "hidden": (40,)}]


def test_unknown_fixed_settings_fail_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="unknown sweep settings \\['learning_rate'\\]"):
        run_sweep(["synthetic:30"], {"learning_rate": 0.1}, {"lr": [0.1]}, tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("grid, match", [
    ({"learning_rate": [0.1]}, "cannot sweep 'learning_rate'; settings a grid may vary: epochs"),
    ({"depth": [1, 2]}, "a grid over depth needs hidden widths"),
    ({"lr": []}, "grid values of 'lr' must be a non-empty list"),
    ({"lr": 0.1}, "grid values of 'lr' must be a non-empty list"),
    ({"hidden": [[40, 40]], "depth": [2]}, "with depth, hidden values are single widths"),
])
def test_bad_grids_are_explained(grid, match):
    with pytest.raises(ConfigError, match=match):
        expand_grid(grid)


def _row(lr, seed, val, test, seconds=1.0):
    config = {"lr": lr, "hidden": [40], "seed": seed}
    return {"key": config_key(config), "config": config, "history": None,
            "metrics": {"val_accuracy": val, "val_loss": 1 - val, "test_accuracy": test,
                        "macro_f1": test, "train_seconds": seconds, "epochs": 10}}


def test_aggregate_mean_and_std_over_seeds_best_first():
    rows = [_row(1e-3, s, v, t) for s, v, t in ((0, 0.5, 0.4), (1, 0.6, 0.5), (2, 0.7, 0.6))]
    rows += [_row(1e-2, s, v, t) for s, v, t in ((0, 0.8, 0.7), (1, 0.9, 0.8))]
    rows += [_row(1e-1, 0, 0.2, 0.2)]
    table = aggregate(rows)
    assert list(table["lr"]) == [1e-2, 1e-3, 1e-1]
    assert list(table["n_seeds"]) == [2, 3, 1]
    np.testing.assert_allclose(table["val_accuracy_mean"], [0.85, 0.6, 0.2])
    np.testing.assert_allclose(table["val_accuracy_std"][:2], [np.std([0.8, 0.9], ddof=1),
                                                             np.std([0.5, 0.6, 0.7], ddof=1)])
    assert np.isnan(table["val_accuracy_std"][2])  # one seed: no spread
    assert list(table["width"]) == [40, 40, 40] and list(table["depth"]) == [1, 1, 1]
    assert format_table(table).splitlines() == [
        "   lr  hidden  seeds        val acc       test acc  macro-F1  val loss  epochs  seconds",
        " 0.01      40      2  0.850 ± 0.071  0.750 ± 0.071     0.750     0.150      10      1.0",
        "0.001      40      3  0.600 ± 0.100  0.500 ± 0.100     0.500     0.400      10      1.0",
        "  0.1      40      1          0.200          0.200     0.200     0.800      10      1.0",
    ]


@pytest.mark.slow
def test_tiny_parallel_sweep_writes_one_row_per_run(tmp_path):
    runs = run_sweep(["synthetic:300"], BASE, {"lr": [0.1, 0.01], "hidden": [8]}, tmp_path,
                     jobs=2)
    rows = [json.loads(line) for line in (tmp_path / RESULTS_NAME).read_text().splitlines()]
    assert len(rows) == 2 and (runs.attrs["ran"], runs.attrs["skipped"]) == (2, 0)
    assert {config_key(r["config"]) for r in rows} == {
        config_key({"lr": lr, "hidden": [8], "seed": 0}) for lr in (0.1, 0.01)}
    for r in rows:
        assert set(r["metrics"]) >= {"val_accuracy", "val_loss", "test_accuracy", "macro_f1",
                                     "train_seconds", "epochs"}
        assert len(r["history"]["val_loss"]) == r["metrics"]["epochs"] == 2
        assert 0 <= r["metrics"]["val_accuracy"] <= 1
    assert {"sweep.json", "summary.csv", "sweep_accuracy.png", "learning_curves.png"} <= {
        p.name for p in tmp_path.iterdir()}
    assert len(pd.read_csv(tmp_path / "summary.csv")) == 2


@pytest.mark.slow
def test_rerun_skips_finished_runs_and_completes_a_damaged_file(tmp_path):
    grid = {"lr": [0.1, 0.01]}
    first = run_sweep(["synthetic:150"], BASE, grid, tmp_path, jobs=1, seeds=2)
    assert first.attrs["ran"] == 4 and len(first) == 4
    stamps = {r["key"]: r["finished"] for r in load_results(tmp_path)}

    again = run_sweep(["synthetic:150"], BASE, grid, tmp_path, jobs=1, seeds=2)
    assert (again.attrs["ran"], again.attrs["skipped"]) == (0, 4)
    assert {r["key"]: r["finished"] for r in load_results(tmp_path)} == stamps
    pd.testing.assert_frame_equal(again.drop(columns="history"), first.drop(columns="history"))

    # Lose one row and leave a half-written line, as a killed sweep would.
    path = tmp_path / RESULTS_NAME
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + '\n{"key": "{\\"lr\\":0.0')
    with pytest.warns(SeisphaseWarning, match="dropped 1 unreadable line"):
        resumed = run_sweep(["synthetic:150"], BASE, grid, tmp_path, jobs=1, seeds=2)
    assert resumed.attrs["ran"] == 1
    lost = json.loads(lines[-1])["key"]
    rows = {r["key"]: r["finished"] for r in load_results(tmp_path)}
    assert len(path.read_text().splitlines()) == 4 and rows.keys() == stamps.keys()
    assert [k for k in rows if rows[k] != stamps[k]] == [lost]  # only the lost run was redone

    with pytest.raises(ConfigError, match="holds a sweep with other epochs"):
        run_sweep(["synthetic:150"], {**BASE, "epochs": 3}, grid, tmp_path, jobs=1)


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    return save_windows(tmp_path_factory.mktemp("sweep") / "toy.npz", toy_windows(90))


@pytest.mark.slow
def test_cli_prints_the_table(npz, tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = ["sweep", str(npz), "--optimizer", "sgd", "--lr", "0.1", "0.01", "--hidden", "8",
            "--depth", "1", "2", "--epochs", "2", "--jobs", "1", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split() == ["lr", "hidden", "seeds", "val", "acc", "test", "acc",
                                "macro-F1", "val", "loss", "epochs", "seconds"]
    assert sorted((line.split()[0], line.split()[1]) for line in lines[1:]) == [
        ("0.01", "8"), ("0.01", "8,8"), ("0.1", "8"), ("0.1", "8,8")]
    assert captured.err.strip() == f"4 runs trained, 0 found in {out}"
    assert main(argv) == 0
    assert capsys.readouterr().err.strip() == f"0 runs trained, 4 found in {out}"


@pytest.mark.parametrize("extra, message", [
    (["--jobs", "0"], "jobs and seeds must be at least 1"),
    (["--depth", "2"], "--depth needs --hidden"),
    (["--lr", "-1", "0.1"], "learning rate must be positive"),
    (["--lr", "0.1", "--seeds", "0"], "jobs and seeds must be at least 1"),
])
def test_cli_bad_values_exit_2_with_a_message(npz, tmp_path, capsys, extra, message):
    assert main(["sweep", str(npz), *extra, "--out", str(tmp_path / "s")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s" / RESULTS_NAME).exists()


@pytest.mark.parametrize("extra", [["--lr"], ["--optimizer", "rmsprop"], ["--depth", "x"]])
def test_cli_bad_options_exit_2(npz, tmp_path, capsys, extra):
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(npz), *extra, "--out", str(tmp_path / "s")])
    assert exc.value.code == 2
    assert "seisphase sweep: error: argument" in capsys.readouterr().err
