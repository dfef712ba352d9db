"""Synthetic → real transfer of the spectral models, against training on the real windows.

    python benchmarks/transfer_real.py [--n-synthetic 12000] [--seeds 0 1 2]

For each model: (a) station-grouped 5-fold cross-validation on the 394 real dev windows
(train on 4 folds' stations, score the 5th), repeated over seeds; (b) trained on synthetic
windows only, scored on the same held-out folds. Prints mean ± std over folds × seeds and a
95 % interval of the mean. Not a test: it measures.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402

from seisphase.classifier import PhaseClassifier  # noqa: E402
from seisphase.data.npz import load_windows  # noqa: E402
from seisphase.data.split import group_kfold, split_windows  # noqa: E402
from seisphase.data.synthetic import make_synthetic  # noqa: E402
from seisphase.features import FeatureConfig  # noqa: E402
from seisphase.training import TrainConfig  # noqa: E402

REAL = Path(__file__).parent.parent / "src/seisphase/_data/real_dev.npz"
MODELS = {
    "linear, spectrum": ("linear", None, "logspectrum"),
    "mlp 40, spectrum": ("mlp", (40,), "logspectrum"),
    "linear, spectrogram": ("linear", None, "logspectrogram"),
    "mlp 100, spectrogram": ("mlp", (100,), "logspectrogram"),
}


def make(name, seed, epochs):
    model, hidden, kind = MODELS[name]
    return PhaseClassifier(model, hidden=hidden, features=FeatureConfig(kind=kind),
                           train=TrainConfig(epochs=epochs, lr=1e-3, patience=10, seed=seed))


def interval(values):
    v = np.asarray(values)
    half = 1.96 * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
    return v.mean(), v.std(ddof=1) if len(v) > 1 else 0.0, half


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-synthetic", type=int, default=12000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    real = load_windows(REAL).with_components("ZNE")
    t0 = time.perf_counter()
    print(f"synthetic → real transfer — {date.today()} — {machine()}")
    print(f"real: {real.n_windows} windows, 5 station-grouped folds × seeds {args.seeds}; "
          f"synthetic: {args.n_synthetic} windows per seed\n")
    print(f"{'model':<22}{'trained on real (CV)':>24}{'synthetic only':>24}{'gap':>8}")
    for name in MODELS:
        real_acc, syn_acc = [], []
        for seed in args.seeds:
            syn = make_synthetic(args.n_synthetic, seed=100 + seed)
            sp = split_windows(syn, (0.85, 0.15, 0.0), seed=seed)
            syn_model = make(name, seed, 60).fit(syn.subset(sp.train),
                                                 validation=syn.subset(sp.validation))
            for train, test in group_kfold(real, 5, column="station_id", seed=seed):
                inner = real.subset(train)
                isp = split_windows(inner, (0.85, 0.15, 0.0), seed=seed, group_by="station_id")
                clf = make(name, seed, 200).fit(inner.subset(isp.train),
                                                validation=inner.subset(isp.validation))
                real_acc.append(clf.score(real.subset(test)))
                syn_acc.append(syn_model.score(real.subset(test)))
        (rm, rs, rh), (sm, ss, sh) = interval(real_acc), interval(syn_acc)
        print(f"{name:<22}{rm:>11.3f} ± {rs:.3f} (±{rh:.3f}){sm:>11.3f} ± {ss:.3f} (±{sh:.3f})"
              f"{sm - rm:>+8.3f}")
    print(f"\nmean ± std over folds × seeds (95 % interval of the mean); {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
