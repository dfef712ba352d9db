"""Station-grouped cross-validation of the GPD CNN on the real windows, with synthetic pre-training.

    python benchmarks/cnn_real_cv.py --seeds 0 1 --pretrain 30000   # pre-train (cached), then CV
    python benchmarks/cnn_real_cv.py --seeds 0 --pretrain 0         # real data only
    python benchmarks/cnn_real_cv.py --seeds 0 1 --variant freeze-trunk   # a fine-tuning variant

Data: ``tests/data/real_dev.npz`` (394 analyst-labelled windows from 78 stations, 69 of them
vertical-only). Each seed draws a 5-fold split grouped by ``station_id``
(:func:`seisphase.data.split.group_kfold`), so no station is in both training and test folds.
Per fold, the model is fine-tuned on the four training folds (a station-grouped 15 % of them
held out for choosing the best epoch) and scored on the fifth; vertical-only windows are scored
separately.

Recipe (the prototype's): every window divided by its peak over all channels; augmentation by
random rotation of the horizontals, polarity flips, ±20-sample shifts and 15 % of each batch
made vertical-only; AdamW with a one-cycle schedule and a class-weighted loss; pre-training for
``--pretrain-epochs`` on ``--pretrain`` synthetic windows (``make_synthetic``), then
``--epochs`` on the real training folds. The pre-trained weights depend only on the seed and
the synthetic settings (no real data), so they are computed once per seed and cached in
``bench-results/`` (``--pretrain-only`` just does that step). The "zero-shot" column scores the
pre-trained model on each test fold without fine-tuning.

Fine-tuning variants (``--variant``; ``default`` is the recipe above):

* ``mix-synthetic``: each epoch, the real training windows plus as many synthetic windows, drawn
  afresh from a pool of ``SYN_POOL`` (``make_synthetic`` seed ``9000 + seed``; pre-training used
  ``1000 + seed``), against forgetting;
* ``low-lr``: peak learning rate 3e-4 and 10 epochs (unless ``--lr`` / ``--epochs`` are given);
* ``freeze-trunk``: convolution and batch-norm layers frozen (weights and running statistics),
  only the fully connected head trained;
* ``vertical-dropout``: 25 % instead of 15 % of each batch made vertical-only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from seisphase.augment import make_augmenter
from seisphase.data.npz import load_windows
from seisphase.data.split import group_kfold, split_windows
from seisphase.features import FeatureConfig
from seisphase.models import build_model
from seisphase.preprocess import WaveformPreprocessor
from seisphase.training import ChunkStream, TrainConfig, train_network

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "data" / "real_dev.npz"
CACHE = ROOT / "bench-results"
COMPONENTS = "ZNE"
AUGMENT = {"shift": 20, "polarity": 0.5, "rotate": 1.0, "dropout": 0.15}
VARIANTS = ("default", "mix-synthetic", "low-lr", "freeze-trunk", "vertical-dropout")
SYN_POOL = 6000  # synthetic windows to draw from in the mix-synthetic variant


def _preprocessor():
    return WaveformPreprocessor(FeatureConfig(kind="waveform"), COMPONENTS, 100.0)


def pretrained_state(seed: int, n: int, epochs: int, width: float, lr: float) -> dict:
    """Weights after pre-training on ``n`` synthetic windows (cached on disk per settings)."""
    from safetensors.torch import load_file, save_file

    from seisphase.data.synthetic import make_synthetic

    path = CACHE / f"cnn_pretrained_n{n}_e{epochs}_w{width:g}_lr{lr:g}_seed{seed}.safetensors"
    if path.exists():
        return load_file(str(path))
    syn = make_synthetic(n, seed=1000 + seed).with_components(COMPONENTS)
    val = make_synthetic(2000, seed=5000 + seed).with_components(COMPONENTS)
    pre = _preprocessor()
    x, xv = pre.transform(syn.waveforms), pre.transform(val.waveforms)
    net = build_model("cnn", x.shape[1:], 3, width=width)
    cfg = TrainConfig(epochs=epochs, batch_size=256, optimizer="adamw", lr=lr,
                      weight_decay=1e-2, one_cycle=True, class_weighted=True, patience=None,
                      seed=seed)
    t0 = time.perf_counter()
    hist = train_network(net, x, syn.labels, xv, val.labels, cfg,
                         augment=make_augmenter(AUGMENT, COMPONENTS), progress=False)
    print(f"  pre-trained seed {seed}: {n} synthetic windows x {epochs} epochs in "
          f"{time.perf_counter() - t0:.0f} s; synthetic validation accuracy per epoch "
          f"{[round(a, 3) for a in hist.val_accuracy]}", flush=True)
    CACHE.mkdir(exist_ok=True)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(path))
    return state


def scores(net, x, y, vertical) -> dict:
    """Correct and total counts on all, 3-component and vertical-only windows."""
    net.eval()
    with torch.no_grad():
        ok = net(torch.from_numpy(x)).argmax(1).numpy() == y
    return {name: (int(ok[m].sum()), int(m.sum())) for name, m in
            (("all", np.ones_like(vertical)), ("3-C", ~vertical), ("vertical", vertical))}


def _acc(counts) -> float:
    return counts[0] / counts[1] if counts[1] else float("nan")


def synthetic_pool(seed: int, n: int = SYN_POOL):
    """Preprocessed synthetic windows and labels for the mix-synthetic variant."""
    from seisphase.data.synthetic import make_synthetic

    syn = make_synthetic(n, seed=9000 + seed).with_components(COMPONENTS)
    return _preprocessor().transform(syn.waveforms), syn.labels


def _mixed_stream(x, y, x_syn, y_syn, seed) -> ChunkStream:
    """Each epoch: the real windows plus as many synthetic ones, drawn afresh from the pool."""
    rng = np.random.default_rng(seed)
    n = len(y)

    def chunks():
        pick = rng.choice(len(y_syn), n, replace=False)
        yield np.concatenate([x, x_syn[pick]]), np.concatenate([y, y_syn[pick]])

    # Class weights from the real counts plus the expected synthetic draw.
    expected = np.bincount(y_syn, minlength=3) * n / len(y_syn)
    counts = np.bincount(y, minlength=3) + np.round(expected).astype(int)
    return ChunkStream(chunks, 2 * n, tuple(counts.tolist()))


def _freeze_trunk(net) -> None:
    """Train only the fully connected head: no gradients for, and fixed statistics in, the trunk."""
    for p in [*net.convs.parameters(), *net.norms.parameters()]:
        p.requires_grad_(False)
    # train_network calls net.train() every epoch; keep the trunk's batch norms in eval mode.
    net.norms.train = lambda mode=True: torch.nn.Module.train(net.norms, False)
    net.norms.eval()


def run_fold(real, train_idx, test_idx, x_all, seed, args, init_state, syn=None):
    train_w = real.subset(train_idx)
    inner = split_windows(train_w, (0.85, 0.15, 0.0), seed=seed, group_by="station_id")
    net = build_model("cnn", x_all.shape[1:], 3, width=args.width)
    zero_shot = None
    vertical = real.metadata["n_components"].to_numpy()[test_idx] == 1
    if init_state is not None:
        net.load_state_dict(init_state)
        zero_shot = scores(net, x_all[test_idx], real.labels[test_idx], vertical)
    if args.variant == "freeze-trunk":
        _freeze_trunk(net)
    augment = dict(AUGMENT, dropout=0.25) if args.variant == "vertical-dropout" else AUGMENT
    cfg = TrainConfig(epochs=args.epochs, batch_size=32, optimizer="adamw", lr=args.lr,
                      weight_decay=1e-2, one_cycle=True, class_weighted=True, patience=None,
                      seed=seed)
    tr, va = train_idx[inner.train], train_idx[inner.validation]
    x_tr, y_tr = x_all[tr], real.labels[tr]
    if syn is not None:
        x_tr = _mixed_stream(x_tr, y_tr, *syn, seed)
    train_network(net, x_tr, y_tr, x_all[va], real.labels[va], cfg,
                  augment=make_augmenter(augment, COMPONENTS), progress=False)
    return scores(net, x_all[test_idx], real.labels[test_idx], vertical), zero_shot


def _fmt(values) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.3f} ± {a.std(ddof=1) if a.size > 1 else 0.0:.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--folds", type=int, nargs="+", default=None,
                    help="run only these folds (0-4) of each seed's split")
    ap.add_argument("--pretrain", type=int, default=30_000,
                    help="synthetic pre-training windows (0: train on real data only)")
    ap.add_argument("--pretrain-epochs", type=int, default=6)
    ap.add_argument("--pretrain-lr", type=float, default=3e-3)
    ap.add_argument("--pretrain-only", action="store_true")
    ap.add_argument("--variant", choices=VARIANTS, default="default",
                    help="fine-tuning variant (see the module docstring)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="epochs on the real training folds (30; 10 for --variant low-lr)")
    ap.add_argument("--lr", type=float, default=None,
                    help="peak learning rate of fine-tuning (1e-3; 3e-4 for --variant low-lr)")
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    low = args.variant == "low-lr"
    args.epochs = args.epochs if args.epochs is not None else (10 if low else 30)
    args.lr = args.lr if args.lr is not None else (3e-4 if low else 1e-3)
    torch.set_num_threads(args.threads)

    real = load_windows(REAL).with_components(COMPONENTS)
    x_all = _preprocessor().transform(real.waveforms)
    rows = []
    for seed in args.seeds:
        init = None
        if args.pretrain > 0:
            init = pretrained_state(seed, args.pretrain, args.pretrain_epochs, args.width,
                                    args.pretrain_lr)
        if args.pretrain_only:
            continue
        syn = synthetic_pool(seed) if args.variant == "mix-synthetic" else None
        folds = list(group_kfold(real, 5, column="station_id", seed=seed))
        for k in args.folds if args.folds is not None else range(5):
            t0 = time.perf_counter()
            fold, zero = run_fold(real, *folds[k], x_all, seed, args, init, syn)
            rows.append({"seed": seed, "fold": k, "fine-tuned": fold, "zero-shot": zero})
            zs = "" if zero is None else f"  (zero-shot {_acc(zero['all']):.3f})"
            print(f"seed {seed} fold {k}: accuracy {_acc(fold['all']):.3f}, 3-C "
                  f"{_acc(fold['3-C']):.3f}, vertical-only {fold['vertical'][0]}/"
                  f"{fold['vertical'][1]}{zs}  [{time.perf_counter() - t0:.0f} s]", flush=True)
    if not rows:
        return 0
    mode = f"pre-trained on {args.pretrain} synthetic" if args.pretrain else "real data only"
    print(f"\n# GPD CNN (width {args.width:g}), {mode}, variant {args.variant}: {args.epochs} "
          f"epochs at peak lr {args.lr:g} on real folds; seeds {args.seeds}, {len(rows)} folds "
          "in all")
    print("# per-fold accuracy: mean ± std over folds and seeds; pooled: all test windows of "
          "all folds and seeds counted together")
    for model in ("fine-tuned", "zero-shot"):
        if rows[0][model] is None:
            continue
        for part in ("all", "3-C", "vertical"):
            per_fold = [_acc(r[model][part]) for r in rows if r[model][part][1]]
            pooled = np.sum([r[model][part] for r in rows], axis=0)
            print(f"{model:10s} {part:9s} per fold {_fmt(per_fold)}   pooled "
                  f"{pooled[0]}/{pooled[1]} = {_acc(pooled):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
