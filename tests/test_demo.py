import json

import numpy as np
import pytest

from seisphase.cli import main


@pytest.mark.slow
def test_quick_demo_writes_every_promised_file(quick_demo, tmp_path, capsys):
    out, code, printed = quick_demo
    assert code == 0
    assert "| model |" in printed and "best model:" in printed
    summary = json.loads((out / "metrics.json").read_text())
    names = [r["name"] for r in summary["rows"]]
    assert {"linear (lab: 1 channel)", "mlp 40", "mlp 40-40"} <= set(names)
    for r in summary["rows"]:
        assert 0 <= r["synthetic_test"]["accuracy"] <= 1 and 0 <= r["real_dev"]["accuracy"] <= 1
    assert (out / "comparison.md").read_text().count("\n") == len(names) + 2
    assert (out / "data" / "synthetic.npz").exists()
    for name in ("model.json", "model.safetensors"):
        assert (out / "models" / "best" / name).exists()
    assert any((out / "figures").glob("*.png"))
    assert (out / "report.html").stat().st_size > 10_000
    # the final model is the best one, pre-trained on synthetic and fine-tuned on the real
    # windows, re-targeted to their class mix; its held-out real score is the station CV
    best_row = next(r for r in summary["rows"] if r["name"] == summary["best"]["name"])
    cfg = json.loads((out / "models" / "best" / "model.json").read_text())
    assert cfg["pretrained"]["sources"] == [f"synthetic:{summary['config']['n_synthetic']}:0"]
    assert cfg["data"]["n_windows"] < 394 and cfg["class_prior"]["training"] == [1 / 3] * 3
    cv = best_row["real_dev_finetuned_cv"]
    assert len(cv["folds"]) == 5 and cv["summary"]["fine_tuned"]["all"]["windows"] == 394
    # picks on the real records: synthetic-only picker, STA/LTA and the station cross-fit
    scores = json.loads((out / "scan" / "scores.json").read_text())
    for key in ("real", "real_stalta", "real_crossfit"):
        assert scores[key]["0.5"]["P"]["n_reference"] == 92
    assert set(scores["real_crossfit_thresholds"]) == {"half 0", "half 1"}
    assert (out / "scan" / "real_crossfit_picks.csv").exists()
    assert (out / "scan" / "real_crossfit_picks.xml").exists()
    # the best model works with the CLI directly
    assert main(["evaluate", str(out / "models" / "best"), "synthetic:60:9", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_windows"] == 60
    assert main(["predict", str(out / "models" / "best"), str(out / "data" / "synthetic.npz"),
                 "--out", str(tmp_path / "p.csv")]) == 0
    assert len(np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1, usecols=2)) == 1500


def test_synth_cli_writes_loadable_windows(tmp_path, capsys):
    from seisphase.data.npz import load_windows

    assert main(["synth", "90", "--seed", "4", "--out", str(tmp_path / "s.npz")]) == 0
    w = load_windows(tmp_path / "s.npz")
    assert w.n_windows == 90 and w.components == "ZNE"
    assert set(w.class_counts().values()) == {30}
    assert "event_id" in w.metadata
    assert main(["synth", "2", "--out", str(tmp_path / "t.npz")]) == 2
    assert not (tmp_path / "t.npz").exists()


def test_synthetic_spec_is_accepted_as_data(tmp_path):
    assert main(["train", "synthetic:300:2", "--model", "linear", "--epochs", "2", "--quiet",
                 "--out", str(tmp_path / "m")]) == 0
    assert main(["train", "synthetic:abc", "--out", str(tmp_path / "n")]) == 2
