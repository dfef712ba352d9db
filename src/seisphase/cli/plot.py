"""``seisphase plot KIND ... --out FILE``: every figure of the lab (and more), one command each."""

from __future__ import annotations

KINDS = {
    "examples": "DATA: example windows per class, 3 components, pick marked",
    "spectra": "DATA: class-wise median amplitude spectra",
    "features": "DATA: feature images (log spectra of every window, sorted by class)",
    "history": "MODEL_DIR: training curves (loss and accuracy per epoch)",
    "confusion": "MODEL_DIR DATA: confusion matrix, counts and normalised",
    "pr": "MODEL_DIR DATA: per-class precision-recall curves",
    "reliability": "MODEL_DIR DATA: reliability diagram before/after calibration",
    "importance": "MODEL_DIR DATA: which frequencies and components drive each class",
    "toy": "blobs|rings: the lab's toy set with linear and MLP decision boundaries",
    "activations": "(no input): the sigmoid and ReLU activation functions",
    "sweep": "SWEEP_DIR: accuracy vs learning rate per width/depth",
    "realism": "[N]: synthetic vs real class-wise median spectra and envelopes",
}


def add_parser(sub) -> None:
    lines = "\n".join(f"  {k:<12} {v}" for k, v in KINDS.items())
    import argparse

    p = sub.add_parser("plot", help="draw a figure (examples, spectra, history, confusion, ...)",
                       description=f"Draw one figure and save it (png, svg or pdf by suffix).\n\n"
                                   f"KIND and its inputs:\n{lines}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=sorted(KINDS), metavar="KIND")
    p.add_argument("inputs", nargs="*", metavar="INPUT")
    p.add_argument("--components", metavar="ORDER", help="component order of DATA files")
    p.add_argument("--features", choices=("logspectrum", "logspectrogram"), default="logspectrum",
                   help="feature kind for 'features'")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, metavar="FILE", help="figure file (.png, .svg, .pdf)")
    p.set_defaults(run=run)


def _need(args, n: int, what: str):
    from seisphase.errors import ConfigError

    if len(args.inputs) != n:
        raise ConfigError(f"'seisphase plot {args.kind}' takes {what}, got {len(args.inputs)} "
                          f"input(s): {' '.join(args.inputs) or 'none'}")
    return args.inputs


def _model_and_data(args):
    from seisphase.classifier import PhaseClassifier
    from seisphase.data.sources import load_data

    model_dir, data = _need(args, 2, "MODEL_DIR DATA")
    clf = PhaseClassifier.load(model_dir)
    windows = load_data(data, components=args.components)
    if windows.labels is None:
        from seisphase.errors import DataError

        raise DataError(f"{data} has no labels; this figure needs labelled windows")
    return clf, windows


def _toy(args):
    from seisphase.data.toy import blobs, rings
    from seisphase.errors import ConfigError
    from seisphase.plots import plot_decision_boundary
    from seisphase.training import TrainConfig, train_network

    (name,) = _need(args, 1, "blobs or rings")
    if name not in ("blobs", "rings"):
        raise ConfigError(f"toy data set must be blobs or rings, got {name!r}")
    import torch

    from seisphase.models import build_model

    x, y = (blobs if name == "blobs" else rings)(seed=args.seed)
    n_classes = int(y.max()) + 1
    model = build_model("linear" if name == "blobs" else "mlp", (2,), n_classes,
                        **({} if name == "blobs" else {"hidden": [64, 64]}))
    train_network(model, x, y, x, y, TrainConfig(epochs=150, lr=2e-2, patience=None,
                                                 seed=args.seed), progress=False)

    def predict(grid):
        with torch.no_grad():
            return model(torch.as_tensor(grid, dtype=torch.float32)).argmax(1).numpy()

    return plot_decision_boundary(predict, x, y)


def _realism(args):
    import numpy as np

    from seisphase.data.npz import load_windows
    from seisphase.data.realism import median_envelopes, median_spectra
    from seisphase.data.synthetic import make_synthetic
    from seisphase.data.windows import PHASES
    from seisphase.demo import REAL_DEV
    from seisphase.plots import plot_realism

    n = int(args.inputs[0]) if args.inputs else 3000
    syn, real = make_synthetic(n, seed=args.seed), load_windows(REAL_DEV)
    f, s_syn = median_spectra(syn)
    _, s_real = median_spectra(real)
    _, e_syn = median_envelopes(syn)
    _, e_real = median_envelopes(real)
    stack = lambda d: np.stack([d[p] for p in PHASES])  # noqa: E731
    return plot_realism(f, stack(s_syn), stack(s_real), stack(e_syn), stack(e_real))


def _figure(args):
    from seisphase import plots

    kind = args.kind
    if kind in ("examples", "spectra", "features"):
        from seisphase.data.sources import load_data

        (data,) = _need(args, 1, "DATA")
        windows = load_data(data, components=args.components)
        if kind == "examples":
            return plots.plot_examples(windows)
        if kind == "spectra":
            return plots.plot_median_spectra(windows)
        from seisphase.features import FeatureConfig, FeatureExtractor

        fx = FeatureExtractor(FeatureConfig(kind=args.features), windows.components,
                              windows.sampling_rate)
        return plots.plot_features(fx.fit(windows.waveforms).transform(windows.waveforms),
                                   windows.labels, components=windows.components)
    if kind == "history":
        from seisphase.classifier import PhaseClassifier

        (model_dir,) = _need(args, 1, "MODEL_DIR")
        return plots.plot_history(PhaseClassifier.load(model_dir).history_)
    if kind in ("confusion", "pr", "reliability", "importance"):
        clf, windows = _model_and_data(args)
        if kind == "importance":
            from seisphase.explain import plot_spectral_importance, spectral_importance

            freqs, imp = spectral_importance(clf, windows, seed=args.seed)
            return plot_spectral_importance(freqs, imp, clf.components_)
        from seisphase.calibration import softmax

        logits = clf.logits(windows)  # one pass serves calibrated and raw probabilities
        proba = softmax(logits, clf.temperature_)
        if kind == "confusion":
            from seisphase.evaluation import evaluate_predictions

            return plots.plot_confusion(evaluate_predictions(windows.labels, proba.argmax(1)).confusion)
        if kind == "pr":
            return plots.plot_precision_recall(windows.labels, proba)
        return plots.plot_reliability(windows.labels, softmax(logits), proba)
    if kind == "toy":
        return _toy(args)
    if kind == "activations":
        _need(args, 0, "no input")
        return plots.plot_activations()
    if kind == "sweep":
        from seisphase.errors import DataFormatError
        from seisphase.sweep_results import load_results, runs_frame, sweep_figure

        (sweep_dir,) = _need(args, 1, "SWEEP_DIR")
        rows = load_results(sweep_dir)
        fig = sweep_figure(runs_frame(rows)) if rows else None
        if fig is None:
            raise DataFormatError(f"{sweep_dir} holds no sweep results over a numeric setting "
                                  f"(results.jsonl); run 'seisphase sweep ... --out {sweep_dir}'")
        return fig
    return _realism(args)


def run(args) -> int:
    from seisphase.plots import save_figure

    path = save_figure(_figure(args), args.out)
    print(f"wrote {path}")
    return 0
