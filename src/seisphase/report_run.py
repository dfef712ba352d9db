"""The run directory behind :mod:`seisphase.report`: reading it and deriving numbers from it.

:func:`load_run` reads what a run directory holds (``metrics.json``, ``model.json`` files, the
figures) once into a :class:`RunDir`, which also keeps the notes about what was left out and
which figures the report has used. The helpers here read further files (``data/synthetic.npz``,
``sweep/results.jsonl``, ``scan/*.csv``, the held-out windows) and derive numbers (per-class
scores from a confusion matrix, training histories); they build no HTML: the sections of
:mod:`seisphase.report` do.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seisphase.data.windows import PHASES
from seisphase.errors import SeisphaseWarning

# image file suffix -> (MIME type, the bytes such a file starts with)
IMAGE_TYPES = {".png": ("image/png", b"\x89PNG"), ".jpg": ("image/jpeg", b"\xff\xd8"),
               ".jpeg": ("image/jpeg", b"\xff\xd8"), ".svg": ("image/svg+xml", b"<")}
FINAL_MODEL = "final model (best)"  # the name of models/best in the training histories
SCORE_COLUMNS = ("val_accuracy", "test_accuracy", "accuracy", "macro_f1")  # of a sweep's runs


def lookup(d, *keys):
    """``d[k1][k2]...``, or None where a level is missing or not a dict."""
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def _slug(name: str) -> str:  # how seisphase.demo names a model's directory
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


@dataclass
class RunDir:
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

    def read_image(self, path: Path) -> tuple[bytes, str] | None:
        """The image file's bytes and MIME type, or None (with a note) when it is not valid."""
        mime, magic = IMAGE_TYPES[path.suffix.lower()]
        data = path.read_bytes()
        if not data.lstrip().startswith(magic):
            self.note(f"{path.relative_to(self.root)} was left out: not a valid {mime} file")
            return None
        return data, mime

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
        """The recorded train / validation / test split of the models (one with a test part
        first: a fine-tuned final model records the split of its fine-tuning data, which has
        none, and the split of its pre-training under ``pretrained``)."""
        splits = [c["split"] for _, c in self.models.values() if isinstance(c.get("split"), dict)]
        splits += [lookup(c, "pretrained", "split") for _, c in self.models.values()
                   if isinstance(lookup(c, "pretrained", "split"), dict)]
        return next((s for s in splits if lookup(s, "sizes", "test")), splits[0] if splits else None)

    @property
    def final_metrics(self) -> dict | None:
        """The final model's metrics by split (``synthetic_test``, ``test``...), or None."""
        final = lookup(self.best[1], "metrics") if self.best else None
        if not final and not self.rows and class_scores((self.metrics or {}).get("confusion")):
            final = {"test": self.metrics}  # metrics.json of 'seisphase train': the test split
        return final


def image_files(folder: Path) -> list[Path]:
    """The image files anywhere under ``folder``, sorted."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_TYPES and p.is_file())


def load_run(root: Path) -> RunDir:
    """Read ``metrics.json``, the ``model.json`` files and the figures of a run directory."""
    run = RunDir(root)
    if (root / "metrics.json").is_file():
        metrics = run.json(root / "metrics.json")
        run.metrics = metrics if isinstance(metrics, dict) else None
    for d in [root] + sorted(p for p in (root / "models").glob("*") if p.is_dir()):
        if (d / "model.json").is_file():
            cfg = run.json(d / "model.json")
            if isinstance(cfg, dict) and cfg.get("format") == "seisphase-model":
                run.models[d.name] = (d, cfg)
    if (root / "figures").is_dir():
        run.figures = {p.stem: p for p in image_files(root / "figures")}
    return run


def model_history(cfg: dict) -> dict | None:
    """The training history recorded in a ``model.json``, or None."""
    h = cfg.get("history")
    return h if isinstance(h, dict) and h.get("train_loss") else None


def model_histories(run: RunDir) -> dict:
    """Training histories by model name: the models of ``metrics.json`` first, in its order."""
    names = {_slug(r["name"]): r["name"] for r in run.rows} | {"best": FINAL_MODEL}
    histories = {names.get(n, n): model_history(c) for n, (_, c) in run.models.items()
                 if model_history(c)}
    order = [*(r["name"] for r in run.rows), *histories]
    return {n: histories[n] for n in dict.fromkeys(order) if n in histories}


def class_scores(confusion) -> dict | None:
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


def synthetic_counts(run: RunDir):
    """(windows per class, [(label, count)] of events, stations and vertical-only windows) of
    ``data/synthetic.npz``, or None: no such file, or (with a note) not readable."""
    path = run.root / "data" / "synthetic.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            counts = np.bincount(f["Y"], minlength=len(PHASES))
            extra = [(label, int(how(f[k]))) for k, label, how in (
                ("event_id", "events", lambda a: np.unique(a).size),
                ("station_id", "stations", lambda a: np.unique(a).size),
                ("vertical_only", "vertical-only windows", np.sum)) if k in f.files]
    except (OSError, ValueError, KeyError, EOFError, TypeError) as exc:
        run.note(f"data/synthetic.npz was left out: {exc}")
        return None
    return counts, extra


def held_out_windows(run: RunDir):
    """(windows the final model never saw, their description), or (None, why there are none)."""
    from seisphase.data.npz import load_windows
    from seisphase.data.split import split_windows

    syn, split = run.root / "data" / "synthetic.npz", run.split
    if syn.is_file() and split and {"fractions", "seed"} <= set(split):
        windows = load_windows(syn)
        test = split_windows(windows, tuple(split["fractions"]), seed=split["seed"],
                             group_by=split.get("group_by")).test
        if test.size and test.size == lookup(split, "sizes", "test"):
            return windows.subset(test), f"the {test.size} held-out synthetic test windows"
    path, cfg = run.best
    sources = [str(s) for s in lookup(cfg, "data", "sources") or []]
    if (path / "split.npz").is_file() and sources and all(
            s.startswith("synthetic:") or Path(s).is_file() for s in sources):
        from seisphase.data.sources import load_many

        with np.load(path / "split.npz") as f:
            test, total = f["test"], sum(f[k].size for k in ("train", "validation", "test"))
        windows = load_many(sources)
        if test.size and windows.n_windows == total:
            return windows.subset(test), f"the {test.size} windows of the test split"
    return None, "the run directory does not say which windows the model never saw"


def _jsonl(run: RunDir, path: Path) -> list:
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


def sweep_results(run: RunDir) -> tuple[list, list, str | None]:
    """The rows of ``sweep/results.jsonl`` (none without it), their columns (leaving out lists
    longer than 8) and the column that scores the runs (None if none)."""
    path = run.root / "sweep" / "results.jsonl"
    rows = _jsonl(run, path) if path.is_file() else []
    cols = list(dict.fromkeys(k for r in rows for k in r
                              if not (isinstance(r[k], list) and len(r[k]) > 8)))
    return rows, cols, next((c for c in SCORE_COLUMNS if c in cols), None)


def scan_tables(run: RunDir):
    """(path, DataFrame) of each ``scan/*.csv``, sorted; an unreadable one is left out (a note)."""
    import pandas as pd

    for path in sorted((run.root / "scan").glob("*.csv")):
        try:
            df = pd.read_csv(path)
        except (OSError, ValueError) as exc:
            run.note(f"scan/{path.name} was left out: {exc}")
            continue
        yield path, df
