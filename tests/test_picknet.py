"""PickNet and the scan-ready Picker: scan == per-window, shift consistency, timing, training,
save/load; and the continuous synthetic records they train on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from seisphase.data.continuous_synthetic import make_continuous
from seisphase.errors import ConfigError
from seisphase.models.picknet import GRID, PickNet, n_outputs, receptive_field, window_samples
from seisphase.picker import Picker, PickerConfig, normalize_trace, pick_targets, train_picker


def _picker(seed=0, context=0) -> Picker:
    """A PickNet with random weights and non-trivial batch-norm statistics, in eval mode."""
    torch.manual_seed(seed)
    net = PickNet(context=context)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.normal_(0, 0.3)
            m.running_var.uniform_(0.5, 2.0)
    return Picker(net.eval(), PickerConfig(context=context))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def trace():
    traces, _ = make_continuous(1, duration_s=40, seed=3, events_per_trace=2, padding_fraction=0)
    return traces[0]


def test_receptive_field_fits_the_window():
    assert receptive_field() <= 400
    assert n_outputs(400) >= 1 and n_outputs(receptive_field() - 1) == 0
    net = PickNet()
    assert net(torch.zeros(2, 3, 400)).shape == (2, 3)
    assert net.offset + GRID * net.window_index == 200
    # each long-range block widens the field; the default window covers it, centred on the grid
    fields = [receptive_field(c) for c in range(4)]
    assert fields[0] == 390 and all(b > a for a, b in zip(fields, fields[1:], strict=False))
    for c in (1, 2):
        net = PickNet(context=c)
        assert net.receptive_field == fields[c] <= net.n_samples == window_samples(c)
        assert n_outputs(net.n_samples, c) >= 1 and n_outputs(fields[c] - 1, c) == 0
        assert net(torch.zeros(2, 3, net.n_samples)).shape == (2, 3)
        assert net.offset + GRID * net.window_index == net.n_samples // 2
    with pytest.raises(ConfigError, match="context"):
        PickNet(context=-1)


@pytest.mark.parametrize(("stride", "context"), [(4, 0), (8, 0), (10, 0), (3, 0), (4, 1), (10, 2)])
def test_scan_equals_window_by_window(trace, stride, context):
    picker = _picker(context=context)
    w = picker.n_samples_
    z = normalize_trace(trace[:, :2400])
    fast = picker.probabilities(z, stride)
    windows = np.lib.stride_tricks.sliding_window_view(z, w, axis=-1)[:, ::stride].transpose(1, 0, 2)
    with torch.no_grad():
        slow = _softmax(picker.network_(torch.from_numpy(np.ascontiguousarray(windows))).numpy())
    assert fast.shape == slow.shape == ((2400 - w) // stride + 1, 3)
    np.testing.assert_allclose(fast, slow, atol=1e-4)
    np.testing.assert_allclose(fast.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("context", [0, 2])
def test_network_shift_by_k_grid_steps_shifts_outputs_by_k(trace, context):
    net = _picker(context=context).network_
    x = torch.from_numpy(normalize_trace(trace[:, :3000]))[None]
    with torch.no_grad():
        a = net.forward_continuous(x[..., : 2800])
        for k in (1, 5):
            b = net.forward_continuous(x[..., GRID * k: GRID * k + 2800])
            torch.testing.assert_close(a[..., k:], b[..., : a.shape[-1] - k], atol=1e-5, rtol=0)


@pytest.mark.parametrize("stride", [4, 8])
def test_scan_shift_by_k_strides_shifts_probabilities_by_k(trace, stride):
    """The whole path, normalisation included, away from the 15-s edge zones of the 30-s median."""
    picker = _picker()
    k = 7
    a = picker.scan_continuous(trace[:, :3600], stride)
    b = picker.scan_continuous(trace[:, k * stride: k * stride + 3600], stride)
    inner = slice(1600 // stride, (3600 - 2000) // stride)  # windows with full 30-s context
    np.testing.assert_allclose(a[inner][k:], b[inner][: len(a[inner]) - k], atol=1e-4)


def test_normalisation_is_gain_invariant_and_keeps_dead_channels(trace):
    x = trace.copy()
    x[1:] = 0.0
    a, b = normalize_trace(x), normalize_trace(x * 1000.0)
    np.testing.assert_allclose(a, b, atol=1e-4)
    assert not a[1:].any() and np.isfinite(a).all()
    w = normalize_trace(np.stack([trace[:, :400], trace[:, 400:800]]), window=True)
    assert w.shape == (2, 3, 400) and np.isfinite(w).all()


def test_flat_padding_does_not_blow_up_the_noise_next_to_it():
    traces, _ = make_continuous(1, duration_s=60, seed=4, events_per_trace=0, padding_fraction=0)
    x = traces[0].copy()
    ref = normalize_trace(x)
    for fill in (0.0, 123.0):
        x[:, 4000:] = fill  # 20 s of gap fill at the end, as in the real records
        z = normalize_trace(x)
        assert np.abs(z[:, 2500:3900]).max() < 2 * np.abs(ref[:, 2500:3900]).max()
        assert not z[:, 4200:].any()


def test_scan_grid_and_start_time(trace):
    import obspy

    from seisphase.scan import scan

    picker = _picker()
    st = obspy.Stream([obspy.Trace(trace[c].copy(), header={
        "station": "A", "channel": f"HH{comp}", "sampling_rate": 100.0,
        "starttime": obspy.UTCDateTime(2020, 1, 1)}) for c, comp in enumerate("ZNE")])
    probs, report = scan(st, picker, stride=4, batch_size=10**6)
    p = probs.select(channel="PRP")[0]
    assert p.stats.sampling_rate == 25.0
    assert p.stats.starttime == obspy.UTCDateTime(2020, 1, 1) + 2.0
    assert p.stats.npts == (trace.shape[1] - 400) // 4 + 1 == report["n_windows"]
    direct = picker.probabilities(normalize_trace(trace), 4)
    np.testing.assert_allclose(p.data, direct[:, 0], atol=1e-5)


def test_pick_targets_are_soft_and_sum_to_one():
    y = pick_targets(1000, [("P", 300.0), ("S", 400.0), ("S", 320.0)], 10.0)
    np.testing.assert_allclose(y.sum(0), 1.0, atol=1e-6)
    assert y[1].argmax() in (320, 400) and y[2, 0] == pytest.approx(1.0)
    assert y[0, 300] > 0.5 and y[1, 400] == pytest.approx(1.0)


@pytest.mark.slow
def test_s_labels_can_be_wider_than_p_labels():
    y = pick_targets(1000, [("P", 300.0), ("S", 700.0)], 10.0, s_sigma_samples=20.0)
    np.testing.assert_allclose(y.sum(0), 1.0, atol=1e-6)
    assert y[0, 300] == pytest.approx(1.0) and y[1, 700] == pytest.approx(1.0)
    half = np.exp(-0.5)  # one sigma away
    assert y[0, 310] == pytest.approx(half, rel=1e-5) and y[1, 720] == pytest.approx(half, rel=1e-5)
    same = pick_targets(1000, [("P", 300.0), ("S", 700.0)], 10.0)
    np.testing.assert_array_equal(y[0], same[0])  # P unchanged
    assert (y[1] >= same[1] - 1e-7).all() and y[1].sum() == pytest.approx(2 * same[1].sum(), rel=1e-3)


def test_training_reduces_loss_and_save_load_is_identical(tmp_path, trace):
    torch.set_num_threads(2)
    cfg = PickerConfig(n_traces=12, duration_s=20, max_steps=100, batch_size=8, width=16,
                       context=0, calibrate=False)
    picker = train_picker(cfg)
    loss = picker.history_["loss"]
    assert len(loss) == 2 and loss[-1] < loss[0]
    picker.save(tmp_path / "p")
    again = Picker.load(tmp_path / "p")
    np.testing.assert_array_equal(picker.scan_continuous(trace[:, :1200], 4),
                                  again.scan_continuous(trace[:, :1200], 4))
    assert again.config == picker.config


def test_long_context_picker_trains_saves_and_loads(tmp_path, trace):
    torch.set_num_threads(2)
    cfg = PickerConfig(n_traces=6, duration_s=30, max_steps=3, batch_size=4, width=8, context=1,
                       calibrate=False)
    picker = train_picker(cfg)
    assert picker.n_samples_ == window_samples(1) and picker.network_.context == 1
    picker.save(tmp_path / "p")
    again = Picker.load(tmp_path / "p")
    assert again.n_samples_ == picker.n_samples_ and again.config == cfg
    np.testing.assert_array_equal(picker.scan_continuous(trace[:, :1600], 4),
                                  again.scan_continuous(trace[:, :1600], 4))


def test_calibrated_thresholds_come_from_the_grid_and_are_reproducible():
    from seisphase.picker import CALIBRATION_THRESHOLDS, calibrate_thresholds

    picker = _picker()
    a = calibrate_thresholds(picker, n_traces=2, duration_s=15, seed=1)
    assert a == calibrate_thresholds(picker, n_traces=2, duration_s=15, seed=1)
    assert all(t in CALIBRATION_THRESHOLDS for t in a)


def test_pick_weight_and_realism_settings_train():
    torch.set_num_threads(2)
    cfg = PickerConfig(n_traces=6, duration_s=20, max_steps=3, batch_size=4, pick_weight=2.0,
                       width=8, context=0,
                       vertical_only_fraction=0.5, padding_fraction=0.5, calibrate=False)
    picker = train_picker(cfg)
    assert picker.history_["steps"] == 3 and picker.config == cfg


def test_fine_tuning_starts_from_the_given_picker_and_leaves_it_alone():
    torch.set_num_threads(2)
    cfg = PickerConfig(n_traces=6, duration_s=20, max_steps=3, batch_size=4, width=8, context=0,
                       calibrate=False)
    first = train_picker(cfg)
    before = {k: v.clone() for k, v in first.network_.state_dict().items()}
    fresh = train_picker(replace(cfg, seed=5, lr=1e-12))
    tuned = train_picker(replace(cfg, seed=5, lr=1e-12), init=first)
    weights = [k for k in before if k.endswith("weight")]
    # a vanishing learning rate keeps the initial weights: the init picker's, not seed 5's
    assert all(torch.allclose(tuned.network_.state_dict()[k], before[k], atol=1e-6) for k in weights)
    assert not all(torch.allclose(fresh.network_.state_dict()[k], before[k]) for k in weights)
    assert all(torch.equal(first.network_.state_dict()[k], v) for k, v in before.items())
    assert tuned.history_["init"]["steps"] == 3
    with pytest.raises(ConfigError, match="init picker has width"):
        train_picker(replace(cfg, width=16), init=first)
    with pytest.raises(ConfigError, match="context"):
        train_picker(replace(cfg, context=1), init=first)


def test_bad_window_length_is_explained():
    with pytest.raises(ConfigError, match="even number of samples >= 390"):
        PickNet(n_samples=300)
    with pytest.raises(ConfigError, match="forward_continuous"):
        PickNet()(torch.zeros(1, 3, 800))


def test_make_continuous_shapes_picks_and_determinism():
    a, pa = make_continuous(6, duration_s=30, seed=5, vertical_only_fraction=0.5)
    b, pb = make_continuous(6, duration_s=30, seed=5, vertical_only_fraction=0.5)
    assert len(a) == 6 and all(x.shape == (3, 3000) and x.dtype == np.float32 for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True)) and pa.equals(pb)
    assert ((pa["sample"] >= 0) & (pa["sample"] < 3000)).all()
    assert set(pa.phase) <= {"P", "S"}
    for t, x in enumerate(a):
        if not x[1:].any():
            assert pa[pa.trace == t].vertical_only.all() or (pa.trace != t).all()


def test_make_continuous_stream_and_errors():
    st, picks = make_continuous(2, duration_s=10, seed=0, as_stream=True, vertical_only_fraction=0)
    assert len(st) == 6 and st[0].id == "SY.C0000..HHZ"
    with pytest.raises(ConfigError, match="duration_s"):
        make_continuous(1, duration_s=1)


def test_scan_cli_takes_a_picker_directory(tmp_path, capsys):
    import pandas as pd

    from seisphase.cli import main

    picker = train_picker(PickerConfig(n_traces=6, duration_s=30, max_steps=5, batch_size=4,
                                       width=8, context=2, calibrate=False))
    picker.save(tmp_path / "picker")
    record = (Path(__file__).parent / "data" / "real_dev_continuous" / "three_component"
              / "BG_AL4_2011050109272382.mseed")
    assert main(["scan", str(tmp_path / "picker"), str(record), "--stride", "4", "--threshold-p",
                 "0.01", "--threshold-s", "0.01", "--quiet", "--out", str(tmp_path / "p.csv")]) == 0
    table = pd.read_csv(tmp_path / "p.csv")
    assert len(table) >= 1 and set(table["phase"]) <= {"P", "S"}
    assert (table["station_id"] == "BG.AL4").all()
