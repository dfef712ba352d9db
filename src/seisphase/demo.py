"""The main job: synthetic data → the lab's models and every other model → scores on synthetic
and real windows → the best model, fine-tuned on the real windows (scored by station-grouped
cross-validation), saved with figures and a report.

``seisphase demo`` (and ``make demo``) run :func:`run_demo`. Every stage prints one line.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from seisphase._atomic import atomic_write_text
from seisphase.calibration import calibrate
from seisphase.classifier import PhaseClassifier
from seisphase.crossval import cross_validate, grouped_fine_tune, vertical_only
from seisphase.data.npz import load_windows
from seisphase.data.split import split_windows
from seisphase.data.windows import Windows
from seisphase.evaluation import evaluate
from seisphase.features import FeatureConfig
from seisphase.models import MODELS
from seisphase.training import TrainConfig

REAL_DEV = Path(__file__).parent / "_data" / "real_dev.npz"  # shipped with the package
REAL_RECORDS = Path(__file__).parent / "_data" / "real_dev_continuous"


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo (``quick`` shrinks everything for tests)."""

    n_synthetic: int = 12000
    seed: int = 0
    mlp_epochs: int = 60
    cnn_epochs: int = 6
    cnn_width: float = 1.0
    finetune_epochs: int = 30  # on the real windows
    picker_steps: int = 3000
    picker_records: int = 4000  # synthetic 60-s records the picker trains on
    picker_finetune_steps: int = 1500  # per station half of the real records (cross-fit)
    synthetic_records: int = 2  # continuous records scanned by the picker ...
    synthetic_record_s: float = 1800.0  # ... this long each (45 events per hour)
    quick: bool = False


QUICK = DemoConfig(n_synthetic=1500, mlp_epochs=8, cnn_epochs=1, cnn_width=0.25,
                   finetune_epochs=2, picker_steps=60, picker_records=40,
                   picker_finetune_steps=2, synthetic_records=1, synthetic_record_s=300.0, quick=True)


def model_zoo(cfg: DemoConfig) -> dict[str, PhaseClassifier]:
    """The lab's models (linear on one channel's spectrum, 2- and 3-layer nets), their
    three-component and time–frequency versions, and the CNN when it is available."""
    lab = TrainConfig(epochs=cfg.mlp_epochs, batch_size=32, optimizer="adam", lr=1e-3,
                      patience=8, seed=cfg.seed)
    one = FeatureConfig(kind="logspectrum", components="E")  # the lab used channel 1 of N,E,Z
    spec = FeatureConfig(kind="logspectrum")
    tf = FeatureConfig(kind="logspectrogram")
    zoo = {
        "linear (lab: 1 channel)": PhaseClassifier("linear", features=one, train=lab),
        "mlp 40 (lab: 1 channel)": PhaseClassifier("mlp", hidden=(40,), features=one, train=lab),
        "linear 3-C spectrum": PhaseClassifier("linear", features=spec, train=lab),
        "mlp 40": PhaseClassifier("mlp", hidden=(40,), features=spec, train=lab),
        "mlp 100": PhaseClassifier("mlp", hidden=(100,), features=spec, train=lab),
        "mlp 40-40": PhaseClassifier("mlp", hidden=(40, 40), features=spec, train=lab),
        "linear spectrogram": PhaseClassifier("linear", features=tf, train=lab),
        "mlp 100 spectrogram": PhaseClassifier("mlp", hidden=(100,), features=tf, train=lab),
    }
    if "cnn" in MODELS:
        from seisphase.augment import AugmentConfig

        cnn_train = TrainConfig(epochs=cfg.cnn_epochs, batch_size=64, optimizer="adamw", lr=2e-3,
                                weight_decay=1e-4, one_cycle=True, class_weighted=True,
                                patience=None, seed=cfg.seed)
        zoo["cnn (GPD)" if cfg.cnn_width == 1 else f"cnn (GPD x{cfg.cnn_width:g})"] = PhaseClassifier(
            "cnn", model_params={"width": cfg.cnn_width},
            features=FeatureConfig(kind="waveform", preprocess={"normalize": "peak"}),
            # Half of each batch vertical-only: a quarter of the real windows come from
            # single-component stations (benchmarks/cnn_real_cv.py --vertical-fraction 0.5).
            train=cnn_train, augment=asdict(AugmentConfig(dropout=0.5)))
    return zoo


def _scores(clf: PhaseClassifier, windows: Windows) -> dict:
    result = evaluate(clf, windows)
    return {"accuracy": result.accuracy, "macro_f1": result.macro_f1, "mcc": result.mcc,
            "confusion": result.confusion}


def format_comparison(rows: list[dict]) -> str:
    """Models × (synthetic test accuracy, real dev accuracy, macro-F1, fine-tuned CV) as Markdown."""
    head = ("| model | params | synthetic test acc | real dev acc | real dev macro-F1 "
            "| real vertical-only acc | fine-tuned on real, station CV (vertical-only) | train s |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        cv = (r.get("real_dev_finetuned_cv") or {}).get("summary", {}).get("fine_tuned")
        tuned = (f"{cv['all']['mean']:.3f} ± {cv['all']['std']:.3f} "
                 f"({cv['vertical']['pooled']:.3f})" if cv else "–")
        lines.append(
            f"| {r['name']} | {r['n_parameters']:,} | {r['synthetic_test']['accuracy']:.3f} | "
            f"{r['real_dev']['accuracy']:.3f} | {r['real_dev']['macro_f1']:.3f} | "
            f"{r['real_vertical_only_accuracy']:.3f} | {tuned} | {r['seconds']:.1f} |")
    return "\n".join(lines)


def _say(msg: str) -> None:
    print(f"[demo] {msg}", file=sys.stderr, flush=True)


def run_demo(out: str | Path, cfg: DemoConfig = DemoConfig(), *, progress: bool = True) -> dict:
    """Run the main job and write everything under ``out``; returns the summary dict.

    Writes ``out/data/synthetic.npz``, ``out/models/<name>/`` for every model,
    ``out/models/best`` (the final model), ``out/metrics.json``, ``out/comparison.md``,
    ``out/figures/*.png`` and ``out/report.html`` (when the report module is available).
    """
    from seisphase.data.npz import save_windows
    from seisphase.data.synthetic import make_synthetic

    out = Path(out)
    t_start = time.perf_counter()
    _say(f"generating {cfg.n_synthetic} synthetic windows (seed {cfg.seed})")
    syn = make_synthetic(cfg.n_synthetic, seed=cfg.seed)
    save_windows(out / "data" / "synthetic.npz", syn)
    split = split_windows(syn, seed=cfg.seed, group_by="event_id")
    train, val, test = (syn.subset(i) for i in (split.train, split.validation, split.test))
    _say(f"split by event: {split.summary()['sizes']}")
    real = load_windows(REAL_DEV).with_components("ZNE")
    vert = vertical_only(real)
    _say(f"real dev windows: {real.n_windows} ({int(vert.sum())} vertical-only)")

    rows, models = [], {}
    for name, clf in model_zoo(cfg).items():
        t0 = time.perf_counter()
        clf.progress = progress
        clf.fit(train, validation=val, split_info=split.summary())
        seconds = time.perf_counter() - t0
        row = {"name": name, "model": clf.model, "n_parameters": clf.n_parameters,
               "features": clf.extractor_.config.kind, "seconds": seconds,
               "epochs": clf.history_.n_epochs,
               "synthetic_test": _scores(clf, test), "real_dev": _scores(clf, real),
               "real_vertical_only_accuracy": clf.score(real.subset(vert)) if vert.any() else float("nan")}
        clf.info_["metrics"] = {"synthetic_test": row["synthetic_test"], "real_dev": row["real_dev"]}
        clf.info_["data"]["sources"] = [f"synthetic:{cfg.n_synthetic}:{cfg.seed}"]
        clf.save(out / "models" / _slug(name))
        rows.append(row)
        models[name] = clf
        _say(f"{name:<26} synthetic {row['synthetic_test']['accuracy']:.3f}  real "
             f"{row['real_dev']['accuracy']:.3f}  ({seconds:.1f} s, {row['epochs']} epochs)")

    best_row = max(rows, key=lambda r: (r["real_dev"]["accuracy"], r["synthetic_test"]["accuracy"]))
    best_name = best_row["name"]
    tune = finetune_config(models[best_name], cfg)
    _say(f"best on real dev windows: {best_name}; fine-tuning on real windows, scored by "
         f"station-grouped 5-fold cross-validation")
    cv = cross_validate(models[best_name], real, tune, seeds=[cfg.seed], class_prior=True)
    best_row["real_dev_finetuned_cv"] = cv.to_dict()
    s_all, s_vert = cv.summary("fine_tuned", "all"), cv.summary("fine_tuned", "vertical")
    _say(f"{best_name} fine-tuned, station-grouped CV: {s_all['mean']:.3f} ± {s_all['std']:.3f} "
         f"(vertical-only {s_vert['pooled']:.3f}); synthetic only {cv.summary('zero_shot')['mean']:.3f}")
    best = _finetune(models[best_name], real, tune, cfg.seed)
    best.info_["metrics"] = {
        "synthetic_test": _scores(best, test),
        "real_dev_finetuned_cv": cv.to_dict()["summary"],
        "note": "pre-trained on synthetic windows, then fine-tuned on all real dev windows: its "
                "held-out real-dev score is the station-grouped cross-validation of the same "
                "recipe (real_dev_finetuned_cv)",
    }
    best.info_["data"]["sources"] = ["real_dev.npz"]
    best.save(out / "models" / "best")

    table = format_comparison(rows)
    atomic_write_text(out / "comparison.md", table + "\n")
    _figures(out, syn, real, models, rows, best, test)
    scan_scores = _scan_stage(out, cfg, progress)
    summary = {"config": dict(cfg.__dict__), "rows": rows,
               "best": {"name": best_name, "path": str(out / "models" / "best"),
                        "synthetic_test": best.info_["metrics"]["synthetic_test"]},
               "scan": scan_scores, "seconds": time.perf_counter() - t_start}
    atomic_write_text(out / "metrics.json", json.dumps(summary, indent=2))
    _report(out)  # reads metrics.json
    print(table)
    print(f"\nbest model: {best_name} → {out / 'models' / 'best'} "
          f"(pre-trained on synthetic, fine-tuned on the real windows); total {summary['seconds']:.0f} s")
    return summary


def finetune_config(clf: PhaseClassifier, cfg: DemoConfig) -> TrainConfig:
    """How the demo fine-tunes a pre-trained model on the real windows: the classification head
    only (a few hundred windows), a one-cycle schedule peaking at 1e-3, a class-weighted loss;
    the real class mix is then restored by :meth:`PhaseClassifier.set_class_prior`."""
    return replace(clf.train_config_, epochs=cfg.finetune_epochs, batch_size=32, lr=1e-3,
                   one_cycle=True, patience=None, class_weighted=True, trainable="head")


def _finetune(clf: PhaseClassifier, real: Windows, tune: TrainConfig, seed: int) -> PhaseClassifier:
    """The final model: ``clf`` fine-tuned on the real windows the way the cross-validation
    scores it; the station-grouped 15 % held out to choose the epoch also fits the temperature."""
    tuned, split = grouped_fine_tune(clf, real, tune, seed=seed, class_prior=True)
    calibrate(tuned, real.subset(split.validation))
    return tuned


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


def _figures(out: Path, syn, real, models, rows, best, test) -> None:
    from seisphase import plots
    from seisphase.evaluation import evaluate_predictions

    figs = out / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    made = []
    jobs = {
        "examples_synthetic.png": lambda: plots.plot_examples(syn),
        "examples_real.png": lambda: plots.plot_examples(real),
        "median_spectra_synthetic.png": lambda: plots.plot_median_spectra(syn),
        "median_spectra_real.png": lambda: plots.plot_median_spectra(real),
        "history_best.png": lambda: plots.plot_history(best.history_),
        "confusion_best_synthetic_test.png": lambda: plots.plot_confusion(
            evaluate_predictions(test.labels, best.predict(test)).confusion),
        "activations.png": plots.plot_activations,
        "learning_curves.png": lambda: plots.plot_learning_curves(
            {name: m.history_ for name, m in models.items()}),
    }
    for name, make in jobs.items():
        fig = make()
        plots.save_figure(fig, figs / name)
        made.append(name)
    _say(f"wrote {len(made)} figures to {figs}")


def _scan_stage(out: Path, cfg: DemoConfig, progress: bool) -> dict:
    """Train the scan-ready picker, scan synthetic and real continuous records, score the picks.

    Writes ``OUT/models/picker``, ``OUT/scan/{synthetic,real,real_crossfit}_picks.csv`` and
    ``.xml`` (QuakeML), ``OUT/scan/scores.json`` and a figure per scanned real station (first
    three). ``real_crossfit``: the picker fine-tuned on one station half of the real records
    and picking the other (:func:`~seisphase.picker_crossfit.cross_fit_picker`).
    """
    import obspy
    import pandas as pd

    from seisphase.data.continuous_synthetic import EVALUATION_EVENTS_PER_HOUR, make_continuous
    from seisphase.pick_scoring import format_scores, match_picks, stalta_picks
    from seisphase.picker import PickerConfig, train_picker
    from seisphase.picks import extract_picks, picks_to_dataframe, write_picks_csv, write_quakeml
    from seisphase.plots import plot_scan, save_figure
    from seisphase.scan import scan

    scan_dir = out / "scan"
    (scan_dir / "figures").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    picker = train_picker(PickerConfig(max_steps=cfg.picker_steps, n_traces=cfg.picker_records,
                                       seed=cfg.seed), progress=False)
    picker.save(out / "models" / "picker")
    _say(f"picker trained: {picker.history_['steps']} steps in {time.perf_counter() - t0:.0f} s")
    thresholds = picker.thresholds()
    scores = {}

    stream, reference = make_continuous(
        cfg.synthetic_records, cfg.synthetic_record_s, seed=cfg.seed + 7, as_stream=True,
        events_per_trace=cfg.synthetic_record_s * EVALUATION_EVENTS_PER_HOUR / 3600)
    probs, report = scan(stream, picker, stride=4)
    picks = extract_picks(probs, **thresholds)
    write_picks_csv(picks, scan_dir / "synthetic_picks.csv")
    write_quakeml(picks, scan_dir / "synthetic_picks.xml")
    scores["synthetic"] = {tol: match_picks(picks_to_dataframe(picks), reference, tol,
                                            report["hours"]) for tol in (0.5, 0.1)}

    reference = pd.read_csv(REAL_RECORDS / "picks.csv")
    files = sorted(reference["file"].unique())
    streams = [obspy.read(str(REAL_RECORDS / f)) for f in files]
    hours = sum(st[0].stats.npts / st[0].stats.sampling_rate / 3600 for st in streams)
    t1 = time.perf_counter()
    real_picks = []
    for k, st in enumerate(streams):
        probs, _ = scan(st, picker, stride=4)
        found = extract_picks(probs, **thresholds)
        real_picks += found
        if k < 3:
            save_figure(plot_scan(st, probs, found, station=files[k].split("/")[-1]),
                        scan_dir / "figures" / f"real_{k}.png", dpi=100)
    seconds = time.perf_counter() - t1
    write_picks_csv(real_picks, scan_dir / "real_picks.csv")
    write_quakeml(real_picks, scan_dir / "real_picks.xml")
    base = picks_to_dataframe([q for st in streams for q in stalta_picks(st)])
    scores["real"] = {tol: match_picks(picks_to_dataframe(real_picks), reference, tol, hours)
                      for tol in (0.5, 0.1)}
    scores["real_stalta"] = {tol: match_picks(base, reference, tol, hours) for tol in (0.5, 0.1)}
    scores["real_scan_seconds"] = seconds
    scores["real_hours"] = hours
    print(format_scores(scores["real"][0.5], f"\npicker on {len(files)} real records "
                                             f"({hours:.2f} h, scanned in {seconds:.1f} s), 0.5 s"))
    print(format_scores(scores["real_stalta"][0.5], "\nSTA/LTA on the same records, 0.5 s"))
    from seisphase.picker_crossfit import cross_fit_picker

    t2 = time.perf_counter()
    fitted = cross_fit_picker([REAL_RECORDS / f for f in files], reference, picker,
                              steps=cfg.picker_finetune_steps)
    write_picks_csv(fitted.picks, scan_dir / "real_crossfit_picks.csv")
    write_quakeml(fitted.picks, scan_dir / "real_crossfit_picks.xml")
    scores["real_crossfit"] = fitted.scores
    scores["real_crossfit_thresholds"] = {f"half {h}": list(t) for h, t in fitted.thresholds.items()}
    atomic_write_text(scan_dir / "scores.json", json.dumps(scores, indent=2, default=float))
    print(format_scores(fitted.scores[0.5], f"\npicker fine-tuned on the other station half's "
                                            f"records (cross-fit, {time.perf_counter() - t2:.0f} s), 0.5 s"))
    _say(f"scan results in {scan_dir}")
    return {"real": scores["real"][0.5], "real_stalta": scores["real_stalta"][0.5],
            "real_crossfit": scores["real_crossfit"][0.5], "synthetic": scores["synthetic"][0.5]}


def _report(out: Path) -> None:
    from seisphase.report import write_report

    path = write_report(out, out / "report.html")
    _say(f"wrote {path}")
