"""``seisphase evaluate``: metrics of a saved model on labelled windows."""

from __future__ import annotations

import json

from seisphase.cli._common import add_components_arg


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="score a saved model on labelled windows",
                       description="Accuracy, per-class precision/recall/F1, macro-F1, MCC and "
                                   "the confusion matrix of MODEL_DIR on every window of DATA.")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("data", nargs="+", metavar="DATA")
    add_components_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(run=run)


def run(args) -> int:
    from seisphase.calibration import expected_calibration_error, softmax
    from seisphase.classifier import PhaseClassifier
    from seisphase.data.sources import load_many
    from seisphase.evaluation import evaluate_predictions

    clf = PhaseClassifier.load(args.model_dir)
    data = load_many(args.data, components=args.components)
    if data.labels is None:
        from seisphase.errors import DataError

        raise DataError("evaluation needs labels (Y) in DATA")
    logits = clf.logits(data)  # one pass: calibrated and raw probabilities from the same logits
    proba, raw = softmax(logits, clf.temperature_), softmax(logits)
    result = evaluate_predictions(data.labels, proba.argmax(1))
    out = result.to_dict()
    out["ece"] = expected_calibration_error(data.labels, proba)
    out["ece_uncalibrated"] = expected_calibration_error(data.labels, raw)
    out["temperature"] = clf.temperature_
    if args.json:
        print(json.dumps(out))
    else:
        print(result.format_table())
        print(f"\nexpected calibration error {out['ece']:.3f} (uncalibrated "
              f"{out['ece_uncalibrated']:.3f}, temperature {clf.temperature_:.2f})")
    return 0
