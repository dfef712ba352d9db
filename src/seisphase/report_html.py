"""HTML building blocks of :mod:`seisphase.report`: escaping, numbers, tables, embedded figures,
captions, the page around the sections, its CSS and the explanatory texts for students.

Everything here writes self-contained HTML: images become ``data:`` URIs, the CSS is inline and
the Content-Security-Policy forbids fetching anything.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import numpy as np

from seisphase.plots import PHASE_COLORS

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"  # the page fetches nothing
NARROW = ("confusion", "reliability", "activations")  # figures shown at most 680 px wide
CAPTIONS = {
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


class Html(str):
    """Text that is already HTML (not escaped again)."""


def esc(value) -> str:
    return value if isinstance(value, Html) else html.escape(str(value))


def is_number(x) -> bool:
    return isinstance(x, (int, float, np.number)) and not isinstance(x, bool)


def fmt_num(x, digits: int = 3) -> str:
    if x is None:
        return "—"
    if not is_number(x):
        return esc(x)
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    return f"{x:.{digits}f}" if math.isfinite(x) else "—"


def html_table(head, rows, *, highlight=None, bars=()) -> str:
    """An HTML table (numbers right-aligned); columns in ``bars`` get a 0–1 bar behind them."""
    out = ["<div class='scroll'><table>"]
    if any(head):
        out += ["<thead><tr>", *(f"<th>{esc(h)}</th>" for h in head), "</tr></thead>"]
    out.append("<tbody>")
    for i, row in enumerate(rows):
        out.append("<tr class='best'>" if highlight == i else "<tr>")
        for j, v in enumerate(row):
            attrs = " class='n'" if is_number(v) else ""
            if j in bars and is_number(v) and math.isfinite(v):
                pct = round(100 * min(max(float(v), 0.0), 1.0))
                attrs += (f" style='background:linear-gradient(90deg,#cfe3f3 {pct}%,"
                          f"transparent {pct}%)'")
            out.append(f"<td{attrs}>{fmt_num(v) if is_number(v) or v is None else esc(v)}</td>")
        out.append("</tr>")
    return "".join(out) + "</tbody></table></div>"


def phase_badge(p: str) -> Html:
    color = PHASE_COLORS.get(p, "#444")
    return Html(f"<span class='ph' style='background:{color}'>{esc(p)}</span>")


def embed_image(data: bytes, mime: str, caption: str, narrow: bool = False) -> str:
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return (f"<figure{' class=narrow' if narrow else ''}><img src='{uri}' alt='{esc(caption)}'>"
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def embed_plot(figure, caption: str, dpi: int = 100, narrow: bool = False) -> str:
    """A matplotlib figure embedded as PNG."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi)
    return embed_image(buf.getvalue(), "image/png", caption, narrow)


def default_caption(path: Path) -> str:
    words = path.stem.replace("_", " ").replace("-", " ")
    return CAPTIONS.get(path.stem, words[:1].upper() + words[1:] + ".")


HOW = """
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

TIMING = """
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

CSS = """
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


def page(name: str, subtitle: str, sections) -> str:
    """The whole HTML page: header, navigation and one ``<section>`` per (key, title, body).

    ``name`` and ``subtitle`` are escaped; the bodies are HTML already.
    """
    name = esc(name)
    return "".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>seisphase report: {name}</title><style>{CSS}</style></head><body>",
        f"<header><h1>seisphase report: {name}</h1><p>{esc(subtitle)}</p></header><nav>",
        *(f"<a href='#{k}'>{esc(t)}</a>" for k, t, _ in sections if k != "overview"),
        "</nav><main>",
        *(f"<section id='{k}'><h2>{esc(t)}</h2>{b}</section>" for k, t, b in sections),
        "</main></body></html>\n"])
