"""``seisphase train``: split, fit, evaluate on the held-out test split, save."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from seisphase.cli._common import add_components_arg, add_train_args, classifier_from_args, write_json


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train", help="train a classifier on labelled windows",
        description="Train a classifier. DATA: .npz files, SeisBench data-set folders or "
                    "synthetic:N[:seed]; several are concatenated. The data are split "
                    "train/validation/test (grouped by event or station when possible); the "
                    "model directory gets the weights, model.json, MODEL_CARD.md, history.json "
                    "and metrics.json (test split).",
    )
    p.add_argument("data", nargs="+", metavar="DATA")
    add_components_arg(p)
    add_train_args(p)
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="model directory to write")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from MODEL_DIR.checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    from seisphase.data.sources import load_many
    from seisphase.data.split import split_windows
    from seisphase.evaluation import evaluate

    clf = classifier_from_args(args, progress=not args.quiet)
    data = load_many(args.data, components=args.components)
    split = split_windows(data, tuple(args.split), seed=args.seed, group_by=args.group_by)
    if split.validation.size == 0:
        from seisphase.errors import ConfigError

        raise ConfigError("the validation split is empty; give it a positive fraction (--split)")
    out = Path(args.out)
    ckpt = out.with_name(out.name + ".checkpoint")
    if not args.quiet:
        print(f"data: {data.n_windows} windows {data.class_counts()}; split "
              f"{split.summary()['sizes']} ({split.summary()['method']})", file=sys.stderr)
    clf.fit(data.subset(split.train), validation=data.subset(split.validation),
            checkpoint_dir=ckpt, resume=args.resume, split_info=split.summary())
    clf.info_["data"]["sources"] = list(args.data)
    from seisphase.calibration import calibrate

    calibrate(clf, data.subset(split.validation))
    metrics = {}
    if split.test.size:
        result = evaluate(clf, data.subset(split.test))
        metrics = result.to_dict()
        clf.info_["metrics"]["test"] = metrics
        print(result.format_table())
    clf.save(out)
    write_json(out / "history.json", clf.history_.to_dict())
    write_json(out / "metrics.json", metrics)
    import numpy as np

    np.savez(out / "split.npz", train=split.train, validation=split.validation, test=split.test)
    shutil.rmtree(ckpt, ignore_errors=True)
    h = clf.history_
    print(f"saved {out} ({clf.model}, {clf.n_parameters} parameters, {h.n_epochs} epochs, "
          f"best epoch {h.best_epoch + 1})")
    return 0
