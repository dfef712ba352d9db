"""The lab's training loop and feature code against seisphase's, on the same 30 000 windows, in one run.

    python benchmarks/bench_lab.py [--n 30000] [--epochs 10]

Training: linear softmax on 80 log-spectral bins of one channel (the lab's choice), SGD,
batch 32, the same learning rate; the lab's loop (Dataset + DataLoader + SubsetRandomSampler,
as in the notebook) against ``seisphase.training.train_network``. Both validate every epoch.
Features: the lab's NumPy code against ``seisphase.features.log_spectrum`` (all 3 components).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_of, machine, windows  # noqa: E402

from seisphase.features import FeatureConfig, FeatureExtractor, log_spectrum  # noqa: E402
from seisphase.models import build_model  # noqa: E402
from seisphase.training import TrainConfig, train_network  # noqa: E402


def lab_features(x_nsc: np.ndarray) -> np.ndarray:
    """The notebook's feature code, verbatim in behaviour (including its defects)."""
    X = np.abs(np.fft.rfft(x_nsc, axis=1))
    freq = np.fft.rfftfreq(400, d=0.01)
    with np.errstate(divide="ignore", invalid="ignore"):
        X = np.log10(X)
        X -= np.mean(X, axis=0)[None, :, :]
        X /= np.std(X, axis=0)[None, :, :]
    idx = np.where(freq <= 20.0)[0]
    return X[:, idx, 1]


def lab_train(features, labels, train_idx, val_idx, lr, epochs, seed):
    """The notebook's loop: Dataset/DataLoader/SubsetRandomSampler, batch 32 / 1024."""
    from torch.utils.data import DataLoader, Dataset, SubsetRandomSampler

    class WfDataset(Dataset):
        def __init__(self, f, y):
            self.f = torch.from_numpy(f).float()
            self.y = torch.from_numpy(y).long()

        def __getitem__(self, i):
            return self.f[i], self.y[i]

        def __len__(self):
            return len(self.f)

    torch.manual_seed(seed)
    ds = WfDataset(features, labels)
    train_loader = DataLoader(ds, batch_size=32, sampler=SubsetRandomSampler(train_idx))
    val_loader = DataLoader(ds, batch_size=1024, sampler=SubsetRandomSampler(val_idx))
    model = torch.nn.Linear(features.shape[1], 3)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss = torch.nn.CrossEntropyLoss()
    times, acc = [], 0.0
    for _ in range(epochs):
        t = time.perf_counter()
        for x, y in train_loader:
            opt.zero_grad()
            L = loss(model(x), y)
            L.backward()
            opt.step()
        correct = count = 0
        for x, y in val_loader:
            correct += (model(x).argmax(1) == y).sum().item()
            count += len(y)
        acc = correct / count
        times.append(time.perf_counter() - t)
    return float(np.median(times)), acc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=30000)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-2)
    args = ap.parse_args()
    torch.set_num_threads(2)
    w = windows(args.n).with_components("NEZ")  # the lab's channel order, so index 1 is E
    x_nsc = np.ascontiguousarray(np.transpose(w.waveforms, (0, 2, 1)))
    rng = np.random.default_rng(0)
    perm = rng.permutation(args.n)
    n_val = args.n // 4
    val_idx, train_idx = perm[:n_val], perm[n_val:]

    # Both loops train on the same valid features: seisphase's log spectrum of the lab's one
    # channel (E), statistics from the training part. (The lab's own feature code turns every
    # column into NaN as soon as one window has a dead channel: log10(0) = -inf in the mean.)
    fx = FeatureExtractor(FeatureConfig(components="E"), "NEZ", 100.0).fit(w.waveforms[train_idx])
    feats = fx.transform(w.waveforms)
    lab_s, lab_acc = lab_train(feats, w.labels, train_idx.tolist(), val_idx.tolist(),
                               args.lr, args.epochs, 0)
    model = build_model("linear", (feats.shape[1],))
    torch.manual_seed(0)
    hist = train_network(model, feats[train_idx], w.labels[train_idx], feats[val_idx],
                         w.labels[val_idx],
                         TrainConfig(epochs=args.epochs, batch_size=32, optimizer="sgd",
                                     lr=args.lr, patience=None), progress=False)
    ours_s = float(np.median(hist.seconds))
    ours_acc = hist.val_accuracy[-1]
    with torch.no_grad():  # the model train_network returns: best validation loss restored
        kept = float((model(torch.as_tensor(feats[val_idx])).argmax(1).numpy()
                      == w.labels[val_idx]).mean())

    sub = x_nsc[:20000]
    lab_f = best_of(lambda: lab_features(sub)) / len(sub)
    w_sub = w.waveforms[:20000]
    ours_f = best_of(lambda: log_spectrum(w_sub, 100.0)) / len(sub)
    fx = FeatureExtractor(FeatureConfig(), "NEZ", 100.0).fit(w_sub)
    ours_fz = best_of(lambda: fx.transform(w_sub)) / len(sub)

    print(f"seisphase vs the lab — {date.today()} — {machine()}")
    kind = "synthetic" if w.metadata is not None and "event_id" in w.metadata else "jittered real"
    print(f"{args.n} windows ({kind}), linear softmax on one channel's log spectrum, "
          f"SGD lr={args.lr}, batch 32, {args.epochs} epochs")
    lab_nan = np.isnan(lab_features(x_nsc[:2000])).all(axis=0).sum()
    print(f"(the lab's own feature code gives {lab_nan} all-NaN columns of 81 on these windows)")
    print(f"{'':34}{'lab':>12}{'seisphase':>12}{'ratio':>9}")
    print(f"{'training s/epoch (median)':34}{lab_s:>12.4f}{ours_s:>12.4f}{lab_s / ours_s:>8.1f}x")
    print(f"{'validation accuracy, last epoch':34}{lab_acc:>12.3f}{ours_acc:>12.3f}")
    print(f"{'  model returned (best epoch)':34}{'':>12}{kept:>12.3f}")
    print(f"{'features windows/s (3 channels)':34}{1 / lab_f:>12,.0f}{1 / ours_f:>12,.0f}"
          f"{lab_f / ours_f:>8.1f}x")
    print(f"{'  + standardisation (transform)':34}{'':>12}{1 / ours_fz:>12,.0f}")


if __name__ == "__main__":
    main()
