import numpy as np
import pytest
from tests.conftest import REAL_DEV

from seisphase.data.npz import load_windows, save_windows
from seisphase.data.windows import Windows, check_labels, check_windows, concatenate
from seisphase.errors import DataError, DataFormatError, SeisphaseWarning


def test_real_dev_layout_is_read_with_its_component_order(real_dev):
    raw = np.load(REAL_DEV)
    assert real_dev.components == "ENZ"
    assert real_dev.waveforms.shape == (394, 3, 400)
    assert real_dev.waveforms.dtype == np.float32
    np.testing.assert_array_equal(real_dev.waveforms[5, 2], raw["X"][5, :, 2])
    assert real_dev.labels.dtype == np.int64
    assert {"station_id", "record", "n_components"} <= set(real_dev.metadata.columns)


def test_lab_layout_assumes_nez_with_a_warning(tmp_path):
    x = np.random.default_rng(0).normal(size=(6, 400, 3)).astype(np.float32)
    np.savez(tmp_path / "lab.npz", X=x, Y=np.array([0, 1, 2, 0, 1, 2]))
    with pytest.warns(SeisphaseWarning, match="assuming NEZ.*--components"):
        w = load_windows(tmp_path / "lab.npz")
    assert w.components == "NEZ"
    zne = w.with_components("ZNE")
    np.testing.assert_array_equal(zne.waveforms[:, 0], x[:, :, 2])
    np.testing.assert_array_equal(zne.waveforms[:, 2], x[:, :, 1])
    override = load_windows(tmp_path / "lab.npz", components="ENZ")
    assert override.components == "ENZ"


def test_save_load_round_trip_keeps_everything(tmp_path, windows):
    path = save_windows(tmp_path / "w.npz", windows)
    back = load_windows(path)
    np.testing.assert_array_equal(back.waveforms, windows.waveforms)
    np.testing.assert_array_equal(back.labels, windows.labels)
    assert back.components == windows.components
    assert back.sampling_rate == windows.sampling_rate
    assert list(back.metadata["event_id"]) == list(windows.metadata["event_id"])
    assert back.fingerprint() == windows.fingerprint()


@pytest.mark.parametrize("x, match", [
    (np.zeros((400, 3), np.float32), r"\(n_windows, n_channels, n_samples\).*x\[None\]"),
    (np.zeros((0, 3, 400), np.float32), "empty"),
    (np.zeros((2, 3, 400), np.int32), "floating-point.*astype"),
    (np.full((2, 3, 400), np.nan, np.float32), "NaN or inf in 2 window"),
])
def test_check_windows_teaches(x, match):
    with pytest.raises(DataError, match=match):
        check_windows(x)


@pytest.mark.parametrize("labels, match", [
    (np.array([0, 3]), r"0 \(P\), 1 \(S\) or 2 \(noise\); found \[3\]"),
    (np.array([0, -1]), r"found \[-1\]"),
    (np.array([0, 1, 2]), "3 labels for 2 windows"),
    (np.array([[0, 1]]), "shape"),
    (np.array(["P", "S"]), "integer labels"),
])
def test_check_labels_teaches(labels, match):
    with pytest.raises(DataError, match=match):
        check_labels(labels, 2)


def test_inf_in_npz_is_reported(tmp_path):
    x = np.zeros((3, 400, 3), np.float32)
    x[1, 5, 0] = np.inf
    np.savez(tmp_path / "bad.npz", X=x, Y=np.array([0, 1, 2]), channel_order="ZNE")
    with pytest.raises(DataError, match="first: index 1"):
        load_windows(tmp_path / "bad.npz")


@pytest.mark.parametrize("content, match", [
    (b"", "empty"),
    (b"PK\x03\x04garbage", "not a readable NPZ"),
])
def test_corrupt_files(tmp_path, content, match):
    (tmp_path / "f.npz").write_bytes(content)
    with pytest.raises(DataFormatError, match=match):
        load_windows(tmp_path / "f.npz")


def test_truncated_file(tmp_path):
    data = REAL_DEV.read_bytes()
    (tmp_path / "t.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="corrupt or truncated"):
        load_windows(tmp_path / "t.npz")


def test_missing_arrays(tmp_path):
    np.savez(tmp_path / "a.npz", waveforms=np.zeros((2, 400, 3)))
    with pytest.raises(DataFormatError, match="no array 'X'.*found: waveforms"):
        load_windows(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", X=np.zeros((2, 400, 3), np.float32), channel_order="ZNE")
    with pytest.raises(DataFormatError, match="no labels 'Y'"):
        load_windows(tmp_path / "b.npz")
    assert load_windows(tmp_path / "b.npz", require_labels=False).labels is None


def test_components_must_match_channels():
    with pytest.raises(DataError, match="name 2 channel"):
        Windows(np.ones((1, 3, 10), np.float32), components="ZN")
    with pytest.raises(DataError, match="distinct letters"):
        Windows(np.ones((1, 3, 10), np.float32), components="ZZE")


def test_missing_component_is_a_clear_error():
    w = Windows(np.ones((1, 1, 10), np.float32), components="Z")
    with pytest.raises(DataError, match="'NE' is needed"):
        w.with_components("ZNE")


def test_z12_maps_onto_zne():
    x = np.arange(30, dtype=np.float32).reshape(1, 3, 10)
    w = Windows(x, components="Z12").with_components("ZNE")
    np.testing.assert_array_equal(w.waveforms, x)


def test_concatenate_aligns_component_order(windows):
    enz = windows.with_components("ENZ")
    both = concatenate([windows, enz])
    assert both.n_windows == 2 * windows.n_windows
    np.testing.assert_array_equal(both.waveforms[windows.n_windows:], windows.waveforms)
