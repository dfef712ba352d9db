"""One self-contained HTML report of a run directory (``seisphase demo``, ``seisphase train``...).

:func:`write_report` reads whatever the directory holds — ``metrics.json``,
``models/*/model.json`` (or a ``model.json`` at the top: a ``seisphase train`` model directory),
``figures/*.png``, ``data/synthetic.npz``, ``explanations/``, ``sweep/`` and ``scan/`` — and
writes one HTML file: images embedded as ``data:`` URIs, inline CSS, no JavaScript and no network
references (a Content-Security-Policy forbids fetching anything), so it opens offline and can be
mailed or archived as it is. A section whose inputs are missing is left out; a missing figure is
drawn from the saved numbers where they allow it.

This module owns the assembly of the page (:func:`write_report`, the order of the sections) and
the sections on what other commands leave in the directory (``sweep/``, ``scan/``,
``explanations/``), the fixed "How it works" section and the figures no section used. The
sections on the run's data and models are built in :mod:`seisphase.report_sections`.

>>> from seisphase.report import write_report                            # doctest: +SKIP
>>> write_report("seisphase-demo", "seisphase-demo/report.html")        # doctest: +SKIP
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

from seisphase import __version__
from seisphase._atomic import atomic_write_text
from seisphase.errors import ConfigError, DataFormatError, SeisphaseError
from seisphase.report_html import (
    CAPTIONS,
    HOW,
    TIMING,
    default_caption,
    embed_plot,
    esc,
    html_table,
    is_number,
    page,
    phase_badge,
)
from seisphase.report_run import (
    RunDir,
    image_files,
    load_run,
    scan_tables,
    sweep_results,
)
from seisphase.report_sections import (
    calibration_section,
    data_section,
    image_figure,
    metrics_section,
    models_section,
    overview_section,
    take_figure,
    training_section,
)


def _folder_figures(run: RunDir, name: str, caption=default_caption) -> str:
    folder = run.root / name
    return ("".join(image_figure(run, p, caption(p)) for p in image_files(folder))
            if folder.is_dir() else "")


def _sweep(run: RunDir) -> str:
    if not (run.root / "sweep").is_dir():
        return ""
    rows, cols, score = sweep_results(run)
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


def _sweep_plot(run: RunDir, rows: list, score: str) -> str:
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


def _scan(run: RunDir) -> str:
    folder = run.root / "scan"
    if not folder.is_dir():
        return ""
    parts = []
    for path, df in scan_tables(run):
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


def _how(run: RunDir) -> str:
    figure = take_figure(run, "activations")
    if not figure:
        from seisphase.plots import plot_activations

        figure = embed_plot(plot_activations(), CAPTIONS["activations"], narrow=True)
    return HOW + figure + TIMING


def _other(run: RunDir) -> str:
    return "".join(image_figure(run, p) for s, p in sorted(run.figures.items())
                   if s not in run.used)


_SECTIONS = (("overview", "Overview", overview_section), ("data", "Data", data_section),
             ("models", "Models", models_section),
             ("training", "Training curves", training_section),
             ("metrics", "Metrics and confusion matrices", metrics_section),
             ("calibration", "Calibration", calibration_section),
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
    run = load_run(root)
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
    return atomic_write_text(out_path, html)
