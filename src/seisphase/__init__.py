"""seisphase: P / S / noise classifiers for 3-component seismograms.

Import what you need from the submodules, e.g. ``from seisphase.classifier import
PhaseClassifier``; the package import itself stays light so that ``seisphase --help`` is fast.
"""

__version__ = "0.1.0"
