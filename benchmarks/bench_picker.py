"""The scan-ready picker (PickNet): speed against SeisBench's GPD ``annotate``, and pick quality
on the real records and on synthetic continuous data, against STA/LTA, in one run.

    python benchmarks/bench_picker.py [--model-dir DIR | --train-steps 3000 [--config JSON]] [--threads 2]
                                      [--stride 4] [--no-seisbench] [--no-speed] [--no-quality]

**Speed.** One station-hour of 3-component 100 Hz data (``bench_scan.station_hours``) scanned by
SeisBench ``GPD.annotate`` (stride 10, random weights) and by ``seisphase.scan.scan`` with the
picker at stride 4 (its native output grid), 8 and 10 (two network passes: 10 is not a
multiple of the grid). Printed: s / station-hour, ratio, station-days per compute-hour.

**Pick quality, real.** Every record of ``tests/data/real_dev_continuous`` is scanned once; the
stations are split in two halves (station-grouped); the P and S thresholds that maximise F1
at 0.5 s on one half (S apart for the stations without horizontals:
:func:`~seisphase.picker_crossfit.best_thresholds`) are applied to the other half and vice
versa, and the picks of both
halves are scored together: precision, recall, F1 at 0.5 s and 0.1 s, residual mean / std,
false picks per hour. STA/LTA (P only) on the same records for reference.

**Pick quality, synthetic.** Held-out synthetic continuous data (another seed): 30-minute
records (``--synthetic-records`` of them, 45 events per hour each: overlapping events happen),
so that the unscannable half window at each end (2 s, or 5.8 s for ``context`` 2) touches few
picks; thresholds from the picker's config.

**Pick-time jitter.** Users see probabilities change with the window start time: each
synthetic and real stream is scanned again with its first 1 .. stride-1 samples dropped, and
every pick is compared with the same pick of the unshifted scan
(:func:`~seisphase.pick_scoring.shift_jitter`; stride 4 and 10). Printed: pairs, picks found in
only one of the two scans, mean / std / MAE / max of the time differences in ms.

**Fine-tuned on real records** (``--cross-fit [--finetune-steps N]``): what ``seisphase
train-picker --init PICKER --waveforms ... --picks ...`` does, station-grouped: the picker is
fine-tuned on one half of the stations' records (cut by
:func:`~seisphase.data.continuous_records.records_from_waveforms`, mixed with synthetic crops,
``--real-fraction`` of each batch), its thresholds are chosen on that half, and it picks the
other half; then the halves swap and the picks of both are scored together. ``--folds K``:
K station groups instead of two halves, each picked by a picker fine-tuned on the others.

    python benchmarks/bench_picker.py --train-steps 3000 --config '{"max_seconds": 1e9}' \
        --save bench-results/picker --cross-fit --crossfit-seeds 0 1 2

(the default picker: width 32, 11.6-s context, 4000 synthetic records; 4 minutes to train
on 2 cores, about 5 minutes per cross-fit seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402
from bench_scan import station_hours, time_seisbench  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "tests" / "data" / "real_dev_continuous"
SYNTHETIC_RECORD_S = 1800.0


def time_scan(stream, picker, stride: int) -> float:
    from seisphase.scan import scan

    scan(stream.slice(stream[0].stats.starttime, stream[0].stats.starttime + 60), picker, stride=stride)
    t = time.perf_counter()
    probs, report = scan(stream, picker, stride=stride)
    seconds = time.perf_counter() - t
    assert len(probs) == 3 and report["n_windows"] == probs[0].stats.npts
    return seconds


def speed(picker, args) -> None:
    stream = station_hours(1.0)
    runs = {} if args.no_seisbench else {"SeisBench GPD annotate (stride 10)": lambda: time_seisbench(stream)}
    for stride in (4, 8, 10):
        runs[f"seisphase picknet scan (stride {stride})"] = lambda s=stride: time_scan(stream, picker, s)
    best = {}
    for _ in range(args.repeat):  # interleaved, best of: the machine is shared
        for label, fn in runs.items():
            best[label] = min(best.get(label, np.inf), fn())
    ref = best.get("SeisBench GPD annotate (stride 10)")
    print(f"\nscan speed: 1 station-hour, 3 components, 100 Hz, {args.threads} threads")
    print(f"{'':40}{'s / station-hour':>18}{'vs SeisBench':>14}{'station-days / h':>18}")
    for label, s in best.items():
        ratio = f"{ref / s:.1f}x" if ref else "-"
        print(f"{label:40}{s:>18.2f}{ratio:>14}{3600 / (s * 24):>18.1f}")


def _scan_all(streams, picker, stride):
    from seisphase.scan import scan

    return [scan(st, picker, stride=stride)[0] for st in streams]


def real_records():
    """The shipped real records: analyst picks, file names (relative to ``RECORDS``), streams."""
    import obspy
    import pandas as pd

    reference = pd.read_csv(RECORDS / "picks.csv")
    files = sorted(reference["file"].unique())
    return reference, files, [obspy.read(str(RECORDS / f)) for f in files]


def quality_real(picker, args, real) -> dict:
    import pandas as pd

    from seisphase.pick_scoring import format_scores, match_picks, stalta_picks
    from seisphase.picker_crossfit import best_thresholds, picks_at, station_folds
    from seisphase.picks import picks_to_dataframe

    reference, files, streams = real
    sta_of = {f: f"{st[0].stats.network}.{st[0].stats.station}" for f, st in zip(files, streams, strict=True)}
    half = station_folds(sta_of.values(), 2)
    stations = sorted(half)
    hours = [sum(st[0].stats.npts / 360000 for f, st in zip(files, streams, strict=True)
                 if half[sta_of[f]] == h) for h in (0, 1)]
    t = time.perf_counter()
    probs = _scan_all(streams, picker, args.stride)
    seconds = time.perf_counter() - t
    print(f"\npick quality: {len(files)} real records ({sum(hours):.2f} h), {len(reference)} analyst "
          f"picks, {len(stations)} stations in two station-grouped halves; scan {seconds:.1f} s")
    ref_key = reference.network + "." + reference.station
    tables, chosen = [], {}
    for h in (0, 1):
        fit = [p for f, p in zip(files, probs, strict=True) if half[sta_of[f]] == h]
        test = [p for f, p in zip(files, probs, strict=True) if half[sta_of[f]] != h]
        ref_fit = reference[ref_key.map(half) == h]
        chosen[1 - h] = best_thresholds(fit, ref_fit, hours[h])
        tables.append(picks_at(test, *chosen[1 - h]))
    print("thresholds (P, S, S vertical-only) chosen on the other half: "
          + ", ".join(f"half {h}: {chosen[h]}" for h in (0, 1)))
    picks = pd.concat(tables, ignore_index=True)
    out = {}
    for tol in (0.5, 0.1):
        out[tol] = match_picks(picks, reference, tol, sum(hours))
        print(format_scores(out[tol], f"\npicknet, tolerance {tol} s"))
    base = picks_to_dataframe([q for st in streams for q in stalta_picks(st)])
    for tol in (0.5, 0.1):
        print(format_scores(match_picks(base, reference, tol, sum(hours)), f"\nSTA/LTA (P only), tolerance {tol} s"))
    return out


def quality_real_crossfit(args, base) -> dict:
    """Fine-tune ``base`` on one station half's real records, pick the other half; swap
    (:func:`seisphase.picker_crossfit.cross_fit_picker`)."""
    import pandas as pd

    from seisphase.pick_scoring import format_scores
    from seisphase.picker_crossfit import cross_fit_picker

    reference = pd.read_csv(RECORDS / "picks.csv")
    files = [RECORDS / f for f in sorted(reference["file"].unique())]
    f1 = {"P": [], "S": []}
    for seed in args.crossfit_seeds:
        result = cross_fit_picker(files, reference, base, steps=args.finetune_steps,
                                  lr=args.finetune_lr, real_fraction=args.real_fraction,
                                  stride=args.stride, seed=seed, folds=args.folds,
                                  progress=print)
        for tol, scores in result.scores.items():
            print(format_scores(scores, f"\npicknet cross-fitted on real records ({args.folds} "
                                        f"station folds, seed {seed}), tolerance {tol} s"))
        for phase in f1:
            f1[phase].append(result.scores[0.5][phase]["f1"])
    if len(args.crossfit_seeds) > 1:
        print(f"\ncross-fit F1 at 0.5 s over seeds {args.crossfit_seeds}: "
              + ", ".join(f"{p} {np.mean(v):.3f} ± {np.std(v, ddof=1):.3f} "
                          f"({' '.join(f'{x:.3f}' for x in v)})" for p, v in f1.items()))
    return f1


def synthetic_records(args):
    """The held-out synthetic stream (``--synthetic-records`` x 30 min) and its picks."""
    from seisphase.data.continuous_synthetic import EVALUATION_EVENTS_PER_HOUR, make_continuous

    return make_continuous(args.synthetic_records, SYNTHETIC_RECORD_S, seed=12345,
                           events_per_trace=SYNTHETIC_RECORD_S * EVALUATION_EVENTS_PER_HOUR / 3600,
                           as_stream=True)


def jitter(picker, args, synthetic, real) -> dict:
    """Pick-time jitter under sub-stride shifts of the data start
    (:func:`seisphase.pick_scoring.shift_jitter`), at the picker's own thresholds, on the
    synthetic stream and the real records' streams."""
    from seisphase.pick_scoring import shift_jitter

    data = {"synthetic": synthetic, "real records": real}
    print("\npick-time jitter: the data start 1 .. stride-1 samples later; each pick against "
          "the same pick of the unshifted scan (ms)")
    print(f"{'data':14}{'stride':>7}{'phase':>6}{'pairs':>7}{'unpaired':>9}{'mean':>7}{'std':>7}"
          f"{'MAE':>7}{'max':>7}")
    out = {}
    for name, streams in data.items():
        for stride in sorted({args.stride, 10}):
            out[name, stride] = j = shift_jitter(streams, picker, stride=stride, **picker.thresholds())
            for phase in ("P", "S"):
                q = j[phase]
                print(f"{name:14}{stride:>7}{phase:>6}{q['n_pairs']:>7}{q['unpaired']:>9}"
                      + "".join(f"{1000 * q[k]:>7.1f}" for k in ("mean_s", "std_s", "mae_s", "max_s")))
    return out


def quality_synthetic(picker, args, stream, reference) -> dict:
    from seisphase.pick_scoring import format_scores, match_picks
    from seisphase.picker_crossfit import picks_at
    from seisphase.scan import scan

    probs, report = scan(stream, picker, stride=args.stride)
    picks = picks_at([probs], **picker.thresholds())
    print(f"\nsynthetic continuous: {args.synthetic_records} records x {SYNTHETIC_RECORD_S:.0f} s "
          f"({report['hours']:.2f} h), "
          f"{len(reference)} picks, thresholds {picker.thresholds()}")
    out = {}
    for tol in (0.5, 0.1):
        out[tol] = match_picks(picks, reference, tol, report["hours"])
        print(format_scores(out[tol], f"\npicknet, synthetic, tolerance {tol} s"))
    return out


def main(argv=None) -> int:
    from seisphase.picker import FINETUNE_LR, FINETUNE_REAL_FRACTION, FINETUNE_STEPS

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-dir", help="saved picker (Picker.save); default: train one")
    p.add_argument("--train-steps", type=int, default=3000)
    p.add_argument("--save", help="save the trained picker here")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--stride", type=int, default=4, help="scan stride for the quality part")
    p.add_argument("--synthetic-records", type=int, default=8, help="30-minute synthetic records")
    p.add_argument("--cross-fit", action="store_true",
                   help="also fine-tune the picker on one station half's real records and score "
                        "the other (and swap)")
    p.add_argument("--real-fraction", type=float, default=FINETUNE_REAL_FRACTION,
                   help="with --cross-fit: share of real crops per batch")
    p.add_argument("--finetune-steps", type=int, default=FINETUNE_STEPS, help="with --cross-fit")
    p.add_argument("--finetune-lr", type=float, default=FINETUNE_LR, help="with --cross-fit")
    p.add_argument("--folds", type=int, default=2,
                   help="with --cross-fit: station groups (each picked by a picker fine-tuned on "
                        "the others)")
    p.add_argument("--crossfit-seeds", type=int, nargs="+", default=[0],
                   help="with --cross-fit: one cross-fit per seed, then F1 mean ± std")
    p.add_argument("--config", default="{}",
                   help='PickerConfig overrides as JSON, e.g. \'{"pick_weight": 2, "max_seconds": 1e9}\'')
    p.add_argument("--no-seisbench", action="store_true")
    p.add_argument("--no-speed", action="store_true")
    p.add_argument("--no-quality", action="store_true")
    args = p.parse_args(argv)
    import torch

    from seisphase.picker import Picker, PickerConfig, train_picker

    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.model_dir:
        picker = Picker.load(args.model_dir)
    else:
        picker = train_picker(PickerConfig(**{"max_steps": args.train_steps, **json.loads(args.config)}))
        h = picker.history_
        print(f"trained {h['steps']} steps in {h['seconds']:.0f} s (+{h['data_seconds']:.0f} s data)")
        if args.save:
            picker.save(args.save)
    if not args.no_speed:
        speed(picker, args)
    if not args.no_quality:
        stream, reference = synthetic_records(args)
        real = real_records()
        quality_synthetic(picker, args, stream, reference)
        quality_real(picker, args, real)
        jitter(picker, args, stream, real[2])
    if args.cross_fit:
        quality_real_crossfit(args, picker)
    return 0


if __name__ == "__main__":
    sys.exit(main())
