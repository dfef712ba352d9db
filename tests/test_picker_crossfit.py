"""Station-grouped cross-fitting of a fine-tuned picker (seisphase.picker_crossfit)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import seisphase.picker_crossfit as cf
from seisphase.errors import ConfigError, DataError
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


def test_station_halves_partition_evenly():
    halves = cf.station_halves(["B.X", "A.Y", "A.Y", "C.Z", "D.W", "E.V"])
    assert set(halves) == {"A.Y", "B.X", "C.Z", "D.W", "E.V"}
    assert sorted(halves.values()) == [0, 0, 0, 1, 1]


def test_every_record_is_picked_by_a_picker_that_never_saw_its_station(base, monkeypatch):
    files, picks = _records(5)
    trained_on = []

    def spy(config, extra=None, **kw):
        trained_on.append(set(extra[1]["station_id"]))
        return train_picker(config, extra=extra, **kw)

    monkeypatch.setattr(cf, "train_picker", spy)
    result = cf.cross_fit_picker(files, picks, base, steps=2, real_fraction=0.5, tolerances=(0.5, 0.1))
    assert len(trained_on) == 2 and not trained_on[0] & trained_on[1]
    for h, stations in enumerate(trained_on):
        assert stations == {s for s, k in result.halves.items() if k == h}
    assert {".".join(q.trace_id.split(".")[:2]) for q in result.picks} <= set(result.halves)
    assert set(result.thresholds) == {0, 1}
    assert all(t in cf.THRESHOLDS for pair in result.thresholds.values() for t in pair)
    assert set(result.scores) == {0.5, 0.1}
    assert result.scores[0.5]["P"]["n_reference"] == (picks.phase == "P").sum()
    assert result.hours == pytest.approx(len(files) * 90 / 3600, rel=1e-3)
    assert result.steps == [2, 2]


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
