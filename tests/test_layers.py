"""Imports go one way: data → features → models → training → classifier → tools → cli."""

import ast
from pathlib import Path

SRC = Path(__file__).parent.parent / "src" / "seisphase"

# Lower index = lower layer. A module may import only from its own layer or below.
LAYERS = [
    {"errors", "_atomic", "data"},
    {"features", "preprocess", "augment"},
    {"models"},
    {"training", "training_config"},
    {"classifier", "classifier_inputs", "classifier_io", "calibration", "card"},
    {"evaluation", "crossval", "scan", "picks", "pick_scoring", "sweep", "sweep_results", "plots",
     "plots_results", "explain", "picker", "picker_model", "picker_crossfit"},
    {"report", "report_html", "report_run", "report_sections", "demo"},
    {"cli", "__main__"},
]


def _layer(name: str) -> int:
    for i, layer in enumerate(LAYERS):
        if name in layer:
            return i
    raise AssertionError(f"module seisphase.{name} is in no layer; add it to LAYERS")


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("seisphase"):
            yield node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("seisphase"):
                    yield alias.name


def test_imports_are_one_way():
    bad = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).with_suffix("").parts
        if rel == ("__init__",):
            continue
        own = _layer(rel[0])
        for mod in _imports(path):
            parts = mod.split(".")
            if len(parts) < 2:
                continue
            if _layer(parts[1]) > own:
                bad.append(f"{'/'.join(rel)} imports {mod}")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_data_layer_never_imports_torch():
    for path in (SRC / "data").rglob("*.py"):
        names = {n.names[0].name.split(".")[0] for n in ast.walk(ast.parse(path.read_text()))
                 if isinstance(n, ast.Import)}
        names |= {n.module.split(".")[0] for n in ast.walk(ast.parse(path.read_text()))
                  if isinstance(n, ast.ImportFrom) and n.module}
        assert "torch" not in names, f"{path.name} imports torch"
