"""SeisBench-format data sets: read with seisbench, windows at the right samples, round trip, errors."""

from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from tests.conftest import toy_windows

from seisphase.data.seisbench import iter_seisbench, load_seisbench, write_seisbench
from seisphase.data.windows import concatenate
from seisphase.errors import ConfigError, DataFormatError, SeisphaseWarning

pytest.importorskip("seisbench")  # an optional extra: pip install seisphase[seisbench]
# seisbench's writer, used here to build test data sets, calls pandas with inplace=True
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:seisbench")

P_AT, S_AT, NPTS = 500, 700, 1000  # arrival samples (at 100 Hz) and trace length


def make_dataset(path, *, rate=100.0, order="ENZ", n=3, extra=None, columns=True, nan_at=None):
    """Traces with a unit impulse on Z at P and 2.0 on E at Sg (and a ramp on N)."""
    import seisbench.data as sbd

    k = rate / 100.0
    with sbd.WaveformDataWriter(path / "metadata.csv", path / "waveforms.hdf5") as writer:
        writer.data_format = {"dimension_order": "CW", "component_order": order,
                              "sampling_rate": rate}
        for i in range(n):
            x = np.zeros((3, int(NPTS * k)), np.float32)
            p, s = int((P_AT + 10 * i) * k), int((S_AT + 10 * i) * k)
            x[order.index("Z"), p] = 1.0
            x[order.index("E"), s] = 2.0
            x[order.index("N")] = np.linspace(0, 1, x.shape[1])
            if nan_at is not None and i == 0:
                x[0, nan_at] = np.nan
            row = {"trace_name": f"tr{i}", "split": ("train", "dev", "test")[i % 3],
                   "station_network_code": "XX", "station_code": f"S{i}", "source_id": f"ev{i}"}
            if columns:
                row.update(trace_P_arrival_sample=p, trace_Sg_arrival_sample=s)
            row.update((extra or {}).get(i, {}))
            writer.add_trace(row, x)
    return path


@pytest.fixture
def dataset(tmp_path):
    return make_dataset(tmp_path / "ds")


def test_windows_hold_the_pick_at_pick_sample_in_zne_order(dataset):
    w = load_seisbench(dataset)
    m = w.metadata
    assert w.components == "ZNE" and w.waveforms.shape == (9, 3, 400)
    assert w.class_counts() == {"P": 3, "S": 3, "N": 3}
    for k in np.flatnonzero(w.labels == 0):  # P impulse on Z
        assert np.argmax(w.waveforms[k, 0]) == m.pick_sample[k]
        assert 150 <= m.pick_sample[k] <= 249
        assert m.win_start[k] + m.pick_sample[k] == P_AT + 10 * int(m.trace_name[k][2:])
    for k in np.flatnonzero(w.labels == 1):  # Sg impulse (2.0) on E
        assert np.argmax(w.waveforms[k, 2]) == m.pick_sample[k]
        assert w.waveforms[k, 2].max() == 2.0
    assert np.all(np.diff(w.waveforms[:, 1], axis=1) > 0)  # the ramp landed on N
    assert list(m.split) == ["train"] * 3 + ["dev"] * 3 + ["test"] * 3
    assert m.station_id[0] == "XX.S0" and m.event_id[8] == "ev2"
    assert not m.vertical_only.any()


def test_noise_windows_end_half_a_second_before_the_first_arrival(dataset):
    w = load_seisbench(dataset, noise_per_trace=3, seed=4)
    noise = w.metadata[w.labels == 2]
    assert len(noise) == 9
    first = P_AT + 10 * noise.trace_name.str[2:].astype(int)
    assert (noise.win_start + 400 <= first - 50).all()
    assert (noise.pick_sample == -1).all()


@pytest.mark.parametrize("rate", [50.0, 200.0])
def test_other_rates_are_resampled_to_100_hz_with_picks_rescaled(tmp_path, rate):
    w = load_seisbench(make_dataset(tmp_path / "ds", rate=rate, order="ZNE"))
    assert w.sampling_rate == 100.0 and w.n_samples == 400
    m = w.metadata
    p = np.flatnonzero(w.labels == 0)
    assert len(p) == 3
    for k in p:
        assert np.argmax(w.waveforms[k, 0]) == m.pick_sample[k]
        assert m.win_start[k] + m.pick_sample[k] == P_AT + 10 * int(m.trace_name[k][2:])


def test_streaming_gives_the_same_windows_whatever_the_chunk_size(dataset):
    whole = load_seisbench(dataset, seed=3)
    parts = list(iter_seisbench(dataset, chunk_size=2, seed=3))
    assert [len(p) for p in parts] == [6, 3]
    assert concatenate(parts).fingerprint() == whole.fingerprint()


def test_split_argument_reads_one_split(dataset):
    w = load_seisbench(dataset, split="dev")
    assert set(w.metadata.split) == {"dev"} and len(w) == 3
    with pytest.raises(ConfigError, match=r"split 'val' not in .*\['dev', 'test', 'train'\]"):
        load_seisbench(dataset, split="val")


def test_components_override_and_vertical_only(tmp_path):
    ds = make_dataset(tmp_path / "ds", order="ZNE")
    # say the stored order is E, N, Z: the Z impulse now shows up in the output's E channel
    # and the S impulse (stored third, "E") in the output's Z channel
    w = load_seisbench(ds, components="ENZ")
    for k in range(len(w)):
        if w.labels[k] < 2:
            channel = 2 if w.labels[k] == 0 else 0
            assert np.argmax(w.waveforms[k, channel]) == w.metadata.pick_sample[k]
    assert np.all(np.diff(w.waveforms[:, 1], axis=1) > 0)


def test_vertical_only_traces_get_zero_horizontals_and_a_flag(tmp_path):
    import seisbench.data as sbd

    ds = tmp_path / "z"
    with sbd.WaveformDataWriter(ds / "metadata.csv", ds / "waveforms.hdf5") as writer:
        writer.data_format = {"dimension_order": "CW", "component_order": "Z", "sampling_rate": 100.0}
        x = np.zeros((1, NPTS), np.float32)
        x[0, P_AT] = 1.0
        writer.add_trace({"trace_name": "z0", "trace_P_arrival_sample": P_AT}, x)
    w = load_seisbench(ds)
    assert w.waveforms.shape == (2, 3, 400) and w.metadata.vertical_only.all()
    assert not w.waveforms[:, 1:].any()
    assert np.argmax(w.waveforms[0, 0]) == w.metadata.pick_sample[0]


def test_window_outside_the_trace_is_skipped_and_counted(tmp_path):
    ds = make_dataset(tmp_path / "ds", extra={0: {"trace_P_arrival_sample": 30}})
    with pytest.warns(SeisphaseWarning, match=r"skipped 1 pick window\(s\) that would run outside"):
        w = load_seisbench(ds)
    assert w.class_counts()["P"] == 2
    ds = make_dataset(tmp_path / "nan", nan_at=S_AT + 1)  # NaN next to trace 0's S pick
    with pytest.warns(SeisphaseWarning, match=r"and 1 window\(s\) holding NaN"):
        w = load_seisbench(ds)
    assert w.class_counts() == {"P": 3, "S": 2, "N": 3}


def test_write_then_load_gives_the_same_windows(dataset, tmp_path):
    w = load_seisbench(dataset)
    out = write_seisbench(w, tmp_path / "export")
    assert sorted(p.name for p in out.iterdir()) == ["metadata.csv", "waveforms.hdf5"]
    meta = pd.read_csv(out / "metadata.csv")
    assert meta.trace_P_arrival_sample.notna().sum() == 3 and meta.trace_label.tolist()[:3] == ["P", "S", "N"]
    back = load_seisbench(out)
    np.testing.assert_array_equal(back.waveforms, w.waveforms)
    np.testing.assert_array_equal(back.labels, w.labels)
    for col in ("pick_sample", "split", "station_id", "event_id"):
        assert back.metadata[col].tolist() == w.metadata[col].tolist(), col


def test_round_trip_reorders_components_and_defaults_the_pick_to_the_centre(tmp_path):
    w = toy_windows(12).with_components("ENZ")
    back = load_seisbench(write_seisbench(w, tmp_path / "toy"))
    assert back.components == "ZNE"
    np.testing.assert_array_equal(back.waveforms, w.with_components("ZNE").waveforms)
    np.testing.assert_array_equal(back.labels, w.labels)
    assert set(back.metadata.pick_sample[back.labels < 2]) == {200}


def test_missing_files_and_columns_give_one_line_errors(tmp_path, dataset):
    (tmp_path / "only_meta").mkdir()
    (dataset / "metadata.csv").rename(tmp_path / "only_meta" / "metadata.csv")
    with pytest.raises(DataFormatError, match="has waveforms.hdf5 but no metadata.csv"):
        load_seisbench(dataset)
    with pytest.raises(DataFormatError, match="has metadata.csv but no waveforms.hdf5"):
        load_seisbench(tmp_path / "only_meta")
    with pytest.raises(DataFormatError, match="nowhere: no such folder; expected a SeisBench"):
        iter_seisbench(tmp_path / "nowhere")  # raised at the call, before any chunk is read
    with pytest.raises(DataFormatError, match="is a file; expected a SeisBench"):
        load_seisbench(dataset / "waveforms.hdf5")
    no_picks = make_dataset(tmp_path / "no_picks", columns=False)
    with pytest.raises(DataFormatError, match="no arrival column; expected .*trace_P_arrival_sample"):
        load_seisbench(no_picks)
    meta = pd.read_csv(no_picks / "metadata.csv").drop(columns="trace_name")
    meta.assign(trace_P_arrival_sample=1).to_csv(no_picks / "metadata.csv", index=False)
    with pytest.raises(DataFormatError, match="no trace_name column"):
        load_seisbench(no_picks)


def test_corrupt_hdf5_is_reported(dataset):
    data = (dataset / "waveforms.hdf5").read_bytes()
    (dataset / "waveforms.hdf5").write_bytes(b"not hdf5" + data[8:200])
    with pytest.raises(DataFormatError, match=r"not a readable SeisBench data set \(corrupt") as e:
        load_seisbench(dataset)
    assert "\n" not in str(e.value)


def test_without_seisbench_the_error_says_how_to_install(dataset, monkeypatch):
    monkeypatch.setitem(sys.modules, "seisbench.data", None)
    with pytest.raises(DataFormatError, match=r"pip install seisphase\[seisbench\]"):
        load_seisbench(dataset)


def test_cli_export_writes_seisbench_and_npz(dataset, tmp_path, capsys):
    from seisphase.cli import export
    from seisphase.data.npz import load_windows

    parser = argparse.ArgumentParser()
    export.add_parser(parser.add_subparsers())
    args = parser.parse_args(["export", str(dataset), "--format", "npz", "--out",
                              str(tmp_path / "w.npz")])
    assert args.run(args) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'w.npz'} (npz): 9 windows (P 3, S 3, N 3)\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        npz = load_windows(tmp_path / "w.npz")
    assert npz.fingerprint() == load_seisbench(dataset).fingerprint()
    ns = argparse.Namespace(data=str(tmp_path / "w.npz"), format=None, components=None,
                            out=str(tmp_path / "sb"))
    assert export.run(ns) == 0
    assert "(seisbench): 9 windows" in capsys.readouterr().out
    assert load_seisbench(tmp_path / "sb").fingerprint() == npz.fingerprint()


def test_real_dev_windows_round_trip_with_their_pick_offsets(real_dev, tmp_path):
    w = real_dev.subset(np.arange(0, 394, 13))  # ENZ, picks in `pick_offset`, some vertical-only
    back = load_seisbench(write_seisbench(w, tmp_path / "real"))
    np.testing.assert_array_equal(back.waveforms, w.with_components("ZNE").waveforms)
    np.testing.assert_array_equal(back.labels, w.labels)
    assert back.metadata.pick_sample.tolist() == w.metadata.pick_offset.tolist()
    assert back.metadata.station_id.tolist() == w.metadata.station_id.tolist()
