"""Exceptions raised by seisphase.

Every error a user can cause is a :class:`SeisphaseError`; the CLI turns it into
``seisphase: error: <message>`` and exit code 2. The message says what was expected,
what came, and how to fix it.
"""


class SeisphaseError(Exception):
    """Base class of every error caused by input the user can fix."""


class DataError(SeisphaseError, ValueError):
    """Waveforms, labels or metadata with the wrong shape, type or values."""


class DataFormatError(SeisphaseError):
    """A file that cannot be read: missing, empty, corrupt, truncated or of an unknown layout."""


class ModelFileError(SeisphaseError):
    """A saved model directory that is missing, corrupt, or from an unknown format version."""


class ConfigError(SeisphaseError, ValueError):
    """An invalid option or combination of options."""


class NotFittedError(SeisphaseError, AttributeError):
    """A classifier used before ``fit``."""


class SeisphaseWarning(UserWarning):
    """Something was assumed that the user may want to state explicitly."""
