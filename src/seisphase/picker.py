"""Training the scan-ready phase picker (:func:`train_picker`) and choosing its thresholds.

The picker itself (:class:`Picker`: a :class:`~seisphase.models.picknet.PickNet` with the
trace-level normalisation it was trained with, what :func:`seisphase.scan.scan` needs to run
the network once over every chunk) is defined in :mod:`seisphase.picker_model` with
:class:`PickerConfig` and :func:`normalize_trace`; they are re-exported here, so
``from seisphase.picker import Picker, PickerConfig, train_picker`` imports all of it. This
module owns training: the soft targets (:func:`pick_targets`), the training crops,
:func:`train_picker` and :func:`calibrate_thresholds`.

Training for scanning (:func:`train_picker`): random crops at every offset of long synthetic
records (:func:`~seisphase.data.continuous_synthetic.make_continuous`), half of them near an
arrival; targets on the network's output grid are Gaussians (sigma 0.1 s; ``s_sigma_s`` may
widen the S ones) around P and S picks
and noise elsewhere, so S coda, off-centre arrivals and post-event noise are all seen, and
the probability peaks at the arrival (picks timed to the grid, then refined by
:func:`~seisphase.picks.extract_picks`' parabola). Each crop's polarity is flipped and its
horizontals turned by a multiple of 90 degrees (mirrored or not) at random: sensor orientation
is arbitrary, and these turns are exact on normalised data (on the 92 real records, fine-tuned
station-grouped over 3 seeds: P F1 0.773 ± 0.015, S 0.622 ± 0.030, against 0.759 / 0.645 in
one run without them: no difference beyond the seed spread). ``pick_weight`` > 0 up-weights the loss at
pick positions (off by default: it raised false picks in short runs). With ``calibrate`` (the
default) the trained picker's ``threshold_p`` / ``threshold_s`` are the F1-best ones on 6
held-out synthetic 10-minute records (:func:`calibrate_thresholds`, 1 h of data, a few seconds).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace

import numpy as np
import torch
import torch.nn.functional as F

from seisphase.data.windows import PHASES, SAMPLING_RATE
from seisphase.errors import ConfigError
from seisphase.models.picknet import GRID, PickNet

# names imported "as" themselves are re-exported: they were first defined in this module
from seisphase.picker_model import FORMAT as FORMAT
from seisphase.picker_model import FORMAT_VERSION as FORMAT_VERSION
from seisphase.picker_model import Picker, PickerConfig, normalize_trace
from seisphase.picker_model import window_logits as window_logits

# The fine-tuning recipe on real labelled records that cross_fit_picker measures and
# ``seisphase train-picker --init --waveforms`` uses by default (one place for both).
FINETUNE_STEPS = 1500
FINETUNE_LR = 1e-3
FINETUNE_REAL_FRACTION = 0.7
"""Share of each fine-tuning batch cut from the real records (0.5: S F1 0.725 ± 0.024 against
0.754 ± 0.014 on the 92 real records, station cross-fit, 3 seeds)."""

REAL_S_SIGMA_S = 0.2
"""S label width (s) when fine-tuning on real records (:func:`seisphase.picker_crossfit.
cross_fit_picker`, ``seisphase train-picker --waveforms``). Analyst S picks are less precise
than synthetic ones; on the 92 real records (station cross-fit, 3 seeds) fine-tuning with 0.2 s
S labels gave S F1 0.754 ± 0.014 at 0.5 s against 0.734 ± 0.010 with 0.1 s (P unchanged,
0.822; S F1 at 0.1 s equal, 0.617; S residual std 0.12 s against 0.09 s)."""


# -- training -------------------------------------------------------------------------------
def pick_targets(n_samples: int, picks, sigma_samples: float,
                 s_sigma_samples: float | None = None) -> np.ndarray:
    """Soft targets (3, n_samples): Gaussian P and S around each pick, noise = the rest.

    ``picks`` is a sequence of ``(phase, sample)``; the Gaussians have standard deviation
    ``sigma_samples`` (S: ``s_sigma_samples`` when given).
    """
    t = np.arange(n_samples, dtype=np.float32)
    target = np.zeros((3, n_samples), dtype=np.float32)
    for phase, sample in picks:
        k = PHASES.index(phase)
        sigma = s_sigma_samples if phase == "S" and s_sigma_samples else sigma_samples
        target[k] = np.maximum(target[k], np.exp(-0.5 * ((t - sample) / sigma) ** 2))
    total = target[:2].sum(0)
    over = total > 1
    target[:2, over] /= total[over]
    target[2] = 1.0 - target[:2].sum(0)
    return target


def _label_sigmas(cfg: PickerConfig) -> tuple[float, float]:
    """P and S label widths in samples."""
    s_sigma = cfg.sigma_s if cfg.s_sigma_s is None else cfg.s_sigma_s
    return cfg.sigma_s * SAMPLING_RATE, s_sigma * SAMPLING_RATE


def _pool(traces, picks, sigmas: tuple[float, float]):
    """Normalised traces (T, 3, n) and targets (T, 3, n) of equal-length records.

    ``picks``: a DataFrame with ``trace`` (index into ``traces``), ``phase`` and ``sample``.
    """
    x = normalize_trace(np.stack(traces))
    by_trace = {t: list(zip(g.phase, g["sample"], strict=True)) for t, g in picks.groupby("trace")}
    y = np.stack([pick_targets(x.shape[-1], by_trace.get(t, []), *sigmas)
                  for t in range(len(traces))])
    return x, y, picks["trace"].to_numpy(), picks["sample"].to_numpy().astype(int)


def _synthetic_pool(cfg: PickerConfig):
    from seisphase.data.continuous_synthetic import make_continuous

    traces, picks = make_continuous(cfg.n_traces, cfg.duration_s, cfg.seed,
                                    events_per_trace=cfg.events_per_trace,
                                    vertical_only_fraction=cfg.vertical_only_fraction,
                                    padding_fraction=cfg.padding_fraction)
    return _pool(traces, picks, _label_sigmas(cfg))


def _crops(rng, pool, b: int, cfg: PickerConfig, net: PickNet):
    """``b`` random crops (x (b, 3, L), target (b, 3, m)) of one pool, at any offset."""
    x, y, pick_trace, pick_sample = pool
    m = cfg.crop_outputs
    length = net.receptive_field + GRID * (m - 1)
    pos = net.offset + GRID * np.arange(m)  # output j's window centre in a crop
    n = x.shape[-1]
    if n < length:
        raise ConfigError(f"records of {n} samples are shorter than a training crop ({length})")
    trace = rng.integers(0, x.shape[0], b)
    start = rng.integers(0, n - length + 1, b)
    near = rng.random(b) < cfg.near_pick_fraction
    if near.any() and len(pick_trace):
        k = rng.integers(0, len(pick_trace), near.sum())
        trace[near] = pick_trace[k]
        start[near] = np.clip(pick_sample[k] - pos[rng.integers(0, m, near.sum())], 0, n - length)
    xb = x[trace[:, None], :, start[:, None] + np.arange(length)[None, :]].transpose(0, 2, 1)
    yb = y[trace[:, None], :, start[:, None] + pos[None, :]].transpose(0, 2, 1)
    xb *= rng.choice([-1.0, 1.0], (b, 1, 1)).astype(np.float32)  # polarity
    _turn_horizontals(rng, xb)
    return xb, yb


def _turn_horizontals(rng, xb: np.ndarray) -> None:
    """Random sensor orientation, in place: each crop's (N, E) pair turned by a multiple of
    90 degrees and mirrored or not (the 8 symmetries of the square). These map each
    normalised channel onto another one or its negative, so they commute with the per-channel
    odd compression of :func:`normalize_trace`, and dead channels stay dead."""
    quarter = rng.integers(0, 4, xb.shape[0])
    mirror = rng.random(xb.shape[0]) < 0.5
    h = xb[:, 1:3].copy()
    h[mirror] = h[mirror][:, ::-1]
    n, e = h[:, 0], h[:, 1]
    for q, (a, b) in enumerate(((n, e), (-e, n), (-n, -e), (e, -n))):
        sel = quarter == q
        xb[sel, 1], xb[sel, 2] = a[sel], b[sel]


def _batches(rng, pools, weights, cfg: PickerConfig, net: PickNet):
    """Endless batches mixing the pools in proportion to ``weights``."""
    while True:
        counts = rng.multinomial(cfg.batch_size, weights)
        parts = [_crops(rng, pool, c, cfg, net) for pool, c in zip(pools, counts, strict=True) if c]
        xb = np.concatenate([p[0] for p in parts])
        yb = np.concatenate([p[1] for p in parts])
        yield torch.from_numpy(np.ascontiguousarray(xb)), torch.from_numpy(np.ascontiguousarray(yb))


def train_picker(config: PickerConfig = PickerConfig(),  # noqa: B008 (frozen: immutable)
                 extra=None, extra_fraction: float = 0.3,
                 progress: bool = False, init: Picker | None = None) -> Picker:
    """Train a :class:`Picker` on synthetic continuous records for ``config.max_steps`` steps.

    Parameters
    ----------
    config : PickerConfig
        Data size, crop size, optimiser and time budget.
    extra : tuple (traces, picks), optional
        More labelled records (e.g. real ones): equal-length ``(3, n)`` arrays in ``ZNE``
        order and a DataFrame with ``trace``, ``phase``, ``sample``.
    extra_fraction : float
        Share of each batch drawn from ``extra``.
    progress : bool
        Print the running loss every 100 steps.
    init : Picker, optional
        Start from this picker's weights (fine-tuning, e.g. on ``extra`` real records, with a
        smaller ``config.lr`` and ``max_steps``) instead of random ones; it is not changed.

    Returns
    -------
    Picker
        ``history_`` holds ``loss`` (mean soft cross-entropy per 50 steps), ``steps``,
        ``seconds`` (training) and ``data_seconds`` (generation).
    """
    t0 = time.perf_counter()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed + 1)
    pools, weights = [_synthetic_pool(config)], [1.0]
    if extra is not None:
        pools.append(_pool(extra[0], extra[1], _label_sigmas(config)))
        weights = [1.0 - extra_fraction, extra_fraction]
    t_data = time.perf_counter() - t0
    net = PickNet(3, None, 3, config.width, config.context)
    if init is not None:
        if (init.config.width, init.config.context) != (config.width, config.context):
            raise ConfigError(f"init picker has width {init.config.width} and context "
                              f"{init.config.context}, the config {config.width} and {config.context}")
        net.load_state_dict(init.network_.state_dict())
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=1e-4)
    net.train()
    losses, block, step, t1 = [], [], 0, time.perf_counter()
    for xb, yb in _batches(rng, pools, weights, config, net):
        elapsed = time.perf_counter() - t1
        if step >= config.max_steps or elapsed >= config.max_seconds:
            break
        # Cosine decay over the step budget (not the clock), so a seed reproduces a run;
        # max_seconds only stops a run early on a slow machine.
        frac = step / config.max_steps
        for group in opt.param_groups:
            group["lr"] = config.lr * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0)))
        ce = -(yb * F.log_softmax(net.forward_continuous(xb), dim=1)).sum(1)  # (b, m)
        if config.pick_weight:
            w = 1.0 + config.pick_weight * (1.0 - yb[:, 2])
            loss = (w * ce).sum() / w.sum()
        else:
            loss = ce.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        block.append(loss.item())
        step += 1
        if len(block) == 50:
            losses.append(float(np.mean(block)))
            block = []
            if progress and len(losses) % 2 == 0:
                print(f"step {step} loss {losses[-1]:.4f} ({elapsed:.0f} s)", flush=True)
    history = {"loss": losses, "steps": step, "seconds": time.perf_counter() - t1,
               "data_seconds": t_data}
    if init is not None:
        history["init"] = {"config": asdict(init.config), "steps": init.history_.get("steps")}
    picker = Picker(net.eval(), config, history)
    if config.calibrate:
        t2 = time.perf_counter()
        tp, ts = calibrate_thresholds(picker)
        picker.config = replace(config, threshold_p=tp, threshold_s=ts, threshold_s_vertical=None)
        history["calibration_seconds"] = time.perf_counter() - t2
    return picker


CALIBRATION_THRESHOLDS = tuple(np.round(np.arange(0.1, 0.951, 0.05), 2))


def calibrate_thresholds(picker: Picker, n_traces: int = 6, duration_s: float = 600.0,
                         seed: int | None = None, tolerance_s: float = 0.5) -> tuple[float, float]:
    """P and S thresholds that maximise F1 (at ``tolerance_s``) on held-out synthetic records.

    The records come from :func:`~seisphase.data.continuous_synthetic.make_continuous` with a
    seed the training never uses (``config.seed + 7919`` by default), the config's event rate
    and its vertical-only and padding fractions; they are long, so that the unscanned half
    window at each end (up to 11 s with ``context`` 3) misses few picks. Ties go to the higher
    threshold (fewer false picks).

    No separate vertical-only S threshold is chosen here: on synthetic vertical-only records
    the best one is higher than the 3-component one (0.75 against 0.6 for the default
    picker), on the real ones lower (about 0.3–0.45), and the synthetic choice lowered the real
    S F1 (0.612 against 0.637 with the shared threshold). Labelled real records choose it
    (:func:`seisphase.picker_crossfit.best_thresholds`).
    """
    from seisphase.data.continuous_synthetic import make_continuous
    from seisphase.pick_scoring import match_picks
    from seisphase.picks import extract_picks, picks_to_dataframe
    from seisphase.scan import scan

    cfg = picker.config
    seed = cfg.seed + 7919 if seed is None else seed
    stream, reference = make_continuous(n_traces, duration_s, seed,
                                        events_per_trace=cfg.events_per_trace * duration_s / cfg.duration_s,
                                        vertical_only_fraction=cfg.vertical_only_fraction,
                                        padding_fraction=cfg.padding_fraction, as_stream=True)
    probs, report = scan(stream, picker, stride=GRID)
    best = {}
    for t in CALIBRATION_THRESHOLDS:
        picks = picks_to_dataframe(extract_picks(probs, float(t), float(t)))
        scores = match_picks(picks, reference, tolerance_s, report["hours"])
        for phase in ("P", "S"):
            f1 = scores[phase]["f1"]
            f1 = -1.0 if not np.isfinite(f1) else f1
            if f1 >= best.get(phase, (-2.0, 0.0))[0]:
                best[phase] = (f1, float(t))
    return best["P"][1], best["S"][1]
