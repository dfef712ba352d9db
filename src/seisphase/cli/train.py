"""``seisphase train``: split, fit, evaluate on the held-out test split, save."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from seisphase.cli._common import (
    add_components_arg,
    add_train_args,
    augment_from_args,
    classifier_from_args,
    parse_class_prior,
    train_config_from_args,
    write_json,
)


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
    p.add_argument("--init", metavar="MODEL_DIR",
                   help="fine-tune this trained model instead of starting from random weights: "
                        "its architecture, components and input pipeline are kept (model and "
                        "feature options are then not allowed); the training options (and --augment) apply")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--stream", action="store_true",
                   help="stream a SeisBench data set in chunks (larger than memory); uses its "
                        "split column: train streamed, dev in memory, test scored chunk by chunk")
    p.add_argument("--chunk-size", type=int, default=4096, metavar="N",
                   help="traces per chunk with --stream (default 4096)")
    p.set_defaults(run=run)


def _checkpoint_dir(out: Path) -> Path:
    """Where an interrupted run's checkpoint lives (beside the model directory)."""
    return out.with_name(out.name + ".checkpoint")


def _finish(args, clf, metrics: dict, split=None) -> None:
    """Save the model, its history, test metrics and split; remove the checkpoint."""
    out = Path(args.out)
    clf.info_["data"]["sources"] = list(args.data)
    clf.save(out)
    write_json(out / "history.json", clf.history_.to_dict())
    write_json(out / "metrics.json", metrics)
    if split is not None:
        import numpy as np

        from seisphase._atomic import atomic_path

        with atomic_path(out / "split.npz") as tmp:
            np.savez(tmp, train=split.train, validation=split.validation, test=split.test)
    shutil.rmtree(_checkpoint_dir(out), ignore_errors=True)
    h = clf.history_
    print(f"saved {out} ({clf.model}, {clf.n_parameters} parameters, {h.n_epochs} epochs, "
          f"best epoch {h.best_epoch + 1})")


# Options that define a new model; with --init the model file defines them.
_MODEL_OPTIONS = ("model", "hidden", "width", "model_components", "features",
                  "features_components", "bandpass", "normalize")


def _pretrained(args):
    """The model of ``--init``, after checking that no option tries to redefine it."""
    from seisphase.classifier import PhaseClassifier
    from seisphase.errors import ConfigError

    defaults = {"model": "mlp"}
    given = [name for name in _MODEL_OPTIONS
             if getattr(args, name, None) not in (None, defaults.get(name))]
    if args.fmax != 20.0:
        given.append("fmax")
    if given:
        raise ConfigError(
            f"--init keeps the model's architecture and inputs; drop --"
            f"{', --'.join(g.replace('_', '-') for g in given)} (or train a new model without --init)")
    if args.stream:
        raise ConfigError("--init cannot be combined with --stream yet; fine-tune on windows in memory")
    clf = PhaseClassifier.load(args.init)
    clf.progress = not args.quiet
    return clf


def _set_class_prior(args, clf, training_counts=None) -> None:
    """Apply ``--class-prior``: numbers as given, ``data`` as ``training_counts()`` (refused
    before training when there is none, i.e. with --stream)."""
    prior = parse_class_prior(args.class_prior)
    if prior is not None:
        clf.set_class_prior(training_counts() if prior == "data" else prior)


def _run_stream(args, clf) -> int:
    """Train from a SeisBench folder chunk by chunk: memory holds one chunk, dev and the model."""
    import numpy as np

    from seisphase.calibration import calibrate
    from seisphase.data.seisbench import iter_seisbench, load_seisbench
    from seisphase.errors import ConfigError
    from seisphase.evaluation import evaluate_predictions

    if len(args.data) != 1 or not Path(args.data[0]).is_dir():
        raise ConfigError("--stream takes exactly one SeisBench data-set folder as DATA")
    path, kw = args.data[0], {"components": args.components, "seed": args.seed}
    val = load_seisbench(path, split="dev", **kw)
    out = Path(args.out)
    clf.fit_stream(lambda: iter_seisbench(path, args.chunk_size, split="train", **kw), val,
                   checkpoint_dir=_checkpoint_dir(out), resume=args.resume,
                   split_info={"method": "the data set's split column (streamed)",
                               "group_by": "split column", "sizes": {"validation": val.n_windows}})
    _set_class_prior(args, clf)
    calibrate(clf, val)
    truth, pred = [], []
    for chunk in iter_seisbench(path, args.chunk_size, split="test", **kw):
        truth.append(chunk.labels)
        pred.append(clf.predict(chunk))
    result = evaluate_predictions(np.concatenate(truth), np.concatenate(pred))
    clf.info_["metrics"]["test"] = result.to_dict()
    print(result.format_table())
    _finish(args, clf, result.to_dict())
    return 0


def run(args) -> int:
    from seisphase.data.sources import load_many
    from seisphase.data.split import split_from_column, split_windows
    from seisphase.evaluation import evaluate

    if parse_class_prior(args.class_prior) == "data" and args.stream:  # fail before training
        from seisphase.errors import ConfigError

        raise ConfigError("--class-prior data needs the class counts of the training split, "
                          "which a stream does not give; pass numbers, e.g. --class-prior 151,92,151")
    if args.init:
        clf = _pretrained(args)
    else:
        clf = classifier_from_args(args, progress=not args.quiet)
    if args.stream:
        return _run_stream(args, clf)
    data = load_many(args.data, components=args.components)
    split = split_from_column(data) if args.group_by == "auto" else None
    if split is None:
        split = split_windows(data, tuple(args.split), seed=args.seed, group_by=args.group_by)
    if split.validation.size == 0:
        from seisphase.errors import ConfigError

        raise ConfigError("the validation split is empty; give it a positive fraction (--split)")
    if not args.quiet:
        print(f"data: {data.n_windows} windows {data.class_counts()}; split "
              f"{split.summary()['sizes']} ({split.summary()['method']})", file=sys.stderr)
    fit_args = dict(validation=data.subset(split.validation),
                    checkpoint_dir=_checkpoint_dir(Path(args.out)), resume=args.resume,
                    split_info=split.summary())
    if args.init:
        clf = clf.fine_tune(data.subset(split.train), train=train_config_from_args(args),
                            augment=augment_from_args(args), **fit_args)
    else:
        clf.fit(data.subset(split.train), **fit_args)
    from seisphase.calibration import calibrate

    _set_class_prior(args, clf, lambda: data.subset(split.train).class_counts())
    calibrate(clf, data.subset(split.validation))
    metrics = {}
    if split.test.size:
        result = evaluate(clf, data.subset(split.test))
        metrics = result.to_dict()
        clf.info_["metrics"]["test"] = metrics
        print(result.format_table())
    _finish(args, clf, metrics, split)
    return 0
