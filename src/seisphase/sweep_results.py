"""The results of a sweep: reading ``results.jsonl``, the per-run and per-setting tables, the text
table and the figures.

:func:`seisphase.sweep.run_sweep` appends one JSON line per finished run to ``OUT/results.jsonl``;
everything here works from those rows, so a sweep's results can be tabulated and drawn again
without training anything.

>>> from seisphase.sweep_results import aggregate, format_table, load_results  # doctest: +SKIP
>>> print(format_table(aggregate(load_results("sweeps/lab"))))                # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, is_dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seisphase._atomic import atomic_write_text
from seisphase.errors import DataError, SeisphaseWarning

RESULTS_NAME = "results.jsonl"

METRICS = ("val_accuracy", "val_loss", "test_accuracy", "macro_f1", "train_seconds", "epochs")
_MAX_CURVES = 8  # learning curves drawn: more are unreadable


def config_key(config: dict) -> str:
    """Canonical JSON of a configuration: the identity of a run in ``results.jsonl``."""
    return json.dumps(to_jsonable(config), sort_keys=True, separators=(",", ":"))


def to_jsonable(obj):
    """``obj`` as plain JSON types: dataclasses and tuples become dicts and lists, NumPy scalars
    Python numbers, and NaN / inf ``None``."""
    if is_dataclass(obj):
        return to_jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None  # strict JSON has no NaN (a diverged run)
    return obj


# -- results file ----------------------------------------------------------------------------
def load_results(out_dir, *, repair: bool = False) -> list[dict]:
    """The rows of ``out_dir/results.jsonl``, skipping lines a killed sweep left half-written.

    With ``repair`` such lines are also removed from the file (with a warning).
    """
    path = Path(out_dir) / RESULTS_NAME
    text = path.read_text() if path.exists() else ""
    rows, bad = [], 0
    for line in filter(str.strip, text.splitlines()):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if isinstance(row, dict) and {"key", "config", "metrics"} <= set(row):
            rows.append(row)
        else:
            bad += 1
    if repair and (bad or (text and not text.endswith("\n"))):
        import warnings

        warnings.warn(f"{path}: dropped {bad} unreadable line(s) (an interrupted write); "
                      f"those runs are trained again", SeisphaseWarning, stacklevel=2)
        atomic_write_text(path, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    return rows


def describe_config(config: dict) -> str:
    """One line of ``key=value`` pairs, e.g. ``lr=0.1 hidden=40,40 seed=0``."""
    return " ".join(f"{k}={_fmt_value(v)}" for k, v in config.items())


def _fmt_value(v) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(map(str, v))
    return f"{v:g}" if isinstance(v, float) else str(v)


# -- tables ----------------------------------------------------------------------------------
def runs_frame(rows: list[dict]) -> pd.DataFrame:
    """One row per run: its config (``hidden`` as a tuple; ``width`` and ``depth`` of mlp
    layers added), its metrics, ``key``, ``setting`` (the key without the seed) and ``history``."""
    if not rows:
        raise DataError("no finished runs")
    config_cols = list(dict.fromkeys(k for row in rows for k in row["config"]))
    df = pd.DataFrame([
        {**row["config"], **row["metrics"], "key": row["key"],
         "setting": config_key({k: v for k, v in row["config"].items() if k != "seed"}),
         "history": row.get("history")} for row in rows])
    if "hidden" in df.columns:
        df["hidden"] = [tuple(h) for h in df["hidden"]]
        if "width" not in df.columns:
            df["width"] = [h[0] if len(set(h)) == 1 else "-".join(map(str, h))
                           for h in df["hidden"]]
            df["depth"] = [len(h) for h in df["hidden"]]
    df.attrs["config_columns"] = config_cols
    return df


def aggregate(rows) -> pd.DataFrame:
    """Mean and standard deviation over seeds of each setting, best validation accuracy first.

    Parameters
    ----------
    rows : list of dict or DataFrame
        Rows of ``results.jsonl`` or the frame :func:`run_sweep` returns.

    Returns
    -------
    DataFrame
        The setting's columns (config without ``seed``, plus ``width``/``depth``), ``setting``
        (its key), ``n_seeds``, and ``<metric>_mean`` and ``<metric>_std`` (NaN for one seed)
        for each of :data:`METRICS`.
    """
    df = rows if isinstance(rows, pd.DataFrame) else runs_frame(list(rows))
    if len(df) == 0:
        raise DataError("no finished runs to aggregate")
    group_cols = [c for c in df.attrs["config_columns"] if c != "seed"]
    derived = [c for c in ("width", "depth") if c in df.columns and c not in group_cols]
    records = []
    for setting, part in df.groupby("setting", sort=False):
        rec = {c: part[c].iloc[0] for c in [*group_cols, *derived]}
        rec.update(setting=setting, n_seeds=len(part))
        for m in METRICS:
            values = pd.to_numeric(part[m], errors="coerce")
            rec[f"{m}_mean"] = values.mean()
            rec[f"{m}_std"] = values.std(ddof=1) if len(part) > 1 else np.nan
        records.append(rec)
    table = pd.DataFrame(records).sort_values("val_accuracy_mean", ascending=False,
                                              na_position="last", kind="stable")
    table = table.reset_index(drop=True)
    table.attrs["config_columns"] = group_cols
    return table


_TABLE = (("val_accuracy", "val acc", 3, True), ("test_accuracy", "test acc", 3, True),
          ("macro_f1", "macro-F1", 3, False), ("val_loss", "val loss", 3, False),
          ("epochs", "epochs", 0, False), ("train_seconds", "seconds", 1, False))


def format_table(df: pd.DataFrame) -> str:
    """Aligned text table of :func:`aggregate`'s frame: settings, then mean (± std) over seeds."""
    columns = [(c, [_fmt_value(v) for v in df[c]]) for c in df.attrs["config_columns"]]
    columns.append(("seeds", [str(int(n)) for n in df["n_seeds"]]))
    for m, name, digits, spread in _TABLE:
        cells = []
        for mean, std in zip(df[f"{m}_mean"], df[f"{m}_std"], strict=True):
            text = "-" if pd.isna(mean) else f"{mean:.{digits}f}"
            if spread and not pd.isna(mean) and not pd.isna(std):
                text += f" ± {std:.{digits}f}"
            cells.append(text)
        columns.append((name, cells))
    widths = [max(len(name), *map(len, cells)) for name, cells in columns]
    rows = [[name for name, _ in columns]] + [[cells[i] for _, cells in columns]
                                             for i in range(len(df))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
                     for row in rows)


# -- figures ---------------------------------------------------------------------------------
def sweep_figure(runs: pd.DataFrame):
    """Score vs learning rate (or the first numeric swept setting), one line per other setting;
    ``None`` when no numeric setting varies (an optimizer-only sweep)."""
    from seisphase.plots_results import plot_sweep

    candidates = [c for c in runs.attrs["config_columns"] if c != "seed"]
    if "hidden" in candidates and "depth" in runs.columns:
        candidates[candidates.index("hidden"):candidates.index("hidden") + 1] = ["width", "depth"]
    varied = [c for c in candidates if runs[c].astype(str).nunique() > 1]
    numeric = [c for c in varied if pd.api.types.is_numeric_dtype(runs[c])]
    x = "lr" if "lr" in numeric else next(iter(numeric), None)
    if x is None:
        return None
    return plot_sweep(runs, x=x, hue=[c for c in varied if c != x] or None)


def write_figures(runs: pd.DataFrame, out_dir) -> list[Path]:
    """Score vs learning rate (one line per width / depth) and the best settings' learning curves.

    Writes ``sweep_accuracy.png`` (when a setting varies) and ``learning_curves.png`` (one
    curve per setting, its lowest seed, the best eight) into ``out_dir``; returns their paths.
    """
    from seisphase.plots import save_figure
    from seisphase.plots_results import plot_learning_curves

    written = []
    fig = sweep_figure(runs)
    if fig is not None:
        written.append(save_figure(fig, Path(out_dir) / "sweep_accuracy.png"))
    table = aggregate(runs).head(_MAX_CURVES)
    first_seed = runs.sort_values("seed") if "seed" in runs.columns else runs
    first_seed = first_seed.drop_duplicates("setting").set_index("setting")
    histories = {}
    for _, row in table.iterrows():
        history = first_seed.loc[row["setting"], "history"]
        if history and history.get("train_loss"):
            name = describe_config({c: row[c] for c in table.attrs["config_columns"]}) or "all runs"
            histories[name] = history
    if histories:
        fig = plot_learning_curves(histories)
        written.append(save_figure(fig, Path(out_dir) / "learning_curves.png"))
    return written
