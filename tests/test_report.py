"""The HTML report: sections for what a run directory holds, self-contained, rendered by Chromium."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from seisphase.cli import main
from seisphase.report import write_report

CONFUSION = [[8, 1, 1], [2, 7, 1], [0, 1, 9]]
HISTORY = {"train_loss": [1.0, 0.8, 0.7], "train_accuracy": [0.4, 0.6, 0.7],
           "val_loss": [1.1, 0.9, 0.8], "val_accuracy": [0.4, 0.5, 0.6],
           "seconds": [0.1, 0.1, 0.1], "best_epoch": 2, "stopped_early": False}
SPLIT = {"method": "grouped by event_id", "group_by": "event_id", "seed": 0,
         "fractions": [0.7, 0.15, 0.15], "sizes": {"train": 70, "validation": 15, "test": 15}}
SCORES = {"precision": 0.9, "recall": 0.8, "f1": 0.85, "n_picks": 10, "n_reference": 11,
          "residual_mean": 0.01, "residual_std": 0.1, "residual_mae": 0.08,
          "false_per_hour": 1.0}


def _png(path: Path, seed: int = 0) -> None:
    from matplotlib.image import imsave

    path.parent.mkdir(parents=True, exist_ok=True)
    imsave(path, np.random.default_rng(seed).random((24, 32, 3)))


def _folders(root: Path) -> Path:
    """Figures, explanations, sweep and scan outputs: nothing that needs drawing."""
    for i, name in enumerate(("figures/examples_synthetic.png", "figures/activations.png",
                              "figures/odd_one.png", "explanations/saliency_P.png",
                              "sweep/figures/lr.png", "scan/XX.AAA.png")):
        _png(root / name, i)
    (root / "figures" / "broken.png").write_bytes(b"not a png")
    (root / "sweep" / "results.jsonl").write_text("\n".join(
        [json.dumps({"lr": lr, "hidden": [h], "seed": 0, "val_accuracy": 0.5 + lr + h / 1000})
         for lr in (1e-3, 1e-2) for h in (40, 100)] + ["{truncated"]) + "\n")
    (root / "scan" / "picks.csv").write_text(
        "trace_id,network,station,station_id,phase,time,probability,uncertainty_s\n"
        "XX.AAA..HHZ,XX,AAA,XX.AAA,P,2024-01-01T00:00:10.000000Z,0.91,0.2\n"
        "XX.AAA..HHZ,XX,AAA,XX.AAA,S,2024-01-01T00:00:14.000000Z,0.82,0.3\n"
        "XX.BBB..HHZ,XX,BBB,XX.BBB,P,2024-01-01T00:00:11.000000Z,0.77,0.2\n")
    (root / "scan" / "scores.json").write_text(json.dumps(
        {"seisphase": {"P": SCORES, "S": SCORES}, "stalta": {"P": SCORES}}))
    return root


def _model(root: Path, name: str, **extra) -> None:
    cfg = {"format": "seisphase-model", "format_version": 1,
           "model": {"name": "linear", "params": {}, "n_parameters": 243},
           "features": {"config": {"kind": "logspectrum"}}, "history": HISTORY, **extra}
    (root / "models" / name).mkdir(parents=True)
    (root / "models" / name / "model.json").write_text(json.dumps(cfg))


def _rich(root: Path) -> Path:
    """A demo-like run directory built by hand: metrics rows, model files, folders."""
    _folders(root)
    scores = {"accuracy": 0.8, "macro_f1": 0.79, "mcc": 0.7, "confusion": CONFUSION}
    rows = [{"name": name, "model": "linear", "n_parameters": 243, "features": "logspectrum",
             "seconds": 1.5, "epochs": 3, "synthetic_test": scores, "real_dev": scores,
             "real_vertical_only_accuracy": float("nan")}
            for name in ("linear (lab: 1 channel)", "mlp 40")]
    (root / "metrics.json").write_text(json.dumps(
        {"rows": rows, "best": {"name": "mlp 40", "synthetic_test": scores}, "seconds": 42.0}))
    _model(root, "linear-lab-1-channel", split=SPLIT)
    _model(root, "mlp-40", split=SPLIT)
    _model(root, "best", metrics={"synthetic_test": scores, "note": "not held out"},
           calibration={"temperature": 1.3, "ece_before": 0.08, "ece_after": 0.02,
                        "n_windows": 15})
    return root


def _sections(page: str) -> set[str]:
    return set(re.findall(r"<section id='([a-z]+)'>", page))


def _check_self_contained(page: str) -> list[bytes]:
    """No network reference anywhere; every image a data URI that decodes to an image."""
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    for ref in re.findall(r"""href=['"]([^'"]*)['"]""", page):
        assert ref.startswith("#"), ref
    sources = re.findall(r"""<img [^>]*src=['"]([^'"]*)['"]""", page)
    assert len(sources) == page.count("<img ")
    images = []
    for src in sources:
        assert src.startswith("data:image/png;base64,"), src[:40]
        images.append(base64.b64decode(src.split(",", 1)[1], validate=True))
        assert images[-1].startswith(b"\x89PNG")
    return images


# -- fast: nothing to draw ---------------------------------------------------------------------
def test_folders_only_report_is_self_contained(tmp_path):
    run = _folders(tmp_path / "run")
    with pytest.warns(UserWarning, match="was left out") as caught:
        out = write_report(run, tmp_path / "r.html")
    page = out.read_text()
    assert len(caught) == 2
    assert "figures/broken.png was left out: not a valid image/png file" in page
    assert _sections(page) == {"data", "explanations", "sweep", "scan", "how", "figures", "notes"}
    assert len(_check_self_contained(page)) == 6  # the broken PNG is left out, not embedded
    assert "results.jsonl line 5 was left out: not JSON" in page
    assert "4 runs, best val_accuracy first" in page
    assert "3 picks at 2 station(s)" in page
    assert "<h4>seisphase</h4>" in page and "<h4>stalta</h4>" in page  # both score tables
    assert "Examples synthetic" not in page  # known figures get written captions
    assert "Example synthetic windows" in page and "Odd one." in page


def test_missing_or_empty_run_dir_is_an_error_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert "nope: no such directory" in capsys.readouterr().err
    (tmp_path / "empty" / "models").mkdir(parents=True)
    assert main(["report", str(tmp_path / "empty"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"seisphase: error: .*empty holds nothing to report: expected "
                        r"metrics\.json, .*\n", err)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_output_that_is_a_directory_is_an_error(tmp_path, capsys):
    run = _folders(tmp_path / "run")
    assert main(["report", str(run), "--out", str(tmp_path)]) == 2
    assert "is a directory; give the report's file name" in capsys.readouterr().err


# -- slow: figures drawn from the saved numbers ------------------------------------------------
@pytest.fixture(scope="module")
def rich_report(tmp_path_factory):
    root = _rich(tmp_path_factory.mktemp("rich") / "run")
    # the CLI prints two warnings: the broken PNG and the truncated JSON line
    assert main(["report", str(root), "--out", str(root / "report.html")]) == 0
    return root / "report.html"


@pytest.mark.slow
def test_every_section_of_a_full_run_directory(rich_report):
    page = rich_report.read_text()
    assert _sections(page) == {"overview", "data", "models", "training", "metrics",
                               "calibration", "explanations", "sweep", "scan", "how",
                               "figures", "notes"}
    images = _check_self_contained(page)
    # 6 image files, then drawn: the final model's history, the learning curves, 3 folded
    # per-model histories and 5 confusion matrices (final model + 2 rows x 2 data sets)
    assert len(images) == 6 + 1 + 1 + 3 + 5
    assert "mlp 40" in page and "final model (best)" in page and "<tr class='best'>" in page
    assert "No reliability diagram: the run directory does not say which windows" in page
    assert "1.300" in page and "0.080" in page  # temperature and ECE before
    assert "not held out" in page and "—" in page  # the note and the NaN


@pytest.mark.slow
def test_sweep_figure_is_drawn_when_missing(tmp_path):
    root = _folders(tmp_path / "run")
    shutil.rmtree(root / "sweep" / "figures")
    with pytest.warns(UserWarning):
        page = write_report(root, tmp_path / "r.html").read_text()
    assert "val_accuracy against lr (mean" in page


@pytest.mark.slow
def test_report_of_a_train_model_directory(tmp_path, capsys):
    model = tmp_path / "m"
    assert main(["train", "synthetic:300:2", "--model", "linear", "--epochs", "2", "--quiet",
                 "--out", str(model)]) == 0
    assert main(["report", str(model)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"wrote {model / 'report.html'}")
    page = (model / "report.html").read_text()
    assert _sections(page) == {"overview", "data", "models", "training", "metrics",
                               "calibration", "how"}
    assert "Final model on the held-out test split" in page
    with np.load(model / "split.npz") as split:
        n_test = split["test"].size
    assert f"Reliability of the final model on the {n_test} windows of the test split" in page
    assert "synthetic:300:2" in page
    _check_self_contained(page)


@pytest.fixture(scope="module")
def demo_dir(quick_demo):
    out, code, _ = quick_demo
    assert code == 0
    return out


@pytest.mark.slow
def test_demo_writes_a_complete_report(demo_dir):
    page = (demo_dir / "report.html").read_text()
    assert {"overview", "data", "models", "training", "metrics", "calibration",
            "how"} <= _sections(page)
    rows = json.loads((demo_dir / "metrics.json").read_text())["rows"]
    assert all(r["name"] in page for r in rows)
    assert "Reliability of the final model on the 225 held-out synthetic test windows" in page
    # the best model's fine-tuning, scored on unseen stations, with its pooled counts
    best = next(r for r in rows if r.get("real_dev_finetuned_cv"))
    pooled = best["real_dev_finetuned_cv"]["summary"]["fine_tuned"]["all"]
    assert pooled["windows"] == 394
    assert "5-fold cross-validation grouped by <code>station_id</code>" in page
    assert f"{pooled['correct']}/394" in page
    assert len(_check_self_contained(page)) >= len(list((demo_dir / "figures").glob("*.png")))


@pytest.mark.slow
def test_missing_demo_figures_are_drawn_from_model_files(demo_dir, tmp_path):
    run = tmp_path / "demo"
    shutil.copytree(demo_dir, run, ignore=shutil.ignore_patterns("*.npz", "*.png", "*.html"))
    page = write_report(run, run / "report.html").read_text()
    assert "Training of the final model: loss and accuracy per epoch (dot" in page
    assert "Every model&#x27;s validation (solid) and training (dashed) curves." in page
    assert "Final model on the held-out synthetic test windows." in page
    assert "No reliability diagram" in page  # data/synthetic.npz was not copied
    _check_self_contained(page)


# -- slow: a real browser --------------------------------------------------------------------------
_PROBE = (  # counts broken images and errors, then writes them into the title
    "<script>var errors=0;window.addEventListener('error',function(){errors++},true);"
    "document.addEventListener('securitypolicyviolation',function(){errors++});"
    "window.addEventListener('load',function(){var bad=0,im=document.images;"
    "for(var i=0;i<im.length;i++){if(!im[i].complete||im[i].naturalWidth===0)bad++}"
    "document.title='imgs:'+im.length+':broken:'+bad+':errors:'+errors});</script>")


def _chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("chromium is not installed (CI installs the Debian package 'chromium')")
    return binary


def _browse(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["rich_report", "demo_dir"])
def test_chromium_renders_every_image_without_errors(which, request, tmp_path):
    binary = _chromium()
    report = request.getfixturevalue(which)
    report = report / "report.html" if report.is_dir() else report
    page = report.read_text()
    # The probe goes before the page's Content-Security-Policy (which forbids scripts), so the
    # policy itself stays as written and blocks anything the page would fetch.
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("<meta charset='utf-8'>", "<meta charset='utf-8'>" + _PROBE, 1))
    n_images = page.count("<img ")
    t0 = time.perf_counter()
    shot = tmp_path / "shot.png"
    done = _browse(binary, tmp_path / "p1", f"--screenshot={shot}", "--window-size=1280,2000",
                   report.as_uri())
    assert shot.exists(), done.stderr[-2000:]
    done = _browse(binary, tmp_path / "p2", "--enable-logging=stderr", "--v=0", "--dump-dom",
                   probed.as_uri())
    seconds = time.perf_counter() - t0
    title = re.search(r"<title>(.*?)</title>", done.stdout)
    assert title and title.group(1) == f"imgs:{n_images}:broken:0:errors:0", done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (2000, 1280) and pixels.std() > 20  # text, tables and figures
    assert seconds < 20
