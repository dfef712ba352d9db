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

import base64
import html
import io
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
from seisphase.plots import PHASE_COLORS, PHASE_NAMES

_IMAGE_TYPES = {".png": ("image/png", b"\x89PNG"), ".jpg": ("image/jpeg", b"\xff\xd8"),
                ".jpeg": ("image/jpeg", b"\xff\xd8"), ".svg": ("image/svg+xml", b"<")}
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"  # the page fetches nothing
_NARROW = ("confusion", "reliability", "activations")  # figures shown at most 680 px wide
_SCORE_COLUMNS = ("val_accuracy", "test_accuracy", "accuracy", "macro_f1")
_CAPTIONS = {
    "examples_synthetic": "Example synthetic windows, one column per window, one row per "
                          "component (colour: phase; dashed line: the pick).",
    "examples_real": "Example real windows (Northern California, analyst picks).",
    "median_spectra_synthetic": "Median amplitude spectra of the synthetic windows by class "
                                "(bands: 25–75 %).",
    "median_spectra_real": "Median amplitude spectra of the real windows by class: over the "
                           "whole window, P and S look alike.",
    "history_best": "Training of the final model: loss and accuracy per epoch.",
    "learning_curves": "Every model's validation (solid) and training (dashed) curves.",
    "confusion_best_synthetic_test": "Final model on the held-out synthetic test windows.",
    "activations": "Two activation functions: the sigmoid squashes, ReLU cuts at zero.",
}


# -- HTML helpers -------------------------------------------------------------------------------
class _H(str):
    """Text that is already HTML (not escaped again)."""


def _e(value) -> str:
    return value if isinstance(value, _H) else html.escape(str(value))


def _isnum(x) -> bool:
    return isinstance(x, (int, float, np.number)) and not isinstance(x, bool)


def _num(x, digits: int = 3) -> str:
    if x is None:
        return "—"
    if not _isnum(x):
        return _e(x)
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    return f"{x:.{digits}f}" if math.isfinite(x) else "—"


def _table(head, rows, *, highlight=None, bars=()) -> str:
    """An HTML table (numbers right-aligned); columns in ``bars`` get a 0–1 bar behind them."""
    out = ["<div class='scroll'><table>"]
    if any(head):
        out += ["<thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead>"]
    out.append("<tbody>")
    for i, row in enumerate(rows):
        out.append("<tr class='best'>" if highlight == i else "<tr>")
        for j, v in enumerate(row):
            attrs = " class='n'" if _isnum(v) else ""
            if j in bars and _isnum(v) and math.isfinite(v):
                pct = round(100 * min(max(float(v), 0.0), 1.0))
                attrs += (f" style='background:linear-gradient(90deg,#cfe3f3 {pct}%,"
                          f"transparent {pct}%)'")
            out.append(f"<td{attrs}>{_num(v) if _isnum(v) or v is None else _e(v)}</td>")
        out.append("</tr>")
    return "".join(out) + "</tbody></table></div>"


def _phase(p: str) -> _H:
    return _H(f"<span class='ph' style='background:{PHASE_COLORS.get(p, '#444')}'>{_e(p)}</span>")


def _figure(data: bytes, mime: str, caption: str, narrow: bool = False) -> str:
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return (f"<figure{' class=narrow' if narrow else ''}><img src='{uri}' alt='{_e(caption)}'>"
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _fig(figure, caption: str, dpi: int = 100, narrow: bool = False) -> str:
    """A matplotlib figure embedded as PNG."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi)
    return _figure(buf.getvalue(), "image/png", caption, narrow)


def _caption(path: Path) -> str:
    words = path.stem.replace("_", " ").replace("-", " ")
    return _CAPTIONS.get(path.stem, words[:1].upper() + words[1:] + ".")


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
        mime, magic = _IMAGE_TYPES[path.suffix.lower()]
        data = path.read_bytes()
        if not data.lstrip().startswith(magic):
            self.note(f"{path.relative_to(self.root)} was left out: not a valid {mime} file")
            return ""
        return _figure(data, mime, caption or _caption(path), path.stem.startswith(_NARROW))

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
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in _IMAGE_TYPES and p.is_file())


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
    rows = [[_phase(p), PHASE_NAMES[p], *(float(s[k][i]) for k in ("precision", "recall", "f1")),
             int(s["support"][i])] for i, p in enumerate(PHASES)]
    return _table(["", "class", "precision", "recall", "F1", "windows"], rows, bars=(2, 3, 4))


# -- sections: each returns HTML, or '' when the run directory has nothing for it ---------------
def _overview(run: _Run) -> str:
    cards, m = [], run.metrics or {}
    scored = [r for r in run.rows if _isnum(_get(r, "real_dev", "accuracy"))]
    if run.rows:
        cards.append(("models compared", len(run.rows)))
    if scored:
        top = max(scored, key=lambda r: r["real_dev"]["accuracy"])
        cards.append(("best on the real windows",
                      f"{top['name']} ({_num(top['real_dev']['accuracy'])})"))
    if _isnum(_get(m, "best", "synthetic_test", "accuracy")):
        cards.append(("final model: synthetic test accuracy",
                      _num(m["best"]["synthetic_test"]["accuracy"])))
    elif run.best:
        cfg = run.best[1]
        cards.append(("model", f"{_get(cfg, 'model', 'name')}, "
                               f"{_num(_get(cfg, 'model', 'n_parameters'))} parameters"))
        test = _get(cfg, "metrics", "test", "accuracy") or m.get("accuracy")
        if _isnum(test):
            cards.append(("test accuracy", _num(test)))
    if _isnum(m.get("seconds")):
        cards.append(("run time", f"{m['seconds']:.0f} s"))
    return "<div class='cards'>" + "".join(
        f"<div class='card'><div class='v'>{_e(v)}</div><div class='k'>{_e(k)}</div></div>"
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
            *([_phase(p), int(c)] for p, c in zip(PHASES, counts[:len(PHASES)], strict=True)),
            *extra]
    return ("<h3>Synthetic windows</h3><p>Generated by seisphase: Brune sources, attenuation, "
            "scattering coda, coloured noise and glitches; 4 s at 100 Hz, components Z, N, E.</p>"
            + _table(["", "count"], rows))


def _data(run: _Run) -> str:
    parts = [_synthetic_table(run)]
    d = _get(run.best[1], "data") if run.best else None
    if not parts[0] and not run.rows and isinstance(d, dict) and d:
        rows = [["sources", ", ".join(map(str, d.get("sources") or [])) or "—"],
                ["training windows", d.get("n_windows")], ["fingerprint", d.get("fingerprint")],
                *([_phase(p), c] for p, c in (d.get("class_counts") or {}).items())]
        parts.append("<p>The data the model was trained on, from its model file:</p>"
                     + _table(["", ""], rows))
    split = run.split
    if split and isinstance(split.get("sizes"), dict):
        parts.append(f"<p>Split ({_e(split.get('method', ''))}, seed {_e(split.get('seed'))}): "
                     + ", ".join(f"{_e(k)} {_num(v)}" for k, v in split["sizes"].items())
                     + " windows; windows of one group never fall into two parts.</p>")
    real = next((_scores(_get(r, "real_dev", "confusion")) for r in run.rows
                 if _scores(_get(r, "real_dev", "confusion"))), None)
    if real is not None:
        rows = [["all", int(real["support"].sum())],
                *([_phase(p), int(c)] for p, c in zip(PHASES, real["support"], strict=True))]
        parts.append("<h3>Real development windows</h3><p>Analyst-labelled windows from Northern "
                     "California shipped with seisphase (some stations record only the vertical). "
                     "None of the compared models trained on them.</p>"
                     + _table(["", "windows"], rows))
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
                "the held-out synthetic test windows and on the real windows.</p>" + _table(
                    ["model", "network", "features", "parameters", "synthetic test acc",
                     "real dev acc", "real dev macro-F1", "real vertical-only acc", "train s"],
                    rows, highlight=hi, bars=(4, 5, 6, 7))
                + (f"<p>Highlighted: <b>{_e(best)}</b>, the best on the real windows. It was then "
                   "fine-tuned on synthetic + real windows and saved as <code>models/best</code>."
                   "</p>" if best else ""))
    rows = [[name, _get(cfg, "model", "name"), _get(cfg, "features", "config", "kind"),
             _get(cfg, "model", "n_parameters"), len((_history(cfg) or {}).get("train_loss", [])),
             _get(cfg, "metrics", "test", "accuracy") or _get(cfg, "metrics", "synthetic_test",
                                                              "accuracy")]
            for name, (_, cfg) in run.models.items()]
    return _table(["model", "network", "features", "parameters", "epochs", "test accuracy"], rows,
                  bars=(5,)) if rows else ""


def _training(run: _Run) -> str:
    from seisphase.plots_results import plot_history, plot_learning_curves

    parts = [run.take(s) for s in sorted(run.figures) if s.startswith(("history", "learning"))]
    names = {_slug(r["name"]): r["name"] for r in run.rows} | {"best": "final model (best)"}
    histories = {names.get(n, n): _history(c) for n, (_, c) in run.models.items() if _history(c)}
    order = [*(r["name"] for r in run.rows), *histories]
    histories = {n: histories[n] for n in dict.fromkeys(order) if n in histories}
    if not parts:
        if run.best and _history(run.best[1]):
            parts.append(_fig(plot_history(_history(run.best[1])), "Training of the final model: "
                              "loss and accuracy per epoch (dot: the epoch kept)."))
        compared = {n: h for n, h in histories.items() if n != names["best"]}
        if len(compared) > 1:
            parts.append(_fig(plot_learning_curves(compared), _CAPTIONS["learning_curves"]))
    if not histories:
        return "".join(parts)
    rows = [[n, len(h["train_loss"]), int(h.get("best_epoch", -1)) + 1,
             max(h.get("val_accuracy") or [math.nan]), "yes" if h.get("stopped_early") else "no",
             float(np.mean(h["seconds"])) if h.get("seconds") else None]
            for n, h in histories.items()]
    parts.append("<p>Training keeps the weights of the epoch with the best validation score "
                 "(“epoch kept”); early stopping ends a run that has stopped improving.</p>"
                 + _table(["model", "epochs", "epoch kept", "best validation acc",
                           "stopped early", "s / epoch"], rows, bars=(3,)))
    if len(histories) > 1:
        parts.append("<details><summary>Every model's training curves</summary>" + "".join(
            _fig(plot_history(h), f"Training of {n}.", dpi=70) for n, h in histories.items())
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
                         f"<p class='note'>{_e(final['note'])}</p>" if final.get("note") else "",
                         "" if drawn else _fig(plot_confusion(confusion),
                                               f"Final model on {label}.", 80, narrow=True)]
    if run.rows:
        rows = [[r["name"], *(_get(r, part, k) for part in ("synthetic_test", "real_dev")
                              for k in ("accuracy", "macro_f1", "mcc"))] for r in run.rows]
        parts.append("<h3>Every model</h3><p>Macro-F1 averages the three classes' F1 scores; MCC "
                     "(Matthews correlation) is 0 for guessing and 1 for a perfect model.</p>"
                     + _table(["model", "synthetic acc", "synthetic macro-F1", "synthetic MCC",
                               "real acc", "real macro-F1", "real MCC"], rows, bars=(1, 2, 4, 5)))
    for r in run.rows:
        body = "".join(_per_class_table(c) + _fig(plot_confusion(c), f"{r['name']} on {label}.",
                                                  80, narrow=True)
                       for part, label in (("synthetic_test", "the synthetic test windows"),
                                           ("real_dev", "the real windows"))
                       if _scores(c := _get(r, part, "confusion")))
        if body:
            parts.append(f"<details><summary>{_e(r['name'])}: per-class scores and confusion "
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
             "confidence and the fraction of correct answers.</p>" + _table(["", "value"], rows)]
    figure = next((run.take(s) for s in sorted(run.figures) if s.startswith("reliability")), "")
    return "".join(parts) + (figure or _reliability(run))


def _reliability(run: _Run) -> str:
    """The final model's reliability diagram, drawn on windows it never saw."""
    try:
        windows, where = _held_out(run)
        if windows is None:
            return f"<p class='note'>No reliability diagram: {_e(where)}.</p>"
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
    return _fig(figure, f"Reliability of the final model on {where} (ECE in the legend): on the "
                        f"diagonal, windows scored 0.8 are right 80 % of the time.", narrow=True)


def _folder_figures(run: _Run, name: str, caption=_caption) -> str:
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
            rows.sort(key=lambda r: -r[score] if _isnum(r.get(score)) else math.inf)
        shown = [[", ".join(map(str, v)) if isinstance(v := r.get(c), list) else v for c in cols]
                 for r in rows[:40]]
        bars = tuple(i for i, c in enumerate(cols) if "accuracy" in c)
        parts.append(f"<p>{len(rows)} runs" + (f", best {_e(score)} first" if score else "")
                     + (f"; the first {len(shown)} are shown" if len(shown) < len(rows) else "")
                     + ".</p>" + _table(cols, shown, highlight=0 if score else None, bars=bars))
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
        return _fig(plot_sweep(df, x=x, hue=hue or None, y=score),
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
        return (f"<h4>{_e(title)}</h4>" if title else "") + _table(
            ["phase", *(k.replace("_", " ") for k in keys)],
            [[_phase(p), *(s.get(k) for k in keys)] for p, s in obj.items()],
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
                         + _table(["station", *(_phase(p) for p in phases)],
                                  [[s, *(int(counts.loc[s, p]) for p in phases)]
                                   for s in counts.index]))
        cols = [c for c in df.columns
                if c not in ("network", "station", "trigger_on", "trigger_off")]
        parts.append(f"<details><summary>{_e(path.name)}: the first {min(len(df), 30)} of "
                     f"{len(df)} rows</summary>{_table(cols, df[cols].head(30).values.tolist())}"
                     "</details>")
    for path in sorted(folder.glob("*.json")):
        tables = _score_tables(run.json(path))
        if tables:
            parts.append(f"<h3>Picks against reference picks ({_e(path.name)})</h3><p>A pick "
                         "matches a reference pick of the same station and phase within the "
                         "tolerance; residuals are pick − reference, in seconds.</p>" + tables)
    return "".join(parts) + _folder_figures(
        run, "scan", lambda p: f"{p.stem}: waveforms, probability traces and picks.")


_HOW = """
<p><b>The task.</b> A window is 4 seconds of ground motion recorded in three directions: up–down
(Z), north (N) and east (E), 100 samples per second. The classifier says whether it holds the
arrival of a <b>P wave</b> (the first, compressional wave), of an <b>S wave</b> (the slower,
shearing wave) or only <b>noise</b>, and how sure it is.</p>
<p><b>Log-spectral features.</b> A Fourier transform measures how strongly the signal oscillates
at each frequency. The logarithm puts a small distant quake and a large nearby one on the same
footing (their amplitudes differ by orders of magnitude); 0–20 Hz is kept. Each feature is then
standardised with the mean and spread of the <i>training</i> windows only. A <i>spectrogram</i>
does the same for short overlapping pieces of the window, so it also records <i>when</i> each
frequency shows up.</p>
<p><b>Linear, MLP, CNN.</b> The <i>linear</i> model adds up the features with one weight each per
class and turns the three sums into probabilities (softmax): it can only separate the classes with
straight cuts. A <i>multi-layer perceptron</i> (MLP) first computes many such sums in a hidden layer
and passes each through an <i>activation function</i>, which lets it combine features, e.g. “high
frequencies <i>and</i> mostly vertical”. A <i>convolutional network</i> (CNN, after GPD by Ross et
al. 2018) reads the waveform itself: it learns short filters that slide along time, so it sees
shapes and their order directly.</p>
"""

_TIMING = """
<p>The sigmoid squashes any input into 0–1 but flattens out for large inputs, where learning slows
down; ReLU keeps positive inputs and zeroes the rest, which trains faster and is what modern
networks use.</p>
<p><b>Why timing matters for P vs S.</b> Over a whole window, real P and S waves have nearly the
same spectrum. What differs is <i>when</i> the energy arrives and on which component: before a P
pick the ground is quiet and the energy jumps by a factor of about 13; an S window already holds
the P wave's coda, so its jump is only about 2, and S shakes the horizontal components more
(horizontal over vertical energy about 3 after an S pick, 1.6 after a P pick). A spectrum of the
whole window throws the timing away: that is why the one-channel spectrum models stay mediocre
while the spectrogram and waveform models do better.</p>
<p><b>Honest scores.</b> Windows of one earthquake never land in both training and test data, the
test windows decide nothing. Real windows come from the world that the synthetic generator only
imitates: where both are scored, the gap between the two accuracies shows how well a model
transfers.</p>
"""


def _how(run: _Run) -> str:
    figure = run.take("activations")
    if not figure:
        from seisphase.plots import plot_activations

        figure = _fig(plot_activations(), _CAPTIONS["activations"], narrow=True)
    return _HOW + figure + _TIMING


def _other(run: _Run) -> str:
    return "".join(run.image(p) for s, p in sorted(run.figures.items()) if s not in run.used)


_SECTIONS = (("overview", "Overview", _overview), ("data", "Data", _data),
             ("models", "Models", _models), ("training", "Training curves", _training),
             ("metrics", "Metrics and confusion matrices", _metrics),
             ("calibration", "Calibration", _calibration),
             ("explanations", "Explanations", lambda run: _folder_figures(run, "explanations")),
             ("sweep", "Sweep", _sweep), ("scan", "Scan of continuous data", _scan),
             ("how", "How it works", _how), ("figures", "Other figures", _other))

_CSS = """
*{box-sizing:border-box}body{margin:0;color:#1d2330;background:#f4f6f9;
font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{background:#1d2a3a;color:#fff;padding:28px 40px}header h1{margin:0 0 4px;font-size:26px}
header p{margin:0;color:#b9c6d6}
nav{padding:10px 40px;background:#fff;border-bottom:1px solid #dde3ea;position:sticky;top:0}
nav a{margin-right:16px;color:#0072B2;text-decoration:none;font-size:14px}
main{max-width:1120px;margin:0 auto;padding:8px 24px 40px}
section{background:#fff;border:1px solid #dde3ea;border-radius:8px;margin:22px 0;
padding:6px 26px 18px}
h2{border-bottom:2px solid #0072B2;padding-bottom:4px}h3{margin-top:22px}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:10px 0;font-size:14px}
th,td{padding:5px 11px;border-bottom:1px solid #e3e7ec;text-align:left}th{background:#e9eef4}
tbody tr:nth-child(even){background:#f6f8fa}tr.best td{font-weight:600;background-color:#fff3d6}
td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:16px 0}
figure img{max-width:100%;height:auto;border:1px solid #e3e7ec;border-radius:4px}
figure.narrow img{max-width:min(100%,680px)}figcaption{font-size:13px;color:#556;margin-top:4px}
.ph{color:#fff;border-radius:3px;padding:0 6px;font-weight:600;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}
.card{background:#f4f6f9;border-radius:6px;padding:10px 16px;min-width:170px}
.card .v{font-size:20px;font-weight:600}.card .k{font-size:13px;color:#556}
details{margin:10px 0;border:1px solid #e3e7ec;border-radius:6px;padding:6px 12px}
summary{cursor:pointer;font-weight:600}
.note{color:#7a4b00;background:#fff6e0;padding:6px 10px;border-radius:4px}
code{background:#eef1f5;padding:1px 4px;border-radius:3px}
"""


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
        sections.append(("notes", "Notes", "<ul>" + "".join(f"<li>{_e(n)}</li>"
                                                            for n in run.notes) + "</ul>"))
    name = _e(root.resolve().name)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = "".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>seisphase report: {name}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>seisphase report: {name}</h1><p>P / S / noise classifiers · written "
        f"{when} by seisphase {_e(__version__)}</p></header><nav>",
        *(f"<a href='#{k}'>{_e(t)}</a>" for k, t, _ in sections if k != "overview"),
        "</nav><main>",
        *(f"<section id='{k}'><h2>{_e(t)}</h2>{b}</section>" for k, t, b in sections),
        "</main></body></html>\n"])
    with atomic_path(out_path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out_path
