"""``seisphase predict``: one row per window with the predicted phase and class probabilities."""

from __future__ import annotations

from seisphase.cli._common import add_components_arg


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="classify windows with a saved model",
                       description="Write a CSV with one row per window of DATA: index, "
                                   "predicted phase, probability of each class.")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("data", metavar="DATA")
    add_components_arg(p)
    p.add_argument("--out", required=True, metavar="CSV", help="CSV file to write")
    p.set_defaults(run=run)


def run(args) -> int:
    import pandas as pd

    from seisphase._atomic import atomic_path
    from seisphase.classifier import PhaseClassifier
    from seisphase.data.sources import load_data

    clf = PhaseClassifier.load(args.model_dir)
    data = load_data(args.data, components=args.components, require_labels=False)
    proba = clf.predict_proba(data)
    table = pd.DataFrame({"index": range(data.n_windows),
                          "phase": clf.classes_[proba.argmax(1)]})
    for k, phase in enumerate(clf.classes_):
        table[f"prob_{phase}"] = proba[:, k].round(6)
    if data.labels is not None:
        table["true_phase"] = clf.classes_[data.labels]
    with atomic_path(args.out) as tmp:
        table.to_csv(tmp, index=False)
    counts = table["phase"].value_counts().reindex(clf.classes_, fill_value=0)
    print(f"wrote {args.out}: {data.n_windows} windows ("
          + ", ".join(f"{p} {n}" for p, n in counts.items()) + ")")
    return 0
