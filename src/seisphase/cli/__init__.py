"""Command-line interface: ``seisphase SUBCOMMAND ...``.

Each subcommand is a module with ``add_parser(subparsers)`` and ``run(args) -> int``; modules
import nothing heavy at the top, so ``seisphase --help`` starts fast. A
:class:`~seisphase.errors.SeisphaseError` becomes ``seisphase: error: <message>`` and exit
code 2; other exceptions keep their traceback (they are bugs).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from seisphase import __version__
from seisphase.errors import SeisphaseError

SUBCOMMANDS = (
    "train", "evaluate", "predict", "synth", "demo", "windows", "export", "plot", "sweep",
    "scan", "train-picker", "report",
)


def _modules():
    for name in SUBCOMMANDS:
        try:
            module = name.replace("-", "_")
            yield importlib.import_module(f"seisphase.cli.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"seisphase.cli.{module}":
                raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seisphase",
        description="Train, evaluate and run P / S / noise classifiers on 3-component seismograms.",
    )
    parser.add_argument("--version", action="version", version=f"seisphase {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _modules():
        module.add_parser(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"seisphase: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 for a user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    old = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return int(args.run(args) or 0)
    except SeisphaseError as exc:
        print(f"seisphase: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seisphase: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = old


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
