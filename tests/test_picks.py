"""Picks from hand-built probability traces, CSV / QuakeML round trips, scoring and STA/LTA."""

from __future__ import annotations

import math

import numpy as np
import obspy
import pandas as pd
import pytest
from obspy import Stream, Trace, UTCDateTime

from seisphase.errors import DataError, DataFormatError
from seisphase.pick_scoring import format_scores, match_picks, stalta_picks
from seisphase.picks import (
    Pick,
    catalog_to_picks,
    extract_picks,
    picks_to_catalog,
    picks_to_dataframe,
    read_picks_csv,
    write_picks_csv,
    write_quakeml,
)

T0 = UTCDateTime(2021, 6, 1, 12, 0, 0)
RATE = 10.0


def prob_trace(peaks, phase="P", n=600, channel=None, sta="AAA"):
    """Sum of Gaussian bumps ``(time_s, height, sigma_s)`` sampled at 10 Hz from T0."""
    t = np.arange(n) / RATE
    data = np.zeros(n)
    for t0, height, sigma in peaks:
        data += height * np.exp(-0.5 * ((t - t0) / sigma) ** 2)
    return Trace(data.astype(np.float32), header={
        "network": "XX", "station": sta, "channel": channel or f"PR{phase}",
        "sampling_rate": RATE, "starttime": T0})


def test_pick_times_are_refined_between_samples():
    # peaks 0.03 s and 0.05 s off the 0.1-s sample grid
    picks = extract_picks(Stream([prob_trace([(20.03, 0.9, 0.3)]),
                                  prob_trace([(40.05, 0.8, 0.3)], phase="S")]))
    assert [(q.phase, q.trace_id, q.station_id) for q in picks] == [
        ("P", "XX.AAA..PRP", "XX.AAA"), ("S", "XX.AAA..PRS", "XX.AAA")]
    assert abs(picks[0].time - (T0 + 20.03)) < 0.005
    assert abs(picks[1].time - (T0 + 40.05)) < 0.005
    assert picks[0].probability == pytest.approx(0.9, abs=0.01)


def test_thresholds_and_trigger_off_level():
    tr = prob_trace([(10, 0.45, 0.3), (20, 0.8, 0.3), (20.9, 0.7, 0.3)])
    # 0.45 is below 0.5: no pick. The dip between 20 and 20.9 s (0.49) stays above 0.25
    # with off_ratio 0.5: one trigger, one pick; with off_ratio 1 the trigger splits.
    one = extract_picks(Stream([tr]), threshold_p=0.5, off_ratio=0.5, min_separation_s=0)
    assert [round(q.time - T0, 1) for q in one] == [20.0]
    two = extract_picks(Stream([tr]), threshold_p=0.5, off_ratio=1.0, min_separation_s=0)
    assert [round(q.time - T0, 1) for q in two] == [20.0, 20.9]
    low = extract_picks(Stream([tr]), threshold_p=0.4, off_ratio=1.0, min_separation_s=0)
    assert [round(q.time - T0, 1) for q in low] == [10.0, 20.0]  # the dip stays above 0.4
    assert extract_picks(Stream([tr]), threshold_s=0.1) == one  # S threshold: no S trace


def _scanned(tr, zero_filled):
    tr.stats.seisphase = {"phase": tr.stats.channel[-1], "trace_id": "XX.AAA..HHZ",
                          "zero_filled": zero_filled}
    return tr


@pytest.mark.parametrize("zero_filled, picked", [("NE", True), ("EN", True), ("E", False),
                                                  ("", False), (None, False)])
def test_vertical_only_stations_get_their_own_s_threshold(zero_filled, picked):
    tr = prob_trace([(20, 0.4, 0.3)], phase="S")
    if zero_filled is not None:
        tr = _scanned(tr, zero_filled)
    picks = extract_picks(Stream([tr]), threshold_s=0.6, threshold_s_vertical=0.3)
    assert [round(q.time - T0, 1) for q in picks] == ([20.0] if picked else [])
    # a P trace of the same station keeps threshold_p; None means threshold_s everywhere
    p = _scanned(prob_trace([(20, 0.4, 0.3)]), "NE")
    assert extract_picks(Stream([p]), threshold_p=0.6, threshold_s_vertical=0.3) == []
    assert extract_picks(Stream([tr]), threshold_s=0.6) == []


def test_vertical_only_threshold_is_checked():
    with pytest.raises(DataError, match="threshold_s_vertical"):
        extract_picks(Stream([prob_trace([(20, 0.4, 0.3)], phase="S")]), threshold_s_vertical=0)


def test_minimum_separation_keeps_the_higher_pick():
    tr = prob_trace([(20, 0.7, 0.2), (20.8, 0.9, 0.2), (30, 0.6, 0.2)])
    kw = dict(threshold_p=0.5, off_ratio=1.0)
    assert [round(q.time - T0, 1) for q in extract_picks(Stream([tr]), min_separation_s=0.5, **kw)] \
        == [20.0, 20.8, 30.0]
    picks = extract_picks(Stream([tr]), min_separation_s=1.0, **kw)
    assert [round(q.time - T0, 1) for q in picks] == [20.8, 30.0]
    # separation is per trace: the same times on another station are all kept
    other = prob_trace([(20, 0.7, 0.2)], sta="BBB")
    assert len(extract_picks(Stream([tr, other]), min_separation_s=1.0, **kw)) == 3


def test_uncertainty_grows_with_peak_width_and_matches_gaussian_sigma():
    sigmas = [0.2, 0.5, 1.0]
    tr = Stream([prob_trace([(10 + 15 * i, 0.9, s)], sta=f"S{i}") for i, s in enumerate(sigmas)])
    picks = sorted(extract_picks(tr), key=lambda q: q.time)
    got = [q.uncertainty_s for q in picks]
    assert got == sorted(got)
    np.testing.assert_allclose(got, sigmas, rtol=0.03)


def test_noise_traces_are_ignored_and_seisbench_channel_names_work():
    noise = prob_trace([(20, 0.99, 0.3)], channel="PRN")
    gpd = prob_trace([(20, 0.9, 0.3)], channel="GPD_S")
    picks = extract_picks(Stream([noise, gpd]))
    assert [(q.phase, q.trace_id) for q in picks] == [("S", "XX.AAA..GPD_S")]
    with pytest.raises(DataError, match="off_ratio"):
        extract_picks(Stream([noise]), off_ratio=0)


def test_pick_near_trace_edge_and_waveform_trace_id_from_scan_metadata():
    tr = prob_trace([(0.0, 0.9, 0.3)])
    tr.stats.seisphase = {"phase": "P", "trace_id": "XX.AAA..HHZ"}
    (pick,) = extract_picks(Stream([tr]))
    assert pick.trace_id == "XX.AAA..HHZ" and pick.time == T0
    assert math.isfinite(pick.uncertainty_s) and pick.uncertainty_s > 0


def _picks():
    return [
        Pick("XX.AAA..HHZ", "P", T0 + 1.234567, 0.91, 0.12, trigger_on=T0 + 1, trigger_off=T0 + 2),
        Pick("XX.AAA..HHZ", "S", T0 + 3.5, 0.6, 0.35),
        Pick("YY.B.00.EHZ", "P", T0 + 7.000001, math.nan, math.nan),
    ]


def test_csv_round_trip(tmp_path):
    picks = _picks()
    write_picks_csv(picks, tmp_path / "p.csv")
    table = pd.read_csv(tmp_path / "p.csv")
    assert list(table.columns) == ["trace_id", "network", "station", "station_id", "phase",
                                   "time", "probability", "uncertainty_s", "trigger_on",
                                   "trigger_off"]
    assert table["time"][0] == "2021-06-01T12:00:01.234567Z"
    assert table["station_id"].tolist() == ["XX.AAA", "XX.AAA", "YY.B"]
    back = read_picks_csv(tmp_path / "p.csv")
    assert back[:2] == picks[:2]
    assert back[2].time == picks[2].time and math.isnan(back[2].probability)
    assert picks_to_dataframe([]).shape == (0, 10)


def test_quakeml_round_trip(tmp_path):
    picks = _picks()
    write_quakeml(picks, tmp_path / "p.xml")
    cat = obspy.read_events(str(tmp_path / "p.xml"))
    obs = cat[0].picks
    assert [p.phase_hint for p in obs] == ["P", "S", "P"]
    assert [p.time for p in obs] == [q.time for q in picks]
    assert obs[0].time_errors.uncertainty == 0.12 and obs[2].time_errors.uncertainty is None
    assert obs[0].waveform_id.get_seed_string() == "XX.AAA..HHZ"
    assert obs[2].waveform_id.location_code == "00"
    assert all(p.evaluation_mode == "automatic" for p in obs)
    assert "seisphase/scan" in str(obs[0].method_id)
    assert obs[0].comments[0].text == "probability=0.910000"
    back = catalog_to_picks(cat)
    for a, b in zip(back, picks, strict=True):
        assert (a.trace_id, a.phase, a.time) == (b.trace_id, b.phase, b.time)
        assert a.probability == b.probability or (math.isnan(a.probability) and math.isnan(b.probability))
    assert back[1].uncertainty_s == 0.35
    assert len(picks_to_catalog([])[0].picks) == 0


def test_read_picks_csv_errors(tmp_path):
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataFormatError, match=r"lacks the pick column\(s\) \['phase', 'time', 'trace_id'\]"):
        read_picks_csv(tmp_path / "bad.csv")
    with pytest.raises(DataFormatError, match="cannot read picks"):
        read_picks_csv(tmp_path / "missing.csv")


# -- scoring ---------------------------------------------------------------------------------
def _ref():
    return pd.DataFrame({
        "network": ["XX", "XX", "XX", "YY"], "station": ["AAA", "AAA", "BBB", "CCC"],
        "phase": ["P", "S", "P", "P"],
        "time": [str(T0 + 10), str(T0 + 12), str(T0 + 20), str(T0 + 30)],
    })


def test_match_picks_scores_precision_recall_residuals_and_false_rate():
    picks = picks_to_dataframe([
        Pick("XX.AAA..HHZ", "P", T0 + 10.2, 0.9, 0.1),   # matched, +0.2 s
        Pick("XX.AAA..HHZ", "P", T0 + 10.1, 0.8, 0.1),   # closer: takes the match (+0.1)
        Pick("XX.BBB..HHZ", "P", T0 + 19.7, 0.9, 0.1),   # matched, -0.3 s
        Pick("XX.BBB..HHZ", "S", T0 + 20.0, 0.9, 0.1),   # wrong phase: false S
        Pick("YY.DDD..HHZ", "P", T0 + 30.0, 0.9, 0.1),   # other station: false
        Pick("XX.AAA..HHZ", "S", T0 + 12.6, 0.9, 0.1),   # beyond 0.5 s: false
    ])
    s = match_picks(picks, _ref(), tolerance_s=0.5, hours=2.0)
    p = s["P"]
    assert (p["n_picks"], p["n_reference"], p["true_positives"]) == (4, 3, 2)
    assert p["precision"] == 0.5 and p["recall"] == pytest.approx(2 / 3)
    assert p["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert p["residual_mean"] == pytest.approx(-0.1) and p["residual_mae"] == pytest.approx(0.2)
    assert p["residual_std"] == pytest.approx(0.2)
    assert p["false_per_hour"] == 1.0
    assert s["S"]["true_positives"] == 0 and s["S"]["false_per_hour"] == 1.0
    assert math.isnan(s["S"]["residual_mean"])
    wide = match_picks(picks, _ref(), tolerance_s=0.7)
    assert wide["S"]["true_positives"] == 1 and math.isnan(wide["S"]["false_per_hour"])
    assert "P " in format_scores(s, "test")


def test_match_picks_accepts_station_id_or_trace_id_and_checks_columns():
    ref = _ref()
    by_trace = pd.DataFrame({"trace_id": ["XX.AAA..EHZ"], "phase": ["P"], "time": [str(T0 + 10)]})
    assert match_picks(by_trace, ref)["P"]["true_positives"] == 1
    none = match_picks(picks_to_dataframe([]), ref, hours=1.0)["P"]
    assert (none["recall"], none["f1"], none["false_per_hour"]) == (0.0, 0.0, 0.0)
    assert math.isnan(none["precision"])
    with pytest.raises(DataError, match=r"lack the column\(s\) \['time'\]"):
        match_picks(by_trace.drop(columns="time"), ref)
    with pytest.raises(DataError, match="tolerance_s"):
        match_picks(by_trace, ref, tolerance_s=0)


def test_stalta_picks_the_onset_on_the_vertical_only():
    rng = np.random.default_rng(0)
    n, rate = 6000, 100.0
    st = Stream()
    for cha in ("HHZ", "HHN"):
        data = rng.normal(0, 1, n)
        t = np.arange(n - 3000) / rate
        data[3000:] += 30 * np.sin(2 * np.pi * 8 * t) * np.exp(-t / 2)
        st.append(Trace(data, header={"network": "XX", "station": "AAA", "channel": cha,
                                      "sampling_rate": rate, "starttime": T0}))
    picks = stalta_picks(st)
    assert len(picks) == 1
    assert picks[0].trace_id == "XX.AAA..HHZ" and picks[0].phase == "P"
    assert abs(picks[0].time - (T0 + 30.0)) < 0.1
    with pytest.raises(DataError, match="sta < lta"):
        stalta_picks(st, sta=5, lta=1)
