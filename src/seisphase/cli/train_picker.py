"""``seisphase train-picker``: train the scan-ready picker, or fine-tune one on your records."""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    # help texts spell out seisphase.picker.FINETUNE_* (importing it here would load torch
    # for every command)
    p = sub.add_parser(
        "train-picker", help="train (or fine-tune) the scan-ready picker used by 'scan'",
        description="Train the fully convolutional picker on synthetic continuous records "
                    "(events in realistic noise, codas, dead channels, padding). With "
                    "--waveforms and --picks, your own labelled continuous data are mixed into "
                    "every batch; with --init an existing picker is fine-tuned instead of "
                    "starting from scratch. P and S thresholds are calibrated on held-out "
                    "synthetic records, or with --waveforms chosen on your records (P, S, and S "
                    "at vertical-only stations); override them at scan time with "
                    "--threshold-p/-s. "
                    "PICKER_DIR gets picker.json and model.safetensors; use it as "
                    "'seisphase scan PICKER_DIR ...'.",
    )
    p.add_argument("--out", required=True, metavar="PICKER_DIR", help="picker directory to write")
    p.add_argument("--init", metavar="PICKER_DIR", help="fine-tune this picker")
    p.add_argument("--waveforms", nargs="+", metavar="FILE",
                   help="continuous waveforms (any ObsPy format) with analyst picks")
    p.add_argument("--picks", metavar="FILE", help="their picks: CSV or QuakeML")
    p.add_argument("--real-fraction", type=float,
                   help="share of each batch cut from --waveforms (default 0.7 with --init, "
                        "as cross_fit_picker measures it; 0.5 otherwise)")
    p.add_argument("--record-s", type=float, default=30.0,
                   help="length of the records cut from --waveforms, s (default 30)")
    p.add_argument("--steps", type=int,
                   help="optimisation steps (default 3000; 1500 with --init)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 2e-3; 1e-3 with --init)")
    p.add_argument("--synthetic-records", type=int,
                   help="synthetic 60-s records to train on (default 4000)")
    p.add_argument("--width", type=int,
                   help="filters of the first layer (default 32; with --init: the picker's)")
    p.add_argument("--context", type=int,
                   help="long-range blocks: 0 sees 3.9 s around each output, 1 6.5 s, 2 11.6 s, "
                        "3 21.8 s (default 2; with --init: the picker's)")
    p.add_argument("--s-label-width", type=float, metavar="SECONDS",
                   help="standard deviation of the Gaussian S labels (default 0.2 s with "
                        "--waveforms: analyst S picks are less precise; else 0.1 s or the "
                        "--init picker's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    p.add_argument("--quiet", action="store_true", help="no loss lines while training")
    p.set_defaults(run=run)


def run(args) -> int:
    from dataclasses import replace

    from seisphase.errors import ConfigError
    from seisphase.picker import (
        FINETUNE_LR,
        FINETUNE_REAL_FRACTION,
        FINETUNE_STEPS,
        REAL_S_SIGMA_S,
        Picker,
        PickerConfig,
        train_picker,
    )

    if (args.waveforms is None) != (args.picks is None):
        raise ConfigError("--waveforms and --picks go together: the records and their analyst picks")
    real_fraction = args.real_fraction
    if real_fraction is None:
        real_fraction = FINETUNE_REAL_FRACTION if args.init else 0.5
    if not 0 <= real_fraction <= 1:
        raise ConfigError(f"--real-fraction must be between 0 and 1, got {real_fraction}")
    init = Picker.load(args.init) if args.init else None
    steps = args.steps if args.steps is not None else (FINETUNE_STEPS if init else 3000)
    lr = args.lr if args.lr is not None else (FINETUNE_LR if init else 2e-3)
    if steps < 1 or not lr > 0:
        raise ConfigError("--steps must be at least 1 and --lr positive")
    shape = {k: v for k, v in (("width", args.width), ("context", args.context)) if v is not None}
    if init and any(getattr(init.config, k) != v for k, v in shape.items()):
        raise ConfigError(f"--init keeps the picker's width ({init.config.width}) and context "
                          f"({init.config.context}); drop --width / --context")
    base = init.config if init else PickerConfig(**shape)
    if args.synthetic_records is not None:
        base = replace(base, n_traces=args.synthetic_records)
    s_sigma = args.s_label_width
    if s_sigma is None:
        s_sigma = REAL_S_SIGMA_S if args.waveforms else base.s_sigma_s
    if s_sigma is not None and not s_sigma > 0:
        raise ConfigError(f"--s-label-width must be positive, got {s_sigma}")
    cfg = replace(base, max_steps=steps, lr=lr, seed=args.seed, max_seconds=1e9,
                  calibrate=not args.waveforms, s_sigma_s=s_sigma)
    extra = None
    if args.waveforms:
        from seisphase.data.continuous_records import records_from_waveforms

        traces, table, summary = records_from_waveforms(args.waveforms, args.picks,
                                                        record_s=args.record_s)
        if table.empty:
            raise ConfigError(f"none of the {summary['n_picks']} picks lies inside the waveforms; "
                              "check that they belong together (network + station, time)")
        print(f"real records: {summary['n_records']} x {args.record_s:g} s "
              f"({summary['hours']:.2f} h, half overlapping) from {summary['n_stations']} "
              f"stations; {summary['n_picks'] - summary['picks_outside']} of "
              f"{summary['n_picks']} picks inside the data", file=sys.stderr)
        extra = (traces, table)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    picker = train_picker(cfg, extra=extra, extra_fraction=real_fraction,
                          progress=not args.quiet, init=init)
    if args.waveforms:
        from seisphase.picker_crossfit import thresholds_on_records

        tp, ts, tsv = thresholds_on_records(picker, args.waveforms, args.picks)
        # calibrate=True again: a later --init without records recalibrates on synthetic ones
        picker.config = replace(picker.config, threshold_p=tp, threshold_s=ts,
                                threshold_s_vertical=tsv, calibrate=True)
        picker.history_["thresholds_from"] = f"{len(args.waveforms)} labelled waveform file(s)"
    h = picker.history_
    picker.save(args.out)
    print(f"saved {args.out}: {h['steps']} steps in {h['seconds']:.0f} s"
          f"{' (fine-tuned from ' + args.init + ')' if init else ''}; thresholds "
          f"({'chosen on your records' if args.waveforms else 'calibrated on synthetic records'}) "
          + ", ".join(f"{k.removeprefix('threshold_').replace('_', ' ')} {v}"
                      for k, v in picker.thresholds().items()))
    return 0
