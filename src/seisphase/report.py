"""One self-contained HTML report of a run directory (``seisphase demo``, ``seisphase train``...).

:func:`write_report` reads whatever the directory holds — ``metrics.json``,
``models/*/model.json`` (or a ``model.json`` at the top: a ``seisphase train`` model directory),
``figures/*.png``, ``data/synthetic.npz``, ``explanations/``, ``sweep/`` and ``scan/`` — and
writes one HTML file: images embedded as ``data:`` URIs, inline CSS, no JavaScript and no network
references (a Content-Security-Policy forbids fetching anything), so it opens offline and can be
mailed or archived as it is. A section whose inputs are missing is left out; a missing figure is
drawn from the saved numbers where they allow it.

>>> from seisphase.report import write_report                            # doctest: +SKIP
>>> write_report("seisphase-demo", "seisphase-demo/report.html")        # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from seisphase import __version__
from seisphase._atomic import atomic_path
from seisphase.data.windows import PHASES
from seisphase.errors import ConfigError, DataFormatError, SeisphaseError, SeisphaseWarning
from seisphase.plots import PHASE_NAMES
from seisphase.report_html import (
    CAPTIONS,
    HOW,
    IMAGE_TYPES,
    NARROW,
    TIMING,
    default_caption,
    embed_image,
    embed_plot,
    esc,
    fmt_num,
    html_table,
    is_number,
    page,
    phase_badge,
)

_SCORE_COLUMNS = ("val_accuracy", "test_accuracy", "accuracy", "macro_f1")


def _get(d, *keys):
    """``d[k1][k2]...``, or None where a level is missing or not a dict."""
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def _slug(name: str) -> str:  # how seisphase.demo names a model's directory
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


# -- the run directory --------------------------------------------------------------------------
@dataclass
class _Run:
    """What a run directory holds (read once), and what the report has used or skipped."""

    root: Path
    metrics: dict | None = None
    models: dict = field(default_factory=dict)  # directory name -> (path, model.json dict)
    figures: dict = field(default_factory=dict)  # file stem -> path, in figures/
    used: set = field(default_factory=set)
    notes: list = field(default_factory=list)

    def note(self, message: str) -> None:
        self.notes.append(message)
        warnings.warn(message, SeisphaseWarning, stacklevel=3)

    def json(self, path: Path):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.note(f"{path.relative_to(self.root)} was left out: not readable JSON ({exc})")
            return None

    def image(self, path: Path, caption: str | None = None) -> str:
        """The image file as a figure, or '' (with a note) when it is not a valid image."""
        mime, magic = IMAGE_TYPES[path.suffix.lower()]
        data = path.read_bytes()
        if not data.lstrip().startswith(magic):
            self.note(f"{path.relative_to(self.root)} was left out: not a valid {mime} file")
            return ""
        return embed_image(data, mime, caption or default_caption(path),
                           path.stem.startswith(NARROW))

    def take(self, stem: str) -> str:
        """The figure ``figures/<stem>.*`` (marked as used), or ''."""
        if stem not in self.figures:
            return ""
        self.used.add(stem)
        return self.image(self.figures[stem])

    @property
    def rows(self) -> list:
        """The per-model rows of a demo's ``metrics.json``."""
        rows = (self.metrics or {}).get("rows")
        return [r for r in rows if isinstance(r, dict) and "name" in r] if isinstance(rows, list) \
            else []

    @property
    def best(self):
        """(path, model.json) of the final model: ``models/best`` or a top-level model."""
        return self.models.get("best") or (self.models.get(self.root.name)
                                           if (self.root / "model.json").exists() else None)

    @property
    def split(self) -> dict | None:
        """The recorded train / validation / test split of the models."""
        return next((c["split"] for _, c in self.models.values()
                     if isinstance(c.get("split"), dict)), None)


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_TYPES and p.is_file())


def _load(root: Path) -> _Run:
    run = _Run(root)
    if (root / "metrics.json").is_file():
        metrics = run.json(root / "metrics.json")
        run.metrics = metrics if isinstance(metrics, dict) else None
    for d in [root] + sorted(p for p in (root / "models").glob("*") if p.is_dir()):
        if (d / "model.json").is_file():
            cfg = run.json(d / "model.json")
            if isinstance(cfg, dict) and cfg.get("format") == "seisphase-model":
                run.models[d.name] = (d, cfg)
    if (root / "figures").is_dir():
        run.figures = {p.stem: p for p in _images(root / "figures")}
    return run


def _history(cfg: dict) -> dict | None:
    h = cfg.get("history")
    return h if isinstance(h, dict) and h.get("train_loss") else None


def _scores(confusion) -> dict | None:
    """Per-class precision / recall / F1 and support from a confusion matrix (rows: true class)."""
    try:
        cm = np.asarray(confusion, dtype=float)
    except (TypeError, ValueError):
        return None
    if cm.shape != (len(PHASES), len(PHASES)) or not (cm >= 0).all() or cm.sum() == 0:
        return None
    tp = np.diag(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision, recall = tp / cm.sum(axis=0), tp / cm.sum(axis=1)
        f1 = 2 * precision * recall / (precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": cm.sum(axis=1)}


def _per_class_table(confusion) -> str:
    s = _scores(confusion)
    if s is None:
        return ""
    rows = [[phase_badge(p), PHASE_NAMES[p],
             *(float(s[k][i]) for k in ("precision", "recall", "f1")), int(s["support"][i])]
            for i, p in enumerate(PHASES)]
    return html_table(["", "class", "precision", "recall", "F1", "windows"], rows, bars=(2, 3, 4))


# -- sections: each returns HTML, or '' when the run directory has nothing for it ---------------
def _overview(run: _Run) -> str:
    cards, m = [], run.metrics or {}
    scored = [r for r in run.rows if is_number(_get(r, "real_dev", "accuracy"))]
    if run.rows:
        cards.append(("models compared", len(run.rows)))
    if scored:
        top = max(scored, key=lambda r: r["real_dev"]["accuracy"])
        cards.append(("best on the real windows",
                      f"{top['name']} ({fmt_num(top['real_dev']['accuracy'])})"))
    if is_number(_get(m, "best", "synthetic_test", "accuracy")):
        cards.append(("final model: synthetic test accuracy",
                      fmt_num(m["best"]["synthetic_test"]["accuracy"])))
    elif run.best:
        cfg = run.best[1]
        cards.append(("model", f"{_get(cfg, 'model', 'name')}, "
                               f"{fmt_num(_get(cfg, 'model', 'n_parameters'))} parameters"))
        test = _get(cfg, "metrics", "test", "accuracy") or m.get("accuracy")
        if is_number(test):
            cards.append(("test accuracy", fmt_num(test)))
    if is_number(m.get("seconds")):
        cards.append(("run time", f"{m['seconds']:.0f} s"))
    return "<div class='cards'>" + "".join(
        f"<div class='card'><div class='v'>{esc(v)}</div><div class='k'>{esc(k)}</div></div>"
        for k, v in cards) + "</div>" if cards else ""


def _synthetic_table(run: _Run) -> str:
    path = run.root / "data" / "synthetic.npz"
    if not path.is_file():
        return ""
    try:
        with np.load(path, allow_pickle=False) as f:
            counts = np.bincount(f["Y"], minlength=len(PHASES))
            extra = [(label, int(how(f[k]))) for k, label, how in (
                ("event_id", "events", lambda a: np.unique(a).size),
                ("station_id", "stations", lambda a: np.unique(a).size),
                ("vertical_only", "vertical-only windows", np.sum)) if k in f.files]
    except (OSError, ValueError, KeyError, EOFError, TypeError) as exc:
        run.note(f"data/synthetic.npz was left out: {exc}")
        return ""
    rows = [["windows", int(counts.sum())],
            *([phase_badge(p), int(c)] for p, c in zip(PHASES, counts[:len(PHASES)], strict=True)),
            *extra]
    return ("<h3>Synthetic windows</h3><p>Generated by seisphase: Brune sources, attenuation, "
            "scattering coda, coloured noise and glitches; 4 s at 100 Hz, components Z, N, E.</p>"
            + html_table(["", "count"], rows))


def _data(run: _Run) -> str:
    parts = [_synthetic_table(run)]
    d = _get(run.best[1], "data") if run.best else None
    if not parts[0] and not run.rows and isinstance(d, dict) and d:
        rows = [["sources", ", ".join(map(str, d.get("sources") or [])) or "—"],
                ["training windows", d.get("n_windows")], ["fingerprint", d.get("fingerprint")],
                *([phase_badge(p), c] for p, c in (d.get("class_counts") or {}).items())]
        parts.append("<p>The data the model was trained on, from its model file:</p>"
                     + html_table(["", ""], rows))
    split = run.split
    if split and isinstance(split.get("sizes"), dict):
        parts.append(f"<p>Split ({esc(split.get('method', ''))}, seed {esc(split.get('seed'))}): "
                     + ", ".join(f"{esc(k)} {fmt_num(v)}" for k, v in split["sizes"].items())
                     + " windows; windows of one group never fall into two parts.</p>")
    real = next((_scores(_get(r, "real_dev", "confusion")) for r in run.rows
                 if _scores(_get(r, "real_dev", "confusion"))), None)
    if real is not None:
        rows = [["all", int(real["support"].sum())],
                *([phase_badge(p), int(c)] for p, c in zip(PHASES, real["support"], strict=True))]
        parts.append("<h3>Real development windows</h3><p>Analyst-labelled windows from Northern "
                     "California shipped with seisphase (some stations record only the vertical). "
                     "None of the compared models trained on them.</p>"
                     + html_table(["", "windows"], rows))
    stems = ("examples_synthetic", "examples_real", "median_spectra_synthetic",
             "median_spectra_real")
    return "".join(parts + [run.take(s) for s in stems])


def _models(run: _Run) -> str:
    if run.rows:
        best = _get(run.metrics, "best", "name")
        rows = [[r["name"], r.get("model"), r.get("features"), r.get("n_parameters"),
                 _get(r, "synthetic_test", "accuracy"), _get(r, "real_dev", "accuracy"),
                 _get(r, "real_dev", "macro_f1"), r.get("real_vertical_only_accuracy"),
                 r.get("seconds")] for r in run.rows]
        hi = next((i for i, r in enumerate(run.rows) if r["name"] == best), None)
        return ("<p>Every model was trained on the same synthetic training windows and scored on "
                "the held-out synthetic test windows and on the real windows.</p>" + html_table(
                    ["model", "network", "features", "parameters", "synthetic test acc",
                     "real dev acc", "real dev macro-F1", "real vertical-only acc", "train s"],
                    rows, highlight=hi, bars=(4, 5, 6, 7))
                + (f"<p>Highlighted: <b>{esc(best)}</b>, the best on the real windows. It was then "
                   "fine-tuned on synthetic + real windows and saved as <code>models/best</code>."
                   "</p>" if best else ""))
    rows = [[name, _get(cfg, "model", "name"), _get(cfg, "features", "config", "kind"),
             _get(cfg, "model", "n_parameters"), len((_history(cfg) or {}).get("train_loss", [])),
             _get(cfg, "metrics", "test", "accuracy") or _get(cfg, "metrics", "synthetic_test",
                                                              "accuracy")]
            for name, (_, cfg) in run.models.items()]
    return html_table(["model", "network", "features", "parameters", "epochs", "test accuracy"],
                      rows, bars=(5,)) if rows else ""


def _training(run: _Run) -> str:
    from seisphase.plots_results import plot_history, plot_learning_curves

    parts = [run.take(s) for s in sorted(run.figures) if s.startswith(("history", "learning"))]
    names = {_slug(r["name"]): r["name"] for r in run.rows} | {"best": "final model (best)"}
    histories = {names.get(n, n): _history(c) for n, (_, c) in run.models.items() if _history(c)}
    order = [*(r["name"] for r in run.rows), *histories]
    histories = {n: histories[n] for n in dict.fromkeys(order) if n in histories}
    if not parts:
        if run.best and _history(run.best[1]):
            parts.append(embed_plot(plot_history(_history(run.best[1])), "Training of the final "
                                    "model: loss and accuracy per epoch (dot: the epoch kept)."))
        compared = {n: h for n, h in histories.items() if n != names["best"]}
        if len(compared) > 1:
            parts.append(embed_plot(plot_learning_curves(compared), CAPTIONS["learning_curves"]))
    if not histories:
        return "".join(parts)
    rows = [[n, len(h["train_loss"]), int(h.get("best_epoch", -1)) + 1,
             max(h.get("val_accuracy") or [math.nan]), "yes" if h.get("stopped_early") else "no",
             float(np.mean(h["seconds"])) if h.get("seconds") else None]
            for n, h in histories.items()]
    parts.append("<p>Training keeps the weights of the epoch with the best validation score "
                 "(“epoch kept”); early stopping ends a run that has stopped improving.</p>"
                 + html_table(["model", "epochs", "epoch kept", "best validation acc",
                                "stopped early", "s / epoch"], rows, bars=(3,)))
    if len(histories) > 1:
        parts.append("<details><summary>Every model's training curves</summary>" + "".join(
            embed_plot(plot_history(h), f"Training of {n}.", dpi=70) for n, h in histories.items())
            + "</details>")
    return "".join(parts)


def _metrics(run: _Run) -> str:
    from seisphase.plots_results import plot_confusion

    parts = [run.take(s) for s in sorted(run.figures) if s.startswith("confusion")]
    final = _get(run.best[1], "metrics") if run.best else None
    if not final and not run.rows and _scores((run.metrics or {}).get("confusion")):
        final = {"test": run.metrics}  # metrics.json of 'seisphase train': the test split
    for key, label in (("synthetic_test", "the held-out synthetic test windows"),
                       ("test", "the held-out test split")):
        confusion = _get(final, key, "confusion")
        if _scores(confusion):
            drawn = any(s.startswith("confusion_best") for s in run.used)
            parts[:0] = [f"<h3>Final model on {label}</h3>", _per_class_table(confusion),
                         f"<p class='note'>{esc(final['note'])}</p>" if final.get("note") else "",
                         "" if drawn else embed_plot(plot_confusion(confusion),
                                                     f"Final model on {label}.", 80, narrow=True)]
    if run.rows:
        rows = [[r["name"], *(_get(r, part, k) for part in ("synthetic_test", "real_dev")
                              for k in ("accuracy", "macro_f1", "mcc"))] for r in run.rows]
        parts.append("<h3>Every model</h3><p>Macro-F1 averages the three classes' F1 scores; MCC "
                     "(Matthews correlation) is 0 for guessing and 1 for a perfect model.</p>"
                     + html_table(["model", "synthetic acc", "synthetic macro-F1",
                                   "synthetic MCC", "real acc", "real macro-F1", "real MCC"],
                                  rows, bars=(1, 2, 4, 5)))
    for r in run.rows:
        body = "".join(_per_class_table(c) + embed_plot(plot_confusion(c),
                                                        f"{r['name']} on {label}.", 80, narrow=True)
                       for part, label in (("synthetic_test", "the synthetic test windows"),
                                           ("real_dev", "the real windows"))
                       if _scores(c := _get(r, part, "confusion")))
        if body:
            parts.append(f"<details><summary>{esc(r['name'])}: per-class scores and confusion "
                         f"matrices</summary>{body}</details>")
    return "".join(parts)


def _held_out(run: _Run):
    """(windows the final model never saw, their description), or (None, why there are none)."""
    from seisphase.data.npz import load_windows
    from seisphase.data.split import split_windows

    syn, split = run.root / "data" / "synthetic.npz", run.split
    if syn.is_file() and split and {"fractions", "seed"} <= set(split):
        windows = load_windows(syn)
        test = split_windows(windows, tuple(split["fractions"]), seed=split["seed"],
                             group_by=split.get("group_by")).test
        if test.size and test.size == _get(split, "sizes", "test"):
            return windows.subset(test), f"the {test.size} held-out synthetic test windows"
    path, cfg = run.best
    sources = [str(s) for s in _get(cfg, "data", "sources") or []]
    if (path / "split.npz").is_file() and sources and all(
            s.startswith("synthetic:") or Path(s).is_file() for s in sources):
        from seisphase.data.sources import load_many

        with np.load(path / "split.npz") as f:
            test, total = f["test"], sum(f[k].size for k in ("train", "validation", "test"))
        windows = load_many(sources)
        if test.size and windows.n_windows == total:
            return windows.subset(test), f"the {test.size} windows of the test split"
    return None, "the run directory does not say which windows the model never saw"


def _calibration(run: _Run) -> str:
    c = _get(run.best[1], "calibration") if run.best else None
    if not isinstance(c, dict):
        return ""
    rows = [["temperature T", c.get("temperature")], ["ECE before (T = 1)", c.get("ece_before")],
            ["ECE after", c.get("ece_after")], ["validation windows used", c.get("n_windows")]]
    parts = ["<p>A network trained with cross-entropy is often over- or under-confident. "
             "Temperature scaling divides its raw outputs by one number T, fitted on validation "
             "windows, before the softmax: the predicted class never changes, only how sure the "
             "model says it is. The expected calibration error (ECE) is the average gap between "
             "confidence and the fraction of correct answers.</p>"
             + html_table(["", "value"], rows)]
    figure = next((run.take(s) for s in sorted(run.figures) if s.startswith("reliability")), "")
    return "".join(parts) + (figure or _reliability(run))


def _reliability(run: _Run) -> str:
    """The final model's reliability diagram, drawn on windows it never saw."""
    try:
        windows, where = _held_out(run)
        if windows is None:
            return f"<p class='note'>No reliability diagram: {esc(where)}.</p>"
        from seisphase.calibration import softmax
        from seisphase.classifier import PhaseClassifier

        clf = PhaseClassifier.load(run.best[0])
        logits = clf.logits(windows)
    except SeisphaseError as exc:
        run.note(f"the reliability diagram was left out: {exc}")
        return ""
    from seisphase.plots_results import plot_reliability

    figure = plot_reliability(windows.labels, softmax(logits), softmax(logits, clf.temperature_),
                              n_bins=10 if windows.n_windows < 2000 else 15)
    return embed_plot(figure, f"Reliability of the final model on {where} (ECE in the legend): on "
                              f"the diagonal, windows scored 0.8 are right 80 % of the time.",
                      narrow=True)


def _folder_figures(run: _Run, name: str, caption=default_caption) -> str:
    folder = run.root / name
    return "".join(run.image(p, caption(p)) for p in _images(folder)) if folder.is_dir() else ""


def _jsonl(run: _Run, path: Path) -> list:
    """Rows of a JSON-lines file, nested dicts flattened one level (``train.lr``)."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        try:
            row = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            run.note(f"{path.relative_to(run.root)} line {n} was left out: not JSON")
            continue
        if isinstance(row, dict):
            rows.append({f"{k}.{k2}" if isinstance(v, dict) else k: v2 for k, v in row.items()
                         for k2, v2 in (v.items() if isinstance(v, dict) else [(k, v)])})
    return rows


def _sweep(run: _Run) -> str:
    folder = run.root / "sweep"
    if not folder.is_dir():
        return ""
    rows = _jsonl(run, folder / "results.jsonl") if (folder / "results.jsonl").is_file() else []
    cols = list(dict.fromkeys(k for r in rows for k in r
                              if not (isinstance(r[k], list) and len(r[k]) > 8)))
    score = next((c for c in _SCORE_COLUMNS if c in cols), None)
    parts = []
    if rows:
        if score:
            rows.sort(key=lambda r: -r[score] if is_number(r.get(score)) else math.inf)
        shown = [[", ".join(map(str, v)) if isinstance(v := r.get(c), list) else v for c in cols]
                 for r in rows[:40]]
        bars = tuple(i for i, c in enumerate(cols) if "accuracy" in c)
        parts.append(f"<p>{len(rows)} runs" + (f", best {esc(score)} first" if score else "")
                     + (f"; the first {len(shown)} are shown" if len(shown) < len(rows) else "")
                     + ".</p>" + html_table(cols, shown, highlight=0 if score else None, bars=bars))
    figures = _folder_figures(run, "sweep")
    return "".join(parts) + (figures or (_sweep_plot(run, rows, score) if score else ""))


def _sweep_plot(run: _Run, rows: list, score: str) -> str:
    """Score against the swept numeric setting, one line per other varied setting."""
    import pandas as pd

    from seisphase.plots_results import plot_sweep

    df = pd.DataFrame(rows)
    varied = [c for c in df.columns if c != score and df[c].astype(str).nunique() > 1]
    x = next((c for c in ("lr", "weight_decay", "batch_size", "width", "epochs")
              if c in varied and pd.api.types.is_numeric_dtype(df[c])), None)
    if x is None:
        return ""
    hue = [c for c in ("model", "hidden", "depth", "features", "optimizer") if c in varied]
    try:
        return embed_plot(plot_sweep(df, x=x, hue=hue or None, y=score),
                          f"{score} against {x} (mean ± standard deviation over seeds).")
    except SeisphaseError as exc:
        run.note(f"the sweep figure was left out: {exc}")
        return ""


def _score_tables(obj, title: str = "") -> str:
    """Tables of pick scores (as from seisphase.pick_scoring.match_picks) found anywhere in obj."""
    if not isinstance(obj, dict) or not obj:
        return ""
    if all(isinstance(v, dict) and "precision" in v for v in obj.values()):
        keys = [k for k in ("n_picks", "n_reference", "precision", "recall", "f1", "residual_mean",
                            "residual_std", "residual_mae", "false_per_hour")
                if k in next(iter(obj.values()))]
        return (f"<h4>{esc(title)}</h4>" if title else "") + html_table(
            ["phase", *(k.replace("_", " ") for k in keys)],
            [[phase_badge(p), *(s.get(k) for k in keys)] for p, s in obj.items()],
            bars=tuple(i + 1 for i, k in enumerate(keys) if k in ("precision", "recall", "f1")))
    return "".join(_score_tables(v, f"{title} {k}".strip()) for k, v in obj.items())


def _scan(run: _Run) -> str:
    folder = run.root / "scan"
    if not folder.is_dir():
        return ""
    import pandas as pd

    parts = []
    for path in sorted(folder.glob("*.csv")):
        try:
            df = pd.read_csv(path)
        except (OSError, ValueError) as exc:
            run.note(f"scan/{path.name} was left out: {exc}")
            continue
        if path.name == "picks.csv" and {"phase", "station_id"} <= set(df.columns):
            counts = df.groupby(["station_id", "phase"]).size().unstack(fill_value=0)
            phases = [p for p in ("P", "S") if p in counts.columns]
            parts.append(f"<h3>Picks</h3><p>{len(df)} picks at {len(counts)} station(s).</p>"
                         + html_table(["station", *(phase_badge(p) for p in phases)],
                                       [[s, *(int(counts.loc[s, p]) for p in phases)]
                                        for s in counts.index]))
        cols = [c for c in df.columns
                if c not in ("network", "station", "trigger_on", "trigger_off")]
        head = html_table(cols, df[cols].head(30).values.tolist())
        parts.append(f"<details><summary>{esc(path.name)}: the first {min(len(df), 30)} of "
                     f"{len(df)} rows</summary>{head}</details>")
    for path in sorted(folder.glob("*.json")):
        tables = _score_tables(run.json(path))
        if tables:
            parts.append(f"<h3>Picks against reference picks ({esc(path.name)})</h3><p>A pick "
                         "matches a reference pick of the same station and phase within the "
                         "tolerance; residuals are pick − reference, in seconds.</p>" + tables)
    return "".join(parts) + _folder_figures(
        run, "scan", lambda p: f"{p.stem}: waveforms, probability traces and picks.")




def _how(run: _Run) -> str:
    figure = run.take("activations")
    if not figure:
        from seisphase.plots import plot_activations

        figure = embed_plot(plot_activations(), CAPTIONS["activations"], narrow=True)
    return HOW + figure + TIMING


def _other(run: _Run) -> str:
    return "".join(run.image(p) for s, p in sorted(run.figures.items()) if s not in run.used)


_SECTIONS = (("overview", "Overview", _overview), ("data", "Data", _data),
             ("models", "Models", _models), ("training", "Training curves", _training),
             ("metrics", "Metrics and confusion matrices", _metrics),
             ("calibration", "Calibration", _calibration),
             ("explanations", "Explanations", lambda run: _folder_figures(run, "explanations")),
             ("sweep", "Sweep", _sweep), ("scan", "Scan of continuous data", _scan),
             ("how", "How it works", _how), ("figures", "Other figures", _other))


def write_report(run_dir, out_path) -> Path:
    """Write one self-contained HTML report of a run directory; returns its path.

    Parameters
    ----------
    run_dir : path
        The output directory of ``seisphase demo`` (``metrics.json``, ``models/``,
        ``figures/``, ``data/``), a model directory of ``seisphase train``, or any directory with
        some of those or with ``sweep/`` (``results.jsonl``, figures), ``scan/`` (``picks.csv``,
        pick scores as JSON, figures) or ``explanations/`` (figures).
    out_path : path
        The HTML file to write, atomically: a failure leaves no file behind.

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    DataFormatError
        If ``run_dir`` is missing or holds nothing to report.
    ConfigError
        If ``out_path`` is a directory.

    Examples
    --------
    >>> from seisphase.demo import QUICK, run_demo                    # doctest: +SKIP
    >>> run_demo("demo", QUICK)  # writes demo/report.html itself     # doctest: +SKIP
    >>> write_report("demo", "again.html")                           # doctest: +SKIP
    PosixPath('again.html')
    """
    root, out_path = Path(run_dir), Path(out_path)
    if not root.is_dir():
        raise DataFormatError(f"{root}: no such directory; give the output directory of "
                              f"'seisphase demo' or a model directory of 'seisphase train'")
    if out_path.is_dir():
        raise ConfigError(f"{out_path} is a directory; give the report's file name, e.g. "
                          f"{out_path / 'report.html'}")
    run = _load(root)
    if (run.metrics is None and not run.models and not run.figures
            and not any((root / d).is_dir() for d in ("sweep", "scan", "explanations"))):
        raise DataFormatError(
            f"{root} holds nothing to report: expected metrics.json, model.json, models/, "
            f"figures/, sweep/, scan/ or explanations/ (as written by 'seisphase demo')")
    sections = [(key, title, body) for key, title, make in _SECTIONS if (body := make(run))]
    if run.notes:
        sections.append(("notes", "Notes", "<ul>" + "".join(f"<li>{esc(n)}</li>"
                                                            for n in run.notes) + "</ul>"))
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    html = page(root.resolve().name, f"P / S / noise classifiers · written {when} by seisphase "
                                     f"{__version__}", sections)
    with atomic_path(out_path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return out_path
