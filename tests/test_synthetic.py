"""Synthetic windows: determinism, format, physics, and realism against the real dev windows."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from tests.conftest import REAL_DEV

from seisphase.data import realism
from seisphase.data.synthetic import SyntheticConfig, make_synthetic
from seisphase.errors import ConfigError

COLUMNS = ["event_id", "station_id", "pick_sample", "snr", "magnitude", "distance_km",
           "sp_seconds", "vertical_only"]


@pytest.fixture(scope="module")
def syn():
    return make_synthetic(1500, seed=1)


@pytest.fixture(scope="module")
def real_zne():
    from seisphase.data.npz import load_windows

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_windows(REAL_DEV).with_components("ZNE")


def _rms(x, start, stop):
    return np.sqrt((x[..., start:stop].astype(np.float64) ** 2).mean(axis=(-1, -2)))


def _clean(w):
    m = w.metadata
    return ((m["artifact"] == "") & ~m["vertical_only"]).to_numpy()


# --- format and determinism -------------------------------------------------------------------

def test_same_seed_is_bitwise_identical_and_other_seeds_differ():
    a, b, c = make_synthetic(200, seed=7), make_synthetic(200, seed=7), make_synthetic(200, seed=8)
    assert a.waveforms.tobytes() == b.waveforms.tobytes()
    np.testing.assert_array_equal(a.labels, b.labels)
    pd.testing.assert_frame_equal(a.metadata, b.metadata)
    assert not np.array_equal(a.waveforms, c.waveforms)


def test_shapes_dtypes_and_metadata(syn):
    assert syn.waveforms.shape == (1500, 3, 400) and syn.waveforms.dtype == np.float32
    assert syn.labels.dtype == np.int64 and set(np.unique(syn.labels)) == {0, 1, 2}
    assert syn.sampling_rate == 100.0 and syn.components == "ZNE"
    m = syn.metadata
    assert set(COLUMNS) <= set(m.columns) and len(m) == 1500
    assert m["station_id"].str.fullmatch(r"SY\.S\d{3}").all()
    assert m["vertical_only"].dtype == bool
    assert np.isfinite(syn.waveforms).all()


def test_classes_are_balanced_by_default_and_follow_fractions(syn):
    assert syn.class_counts() == {"P": 500, "S": 500, "N": 500}
    w = make_synthetic(100, seed=0, class_fractions=(0.5, 0.2, 0.3))
    assert w.class_counts() == {"P": 50, "S": 20, "N": 30}


def test_picks_snr_and_noise_conventions(syn):
    m, signal = syn.metadata, syn.labels < 2
    assert m["pick_sample"][signal].between(150, 249).all()
    assert (m["pick_sample"][~signal] == -1).all()
    assert m["snr"][~signal].isna().all() and (m["snr"][signal] > 0).all()


def test_windows_are_demeaned_per_channel(syn):
    x = syn.waveforms.astype(np.float64)
    scale = np.abs(x).max(-1) + 1e-9
    assert np.abs(x.mean(-1) / scale).max() < 1e-5


def test_windows_of_one_record_share_event_and_station(syn):
    m = syn.metadata
    per_record = m.groupby(["event_id", "station_id"]).size()
    assert per_record.max() == 3 and (per_record == 3).mean() > 0.9
    per_event = m.groupby("event_id")["station_id"].nunique()
    assert per_event.max() > 1            # several stations see one event


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ConfigError, match="positive number of windows"):
        make_synthetic(0)
    with pytest.raises(ConfigError, match="three non-negative numbers"):
        make_synthetic(10, class_fractions=(1, 1))
    with pytest.raises(ConfigError, match=r"spike_fraction must lie in \[0, 1\]"):
        SyntheticConfig(spike_fraction=2.0)
    with pytest.raises(ConfigError, match="unknown SyntheticConfig field.*'snr_mediann'"):
        SyntheticConfig.from_dict({"snr_mediann": 3.0})


def test_config_is_frozen_and_round_trips_through_json():
    cfg = SyntheticConfig(snr_median=5.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.snr_median = 1.0
    again = SyntheticConfig.from_dict(json.loads(json.dumps(dataclasses.asdict(cfg))))
    assert again == cfg


# --- defects ---------------------------------------------------------------------------------

def test_vertical_only_windows_have_exactly_zero_horizontals():
    w = make_synthetic(300, seed=2, config=SyntheticConfig(vertical_only_fraction=0.3))
    v = w.metadata["vertical_only"].to_numpy()
    assert 0 < v.sum() < len(v)
    assert (w.waveforms[v, 1:] == 0).all() and (np.abs(w.waveforms[v, 0]).max(-1) > 0).all()
    assert (np.abs(w.waveforms[~v, 1:]).max(-1) > 0).mean() > 0.95


def test_defects_are_present_at_the_configured_rates():
    cfg = SyntheticConfig(spike_fraction=0.1, step_fraction=0.1, clip_fraction=0.1,
                          dead_channel_fraction=0.1, vertical_only_fraction=0.0)
    w = make_synthetic(600, seed=3, config=cfg)
    kind = w.metadata["artifact"].to_numpy()
    for name in ("spike", "step", "clip", "dead"):
        assert 0.05 < (kind == name).mean() < 0.15, name
    x = w.waveforms
    assert ((x == 0).all(-1).any(-1)[kind == "dead"]).all()          # one channel exactly zero
    peak = np.abs(x).max(-1, keepdims=True)
    flat = (np.abs(x) >= 0.999 * peak).sum(-1).max(-1)                # samples at the clip level
    assert np.median(flat[kind == "clip"]) > 5 * np.median(flat[kind == ""])


def test_default_defect_rates_are_small(syn):
    rates = syn.metadata["artifact"].value_counts(normalize=True)
    for name in ("spike", "step", "clip", "dead"):
        assert 0.003 < rates.get(name, 0.0) < 0.05, name


# --- physics ---------------------------------------------------------------------------------

def test_amplitudes_span_orders_of_magnitude(syn):
    peak = np.abs(syn.waveforms).max(axis=(1, 2))
    assert np.percentile(peak, 99) / np.percentile(peak, 1) > 1e3


def test_s_minus_p_follows_distance_and_is_often_short(syn):
    m = syn.metadata
    assert np.median(m["sp_seconds"] * 8.0 / m["distance_km"]) == pytest.approx(1.0, abs=0.05)
    assert 1.2 < m["sp_seconds"].median() < 2.4
    inside = m["other_pick_in_window"][syn.labels == 0].mean()   # S arrival inside P windows
    assert 0.3 < inside < 0.8


def test_p_snr_follows_the_config():
    for median in (3.0, 30.0):
        w = make_synthetic(900, seed=4, config=SyntheticConfig(snr_median=median))
        snr = w.metadata["snr"][w.labels == 0]
        assert snr.median() == pytest.approx(median, rel=0.3)
        assert snr.min() >= 0.3 and (snr <= median / 10).mean() > 0.02   # a hard low tail
    # the nominal SNR is what the waveforms show: RMS after the pick / RMS before it
    w = make_synthetic(600, seed=5)
    m, x = w.metadata, w.waveforms
    rows = np.flatnonzero((w.labels == 0) & _clean(w))
    picks = m["pick_sample"].to_numpy()
    measured = np.array([_rms(x[i], p, p + 100) / _rms(x[i], 0, p - 5) for i, p in zip(rows, picks[rows], strict=True)])
    ratio = measured / m["snr"].to_numpy()[rows]
    assert 0.7 < np.median(ratio) < 1.5
    assert np.corrcoef(np.log(measured), np.log(m["snr"].to_numpy()[rows]))[0, 1] > 0.9


def _s_over_p(w):
    """RMS over the first second after the S pick / after the P pick, same event and station."""
    m, x = w.metadata, w.waveforms
    key = (m["event_id"].astype(str) + "/" + m["station_id"]).to_numpy()
    p_row = {k: i for i, k in enumerate(key) if w.labels[i] == 0}
    clean, picks, out = _clean(w), m["pick_sample"].to_numpy(), []
    for i in np.flatnonzero((w.labels == 1) & clean):
        j = p_row.get(key[i])
        if j is not None and clean[j]:
            out.append(_rms(x[i], picks[i], picks[i] + 100) / _rms(x[j], picks[j], picks[j] + 100))
    return np.array(out)


def test_s_is_larger_than_p_and_follows_the_configured_ratio(syn):
    ratio = _s_over_p(syn)
    assert len(ratio) > 200
    assert 1.4 < np.median(ratio) < 3.0 and np.percentile(ratio, 90) > 3.0
    bigger = _s_over_p(make_synthetic(1500, seed=1, config=SyntheticConfig(s_to_p_median=4.8)))
    assert np.median(bigger) > 1.3 * np.median(ratio)


def test_s_is_horizontal_and_p_vertical(syn):
    x, picks, clean = syn.waveforms.astype(np.float64), syn.metadata["pick_sample"].to_numpy(), _clean(syn)
    hv = {}
    for label in (0, 1):
        rows = np.flatnonzero((syn.labels == label) & clean & (syn.metadata["snr"] > 5).to_numpy())
        seg = np.stack([x[i, :, p:p + 50] for i, p in zip(rows, picks[rows], strict=True)])
        energy = (seg**2).sum(-1)
        hv[label] = np.median((energy[:, 1] + energy[:, 2]) / (2 * energy[:, 0]))
    assert hv[0] < 1.0 < 2.0 < hv[1]
    medians = realism.class_medians(syn)
    assert medians.loc["S", "hv"] > medians.loc["P", "hv"]


def test_p_is_higher_frequency_than_s(syn):
    x, picks = syn.waveforms.astype(np.float64), syn.metadata["pick_sample"].to_numpy()
    freqs = np.fft.rfftfreq(100, 0.01)
    centroid = {}
    for label in (0, 1):
        rows = np.flatnonzero((syn.labels == label) & _clean(syn) & (syn.metadata["snr"] > 5).to_numpy())
        seg = np.stack([x[i, :, p:p + 100] for i, p in zip(rows, picks[rows], strict=True)])
        power = (np.abs(np.fft.rfft(seg, axis=-1)) ** 2).sum(1)
        centroid[label] = np.median((power * freqs).sum(-1) / power.sum(-1))
    assert centroid[0] > centroid[1] + 2.0


def test_energy_jumps_at_the_pick_for_p_not_for_noise(syn):
    stats = realism.window_statistics(syn)
    med = stats[stats["three_component"]].groupby("class")["after_before"].median()
    assert med["P"] > 3 * med["S"] and med["S"] > 1.5 and 0.8 < med["N"] < 1.25


# --- realism ---------------------------------------------------------------------------------

def test_realism_statistics_reproduce_the_published_real_medians(real_zne):
    medians = realism.class_medians(real_zne)
    pd.testing.assert_frame_equal(medians[list(realism.STATISTICS)], realism.REAL_MEDIANS,
                                  atol=0.01, check_names=False)
    assert medians["n_windows"].tolist() == [128, 69, 128]


def test_synthetic_class_medians_match_the_real_windows(real_zne):
    table = realism.compare_to_real(make_synthetic(3000, seed=0), real_zne)
    assert len(table) == 9
    assert table["within_tolerance"].all(), "\n" + realism.format_comparison(table)


def test_comparison_flags_unrealistic_windows_and_prints_a_table():
    from seisphase.data.windows import Windows

    labels = np.arange(300) % 3
    white = np.random.default_rng(0).normal(size=(300, 3, 400)).astype(np.float32)
    table = realism.compare_to_real(Windows(white, labels))      # against REAL_MEDIANS
    bad = table.set_index(["phase", "statistic"])["within_tolerance"]
    assert not bad["P", "after_before"] and bad["N", "after_before"]
    text = realism.format_comparison(table)
    assert text.splitlines()[0].split()[:4] == ["phase", "statistic", "synthetic", "real"]
    assert "NO" in text and text.splitlines()[-1].endswith("within tolerance")


def test_median_spectra_and_envelopes_have_the_documented_shapes(syn):
    freqs, spectra = realism.median_spectra(syn)
    assert freqs.shape == (201,) and set(spectra) == {"P", "S", "N"}
    assert all(s.shape == (3, 201) and np.isfinite(s).all() for s in spectra.values())
    times, env = realism.median_envelopes(syn)
    assert times.shape == (400,) and env["P"].shape == (400,)
    assert env["P"][300:].mean() > 5 * env["P"][:140].mean()      # P jumps at the pick
    assert 0.7 < env["N"][300:].mean() / env["N"][:140].mean() < 1.4
