"""One error hierarchy. Messages say what failed, the offending value, and how to fix it (STYLE.md §8)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EdgebindError(Exception):
    """Base of every error edgebind raises for bad input or environment; the CLI turns it into a one-line message."""


class ConfigError(EdgebindError):
    """A configuration value, preset name or override is invalid."""


class CheckpointError(EdgebindError):
    """A checkpoint file is missing, corrupt, or does not match the requested encoder."""


class BundleError(EdgebindError):
    """A bundle directory is missing, malformed, or was built for another machine."""


class ParityError(EdgebindError):
    """An exported artifact does not reproduce the PyTorch reference within tolerance."""


class SensorError(EdgebindError):
    """A sensor stream, serial port or recording is unusable."""


class InputError(EdgebindError):
    """An input array, file or string does not match the model's input contract."""


def check_known(what: str, names: Iterable[str], known: Iterable[str]) -> None:
    """Raise ConfigError for the first of ``names`` not in ``known``, with a did-you-mean ("unknown <what> 'x'")."""
    known = set(known)
    for name in names:
        if name not in known:
            raise ConfigError(f"unknown {what} '{name}'.{suggest(name, known)}")


def suggest(name: str, choices: Iterable[str]) -> str:
    """Return `` did you mean 'x'?`` for the closest known name, or a list of valid names."""
    choices = sorted(choices)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    if close:
        return f" Did you mean '{close[0]}'?"
    return f" Valid names: {', '.join(choices)}."
