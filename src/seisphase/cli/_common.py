"""Option blocks and small helpers shared by subcommands (defined once, used by train and sweep)."""

from __future__ import annotations

import json
from pathlib import Path

MODEL_CHOICES = ("linear", "mlp", "cnn")
FEATURE_KINDS = ("logspectrum", "logspectrogram", "waveform")


def add_components_arg(p) -> None:
    p.add_argument("--components", metavar="ORDER",
                   help="component order of the file's channels, e.g. ENZ (overrides the file; "
                        "files that do not say are read as NEZ, the lab's order)")


def add_train_args(p) -> None:
    """Model, feature and optimisation options of ``train`` (and ``sweep``)."""
    g = p.add_argument_group("model")
    g.add_argument("--model", choices=MODEL_CHOICES, default="mlp", help="network (default mlp)")
    g.add_argument("--hidden", type=int, nargs="+", metavar="N",
                   help="hidden layer widths of the mlp, e.g. --hidden 40 40 (default 40)")
    g.add_argument("--width", type=float, help="CNN width multiplier (1.0 = GPD, 0.5 = small)")
    g.add_argument("--model-components", metavar="ORDER",
                   help="components the model reads (default ZNE; Z for a vertical-only model)")
    g = p.add_argument_group("features")
    g.add_argument("--features", choices=FEATURE_KINDS,
                   help="input of the model (default: logspectrum for linear/mlp, waveform for cnn)")
    g.add_argument("--features-components", metavar="ORDER",
                   help="subset of components used for spectral features (e.g. E: the lab's one channel)")
    g.add_argument("--fmax", type=float, default=20.0, help="highest frequency kept, Hz (default 20)")
    g.add_argument("--bandpass", type=float, nargs=2, metavar=("FMIN", "FMAX"),
                   help="CNN input bandpass in Hz (GPD used 3 20)")
    g.add_argument("--normalize", choices=("peak", "std", "none"),
                   help="CNN input normalisation per window (default peak)")
    g.add_argument("--augment", nargs="?", const="", metavar="KEY=VALUE,...",
                   help="CNN training augmentation: time shifts, polarity flips, rotation of the "
                        "horizontals, vertical-only dropout; alone: the defaults, or override "
                        "some, e.g. --augment dropout=0.5,shift=10 (recorded in the model file)")
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=100, help="maximum epochs (default 100)")
    g.add_argument("--batch-size", type=int, default=32, help="windows per step (default 32, the lab's)")
    g.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), default="adam")
    g.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 1e-3)")
    g.add_argument("--momentum", type=float, default=0.0, help="SGD momentum (default 0, the lab's)")
    g.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty (default 0)")
    g.add_argument("--patience", type=int, default=10,
                   help="early stopping: epochs without validation improvement (0 = off)")
    g.add_argument("--class-weighted", action="store_true", help="weight the loss by inverse class frequency")
    g.add_argument("--class-prior", metavar="P,S,N|data",
                   help="re-target the trained model to this class mix (counts or frequencies "
                        "of P, S, N; 'data': the mix of the training split), e.g. after "
                        "--class-weighted training for data with more P than S windows")
    g.add_argument("--one-cycle", action="store_true", help="one-cycle learning-rate schedule")
    g.add_argument("--trainable", choices=("all", "head"), default="all",
                   help="what training changes: all layers (default) or only the classification "
                        "head (fine-tuning a pre-trained model on a few hundred windows)")
    g.add_argument("--seed", type=int, default=0, help="seed of split, initialisation and shuffling")
    g.add_argument("--split", type=float, nargs=3, default=(0.7, 0.15, 0.15),
                   metavar=("TRAIN", "VAL", "TEST"), help="split fractions (default 0.7 0.15 0.15)")
    g.add_argument("--group-by", default="auto",
                   help="metadata column whose groups never straddle splits: auto (event_id, "
                        "record or station_id, whichever exists), none, or a column name")


def train_config_from_args(args):
    """The ``TrainConfig`` of parsed ``train`` options."""
    from seisphase.training import TrainConfig

    return TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
        momentum=args.momentum, weight_decay=args.weight_decay,
        patience=args.patience or None, seed=args.seed, class_weighted=args.class_weighted,
        one_cycle=args.one_cycle, trainable=args.trainable,
    )


def classifier_from_args(args, progress: bool):
    """Build an unfitted PhaseClassifier from parsed ``train`` options."""
    from seisphase.classifier import PhaseClassifier
    from seisphase.features import FeatureConfig
    from seisphase.models import model_spec

    spec = model_spec(args.model)
    kind = args.features or spec.default_features
    preprocess = {}
    if args.bandpass:
        preprocess["bandpass"] = list(args.bandpass)
    if args.normalize:
        preprocess["normalize"] = args.normalize
    features = FeatureConfig(kind=kind, fmax=args.fmax, components=args.features_components,
                             preprocess=preprocess)
    train = train_config_from_args(args)
    augment = augment_from_args(args)
    params = {}
    if args.width is not None:
        params["width"] = args.width
    return PhaseClassifier(
        args.model, hidden=args.hidden, model_params=params or None, features=features,
        train=train, components=args.model_components, augment=augment,
        progress=progress,
    )


def augment_from_args(args) -> dict | None:
    """``--augment``: None when absent, else the options as a JSON dict (defaults + overrides)."""
    if args.augment is None:
        return None
    from seisphase.augment import AugmentConfig

    return AugmentConfig.from_text(args.augment).to_dict()


def parse_class_prior(text: str | None):
    """``--class-prior``: None, ``"data"`` or three positive numbers (P, S, N)."""
    if text is None or text == "data":
        return text
    from seisphase.errors import ConfigError

    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 3 or min(values) <= 0:
        raise ConfigError(f"--class-prior takes 'data' or three positive numbers P,S,N "
                          f"(e.g. 151,92,151), got {text!r}")
    return values


def write_json(path: Path, obj) -> None:
    """Write JSON atomically."""
    from seisphase._atomic import atomic_write_text

    atomic_write_text(path, json.dumps(obj, indent=2))
