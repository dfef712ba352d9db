"""Scanning continuous data: speed against SeisBench's GPD ``annotate``, and pick quality on the
real records, in one run.

    python benchmarks/bench_scan.py [--hours 1] [--threads 2] [--repeat 2] [--model-dir DIR]
                                    [--no-seisbench] [--no-speed] [--no-quality]

**Speed.** One station-hour (by default) of 3-component 100 Hz data — coloured noise with a few
events (P mostly on the vertical, S on the horizontals) — is scanned with stride 10 by

* SeisBench ``GPD`` (randomly initialised, no weights downloaded) through ``annotate``;
* ``seisphase.scan.scan`` with a ``cnn`` PhaseClassifier (same GPD architecture; trained for one
  epoch on a few hundred windows, which is as good as random for timing) when the ``cnn`` model
  exists, and with an MLP on log spectra.

Printed: seconds per station-hour, the ratio to SeisBench, and station-days per compute-hour.

**Pick quality.** Every record of ``tests/data/real_dev_continuous`` is scanned with the model in
``--model-dir`` (skipped without one) and with a recursive STA/LTA baseline; picks are matched to
the analyst picks by network + station within 0.5 s and 0.1 s: precision, recall, F1, residual
mean / std, false picks per hour (of record time).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, windows  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "tests" / "data" / "real_dev_continuous"
T0 = "2024-01-01T00:00:00"


def station_hours(hours: float, seed: int = 0, n_events: int = 8):
    """``hours`` of 3-component 100 Hz data: coloured noise plus ``n_events`` local events."""
    import obspy
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    rate, n = 100.0, int(hours * 3600 * 100)
    t = np.arange(n) / rate
    micro = butter(2, [0.1, 0.3], "bandpass", fs=rate, output="sos")
    data = {}
    for c in "ZNE":
        x = 20 * sosfilt(micro, rng.normal(size=n)) + rng.normal(size=n)
        data[c] = x
    for onset in rng.uniform(60, hours * 3600 - 120, n_events):
        sp, amp = rng.uniform(1.0, 8.0), 10 ** rng.uniform(1, 2.5)
        for phase, t_on, f, weights in (("P", onset, 8.0, (1.0, 0.3, 0.3)),
                                        ("S", onset + sp, 4.0, (0.4, 1.0, 1.0))):
            i = int(t_on * rate)
            m = min(n - i, 3000)
            tt = t[:m]
            burst = np.sin(2 * np.pi * f * tt) * np.exp(-tt / (1.5 if phase == "P" else 3.0))
            for c, w in zip("ZNE", weights, strict=True):
                data[c][i:i + m] += amp * w * (2 if phase == "S" else 1) * burst * rng.uniform(0.5, 1)
    st = obspy.Stream()
    for c in "ZNE":
        st.append(obspy.Trace(data[c].astype(np.float32), header={
            "network": "XX", "station": "BENCH", "channel": f"HH{c}", "sampling_rate": rate,
            "starttime": obspy.UTCDateTime(T0)}))
    return st


def time_seisbench(stream) -> float:
    import seisbench.models as sbm
    import torch

    torch.manual_seed(0)
    model = sbm.GPD(phases="PSN")  # random weights: nothing is downloaded
    model.eval()
    model.annotate(stream.slice(stream[0].stats.starttime, stream[0].stats.starttime + 60),
                   stride=10)  # warm-up
    t = time.perf_counter()
    out = model.annotate(stream, stride=10)
    seconds = time.perf_counter() - t
    assert {tr.stats.channel for tr in out} == {"GPD_P", "GPD_S", "GPD_N"}
    return seconds


def quick_model(name: str, **kw):
    from seisphase.classifier import PhaseClassifier
    from seisphase.training import TrainConfig

    return PhaseClassifier(name, train=TrainConfig(epochs=1, batch_size=64), **kw).fit(windows(300))


def time_seisphase(stream, model) -> float:
    from seisphase.scan import scan

    scan(stream.slice(stream[0].stats.starttime, stream[0].stats.starttime + 60), model)  # warm-up
    t = time.perf_counter()
    probs, report = scan(stream, model, stride=10)
    seconds = time.perf_counter() - t
    assert len(probs) == 3 and report["n_windows"] == probs[0].stats.npts
    return seconds


def speed(args) -> None:
    from seisphase.models import MODELS

    stream = station_hours(args.hours)
    per_hour = {}
    print(f"\nscan speed: {args.hours:g} station-hour(s), 3 components, 100 Hz, stride 10, "
          f"{args.threads} threads")
    runs = []
    if not args.no_seisbench:
        runs.append(("SeisBench GPD annotate", lambda: time_seisbench(stream)))
    if "cnn" in MODELS:
        cnn = quick_model("cnn")
        runs.append(("seisphase cnn (GPD architecture)", lambda: time_seisphase(stream, cnn)))
    mlp = quick_model("mlp", hidden=(40,))
    runs.append(("seisphase mlp(40) on log spectra", lambda: time_seisphase(stream, mlp)))
    # interleaved repeats, best of each: the machine is shared and its load drifts
    for _ in range(args.repeat):
        for label, fn in runs:
            per_hour[label] = min(per_hour.get(label, np.inf), fn() / args.hours)
    ref = per_hour.get("SeisBench GPD annotate")
    print(f"{'':36}{'s / station-hour':>18}{'vs SeisBench':>14}{'station-days / h':>18}")
    for label, s in per_hour.items():
        ratio = f"{ref / s:.1f}x" if ref else "-"
        print(f"{label:36}{s:>18.2f}{ratio:>14}{3600 / (s * 24):>18.1f}")
    n_windows = (int(args.hours * 360000) - 400) // 10 + 1
    print(f"({n_windows} windows per station-hour run; best of {args.repeat} interleaved runs)")


def quality(args) -> None:
    import obspy
    import pandas as pd

    from seisphase.pick_scoring import format_scores, match_picks, stalta_picks
    from seisphase.picks import extract_picks, picks_to_dataframe
    from seisphase.scan import scan

    reference = pd.read_csv(RECORDS / "picks.csv")
    files = sorted(reference["file"].unique())
    streams = [obspy.read(str(RECORDS / f)) for f in files]
    hours = sum(st[0].stats.npts / st[0].stats.sampling_rate for st in streams) / 3600
    print(f"\npick quality: {len(files)} real records ({hours:.2f} h), "
          f"{len(reference)} analyst picks (P and S per record)")
    methods = {"STA/LTA (P only)": lambda st: stalta_picks(st)}
    if args.model_dir:
        from seisphase.classifier import PhaseClassifier

        model = PhaseClassifier.load(args.model_dir)

        def run_model(st):
            probs, _ = scan(st, model, stride=args.stride)
            return extract_picks(probs, args.threshold, args.threshold)

        methods[f"seisphase {Path(args.model_dir).name}"] = run_model
    else:
        print("(no --model-dir: only the STA/LTA baseline is scored)")
    for label, pick_fn in methods.items():
        t = time.perf_counter()
        picks = [q for st in streams for q in pick_fn(st)]
        seconds = time.perf_counter() - t
        table = picks_to_dataframe(picks)
        for tol in (0.5, 0.1):
            scores = match_picks(table, reference, tolerance_s=tol, hours=hours)
            print(format_scores(scores, f"\n{label}, tolerance {tol} s ({seconds:.1f} s to pick)"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hours", type=float, default=1.0, help="station-hours to scan (default 1)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--repeat", type=int, default=2, help="timed runs per method (default 2)")
    p.add_argument("--model-dir", help="saved model for the pick-quality part")
    p.add_argument("--stride", type=int, default=10)
    p.add_argument("--threshold", type=float, default=0.5, help="P and S pick threshold")
    p.add_argument("--no-seisbench", action="store_true", help="skip the SeisBench reference")
    p.add_argument("--no-speed", action="store_true", help="skip the speed part")
    p.add_argument("--no-quality", action="store_true", help="skip the pick-quality part")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    if not args.no_speed:
        speed(args)
    if not args.no_quality:
        quality(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
