"""Station-grouped cross-fitting of a fine-tuned picker (seisphase.picker_crossfit)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from obspy import Stream, Trace, UTCDateTime

import seisphase.picker_crossfit as cf
from seisphase.errors import ConfigError, DataError
from seisphase.pick_scoring import match_picks
from seisphase.picker import PickerConfig, train_picker

REAL = Path(__file__).parent / "data" / "real_dev_continuous"


@pytest.fixture(scope="module")
def base():
    return train_picker(PickerConfig(n_traces=6, duration_s=20, max_steps=3, batch_size=4,
                                     width=8, context=0, calibrate=False))


def _records(n_stations: int):
    picks = pd.read_csv(REAL / "picks.csv")
    picks["sta"] = picks.network + "." + picks.station
    keep = sorted(picks.sta.unique())[:n_stations]
    picks = picks[picks.sta.isin(keep)]
    return [REAL / f for f in sorted(picks.file.unique())], picks.drop(columns="sta")


def test_station_folds_partition_evenly():
    halves = cf.station_folds(["B.X", "A.Y", "A.Y", "C.Z", "D.W", "E.V"], 2)
    assert set(halves) == {"A.Y", "B.X", "C.Z", "D.W", "E.V"}
    assert sorted(halves.values()) == [0, 0, 0, 1, 1]
    folds = cf.station_folds(["B.X", "A.Y", "C.Z", "D.W", "E.V", "F.U", "G.T"], 3)
    assert sorted(folds.values()) == [0, 0, 0, 1, 1, 2, 2]
    assert folds["A.Y"] != folds["B.X"] != folds["C.Z"]


def test_every_record_is_picked_by_a_picker_that_never_saw_its_station(base, monkeypatch):
    files, picks = _records(5)
    trained_on = []

    def spy(config, extra=None, **kw):
        assert config.s_sigma_s == 0.2 and config.sigma_s == base.config.sigma_s
        trained_on.append(set(extra[1]["station_id"]))
        return train_picker(config, extra=extra, **kw)

    monkeypatch.setattr(cf, "train_picker", spy)
    result = cf.cross_fit_picker(files, picks, base, steps=2, real_fraction=0.5, tolerances=(0.5, 0.1))
    assert len(trained_on) == 2 and not trained_on[0] & trained_on[1]
    for h, stations in enumerate(trained_on):
        assert stations == {s for s, k in result.folds.items() if k == h}
    assert {".".join(q.trace_id.split(".")[:2]) for q in result.picks} <= set(result.folds)
    assert set(result.thresholds) == {0, 1}
    assert all(t in cf.THRESHOLDS for pair in result.thresholds.values() for t in pair)
    assert set(result.scores) == {0.5, 0.1}
    assert result.scores[0.5]["P"]["n_reference"] == (picks.phase == "P").sum()
    assert result.hours == pytest.approx(len(files) * 90 / 3600, rel=1e-3)
    assert result.steps == [2, 2]


def test_more_folds_fine_tune_on_all_other_folds(base, monkeypatch):
    files, picks = _records(5)
    trained_on = []

    def spy(config, extra=None, **kw):
        trained_on.append((config.seed, set(extra[1]["station_id"])))
        return train_picker(config, extra=extra, **kw)

    monkeypatch.setattr(cf, "train_picker", spy)
    result = cf.cross_fit_picker(files, picks, base, steps=2, folds=3, seed=1)
    assert sorted(result.folds.values()) == [0, 0, 1, 1, 2]
    assert set(result.thresholds) == {0, 1, 2} and result.steps == [2, 2, 2]
    for (seed, stations), k in zip(trained_on, (2, 1, 0), strict=True):
        assert seed == 3 * 1 + 2 - k
        assert stations == {s for s, g in result.folds.items() if g != k}
    assert result.scores[0.5]["P"]["n_reference"] == (picks.phase == "P").sum()
    for bad in (1, 6, 2.5):
        with pytest.raises(ConfigError, match="folds"):
            cf.cross_fit_picker(files, picks, base, steps=1, folds=bad)


def _probs(sta, zero_filled, s_peaks, p_peaks=()):
    """A scan-like stream of one station: P and S Gaussian bumps ``(time_s, height)``."""
    t0 = UTCDateTime(2021, 6, 1)
    t = np.arange(1200) / 10.0
    out = Stream()
    for phase, peaks in (("P", p_peaks), ("S", s_peaks)):
        data = sum((h * np.exp(-0.5 * ((t - c) / 0.2) ** 2) for c, h in peaks), np.zeros(len(t)))
        tr = Trace(data.astype(np.float32), header={"network": "XX", "station": sta,
                                                    "channel": f"PR{phase}", "sampling_rate": 10.0,
                                                    "starttime": t0})
        tr.stats.seisphase = {"phase": phase, "trace_id": f"XX.{sta}..HHZ",
                              "zero_filled": zero_filled}
        out.append(tr)
    return out


def test_best_thresholds_choose_s_apart_for_vertical_only_stations():
    t0 = UTCDateTime(2021, 6, 1)
    events = (20.0, 50.0, 80.0)
    # 3-component station: S peaks 0.9 at the arrivals, false bumps of 0.5 between them;
    # vertical-only station: weak S (0.35) at the arrivals, false bumps of 0.2
    probs = [_probs("T", "", [(e + 5, 0.9) for e in events] + [(e + 15, 0.5) for e in events],
                    [(e, 0.9) for e in events]),
             _probs("V", "NE", [(e + 5, 0.35) for e in events] + [(e + 15, 0.2) for e in events],
                    [(e, 0.9) for e in events])]
    reference = pd.DataFrame([{"network": "XX", "station": s, "phase": ph, "time": str(t0 + e + dt)}
                              for s in "TV" for e in events for ph, dt in (("P", 0), ("S", 5))])
    tp, ts, tsv = cf.best_thresholds(probs, reference, 1.0)
    assert 0.5 < ts <= 0.9 and 0.2 < tsv <= 0.35 and tp <= 0.9
    picks = cf.picks_at(probs, tp, ts, tsv)
    scores = match_picks(picks, reference, 0.5, 1.0)
    assert scores["S"]["f1"] == 1.0 and scores["P"]["f1"] == 1.0
    # one threshold for all S would miss the weak S or pick the false bumps
    assert match_picks(cf.picks_at(probs, tp, ts), reference, 0.5, 1.0)["S"]["f1"] < 1.0
    # without vertical-only stations the vertical threshold is the S one
    assert cf.best_thresholds(probs[:1], reference[reference.station == "T"], 1.0)[1:] == (ts, ts)


def test_cross_fit_refuses_one_station_and_an_untrained_base(base):
    files, picks = _records(1)
    with pytest.raises(DataError, match="at least two stations"):
        cf.cross_fit_picker(files, picks, base, steps=1)
    with pytest.raises(ConfigError, match="trained Picker"):
        cf.cross_fit_picker(files, picks, PickerConfig(), steps=1)


def test_seed_sets_both_fine_tunings_and_repeats(base, monkeypatch):
    files, picks = _records(2)
    seeds = []

    def spy(config, extra=None, **kw):  # no training: only the seeds are under test
        seeds.append(config.seed)
        return kw["init"]

    monkeypatch.setattr(cf, "train_picker", spy)
    a = cf.cross_fit_picker(files, picks, base, steps=1, seed=3)
    b = cf.cross_fit_picker(files, picks, base, steps=1, seed=3)
    assert seeds == [6, 7, 6, 7]
    assert json.dumps(a.scores) == json.dumps(b.scores) and a.thresholds == b.thresholds
