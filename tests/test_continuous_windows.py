"""Continuous waveforms + pick lists (CSV, QuakeML) → labelled windows, and ``seisphase windows``."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seisphase.data.continuous import windows_from_waveforms
from seisphase.data.picklist import read_picks
from seisphase.errors import DataFormatError

REAL = Path(__file__).parent / "data" / "real_dev_continuous"
T0 = "2021-03-04T05:00:00.000000Z"


def _trace(station, channel, rate, seconds, impulses, start=0.0, seed=0):
    from obspy import Trace, UTCDateTime

    rng = np.random.default_rng(seed)
    data = rng.normal(scale=0.01, size=int(seconds * rate)).astype(np.float32)
    for t, amp in impulses:
        data[int(round((t - start) * rate))] = amp
    return Trace(data, header={"network": "XX", "station": station, "channel": channel,
                               "location": "00", "sampling_rate": rate,
                               "starttime": UTCDateTime(T0) + start})


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """AAA: HHZ/HH1/HH2 at 100 Hz, 5-s gap in HHZ; BBB: 50 Hz Z/N/E; CCC: Z only, overlapping."""
    from obspy import Stream

    d = tmp_path_factory.mktemp("continuous")
    aaa = Stream([
        _trace("AAA", "HHZ", 100, 60, [(20.0, 50.0)], seed=1),
        _trace("AAA", "HHZ", 100, 55, [], start=65.0, seed=2),  # gap 60–65 s
        _trace("AAA", "HH1", 100, 120, [(23.5, 80.0)], seed=3),  # S on "1" = N
        _trace("AAA", "HH2", 100, 120, [], seed=4),
    ])
    bbb = Stream([_trace("BBB", c, 50, 100, [(30.0, 60.0)] if c == "BHZ" else [], seed=5 + i)
                  for i, c in enumerate(("BHZ", "BHN", "BHE"))])
    whole = _trace("CCC", "EHZ", 100, 60, [(25.0, 40.0)], seed=9)
    t = whole.stats.starttime  # two traces overlapping by 1 s around the pick: merged
    ccc = Stream([whole.slice(t, t + 25.5), whole.slice(t + 24.5, t + 60)])
    files = []
    for name, st in (("aaa", aaa), ("bbb", bbb), ("ccc", ccc)):
        files.append(str(d / f"{name}.mseed"))
        st.write(files[-1], format="MSEED")
    picks = pd.DataFrame({
        "trace_id": ["XX.AAA.00.HHZ"] * 5 + ["XX.BBB..BHZ", "XX.CCC.00.EHZ"],
        "phase": ["Pg", "s", "P", "P", "S", "p", "P"],
        "time": [f"2021-03-04T05:00:{s:09.6f}Z" for s in (20.0, 23.5, 58.5)]
        + ["2021-03-04T05:08:20.000000Z", "2021-03-04T05:01:59.000000Z",
           "2021-03-04T05:00:30.000000Z", "2021-03-04T05:00:25.000000Z"],
    })
    picks.to_csv(d / "picks.csv", index=False)
    return d, files, picks


def test_windows_hold_the_pick_and_skips_are_counted(synthetic):
    d, files, _ = synthetic
    w, s = windows_from_waveforms(files, d / "picks.csv", noise_per_pick=1, seed=2)
    assert {k: s[k] for k in ("n_picks", "skipped_outside", "skipped_gap", "skipped_edge",
                              "n_P", "n_S", "n_noise", "n_windows", "resampled_traces")} == {
        "n_picks": 7, "skipped_outside": 1, "skipped_gap": 1, "skipped_edge": 1,
        "n_P": 3, "n_S": 1, "n_noise": 4, "n_windows": 8, "resampled_traces": 3}
    assert w.components == "ZNE" and w.waveforms.shape == (8, 3, 400)
    m = w.metadata
    channel = {"P": 0, "S": 1}  # P impulses on Z; the S impulse on HH1, mapped to N
    for k in np.flatnonzero(w.labels < 2):
        phase = "PS"[w.labels[k]]
        assert 150 <= m.pick_sample[k] <= 249
        assert np.argmax(np.abs(w.waveforms[k, channel[phase]])) == m.pick_sample[k], m.iloc[k]
    assert set(m.phase_hint[w.labels < 2]) == {"Pg", "s", "p", "P"}
    assert np.allclose(w.waveforms.mean(axis=2), 0, atol=1e-4)  # demeaned per channel
    assert m.vertical_only.tolist() == [s == "XX.CCC" for s in m.station_id]
    assert not w.waveforms[m.vertical_only.to_numpy(), 1:].any()
    assert set(m.record) == {"aaa", "bbb", "ccc"}


def test_noise_windows_stay_away_from_every_pick_of_their_station(synthetic):
    from obspy import UTCDateTime

    d, files, picks = synthetic
    w, s = windows_from_waveforms(files, picks, noise_per_pick=3, noise_min_distance_s=2.0, seed=5)
    assert s["n_noise"] + s["noise_short"] == 3 * (s["n_P"] + s["n_S"])
    table = read_picks(picks)
    noise = w.metadata[w.labels == 2]
    assert len(noise) > 0
    for _, row in noise.iterrows():
        start = UTCDateTime(row.window_start)
        sta = table[table.station == row.station_id.split(".")[1]]
        for t in sta.time:
            assert t < start - 2.0 or t > start + 3.99 + 2.0
        assert not (row.station_id == "XX.AAA" and 60 - 3.99 < start - UTCDateTime(T0) < 65)


def test_quakeml_picks_give_the_same_windows_as_csv(synthetic, tmp_path):
    from obspy import UTCDateTime
    from obspy.core.event import Catalog, Event, Pick, WaveformStreamID

    d, files, picks = synthetic
    cat = Catalog([Event(picks=[
        Pick(time=UTCDateTime(t), phase_hint=ph, waveform_id=WaveformStreamID(seed_string=tid))
        for tid, ph, t in zip(picks.trace_id, picks.phase, picks.time, strict=True)])])
    cat.write(str(tmp_path / "picks.xml"), format="QUAKEML")
    wx, sx = windows_from_waveforms(files, tmp_path / "picks.xml", seed=1)
    wc, sc = windows_from_waveforms(files, d / "picks.csv", seed=1)
    assert sx == sc
    np.testing.assert_array_equal(wx.waveforms, wc.waveforms)
    np.testing.assert_array_equal(wx.labels, wc.labels)
    assert wx.metadata.event_id.str.startswith("smi:").sum() == 4  # P/S windows know their event


def test_real_records_with_csv_and_quakeml_picks():
    """All 92 real records: every pick cut, the window equal to the record around the pick."""
    import obspy

    files = sorted(str(p) for p in REAL.glob("*/*.mseed"))
    table = pd.read_csv(REAL / "picks.csv")
    w, s = windows_from_waveforms(files, REAL / "picks.csv")
    assert (s["n_P"], s["n_S"], s["n_noise"], s["n_stations"]) == (92, 92, 184, 63)
    assert s["skipped_outside"] == s["skipped_gap"] == s["skipped_edge"] == 0
    m = w.metadata
    assert m.vertical_only.sum() == 23 * 4 and not w.waveforms[m.vertical_only.to_numpy(), 1:].any()
    # a station recorded by two instruments at different times (HH in 2014, BH in 2015)
    assert set(m.trace_id[m.station_id == "BK.SCZ"]) == {"BK.SCZ..HHZ", "BK.SCZ..BHZ"}
    records = {}
    for k in np.flatnonzero(w.labels < 2):
        row = table[(table.record == m.record[k]) & (table.phase == "PS"[w.labels[k]])].iloc[0]
        if row.file not in records:
            records[row.file] = obspy.read(str(REAL / row.file)).select(component="Z")[0].data
        start = row.sample_index - m.pick_sample[k]
        z = records[row.file][start:start + 400].astype(np.float64)
        np.testing.assert_allclose(w.waveforms[k, 0], z - z.mean(), rtol=1e-4,
                                   atol=1e-5 * np.abs(z - z.mean()).max())
    assert len(records) == 92
    wx, sx = windows_from_waveforms(files, REAL / "picks.xml")
    assert sx == s and wx.fingerprint() == w.fingerprint()


@pytest.mark.parametrize("content, match", [
    ("trace_id,time\nXX.A..HHZ,2021-01-01T00:00:00Z\n", r"lacks column\(s\) phase .*expected phase, time"),
    ("station,phase,time\nA,P,2021-01-01T00:00:00Z\n", r"lacks column\(s\) trace_id"),
    ("trace_id,phase,time\nXX.A..Z,PKP,2021-01-01T00:00:00Z\nXX.A..Z,X,2021-01-01T00:00:00Z\n"
     "XX.A..Z,Sn,2021-01-01T00:00:00Z\n", r"unknown phase name\(s\) \['PKP', 'X'\]; expected P-type"),
    ("trace_id,phase,time\nXX.A..Z,P,yesterday\n", r"cannot read time 'yesterday' of pick 0"),
    ("trace_id,phase,time\n", r"holds no picks"),
    ("", r"is empty \(0 bytes\)"),
])
def test_bad_pick_lists_are_explained(tmp_path, content, match):
    (tmp_path / "picks.csv").write_text(content)
    with pytest.raises(DataFormatError, match=match):
        read_picks(tmp_path / "picks.csv")


def test_bad_waveform_files_and_unmatched_picks_are_explained(synthetic, tmp_path):
    d, files, _ = synthetic
    (tmp_path / "empty.mseed").write_bytes(b"")
    (tmp_path / "text.mseed").write_text("not a seismogram\n")
    with pytest.raises(DataFormatError, match=r"empty.mseed is empty \(0 bytes\)"):
        windows_from_waveforms([str(tmp_path / "empty.mseed")], d / "picks.csv")
    with pytest.raises(DataFormatError, match=r"text.mseed is not a readable waveform file"):
        windows_from_waveforms([str(tmp_path / "text.mseed")], d / "picks.csv")
    other = pd.DataFrame({"network": ["YY"], "station": ["ZZZ"], "phase": ["P"],
                          "time": ["2021-03-04T05:00:20Z"]})
    with pytest.raises(DataFormatError, match=r"no window could be cut from 1 picks: 1 outside"):
        windows_from_waveforms(files, other)


def test_cli_windows_writes_npz_and_prints_the_counts(synthetic, tmp_path, capsys):
    from seisphase.cli import windows as cli_windows
    from seisphase.data.npz import load_windows

    d, files, _ = synthetic
    parser = argparse.ArgumentParser()
    cli_windows.add_parser(parser.add_subparsers())
    out = tmp_path / "w.npz"
    args = parser.parse_args(["windows", *files, "--picks", str(d / "picks.csv"), "--out",
                              str(out), "--seed", "2"])
    assert args.run(args) == 0
    assert capsys.readouterr().out == (
        f"wrote {out}: 8 windows (P 3, S 1, noise 4) from 7 picks at 3 stations; skipped 1 "
        f"outside the data, 1 across a gap, 1 at the data's edge\n")
    back = load_windows(out)
    direct, _ = windows_from_waveforms(files, d / "picks.csv", seed=2)
    assert back.fingerprint() == direct.fingerprint()
    assert back.metadata.station_id.tolist() == direct.metadata.station_id.tolist()
