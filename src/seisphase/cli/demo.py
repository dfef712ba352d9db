"""``seisphase demo``: the main job on built-in synthetic data (see :mod:`seisphase.demo`)."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="run the main job on built-in synthetic data",
                       description="Generate synthetic windows, train the lab's models and every "
                                   "other model, score them on synthetic test windows and on "
                                   "the real windows shipped with seisphase, fine-tune the best "
                                   "on synthetic + real, and write models, metrics, figures and "
                                   "a report to OUT.")
    p.add_argument("--out", default="seisphase-demo", metavar="OUT",
                   help="output directory (default seisphase-demo)")
    p.add_argument("--quick", action="store_true", help="small version (< 1 minute)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=run)


def run(args) -> int:
    from dataclasses import replace

    from seisphase.demo import QUICK, DemoConfig, run_demo

    cfg = replace(QUICK if args.quick else DemoConfig(), seed=args.seed)
    run_demo(args.out, cfg, progress=not args.quiet)
    return 0
