"""Picker training data from continuous records + picks, and ``seisphase train-picker``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seisphase.cli import main
from seisphase.data.continuous_records import records_from_waveforms
from seisphase.errors import DataFormatError

REAL = Path(__file__).parent / "data" / "real_dev_continuous"
FILES = ["three_component/BG_AL4_2011050109272382.mseed", "vertical_only/NC_MTU_2014071807051236_02.mseed"]


def _real(names=FILES):
    picks = pd.read_csv(REAL / "picks.csv")
    return [str(REAL / f) for f in names], picks[picks.file.isin(names)]


def test_every_pick_lands_away_from_a_record_edge_at_its_exact_sample():
    import obspy

    files, picks = _real()
    traces, table, summary = records_from_waveforms(files, picks, record_s=20.0)
    assert {x.shape for x in traces} == {(3, 2000)} and all(x.dtype == np.float32 for x in traces)
    assert summary["picks_outside"] == 0 and summary["n_picks"] == len(picks)
    # each analyst pick is somewhere at least a quarter record from both edges
    for row in picks.itertuples():
        mine = table[(table.station_id == f"{row.network}.{row.station}") & (table.phase == row.phase)]
        assert ((mine["sample"] >= 500) & (mine["sample"] <= 1500)).any()
    # the record holding a pick at sample s starts s samples before the pick (same waveform)
    st = obspy.read(files[0])
    z = st.select(component="Z")[0].data.astype(np.float64)
    p = picks[(picks.station == "AL4") & (picks.phase == "P")].iloc[0]
    hit = table[(table.station_id == "BG.AL4") & (table.phase == "P")].iloc[-1]
    start = int(p.sample_index - round(hit["sample"]))
    expected = z[start:start + 2000] - z[start:start + 2000].mean()
    np.testing.assert_allclose(traces[int(hit.trace)][0], expected, rtol=1e-5, atol=1e-3)
    assert not traces[int(table[table.station_id == "NC.MTU"].trace.iloc[0])][1:].any()  # Z only


def test_gaps_and_short_stretches(tmp_path):
    tmp = tmp_path
    from obspy import Stream, Trace, UTCDateTime

    t0 = UTCDateTime("2021-01-01T00:00:00")
    rng = np.random.default_rng(0)
    parts = [(0, 50), (55, 8)]  # 50 s, a 5-s gap, then 8 s (shorter than a record)
    st = Stream([Trace(rng.normal(size=int(n * 100)).astype(np.float32),
                       header={"network": "XX", "station": "A", "channel": f"HH{c}",
                               "sampling_rate": 100.0, "starttime": t0 + s})
                 for s, n in parts for c in "ZNE"])
    picks = pd.DataFrame({"network": ["XX", "XX"], "station": ["A", "A"], "phase": ["P", "P"],
                          "time": [str(t0 + 12.0), str(t0 + 58.0)]})
    path = Path(tmp) / "a.mseed"
    st.write(str(path), format="MSEED")
    traces, table, summary = records_from_waveforms([path], picks, record_s=20.0)
    assert summary["short_stretches"] == 1 and summary["picks_outside"] == 1
    assert len(traces) == 4  # 0, 10, 20, 30 s: half overlapping, the last one end-aligned
    assert sorted(table["sample"].round().astype(int)) == [200, 1200]
    with pytest.raises(DataFormatError, match="no record of 60 s"):
        records_from_waveforms([path], picks, record_s=60.0)


def test_cli_trains_with_real_records_then_fine_tunes(tmp_path, capsys):
    files, picks = _real()
    picks.to_csv(tmp_path / "picks.csv", index=False)
    small = ["--synthetic-records", "4", "--quiet", "--threads", "2"]
    assert main(["train-picker", "--steps", "3", *small, "--waveforms", *files, "--picks",
                 str(tmp_path / "picks.csv"), "--out", str(tmp_path / "p")]) == 0
    captured = capsys.readouterr()
    assert "real records:" in captured.err and "4 of 4 picks inside the data" in captured.err
    # thresholds chosen on the labelled records, S apart for the vertical-only station
    from seisphase.picker_crossfit import THRESHOLDS

    doc = json.loads((tmp_path / "p" / "picker.json").read_text())
    chosen = [doc["config"][k] for k in ("threshold_p", "threshold_s", "threshold_s_vertical")]
    assert all(t in THRESHOLDS for t in chosen), chosen
    assert "chosen on your records" in captured.out and doc["history"]["thresholds_from"]
    assert doc["config"]["s_sigma_s"] == 0.2  # wider S labels for analyst picks by default
    assert main(["train-picker", "--init", str(tmp_path / "p"), "--steps", "2", *small,
                 "--out", str(tmp_path / "q")]) == 0
    doc = json.loads((tmp_path / "q" / "picker.json").read_text())
    assert doc["history"]["steps"] == 2 and doc["history"]["init"]["steps"] == 3
    assert doc["config"]["lr"] == 1e-3
    assert main(["scan", str(tmp_path / "q"), files[0], "--quiet", "--out", str(tmp_path / "x.csv")]) == 0


@pytest.mark.parametrize("argv, match", [
    (["--waveforms", "a.mseed"], "--waveforms and --picks go together"),
    (["--real-fraction", "2"], "between 0 and 1"),
    (["--steps", "0"], "--steps must be at least 1"),
    (["--init", "nowhere"], "cannot load a picker"),
    (["--s-label-width", "0"], "--s-label-width must be positive"),
])
def test_cli_errors(tmp_path, capsys, argv, match):
    assert main(["train-picker", *argv, "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0]
    assert not (tmp_path / "p").exists()


def test_training_crops_turn_the_horizontals_exactly_and_reproducibly():
    """The orientation augmentation permutes / negates N and E of normalised crops: Z and the
    horizontal energy stay, dead channels stay dead, all 8 turns occur, a seed repeats them."""
    from seisphase.picker import _turn_horizontals

    x = np.random.default_rng(0).standard_normal((400, 3, 50)).astype(np.float32)
    x[:100, 1:] = 0.0  # vertical-only crops
    a, b = x.copy(), x.copy()
    _turn_horizontals(np.random.default_rng(1), a)
    _turn_horizontals(np.random.default_rng(1), b)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, 0], x[:, 0])
    assert not a[:100, 1:].any()
    np.testing.assert_allclose((a[:, 1:] ** 2).sum(1), (x[:, 1:] ** 2).sum(1), rtol=1e-6)
    # each turned channel is +-N or +-E of the original, and all 8 symmetries appear
    seen = set()
    for i in range(100, 400):
        n, e = x[i, 1], x[i, 2]
        key = tuple(next(name for name, v in (("N", n), ("-N", -n), ("E", e), ("-E", -e))
                         if np.array_equal(a[i, c], v)) for c in (1, 2))
        seen.add(key)
    assert len(seen) == 8



def test_cli_scan_picks_with_the_pickers_own_thresholds_unless_told(tmp_path):
    """A picker's calibrated thresholds (S apart for vertical-only stations) are the scan
    defaults; --threshold-* override them; other models default to 0.5."""
    from argparse import Namespace
    from dataclasses import replace

    from seisphase.cli.scan import _thresholds
    from seisphase.picker import PickerConfig, train_picker

    picker = train_picker(PickerConfig(n_traces=4, duration_s=20, max_steps=2, batch_size=4,
                                       width=8, context=0, calibrate=False))
    picker.config = replace(picker.config, threshold_p=0.3, threshold_s=0.4, threshold_s_vertical=0.2)

    def given(p=None, s=None, sv=None):
        return _thresholds(Namespace(threshold_p=p, threshold_s=s, threshold_s_vertical=sv), picker)

    assert given() == {"threshold_p": 0.3, "threshold_s": 0.4, "threshold_s_vertical": 0.2}
    assert given(p="0.7", s="0.6") == {"threshold_p": 0.7, "threshold_s": 0.6, "threshold_s_vertical": None}
    assert given(sv="0.1")["threshold_s_vertical"] == 0.1
    assert _thresholds(Namespace(threshold_p=None, threshold_s=None, threshold_s_vertical=None),
                       object()) == {"threshold_p": 0.5, "threshold_s": 0.5, "threshold_s_vertical": None}

    # end to end: thresholds of 1 in the saved picker give no picks; low ones on the command line do
    files, _ = _real()
    picker.config = replace(picker.config, threshold_p=1.0, threshold_s=1.0, threshold_s_vertical=1.0)
    picker.save(tmp_path / "p")
    out = tmp_path / "picks.csv"
    assert main(["scan", str(tmp_path / "p"), *files, "--quiet", "--stride", "4", "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 0
    assert main(["scan", str(tmp_path / "p"), *files, "--quiet", "--stride", "4", "--out", str(out),
                 "--threshold-p", "0.01", "--threshold-s", "0.01"]) == 0
    assert len(pd.read_csv(out)) > 0


def test_cli_fine_tuning_on_records_defaults_to_the_cross_fit_recipe(tmp_path, monkeypatch):
    """--init with --waveforms fine-tunes as cross_fit_picker measures it: 70 % real crops,
    0.2-s S labels, lr 1e-3; training from scratch with records mixes in 50 %."""
    import seisphase.picker as picker_module
    from seisphase.picker import PickerConfig, train_picker

    train_picker(PickerConfig(n_traces=4, duration_s=20, max_steps=2, batch_size=4, width=8,
                              context=0, calibrate=False)).save(tmp_path / "base")
    files, picks = _real()
    picks.to_csv(tmp_path / "picks.csv", index=False)
    seen = []

    def spy(config, extra=None, extra_fraction=0.3, **kw):
        seen.append((extra_fraction, config.s_sigma_s, config.lr))
        return train_picker(config, extra=extra, extra_fraction=extra_fraction, **kw)

    monkeypatch.setattr(picker_module, "train_picker", spy)
    common = ["--waveforms", *files, "--picks", str(tmp_path / "picks.csv"), "--steps", "1",
              "--synthetic-records", "4", "--quiet"]
    assert main(["train-picker", "--init", str(tmp_path / "base"), *common, "--out", str(tmp_path / "a")]) == 0
    assert main(["train-picker", "--width", "8", "--context", "0", *common, "--out", str(tmp_path / "b")]) == 0
    assert main(["train-picker", "--init", str(tmp_path / "base"), *common, "--real-fraction", "0.3",
                 "--s-label-width", "0.15", "--out", str(tmp_path / "c")]) == 0
    assert seen == [(0.7, 0.2, 1e-3), (0.5, 0.2, 2e-3), (0.3, 0.15, 1e-3)]
