import numpy as np
import pytest

from seisphase.data.split import group_kfold, split_windows
from seisphase.errors import ConfigError


def test_grouped_split_never_shares_a_group(real_dev):
    for seed in range(5):
        sp = split_windows(real_dev, seed=seed, group_by="station_id")
        st = real_dev.metadata["station_id"].to_numpy()
        parts = [set(st[i]) for i in (sp.train, sp.validation, sp.test)]
        assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
        assert sorted(np.concatenate([sp.train, sp.validation, sp.test])) == list(range(394))


def test_auto_grouping_prefers_event_then_record(real_dev, windows):
    assert split_windows(real_dev).group_by == "record"
    assert split_windows(windows).group_by == "event_id"


def test_split_is_stratified_and_near_its_fractions(real_dev):
    sp = split_windows(real_dev, seed=3)
    n = np.array([sp.train.size, sp.validation.size, sp.test.size]) / 394
    np.testing.assert_allclose(n, [0.7, 0.15, 0.15], atol=0.05)
    for part in (sp.train, sp.test):
        share = np.bincount(real_dev.labels[part], minlength=3) / part.size
        np.testing.assert_allclose(share, np.bincount(real_dev.labels) / 394, atol=0.08)


def test_same_seed_same_split_other_seed_other_split(windows):
    a, b, c = (split_windows(windows, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.test, b.test)
    assert not np.array_equal(a.test, c.test)


def test_bad_fractions_and_columns(windows):
    with pytest.raises(ConfigError, match="sum"):
        split_windows(windows, (0.5, 0.2, 0.2))
    with pytest.raises(ConfigError, match="no such metadata column.*event_id"):
        split_windows(windows, group_by="network")


def test_group_kfold_covers_everything_once(real_dev):
    seen = []
    st = real_dev.metadata["station_id"].to_numpy()
    for train, test in group_kfold(real_dev, 5, column="station_id", seed=0):
        assert not set(st[train]) & set(st[test])
        seen.extend(test)
    assert sorted(seen) == list(range(real_dev.n_windows))
