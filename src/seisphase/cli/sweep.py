"""``seisphase sweep``: train every combination of several settings; print the table, draw the figures."""

from __future__ import annotations

import argparse
import sys

from seisphase.cli._common import add_components_arg, add_train_args, classifier_from_args

GRID_OPTIONS = ("lr", "hidden", "width", "batch_size", "weight_decay", "momentum", "optimizer")
"""Train options that take several values here (one run per combination)."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep", help="train a grid of settings (learning rate, width, depth, ...) and compare",
        description="Train one model per combination of the values given to the grid options "
                    "(--lr, --hidden, --depth, --width, --batch-size, --weight-decay, --momentum, "
                    "--optimizer), each with --seeds seeds, on one shared train/validation/test "
                    "split, in --jobs parallel processes. Other train options are fixed. OUT "
                    "gets results.jsonl (one line per run; running the same command again "
                    "resumes), summary.csv and figures; the table (mean ± std over seeds) is "
                    "printed. The lab's study: --optimizer sgd --lr 1e-1 1e-2 1e-3 1e-4 1e-5 "
                    "--hidden 40 100 --depth 1 2 --seeds 3.",
    )
    p.add_argument("data", nargs="+", metavar="DATA")
    add_components_arg(p)
    add_train_args(p)
    # The train options defined once in _common; the grid ones take several values here.
    for action in p._actions:
        if action.dest in GRID_OPTIONS:
            action.nargs = "+"
            if action.default is not None:
                action.default = [action.default]
            if action.dest == "hidden":
                action.help = "widths of the mlp's hidden layers, e.g. 40 100 (see --depth)"
            action.help = f"{action.help or action.dest}; several values: one run each"
    g = p.add_argument_group("sweep")
    g.add_argument("--depth", type=int, nargs="+", metavar="N",
                   help="numbers of hidden layers of each --hidden width (1 2: the lab's 2- and "
                        "3-layer networks)")
    g.add_argument("--seeds", type=int, default=1,
                   help="training seeds per setting: SEED, SEED+1, ... (default 1); the split "
                        "always uses --seed")
    g.add_argument("--jobs", type=int, default=2, help="parallel processes (default 2)")
    g.add_argument("--out", required=True, metavar="DIR", help="output folder (resumable)")
    g.add_argument("--quiet", action="store_true", help="no line per finished run")
    p.set_defaults(run=run)


def run(args) -> int:
    from dataclasses import asdict

    from seisphase.errors import ConfigError
    from seisphase.sweep import run_sweep
    from seisphase.sweep_results import aggregate, format_table

    if args.class_prior is not None or args.trainable != "all":
        raise ConfigError("sweep trains new models scored as trained; --class-prior and "
                          "--trainable belong to train (and train --init)")
    values = {dest: getattr(args, dest) for dest in GRID_OPTIONS}
    # Several values sweep a setting; a single value fixes it.
    grid = {dest: v for dest, v in values.items() if v is not None and len(v) > 1}
    if args.depth:
        if not args.hidden:
            raise ConfigError("--depth needs --hidden (the width of every hidden layer), e.g. "
                              "--hidden 40 --depth 1 2")
        grid.update(hidden=args.hidden, depth=args.depth)
    first = {dest: v if dest == "hidden" else v[0] for dest, v in values.items() if v}
    clf = classifier_from_args(argparse.Namespace(**{**vars(args), **first}), progress=False)
    base = {
        "model": clf.model, "hidden": clf.hidden, "model_params": clf.model_params,
        "features": clf.features, "components": clf.components, "augment": clf.augment,
        **asdict(clf.train),
        "split": list(args.split), "group_by": args.group_by, "data_components": args.components,
    }
    runs = run_sweep(args.data, base, grid, args.out, jobs=args.jobs, seeds=args.seeds,
                     progress=not args.quiet)
    print(format_table(aggregate(runs)))
    print(f"{runs.attrs['ran']} runs trained, {runs.attrs['skipped']} found in {args.out}",
          file=sys.stderr)
    return 0
