"""One CNN training epoch: seisphase's GPD against SeisBench's ``GPD`` module, in one run.

    python benchmarks/bench_cnn_train.py [--n 30000] [--batch-size 256] [--threads 2] [--interleaved] [--plain]

Both networks have the same architecture (1.74 M parameters), are randomly initialised, and train
with Adam (lr 1e-3) and cross-entropy on the same synthetic windows, batch for batch, and then
score the same 1 000 validation windows. The SeisBench loop is the plain PyTorch loop a user
would write (one shuffled copy per epoch, contiguous slices; ``GPD.forward(x, logits=True)``,
which peak-normalises inside the model). seisphase runs ``seisphase.training.train_network`` on
the ``cnn`` model with the classifier's preprocessing (timed separately: it runs once, not
every epoch). ``--interleaved`` also trains both networks one batch each in turn, so that other
work on a shared machine slows both alike, and reports the sums of the step times and the
fastest step times the number of steps. ``--plain`` adds a row for seisphase's network run
through plain 1-D layers (:meth:`GPDNet.reference_forward`): what the channels-last path buys.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, windows  # noqa: E402

from seisphase.features import FeatureConfig  # noqa: E402
from seisphase.models import build_model, count_parameters  # noqa: E402
from seisphase.preprocess import WaveformPreprocessor  # noqa: E402
from seisphase.training import TrainConfig, evaluate_loss, train_network  # noqa: E402


def plain_epoch(model, forward, x, y, xv, yv, batch_size, seed=0) -> float:
    """Seconds for one epoch of a plain PyTorch loop (train, then score the validation set)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    model.train()
    perm = torch.randperm(len(y), generator=gen)
    xs, ys = x[perm], y[perm]
    for xb, yb in zip(xs.split(batch_size), ys.split(batch_size), strict=True):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(forward(model, xb), yb)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        correct = sum(int((forward(model, a).argmax(1) == b).sum())
                      for a, b in zip(xv.split(4096), yv.split(4096), strict=True))
    assert 0 <= correct <= len(yv)
    return time.perf_counter() - t0


def warm_up(model, forward, x, y, batch_size, steps=2) -> None:
    """A few untimed steps on a throw-away copy: oneDNN builds its kernels on first use."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(forward(model, x[:batch_size]), y[:batch_size]).backward()
        opt.step()


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def interleaved(models, x, y, batch_size, seed=0) -> list[tuple[float, float]]:
    """Train several (model, forward, inputs) one batch each in turn, so that other work on a
    shared machine slows them alike; returns (sum of step times, fastest step x steps) each."""
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(y), generator=gen)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-3) for m, _, _ in models]
    times = [[] for _ in models]
    for m, _, _ in models:
        m.train()
    for idx in perm.split(batch_size):
        yb = y[idx]
        for i, ((m, fwd, inputs), opt) in enumerate(zip(models, opts, strict=True)):
            t0 = time.perf_counter()
            xb = inputs[idx]
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(fwd(m, xb), yb).backward()
            opt.step()
            times[i].append(time.perf_counter() - t0)
    n_full = len(y) // batch_size
    return [(sum(t), min(t[:n_full] or t) * len(t)) for t in times]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=30_000, help="training windows (default 30000)")
    ap.add_argument("--n-val", type=int, default=1_000, help="validation windows")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--width", type=float, default=1.0, help="seisphase cnn width multiplier")
    ap.add_argument("--plain", action="store_true", help="also time the plain 1-D layer path")
    ap.add_argument("--interleaved", action="store_true",
                    help="also train both nets one batch each in turn (fair on a busy machine)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from seisbench.models import GPD

    data = windows(args.n + args.n_val, seed=0)
    raw = torch.from_numpy(data.waveforms)
    labels = torch.from_numpy(data.labels)
    pre = WaveformPreprocessor(FeatureConfig(kind="waveform"), data.components, data.sampling_rate)
    t0 = time.perf_counter()
    x = pre.fit(data.waveforms).transform(data.waveforms)
    t_pre = time.perf_counter() - t0
    n = args.n
    rows = []

    load_before = _load()
    sb_forward = lambda m, a: m(a, logits=True)  # noqa: E731
    warm_up(GPD(in_channels=data.n_channels, classes=3), sb_forward, raw, labels, args.batch_size)
    sb = GPD(in_channels=data.n_channels, classes=3)
    t_sb = plain_epoch(sb, sb_forward, raw[:n], labels[:n], raw[n:],
                       labels[n:], args.batch_size)
    rows.append(("SeisBench GPD, plain loop", count_parameters(sb), t_sb))
    print(f"  SeisBench GPD: {t_sb:.1f} s", file=sys.stderr, flush=True)

    warm_up(build_model("cnn", x.shape[1:], 3, width=args.width), lambda m, a: m(a),
            torch.from_numpy(x), labels, args.batch_size)
    net = build_model("cnn", x.shape[1:], 3, width=args.width)
    cfg = TrainConfig(epochs=1, batch_size=args.batch_size, patience=None)
    hist = train_network(net, x[:n], data.labels[:n], x[n:], data.labels[n:], cfg,
                         progress=False)
    rows.append(("seisphase cnn, train_network", count_parameters(net), hist.seconds[0]))
    print(f"  seisphase cnn: {hist.seconds[0]:.1f} s", file=sys.stderr, flush=True)

    if args.plain:
        ref = build_model("cnn", x.shape[1:], 3, width=args.width)
        xt = torch.from_numpy(x)
        t_ref = plain_epoch(ref, lambda m, a: m.reference_forward(a), xt[:n], labels[:n],
                            xt[n:], labels[n:], args.batch_size)
        rows.append(("seisphase cnn, plain 1-D layers", count_parameters(ref), t_ref))
    assert np.isfinite(evaluate_loss(net, torch.from_numpy(x[n:]), labels[n:],
                                     nn.CrossEntropyLoss())[0])

    print(f"# CNN training epoch: {n} windows (+{args.n_val} validation), batch "
          f"{args.batch_size}, {args.threads} threads, torch {torch.__version__}")
    print(f"# {machine()}; load average {load_before} before, {_load()} after "
          f"(other work on the machine slows both)")
    print(f"{'implementation':34s} {'parameters':>10s} {'s/epoch':>8s} {'vs SeisBench':>12s}")
    for name, n_par, sec in rows:
        print(f"{name:34s} {n_par:>10,d} {sec:8.1f} {t_sb / sec:11.2f}x")
    print(f"(seisphase preprocessing of all windows, once: {t_pre:.2f} s)")
    if args.interleaved:
        xt = torch.from_numpy(x)
        pair = [(GPD(in_channels=data.n_channels, classes=3), sb_forward, raw[:n]),
                (build_model("cnn", x.shape[1:], 3, width=args.width), lambda m, a: m(a), xt[:n])]
        (sb_sum, sb_best), (sp_sum, sp_best) = interleaved(pair, raw[:n], labels[:n],
                                                           args.batch_size)
        print(f"interleaved, training steps only (s/epoch): SeisBench {sb_sum:.1f}, seisphase "
              f"{sp_sum:.1f}, ratio {sb_sum / sp_sum:.2f}x; fastest step x steps: SeisBench "
              f"{sb_best:.1f}, seisphase {sp_best:.1f}, ratio {sb_best / sp_best:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
