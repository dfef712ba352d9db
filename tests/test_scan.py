"""Scanning continuous data: timing, equivalence with window-by-window classification, channel
handling, gaps, resampling, and the ``seisphase scan`` command."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import obspy
import pytest
from obspy import Stream, Trace, UTCDateTime

from seisphase.errors import DataError, NotFittedError
from seisphase.scan import scan

T0 = UTCDateTime(2020, 1, 1, 0, 0, 0)


class ImpulseModel:
    """Stub classifier whose output depends on where the window's largest sample sits.

    P peaks when the largest |Z| sample is at the window's centre (sample 200), S when the
    largest horizontal sample is; so a spike at time t gives a P probability peak at t.
    """

    sampling_rate_ = 100.0
    n_samples_ = 400
    classes_ = np.array(["P", "S", "N"])
    temperature_ = 1.0

    def __init__(self, components="ZNE"):
        self.components_ = components
        self.calls = []

    def predict_proba(self, x):
        w = np.asarray(getattr(x, "waveforms", x), dtype=np.float64)
        self.calls.append(w.shape)
        comps = self.components_
        z = np.abs(w[:, comps.index("Z")]) if "Z" in comps else np.zeros(w.shape[::2])
        h = np.abs(w[:, [comps.index(c) for c in comps if c != "Z"]]).sum(1) \
            if len(comps) > 1 else np.zeros_like(z)
        bump = lambda a: np.exp(-(((a.argmax(1) - 200) / 20.0) ** 2)) * (a.max(1) > 1.0)  # noqa: E731
        p = 0.9 * bump(z)
        s = (1 - p) * 0.9 * bump(h)
        return np.stack([p, s, 1 - p - s], axis=1)


class ContinuousModel(ImpulseModel):
    """Same outputs, through the fast-path hook that scan must prefer."""

    def scan_continuous(self, data, stride):
        from numpy.lib.stride_tricks import sliding_window_view

        self.continuous_calls = getattr(self, "continuous_calls", 0) + 1
        win = sliding_window_view(data, 400, axis=-1)[:, ::stride].transpose(1, 0, 2)
        return ImpulseModel().predict_proba(win)


def make_stream(n=3000, rate=100.0, start=T0, comps="ZNE", band="HH", sta="AAA", seed=0,
                spikes=(), h_spikes=(), scale=0.01):
    """Quiet noise on each component; spikes (seconds after start) on Z and the horizontals."""
    rng = np.random.default_rng(seed)
    st = Stream()
    for c in comps:
        data = rng.normal(0, scale, n)
        times = spikes if c.upper() == "Z" else h_spikes
        for t in times:
            data[int(round(t * rate))] += 10.0
        st.append(Trace(data.astype(np.float32), header={
            "network": "XX", "station": sta, "location": "", "channel": band + c,
            "sampling_rate": rate, "starttime": start}))
    return st


@pytest.fixture(scope="module")
def linear_model():
    from tests.conftest import toy_windows

    from seisphase.classifier import PhaseClassifier
    from seisphase.training import TrainConfig

    return PhaseClassifier("linear", train=TrainConfig(epochs=3, seed=0)).fit(toy_windows(150))


def _by_channel(probs):
    return {tr.stats.channel: tr for tr in probs}


def test_probability_traces_have_centre_times_rate_and_length():
    st = make_stream(n=3003, spikes=[12.34], h_spikes=[20.0])
    probs, report = scan(st, ImpulseModel(), stride=10)
    assert sorted(tr.id for tr in probs) == ["XX.AAA..PRN", "XX.AAA..PRP", "XX.AAA..PRS"]
    for tr in probs:
        assert tr.stats.starttime == T0 + 2.0  # half a window after the segment start, exact
        assert tr.stats.sampling_rate == 10.0
        assert tr.stats.npts == (3003 - 400) // 10 + 1 == 261
        assert tr.data.dtype == np.float32
        assert tr.stats.seisphase.trace_id == "XX.AAA..HHZ"
    p = _by_channel(probs)
    assert p["PRP"].times("utcdatetime")[p["PRP"].data.argmax()] == T0 + 12.3
    assert p["PRS"].times("utcdatetime")[p["PRS"].data.argmax()] == T0 + 20.0
    np.testing.assert_allclose(sum(tr.data for tr in probs), 1.0, atol=1e-6)
    assert report["n_windows"] == 261 and report["n_stations"] == 1
    assert report["hours"] == pytest.approx(3003 / 100 / 3600)


def test_scan_equals_window_by_window_classification(linear_model):
    st = make_stream(n=1000, seed=3, scale=1.0)
    probs, _ = scan(st, linear_model, stride=10, batch_size=7)  # chunk edges inside the data
    data = np.stack([st.select(component=c)[0].data for c in "ZNE"])
    expected = np.concatenate([
        linear_model.predict_proba(data[None, :, i:i + 400]) for i in range(0, 601, 10)])
    got = np.stack([_by_channel(probs)[f"PR{c}"].data for c in "PSN"], axis=1)
    assert got.shape == (61, 3)
    np.testing.assert_allclose(got, expected, atol=1e-4)


@pytest.mark.parametrize("k", [1, 7])
def test_shifting_input_by_k_strides_shifts_probabilities_by_k_samples(linear_model, k):
    stride = 10
    full = make_stream(n=1500, seed=4, scale=1.0)
    cut = full.copy()
    for tr in cut:
        tr.data = tr.data[k * stride:]
        tr.stats.starttime += k * stride / 100.0
    pf, _ = scan(full, linear_model, stride=stride)
    pc, _ = scan(cut, linear_model, stride=stride)
    for c in ("PRP", "PRS", "PRN"):
        a, b = _by_channel(pf)[c], _by_channel(pc)[c]
        assert b.stats.starttime == a.stats.starttime + k * a.stats.delta
        np.testing.assert_allclose(b.data, a.data[k:], atol=1e-6)


class CoarseModel(ImpulseModel):
    """Like ImpulseModel, but blind to where the spike sits within 0.3 s: its P probability
    is a plateau, so the peak (and the pick) follows the window grid, not the data."""

    def predict_proba(self, x):
        w = np.asarray(getattr(x, "waveforms", x), dtype=np.float64)
        z = np.abs(w[:, self.components_.index("Z")])
        d = np.round((z.argmax(1) - 200) / 30.0) * 30.0
        p = 0.9 * np.exp(-((d / 20.0) ** 2)) * (z.max(1) > 1.0)
        return np.stack([p, np.zeros_like(p), 1 - p], axis=1)


def test_pick_jitter_under_sub_stride_shifts():
    from seisphase.pick_scoring import shift_jitter

    st = make_stream(n=6000, spikes=[12.34, 33.37, 47.71])
    smooth = shift_jitter(st, ImpulseModel(), stride=10)
    assert smooth["shifts"] == list(range(1, 10))
    p = smooth["P"]
    assert (p["n_picks"], p["n_pairs"], p["unpaired"]) == (3, 27, 0)
    # peak refinement keeps a pick within a few ms of where it was, far below the 50 ms a
    # pick on the 0.1-s grid could move; the data only moved, so no pick came or went
    assert p["max_s"] < 0.01 and abs(p["mean_s"]) <= p["mae_s"] <= p["max_s"]
    assert smooth["S"]["n_pairs"] == 0 and math.isnan(smooth["S"]["std_s"])
    coarse = shift_jitter(st, CoarseModel(), stride=10)["P"]
    assert coarse["n_pairs"] == 27 and coarse["max_s"] > 0.05 and coarse["std_s"] > 5 * p["std_s"]
    same = shift_jitter([st, make_stream(n=3000, spikes=[20.0], sta="BBB")], ImpulseModel(),
                        stride=10, shifts=[0])["P"]
    assert (same["n_pairs"], same["max_s"]) == (4, 0.0)


def test_pick_jitter_checks_stride_and_shifts():
    from seisphase.pick_scoring import shift_jitter

    st = make_stream(n=1000)
    with pytest.raises(DataError, match="stride"):
        shift_jitter(st, ImpulseModel(), stride=0)
    with pytest.raises(DataError, match="shifts"):
        shift_jitter(st, ImpulseModel(), stride=4, shifts=[-1])


def test_gaps_split_segments_and_short_ones_are_reported():
    st = make_stream(n=3000, spikes=[5.0, 25.0])
    pieces = Stream()
    for tr in st:  # 0-10 s, gap, 15-30 s on every component; a 2-s bit after another gap
        pieces += Stream([tr.slice(T0, T0 + 10), tr.slice(T0 + 15, T0 + 29.99)])
        late = tr.slice(T0, T0 + 2)
        late.stats.starttime = T0 + 40
        pieces.append(late)
    probs, report = scan(pieces, ImpulseModel())
    starts = sorted({str(tr.stats.starttime) for tr in probs})
    assert starts == [str(T0 + 2.0), str(T0 + 17.0)]
    assert len(probs) == 6
    info = report["stations"]["XX.AAA"]
    assert [s["start"] for s in info["segments"]] == [str(T0), str(T0 + 15)]
    assert len(report["short_segments"]) == 1
    assert report["short_segments"][0]["start"] == str(T0 + 40)
    p_peaks = sorted(tr.times("utcdatetime")[tr.data.argmax()] for tr in probs.select(channel="PRP"))
    assert p_peaks == [T0 + 5.0, T0 + 25.0]


def test_gap_on_one_component_also_splits_and_overlaps_merge():
    st = make_stream(n=3000, spikes=[25.0])
    n = st.select(component="N")[0]
    st.remove(n)
    st += Stream([n.slice(T0, T0 + 12), n.slice(T0 + 14, T0 + 29.99)])
    z = st.select(component="Z")[0]
    st.remove(z)
    st += Stream([z.slice(T0, T0 + 20), z.slice(T0 + 18, T0 + 29.99)])  # 2 s overlap, same samples
    probs, report = scan(st, ImpulseModel())
    assert [s["start"] for s in report["stations"]["XX.AAA"]["segments"]] == [str(T0), str(T0 + 14)]
    whole, _ = scan(make_stream(n=3000, spikes=[25.0]), ImpulseModel())
    late = [tr for tr in probs if tr.stats.starttime == T0 + 16.0]
    for tr in late:
        ref = whole.select(channel=tr.stats.channel)[0].slice(tr.stats.starttime, tr.stats.endtime)
        np.testing.assert_array_equal(tr.data, ref.data)


def test_nan_samples_count_as_gaps():
    st = make_stream(n=3000, spikes=[25.0])
    st.select(component="E")[0].data[1000:1010] = np.nan
    probs, report = scan(st, ImpulseModel())
    segs = report["stations"]["XX.AAA"]["segments"]
    assert [s["start"] for s in segs] == [str(T0), str(T0 + 10.1)]
    assert all(np.isfinite(tr.data).all() for tr in probs)


@pytest.mark.parametrize("rate", [50.0, 200.0])
def test_other_sampling_rates_are_resampled(rate):
    n = int(30 * rate)
    st = make_stream(n=n, rate=rate)
    t = np.arange(n) / rate
    for tr in st.select(component="Z"):
        tr.data += (20 * np.exp(-0.5 * ((t - 14.0) / 0.05) ** 2)).astype(np.float32)
    probs, report = scan(st, ImpulseModel(), stride=5)
    p = _by_channel(probs)["PRP"]
    assert p.stats.sampling_rate == 20.0
    assert p.stats.starttime == T0 + 2.0
    assert abs(p.times("utcdatetime")[p.data.argmax()] - (T0 + 14.0)) <= 0.05
    assert report["stations"]["XX.AAA"]["resampled_from"] == [rate]


def test_channel_codes_z12_and_lowercase_give_the_same_probabilities(linear_model):
    ref, _ = scan(make_stream(n=900, seed=5, scale=1.0), linear_model)
    for comps, band in [("Z12", "HH"), ("zne", "hh"), ("Z12", "EH")]:
        st = make_stream(n=900, seed=5, scale=1.0, comps=comps, band=band)
        if band == "EH":  # traces in another order in the stream
            st.traces = st.traces[::-1]
        probs, _ = scan(st, linear_model)
        for c in ("PRP", "PRS", "PRN"):
            np.testing.assert_array_equal(_by_channel(probs)[c].data, _by_channel(ref)[c].data)


def test_vertical_only_reads_zero_horizontals_and_missing_vertical_is_an_error(linear_model):
    zne = make_stream(n=900, seed=6, scale=1.0)
    for tr in zne.select(component="[NE]"):
        tr.data[:] = 0
    ref, _ = scan(zne, linear_model)
    probs, report = scan(zne.select(component="Z"), linear_model)
    assert report["stations"]["XX.AAA"]["zero_filled"] == "NE"
    for c in ("PRP", "PRS", "PRN"):
        np.testing.assert_array_equal(_by_channel(probs)[c].data, _by_channel(ref)[c].data)
    with pytest.raises(DataError, match=r"XX.AAA has components 'NE'.*'Z' is missing"):
        scan(make_stream(n=900, comps="NE"), linear_model)


def test_one_component_model_reads_only_the_vertical():
    model = ImpulseModel(components="Z")
    probs, _ = scan(make_stream(n=1000, spikes=[5.0]), model)
    assert {shape[1] for shape in model.calls} == {1}
    p = _by_channel(probs)["PRP"]
    assert p.times("utcdatetime")[p.data.argmax()] == T0 + 5.0


def test_too_short_stream_gives_a_clear_message():
    with pytest.raises(DataError, match=r"as long as one window \(400 samples = 4 s at 100 Hz\); "
                                        r"the longest is 3 s \(XX.AAA\)"):
        scan(make_stream(n=300), ImpulseModel())
    probs, report = scan(make_stream(n=300), ImpulseModel(), allow_empty=True)
    assert len(probs) == 0 and len(report["short_segments"]) == 1


def test_bad_inputs_are_rejected_with_messages():
    with pytest.raises(DataError, match="no traces"):
        scan(Stream(), ImpulseModel())
    with pytest.raises(DataError, match="stride"):
        scan(make_stream(), ImpulseModel(), stride=0)
    with pytest.raises(NotFittedError, match="fitted classifier"):
        scan(make_stream(), object())
    st = make_stream(comps="ZNE")
    st[0].stats.channel = "HHT"  # transverse: not a component the scanner understands
    with pytest.raises(DataError, match="'Z' is missing"):
        scan(st, ImpulseModel())


def test_chunks_are_bounded_and_do_not_change_results():
    model = ImpulseModel()
    st = make_stream(n=4000, spikes=[7.0, 31.0])
    small, _ = scan(st, model, stride=10, batch_size=50)
    assert max(shape[0] for shape in model.calls) == 50
    large, _ = scan(st, ImpulseModel(), stride=10)
    for a, b in zip(small, large, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_model_fast_path_is_used_when_provided():
    st = make_stream(n=4000, spikes=[7.0, 31.0], h_spikes=[12.0])
    fast = ContinuousModel()
    got, _ = scan(st, fast, batch_size=100)
    ref, _ = scan(st, ImpulseModel())
    assert fast.calls == [] and fast.continuous_calls == 4
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_allclose(a.data, b.data, atol=1e-6)


def test_stations_are_scanned_separately_and_one_instrument_is_chosen():
    st = make_stream(sta="AAA", spikes=[10.0]) + make_stream(sta="BBB", spikes=[20.0])
    st += make_stream(sta="AAA", band="HN", comps="ZNE")  # accelerometer at the same site
    probs, report = scan(st, ImpulseModel())
    assert sorted({tr.stats.station for tr in probs}) == ["AAA", "BBB"]
    assert report["stations"]["XX.AAA"]["instrument"] == "HH"  # ties go to the seismometer
    assert sorted(s["trace_id"] for s in report["skipped"]) == ["XX.AAA..HNE", "XX.AAA..HNN",
                                                                "XX.AAA..HNZ"]
    peak = {tr.stats.station: tr.times("utcdatetime")[tr.data.argmax()]
            for tr in probs.select(channel="PRP")}
    assert peak == {"AAA": T0 + 10.0, "BBB": T0 + 20.0}


def test_probability_traces_round_trip_through_miniseed(tmp_path):
    probs, _ = scan(make_stream(spikes=[10.0]), ImpulseModel())
    probs.write(str(tmp_path / "p.mseed"), format="MSEED")
    back = obspy.read(str(tmp_path / "p.mseed"))
    assert sorted(tr.id for tr in back) == sorted(tr.id for tr in probs)
    for tr in back:
        ref = probs.select(id=tr.id)[0]
        assert tr.stats.starttime == ref.stats.starttime
        np.testing.assert_array_equal(tr.data, ref.data)


# -- command line ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model_dir(linear_model, tmp_path_factory):
    return linear_model.save(tmp_path_factory.mktemp("model") / "linear")


def _run(argv, capsys):
    from seisphase.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _cli_stream():
    return (make_stream(n=6000, seed=8, scale=1.0, sta="AAA")
            + make_stream(n=6000, seed=9, scale=1.0, sta="BBB", comps="Z"))


def test_cli_scan_files_writes_picks_quakeml_probabilities_and_plots(model_dir, tmp_path, capsys):
    from seisphase.picks import extract_picks, read_picks_csv

    st = _cli_stream()
    files = []
    for sta in ("AAA", "BBB"):
        files.append(tmp_path / f"{sta}.mseed")
        st.select(station=sta).write(str(files[-1]), format="MSEED")
    out = tmp_path / "out" / "picks.csv"
    code, stdout, _ = _run(["scan", model_dir, *files, "--out", out, "--quakeml",
                            tmp_path / "picks.xml", "--probabilities", tmp_path / "p.mseed",
                            "--plot", tmp_path / "figs", "--threshold-p", 0.4,
                            "--threshold-s", 0.4], capsys)
    assert code == 0
    assert re.fullmatch(r"scanned 2 station\(s\), 0\.03 h of data: \d+ P and \d+ S picks in "
                        r"\d+\.\d s -> .*picks\.csv\n", stdout)
    from seisphase.classifier import PhaseClassifier

    probs, _ = scan(obspy.read(str(files[0])) + obspy.read(str(files[1])),
                    PhaseClassifier.load(model_dir))
    expected = extract_picks(probs, 0.4, 0.4)
    assert len(expected) > 0
    got = read_picks_csv(out)
    assert [(q.trace_id, q.phase, q.time) for q in got] == \
           [(q.trace_id, q.phase, q.time) for q in expected]
    assert len(obspy.read_events(str(tmp_path / "picks.xml"))[0].picks) == len(expected)
    assert len(obspy.read(str(tmp_path / "p.mseed"))) == 6
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["XX.AAA.png", "XX.BBB.png"]


def _write_sds(root, st):
    for tr in st:
        s = tr.stats
        d = root / str(s.starttime.year) / s.network / s.station / f"{s.channel}.D"
        d.mkdir(parents=True, exist_ok=True)
        name = f"{s.network}.{s.station}.{s.location}.{s.channel}.D.{s.starttime.year}.{s.starttime.julday:03d}"
        tr.write(str(d / name), format="MSEED")


def test_cli_scan_sds_archive_gives_the_same_picks_as_files(model_dir, tmp_path, capsys):
    st = _cli_stream()
    _write_sds(tmp_path / "sds", st)
    st.write(str(tmp_path / "all.mseed"), format="MSEED")
    common = ["--threshold-p", 0.3, "--quiet"]
    code, stdout, _ = _run(["scan", model_dir, "--sds", tmp_path / "sds", "--start", str(T0),
                            "--end", str(T0 + 60), "--out", tmp_path / "sds.csv", *common], capsys)
    assert code == 0 and stdout == ""
    code, _, _ = _run(["scan", model_dir, tmp_path / "all.mseed", "--out",
                       tmp_path / "files.csv", *common], capsys)
    assert code == 0
    a, b = (tmp_path / "sds.csv").read_text(), (tmp_path / "files.csv").read_text()
    assert a == b and len(a.splitlines()) > 1
    code, _, _ = _run(["scan", model_dir, "--sds", tmp_path / "sds", "--start", str(T0),
                       "--end", str(T0 + 60), "--stations", "XX.BBB", "--out",
                       tmp_path / "bbb.csv", *common], capsys)
    assert code == 0
    assert set((tmp_path / "bbb.csv").read_text().splitlines()[1:]) == \
           {line for line in a.splitlines()[1:] if ".BBB." in line}


@pytest.mark.parametrize("case, message", [
    ("no_model", r"is not a seisphase model directory"),
    ("garbage", r"garbage\.mseed: cannot read waveforms"),
    ("missing", r"nope\.mseed: no such file"),
    ("short", r"no gap-free segment is as long as one window"),
    ("sds_no_time", r"--sds needs --start and --end"),
    ("both", r"give waveform files or --sds ROOT"),
    ("threshold", r"--threshold-p must be a probability in \(0, 1\]"),
])
def test_cli_errors_exit_2_with_one_line_and_write_nothing(model_dir, tmp_path, capsys, case,
                                                          message):
    good = tmp_path / "good.mseed"
    make_stream(n=1000).write(str(good), format="MSEED")
    (tmp_path / "garbage.mseed").write_text("not a seismogram\n")
    make_stream(n=300).write(str(tmp_path / "short.mseed"), format="MSEED")
    argv = {
        "no_model": ["scan", tmp_path, good],
        "garbage": ["scan", model_dir, good, tmp_path / "garbage.mseed"],
        "missing": ["scan", model_dir, tmp_path / "nope.mseed"],
        "short": ["scan", model_dir, tmp_path / "short.mseed"],
        "sds_no_time": ["scan", model_dir, "--sds", tmp_path],
        "both": ["scan", model_dir, good, "--sds", tmp_path],
        "threshold": ["scan", model_dir, good, "--threshold-p", 1.5],
    }[case]
    out = tmp_path / "picks.csv"
    code, _, err = _run([*argv, "--out", out, "--quakeml", tmp_path / "p.xml", "--quiet"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("seisphase: error: ") and re.search(message, err)
    assert not out.exists() and not (tmp_path / "p.xml").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".picks")]


def test_threshold_as_target_precision(linear_model, tmp_path, capsys):
    """--threshold-p precision:X uses the threshold stored at calibration; unknown targets fail."""
    from tests.conftest import toy_windows

    from seisphase.calibration import calibrate
    from seisphase.classifier import PhaseClassifier
    from seisphase.cli import main

    clf = PhaseClassifier.load(linear_model.save(tmp_path / "plain"))  # leave the fixture alone
    calibrate(clf, toy_windows(90, seed=11))
    stored = clf.info_["calibration"]["thresholds_for_precision"]
    assert "0.8" in stored["P"] and 0 < stored["P"]["0.8"] <= 1
    model_dir = clf.save(tmp_path / "calibrated")
    record = (Path(__file__).parent / "data" / "real_dev_continuous" / "three_component"
              / "BG_AL4_2011050109272382.mseed")
    out = tmp_path / "p.csv"
    assert main(["scan", str(model_dir), str(record), "--threshold-p", "precision:0.8",
                 "--quiet", "--out", str(out)]) == 0
    assert out.exists()
    assert main(["scan", str(model_dir), str(record), "--threshold-p", "precision:0.123",
                 "--quiet", "--out", str(tmp_path / "q.csv")]) == 2
    assert "no P threshold for precision 0.123" in capsys.readouterr().err
    assert not (tmp_path / "q.csv").exists()
