"""The model card: a Markdown summary written beside every saved model (``MODEL_CARD.md``).

It is generated from the model's JSON document alone (:meth:`PhaseClassifier.to_config`), so
the card never disagrees with the model file. Every optional part of that document may be
missing; the card then says "not recorded" instead of failing.

>>> text = model_card({"model": {"name": "mlp", "n_parameters": 9763}, "n_samples": 400})
>>> text.splitlines()[0]
'# Model card: mlp P / S / noise classifier'
"""

from __future__ import annotations

import math

from seisphase.data.windows import PHASES, SAMPLING_RATE, WINDOW_SAMPLES

PHASE_DESCRIPTIONS = {"P": "P-wave arrival", "S": "S-wave arrival", "N": "noise (no arrival)"}
NOT_RECORDED = "not recorded"
METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro F1",
                "mcc": "Matthews correlation (MCC)", "n_windows": "windows"}


def _get(d, *keys, default=None):
    """``d[k1][k2]...`` or ``default`` when any level is missing or not a dict."""
    for key in keys:
        if not isinstance(d, dict) or d.get(key) is None:
            return default
        d = d[key]
    return d


def _fmt(value) -> str:
    """A value as compact Markdown text."""
    if value is None:
        return NOT_RECORDED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")" if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) if value else "none"
    return str(value)


def _rate_and_length(cfg: dict) -> tuple[float, int]:
    """Sampling rate and window length, the package defaults when not recorded."""
    return float(cfg.get("sampling_rate") or SAMPLING_RATE), int(cfg.get("n_samples")
                                                                 or WINDOW_SAMPLES)


def _assumed(cfg: dict, key: str) -> str:
    return "" if cfg.get(key) else f" ({NOT_RECORDED}; package default assumed)"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return lines


def _data_section(cfg: dict) -> list[str]:
    data = cfg.get("data") or {}
    sources = data.get("sources")
    lines = ["## Data", ""]
    if sources:
        lines.append("Sources:")
        lines += [f"- {_fmt(s)}" for s in (sources if isinstance(sources, list) else [sources])]
    else:
        lines.append(f"Sources: {NOT_RECORDED}.")
    lines += ["", f"- Fingerprint (SHA-256 of waveforms, labels, rate, components): "
                  f"`{_fmt(data.get('fingerprint'))}`",
              f"- Windows: {_fmt(data.get('n_windows'))}"]
    counts = data.get("class_counts")
    if isinstance(counts, dict) and counts:
        lines += ["", *_table(["class", "windows"], [[k, v] for k, v in counts.items()])]
    pre = cfg.get("pretrained")
    if isinstance(pre, dict):
        src = pre.get("sources")
        src = ", ".join(map(str, src)) if isinstance(src, list) else _fmt(src)
        train = pre.get("train") or {}
        lines += ["", f"Fine-tuned from a model pre-trained on {src} "
                      f"({_fmt(pre.get('n_windows'))} windows, fingerprint "
                      f"`{_fmt(pre.get('fingerprint'))}`, seed {_fmt(pre.get('seed'))}, "
                      f"{_fmt(pre.get('epochs'))} epochs at lr {_fmt(train.get('lr'))}); "
                      f"the data above are those of the fine-tuning."]
    return lines


def _split_section(cfg: dict) -> list[str]:
    split = cfg.get("split") or {}
    group = split.get("group_by") or ("none (windows assigned at random)" if split else None)
    lines = ["## Split", "", f"- Method: {_fmt(split.get('method'))}",
             f"- Grouped by: {_fmt(group)}",
             f"- Seed: {_fmt(split.get('seed'))}",
             f"- Fractions (train, validation, test): {_fmt(split.get('fractions'))}"]
    sizes = split.get("sizes")
    if isinstance(sizes, dict) and sizes:
        lines += ["", *_table(["part", "windows"], [[k, v] for k, v in sizes.items()])]
    return lines


def _preprocessing_section(cfg: dict) -> list[str]:
    rate, n = _rate_and_length(cfg)
    first, last = int(n / 2 - rate / 2), int(n / 2 + rate / 2) - 1
    fcfg = _get(cfg, "features", "config", default={})
    kind = fcfg.get("kind")
    lines = ["## Input and preprocessing", "",
             f"- Components (order): {_fmt(cfg.get('components'))}",
             f"- Sampling rate: {rate:g} Hz" + _assumed(cfg, "sampling_rate"),
             f"- Window length: {n} samples ({n / rate:g} s)" + _assumed(cfg, "n_samples"),
             f"- Pick position: labelled P and S windows have the pick in the central second, "
             f"samples {first}–{last} ({first / rate:g}–{(last + 1) / rate:g} s); a scan "
             f"assigns each window's probabilities to the window centre",
             f"- Features: {_fmt(kind)}"]
    if kind in ("logspectrum", "logspectrogram"):
        lines += [f"- Spectrum: floored log10 |rfft| (floor {_fmt(fcfg.get('floor'))} × the "
                  f"window's peak amplitude), f = 0 dropped, 0 < f ≤ {_fmt(fcfg.get('fmax'))} Hz",
                  f"- Feature components: {_fmt(fcfg.get('components') or cfg.get('components'))}"]
        if kind == "logspectrogram":
            lines.append(f"- Frames: {_fmt(fcfg.get('frame_samples'))} samples (Hann), hop "
                         f"{_fmt(fcfg.get('frame_step'))} samples")
        n_features = len(_get(cfg, "features", "mean", default=[]))
        lines.append("- Normalisation: every feature standardised with mean and standard "
                     "deviation fitted on the training split only"
                     + (f" ({n_features} features)" if n_features else ""))
    pre = fcfg.get("preprocess")
    if isinstance(pre, dict) and pre:
        lines += _waveform_lines(pre)
    elif kind == "waveform":
        lines.append("- Waveform preprocessing: defaults of this seisphase version")
    return lines


def _waveform_lines(pre: dict) -> list[str]:
    """Filter and normalisation of the ``waveform`` feature kind, in words."""
    band = pre.get("bandpass")
    if isinstance(band, (list, tuple)) and len(band) == 2:
        order = pre.get("filter_order")
        filt = (f"Butterworth band-pass {_fmt(band[0])}–{_fmt(band[1])} Hz"
                + (f", order {order}, zero phase" if order else ""))
    else:
        filt = "none" if "bandpass" in pre else NOT_RECORDED
    known = {"detrend", "bandpass", "filter_order", "normalize"}
    detrend = (pre.get("detrend") or "none") if "detrend" in pre else NOT_RECORDED
    lines = [f"- Detrend: {detrend}",
             f"- Filter: {filt}",
             f"- Normalisation: {_fmt(pre.get('normalize'))} (per window, over all channels)"]
    others = {k: v for k, v in pre.items() if k not in known}
    if others:
        lines.append(f"- Other preprocessing options: {_fmt(others)}")
    return lines


def _classes_section(cfg: dict) -> list[str]:
    classes = cfg.get("classes") or list(PHASES)
    rows = [[i, c, PHASE_DESCRIPTIONS.get(c, "")] for i, c in enumerate(classes)]
    return ["## Classes", "", "Output columns of `predict_proba`, in this order:", "",
            *_table(["index", "class", "meaning"], rows)]


def _model_section(cfg: dict) -> list[str]:
    model = cfg.get("model") or {}
    n_par = model.get("n_parameters")
    return ["## Architecture", "", f"- Model: {_fmt(model.get('name'))}",
            f"- Architecture parameters: {_fmt(model.get('params'))}",
            f"- Trainable parameters: {f'{n_par:,}' if isinstance(n_par, int) else _fmt(n_par)}"]


def _training_section(cfg: dict) -> list[str]:
    train = cfg.get("train") or {}
    seed = cfg.get("seed", train.get("seed"))
    lines = ["## Training", "", f"- Seed: {_fmt(seed)}"]
    if train:
        lines += ["", *_table(["setting", "value"], [[k, v] for k, v in train.items()])]
    if cfg.get("augment"):
        lines += ["", f"- Augmentation: {_fmt(cfg['augment'])}"]
    hist = cfg.get("history") or {}
    if hist.get("train_loss"):
        best = hist.get("best_epoch", -1)
        val_loss, val_acc = hist.get("val_loss") or [], hist.get("val_accuracy") or []
        lines += ["", f"- Epochs run: {len(hist['train_loss'])}"
                  + (" (stopped early)" if hist.get("stopped_early") else "")]
        if isinstance(best, int) and 0 <= best < min(len(val_loss), len(val_acc)):
            lines.append(f"- Best epoch: {best + 1} (validation loss {val_loss[best]:.4f}, "
                         f"accuracy {val_acc[best]:.4f}); its weights are kept")
        if hist.get("seconds"):
            lines.append(f"- Training time: {sum(hist['seconds']):.1f} s")
    return lines


def _metrics_section(cfg: dict) -> list[str]:
    metrics = cfg.get("metrics") or {}
    lines = ["## Metrics", ""]
    if not metrics:
        return lines + ["No held-out metrics recorded."]
    for name, m in metrics.items():
        title = {"test": "Test windows", "real": "Real data"}.get(name, str(name))
        lines += [f"### {title}", ""]
        if not isinstance(m, dict):
            lines += [f"{_fmt(m)}", ""]
            continue
        scalars = [[METRIC_NAMES.get(k, k), v] for k, v in m.items()
                   if k not in ("per_class", "confusion") and not isinstance(v, (dict, list))]
        lines += _table(["metric", "value"], scalars) + [""]
        per_class = m.get("per_class")
        if isinstance(per_class, dict) and per_class:
            rows = [[c, s.get("precision"), s.get("recall"), s.get("f1"), s.get("support")]
                    for c, s in per_class.items() if isinstance(s, dict)]
            lines += _table(["class", "precision", "recall", "F1", "support"], rows) + [""]
        confusion = m.get("confusion")
        if isinstance(confusion, list) and confusion:
            classes = cfg.get("classes") or list(PHASES)
            lines += ["Confusion (rows true, columns predicted):", ""]
            lines += _table(["true \\ predicted", *classes],
                            [[c, *row] for c, row in zip(classes, confusion, strict=False)])
            lines.append("")
    return lines[:-1] if lines[-1] == "" else lines


def _calibration_section(cfg: dict) -> list[str]:
    cal = _get(cfg, "calibration", default={})
    temperature = cfg.get("temperature", cal.get("temperature"))
    lines = ["## Calibration", "", f"- Temperature: {_fmt(temperature)}"
             + (" (softmax of logits / T)" if temperature is not None else "")]
    if cal:
        lines += [f"- Expected calibration error before: {_fmt(cal.get('ece_before'))}, "
                  f"after: {_fmt(cal.get('ece_after'))}"
                  + (f" (on {cal['n_windows']} validation windows)" if cal.get("n_windows")
                     else "")]
    else:
        lines.append("- Not calibrated: probabilities are the network's raw softmax outputs.")
    prior = cfg.get("class_prior")
    if isinstance(prior, dict) and prior.get("target"):
        classes = cfg.get("classes") or ["P", "S", "N"]
        mix = ", ".join(f"{c} {t:.2f}" for c, t in zip(classes, prior["target"], strict=False))
        was = ", ".join(f"{c} {t:.2f}" for c, t in zip(classes, prior.get("training") or [],
                                                          strict=False))
        lines.append(f"- Class prior: re-targeted to {mix} (trained under {was}); "
                     "log(target / training) is added to the logits.")
    return lines


def _limits_section(cfg: dict) -> list[str]:
    rate, n = _rate_and_length(cfg)
    comps = cfg.get("components")
    sources = _get(cfg, "data", "sources")
    texts = [str(s).lower() for s in (sources if isinstance(sources, list) else [sources] if
                                      sources else [])]
    lines = [
        "## Intended use", "",
        f"- Classify {n / rate:g}-s windows sampled at {rate:g} Hz"
        + (f" with components {comps}" if comps else "") + " as P, S or noise,"
        " and scan continuous data of the same kind to find phase arrivals.",
        "- Teaching and comparing models on equal data, splits and metrics.", "",
        "## Known limits", "",
        f"- Trained on {n / rate:g}-s windows with the pick in the central second: arrivals near "
        f"a window's edge, other sampling rates or other window lengths are out of distribution.",
        "- Window accuracy is not picking quality: it says nothing about onset-time error or "
        "false picks on continuous data; measure those with a scan against reference picks.",
        "- Scores depend on the class mix of the evaluation windows; compare per-class "
        "precision and recall, not accuracy alone.",
    ]
    if texts and all("synthetic" in t for t in texts):
        lines.append("- Trained on synthetic windows only: real noise, site effects and "
                     "instrument problems are only approximated; check it on real data first.")
    elif not texts:
        lines.append("- The training data sources are not recorded; judge its domain from the "
                     "fingerprint and class counts.")
    if not _get(cfg, "metrics", "real"):
        lines.append("- No metrics on real data are recorded for this model.")
    if _get(cfg, "split") and not _get(cfg, "split", "group_by"):
        lines.append("- The split was not grouped by event or station: windows of one event may "
                     "lie in both training and test data, so test scores may be optimistic.")
    if comps and len(str(comps)) == 1:
        lines.append(f"- Uses the {comps} component only.")
    return lines


def model_card(config: dict) -> str:
    """Markdown model card for a saved model.

    Parameters
    ----------
    config : dict
        The model's JSON document (``PhaseClassifier.to_config()``, i.e. ``model.json``). Keys
        used: ``model``, ``features``, ``train``, ``seed``, ``augment``, ``classes``,
        ``components``, ``sampling_rate``, ``n_samples``, ``temperature``, ``history``,
        ``data``, ``split``, ``metrics``, ``calibration``, ``seisphase_version``, ``created``,
        ``environment``; any of them may be missing.

    Returns
    -------
    str
        The card's text, ending with a newline.
    """
    cfg = config if isinstance(config, dict) else {}
    name = _get(cfg, "model", "name", default="seisphase")
    written = "Written by seisphase" + (f" {cfg['seisphase_version']}"
                                        if cfg.get("seisphase_version") else "")
    if cfg.get("created"):
        written += f" on {cfg['created']}"
    header = [f"# Model card: {name} P / S / noise classifier", "",
              f"{written}; generated from `model.json`, which holds everything needed to "
              f"rebuild the model."]
    env = cfg.get("environment")
    if isinstance(env, dict) and env:
        header.append(f"Environment: {_fmt(env)}.")
    sections = [header, _data_section(cfg), _split_section(cfg), _preprocessing_section(cfg),
                _classes_section(cfg), _model_section(cfg), _training_section(cfg),
                _metrics_section(cfg), _calibration_section(cfg), _limits_section(cfg)]
    return "\n\n".join("\n".join(s) for s in sections) + "\n"
