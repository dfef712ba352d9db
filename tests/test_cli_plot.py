import pytest
from tests.conftest import REAL_DEV

from seisphase.cli import main
from seisphase.cli.plot import KINDS


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("plotmodel") / "m"
    assert main(["train", "synthetic:300:1", "--model", "linear", "--epochs", "3", "--quiet",
                 "--out", str(d)]) == 0
    return d


def _inputs(kind, model_dir, tmp_path):
    return {
        "examples": [str(REAL_DEV)], "spectra": ["synthetic:90"], "features": ["synthetic:90"],
        "history": [str(model_dir)], "confusion": [str(model_dir), "synthetic:90:3"],
        "pr": [str(model_dir), "synthetic:90:3"], "reliability": [str(model_dir), "synthetic:90:3"],
        "importance": [str(model_dir), "synthetic:90:3"], "toy": ["blobs"], "activations": [],
        "realism": ["300"],
    }.get(kind)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(set(KINDS) - {"sweep"}))
def test_every_figure_kind_is_one_command(kind, model_dir, tmp_path, capsys):
    out = tmp_path / f"{kind}.png"
    assert main(["plot", kind, *_inputs(kind, model_dir, tmp_path), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out.strip() == f"wrote {out}"


@pytest.mark.parametrize("argv, match", [
    (["plot", "history"], "takes MODEL_DIR, got 0"),
    (["plot", "toy", "moons"], "blobs or rings"),
    (["plot", "sweep", "."], "no sweep results"),
])
def test_plot_errors(argv, match, tmp_path, capsys):
    out = tmp_path / "f.png"
    assert main([*argv, "--out", str(out)]) == 2
    assert match in capsys.readouterr().err
    assert not out.exists()


def test_unknown_suffix_leaves_nothing(tmp_path, capsys):
    assert main(["plot", "activations", "--out", str(tmp_path / "f.xyz")]) == 2
    assert not list(tmp_path.iterdir())
