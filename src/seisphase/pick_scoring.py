"""Score picks against reference (analyst) picks, and an STA/LTA baseline picker.

:func:`match_picks` pairs picks with reference picks of the same station and phase, one to one,
closest in time first, within a tolerance, and reports per phase precision, recall, F1, the
time residuals (pick − reference) of the matched pairs and false picks per hour.
:func:`shift_jitter` measures how far picks move when the data start less than one scan stride
later. :func:`stalta_picks` is the classic baseline: recursive STA/LTA on the vertical channel, a pick
(P only) where the trigger switches on.
"""

from __future__ import annotations

import math

import numpy as np

from seisphase.errors import DataError
from seisphase.picks import Pick


def station_keys(df):
    """``NET.STA`` per row, from ``network``+``station``, ``station_id`` or ``trace_id``."""
    if {"network", "station"} <= set(df.columns):
        return df["network"].astype(str) + "." + df["station"].astype(str)
    if "station_id" in df.columns:
        return df["station_id"].astype(str).str.split(".").str[:2].str.join(".")
    if "trace_id" in df.columns:
        return df["trace_id"].astype(str).str.split(".").str[:2].str.join(".")
    raise DataError(
        "picks need network and station, station_id or trace_id columns to be matched by station"
    )


def _normalise(df, name: str):
    import pandas as pd

    if df is None or not hasattr(df, "columns"):
        raise DataError(f"{name} must be a pandas DataFrame (see picks_to_dataframe)")
    missing = {"phase", "time"} - set(df.columns)
    if missing:
        raise DataError(f"{name} lack the column(s) {sorted(missing)}")
    times = pd.to_datetime(df["time"].astype(str), utc=True, format="ISO8601")
    return pd.DataFrame({
        "station": station_keys(df).to_numpy(),
        "phase": df["phase"].astype(str).to_numpy(),
        "t": (times - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(),
    })


def _greedy_pairs(t_pick: np.ndarray, t_ref: np.ndarray, tolerance_s: float) -> list:
    """One-to-one pairs ``(i_pick, i_ref)`` with ``|dt| <= tolerance``, closest first."""
    dt = np.abs(t_pick[:, None] - t_ref[None, :])
    ii, jj = np.nonzero(dt <= tolerance_s)
    order = np.argsort(dt[ii, jj], kind="stable")
    used_i, used_j, pairs = set(), set(), []
    for i, j in zip(ii[order], jj[order], strict=True):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            pairs.append((i, j))
    return pairs


def _residuals(p, r, tolerance_s: float) -> list:
    """Pick − reference times of the one-to-one pairs, station by station (normalised frames)."""
    residuals = []
    for station, rs in r.groupby("station"):
        ps = p[p.station == station]
        if len(ps):
            tp, tr = ps.t.to_numpy(), rs.t.to_numpy()
            residuals += [tp[i] - tr[j] for i, j in _greedy_pairs(tp, tr, tolerance_s)]
    return residuals


def match_picks(picks_df, reference_df, tolerance_s: float = 0.5, hours: float | None = None,
                phases=("P", "S")) -> dict:
    """Match picks to reference picks and score them per phase.

    Parameters
    ----------
    picks_df, reference_df : DataFrame
        One row per pick with ``phase``, ``time`` (ISO string or datetime) and the station as
        ``network`` + ``station``, ``station_id`` or ``trace_id`` (``NET.STA...``).
    tolerance_s : float
        Largest |pick − reference| counted as a match.
    hours : float, optional
        Total duration of the scanned data (all stations); gives ``false_per_hour``.
    phases : sequence of str
        Phases to score.

    Returns
    -------
    dict
        ``{phase: {"n_picks", "n_reference", "true_positives", "false_positives",
        "false_negatives", "precision", "recall", "f1", "residual_mean", "residual_std",
        "residual_mae", "false_per_hour"}}``; residuals are pick − reference in seconds over
        the matched pairs (NaN when none), ``false_per_hour`` is NaN without ``hours``.
    """
    if not tolerance_s > 0:
        raise DataError(f"tolerance_s must be positive, got {tolerance_s!r}")
    picks, ref = _normalise(picks_df, "picks"), _normalise(reference_df, "reference picks")
    scores = {}
    for phase in phases:
        p, r = picks[picks.phase == phase], ref[ref.phase == phase]
        residuals = _residuals(p, r, tolerance_s)
        tp_n, n_p, n_r = len(residuals), len(p), len(r)
        precision = tp_n / n_p if n_p else math.nan
        recall = tp_n / n_r if n_r else math.nan
        f1 = 2 * tp_n / (n_p + n_r) if n_p + n_r else math.nan
        res = np.asarray(residuals, dtype=float)
        scores[phase] = {
            "n_picks": n_p, "n_reference": n_r, "true_positives": tp_n,
            "false_positives": n_p - tp_n, "false_negatives": n_r - tp_n,
            "precision": precision, "recall": recall, "f1": f1,
            "residual_mean": float(res.mean()) if res.size else math.nan,
            "residual_std": float(res.std()) if res.size else math.nan,
            "residual_mae": float(np.abs(res).mean()) if res.size else math.nan,
            "false_per_hour": (n_p - tp_n) / hours if hours else math.nan,
        }
    return scores


def shift_jitter(stream, model, stride: int = 10, shifts=None, tolerance_s: float = 0.5,
                 **pick_options) -> dict:
    """How far picks move when the data start less than one stride later.

    A scan's windows start at the first sample and every ``stride`` samples after it, so
    dropping ``s < stride`` samples puts every window somewhere else in the data: the
    probability traces change, and sub-grid peak refinement decides how much the picks do.
    ``stream`` is scanned as given and once per shift with the first ``s`` samples (at the
    model's rate: ``s / model.sampling_rate_`` seconds, rounded up to whole samples of each
    trace) dropped from every trace; the picks of each shifted scan are paired one to one with
    those of the unshifted scan (same station and phase, within ``tolerance_s``).

    Parameters
    ----------
    stream : obspy.Stream or list of Stream
        Continuous waveforms, as for :func:`seisphase.scan.scan`; a list is scanned stream
        by stream (e.g. records of one station years apart).
    model
        A fitted model or picker that :func:`~seisphase.scan.scan` runs.
    stride : int
        Scan stride in samples at the model's rate.
    shifts : sequence of int, optional
        Samples dropped; default ``1 .. stride - 1``.
    tolerance_s : float
        Largest time difference counted as the same pick.
    **pick_options
        Passed to :func:`~seisphase.picks.extract_picks` (thresholds, ...).

    Returns
    -------
    dict
        ``shifts`` and per phase ``P`` / ``S``: ``n_picks`` (unshifted scan), ``n_pairs`` (over
        all shifts), ``unpaired`` (picks found in only one of the two scans, over all shifts),
        and the time differences (shifted − unshifted) of the pairs: ``mean_s``, ``std_s``,
        ``mae_s``, ``max_s`` (largest absolute), NaN without pairs.

    Examples
    --------
    >>> shift_jitter(stream, Picker.load("picker"), stride=4)["P"]["max_s"]  # doctest: +SKIP
    """
    from seisphase.picks import extract_picks, picks_to_dataframe
    from seisphase.scan import scan

    if not isinstance(stride, (int, np.integer)) or stride < 1:
        raise DataError(f"stride must be a positive whole number of samples, got {stride!r}")
    shifts = list(range(1, stride)) if shifts is None else [int(s) for s in shifts]
    if any(s < 0 for s in shifts):
        raise DataError(f"shifts must be whole numbers of samples >= 0, got {shifts}")
    rate = float(model.sampling_rate_)
    streams = list(stream) if isinstance(stream, (list, tuple)) else [stream]

    def picks_of(shift):
        picks = []
        for st in streams:
            if shift:
                st = st.copy()
                for tr in st:
                    k = math.ceil(shift * tr.stats.sampling_rate / rate - 1e-9)
                    tr.data = tr.data[k:]
                    tr.stats.starttime += k * tr.stats.delta
            probs, _ = scan(st, model, stride=stride)
            picks += extract_picks(probs, **pick_options)
        return _normalise(picks_to_dataframe(picks), "picks")

    base = picks_of(0)
    diffs = {phase: [] for phase in ("P", "S")}
    unpaired = dict.fromkeys(diffs, 0)
    for s in shifts:
        other = picks_of(s)
        for phase in diffs:
            p, r = other[other.phase == phase], base[base.phase == phase]
            pairs = _residuals(p, r, tolerance_s)
            diffs[phase] += pairs
            unpaired[phase] += len(p) + len(r) - 2 * len(pairs)
    out: dict = {"shifts": shifts}
    for phase, d in diffs.items():
        d = np.asarray(d, dtype=float)
        out[phase] = {
            "n_picks": int((base.phase == phase).sum()), "n_pairs": int(d.size),
            "unpaired": unpaired[phase],
            "mean_s": float(d.mean()) if d.size else math.nan,
            "std_s": float(d.std()) if d.size else math.nan,
            "mae_s": float(np.abs(d).mean()) if d.size else math.nan,
            "max_s": float(np.abs(d).max()) if d.size else math.nan,
        }
    return out


def format_scores(scores: dict, title: str = "") -> str:
    """A small text table of :func:`match_picks` results."""
    head = (f"{'phase':<6}{'picks':>6}{'ref':>5}{'prec':>7}{'recall':>7}{'F1':>7}"
            f"{'mean s':>8}{'std s':>7}{'MAE s':>7}{'false/h':>8}")
    lines = [title, head] if title else [head]
    for phase, s in scores.items():
        lines.append(
            f"{phase:<6}{s['n_picks']:>6}{s['n_reference']:>5}{s['precision']:>7.3f}"
            f"{s['recall']:>7.3f}{s['f1']:>7.3f}{s['residual_mean']:>8.3f}"
            f"{s['residual_std']:>7.3f}{s['residual_mae']:>7.3f}{s['false_per_hour']:>8.1f}"
        )
    return "\n".join(lines)


def stalta_picks(stream, sta: float = 0.5, lta: float = 10.0, on: float = 4.0, off: float = 1.5,
                 freqmin: float | None = 2.0, freqmax: float | None = 20.0,
                 min_separation_s: float = 1.0) -> list[Pick]:
    """P picks from recursive STA/LTA on each station's vertical channel.

    Parameters
    ----------
    stream : obspy.Stream
        Waveforms; vertical channels are those whose code ends in ``Z`` (any case).
    sta, lta : float
        Short- and long-term average windows in seconds.
    on, off : float
        STA/LTA ratios that switch the trigger on and off; the pick is at the trigger on.
    freqmin, freqmax : float or None
        Butterworth bandpass (zero phase, 4 corners) before STA/LTA; ``None`` skips it.
    min_separation_s : float
        Minimum time between two picks of one trace (the earlier one is kept).

    Returns
    -------
    list of Pick
        Phase ``"P"``; ``probability`` NaN, ``uncertainty_s`` NaN. The first ``lta`` seconds
        of a trace (while the LTA warms up) are not picked.
    """
    from obspy.signal.trigger import recursive_sta_lta, trigger_onset

    if not 0 < sta < lta:
        raise DataError(f"need 0 < sta < lta, got sta={sta!r}, lta={lta!r}")
    if not on > off > 0:
        raise DataError(f"need on > off > 0, got on={on!r}, off={off!r}")
    picks = []
    for tr in stream.copy().split():
        if not tr.stats.channel.upper().endswith("Z"):
            continue
        df = tr.stats.sampling_rate
        n_sta, n_lta = max(1, int(round(sta * df))), int(round(lta * df))
        if tr.stats.npts <= n_lta:
            continue
        tr.data = tr.data.astype(np.float64)
        tr.detrend("demean")
        if freqmin and freqmax and freqmax < df / 2:
            tr.filter("bandpass", freqmin=freqmin, freqmax=freqmax, corners=4, zerophase=True)
        cft = recursive_sta_lta(tr.data, n_sta, n_lta)
        cft[:n_lta] = 0.0
        last = None
        for i_on, _ in trigger_onset(cft, on, off):
            t = tr.stats.starttime + i_on / df
            if last is not None and t - last < min_separation_s:
                continue
            picks.append(Pick(tr.id, "P", t))
            last = t
    return sorted(picks, key=lambda q: (q.time, q.trace_id))
