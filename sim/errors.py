"""Errors of the sim package: one root, each subclass also the matching builtin."""

from __future__ import annotations


class SimError(Exception):
    """Root of every error raised by :mod:`sim`."""


class SimConfigError(SimError, ValueError):
    """A simulator setting is impossible (negative speedup, unknown mode, bad port, bad key ...)."""


class SimLinkError(SimError, OSError):
    """A simulator socket could not be opened or used."""


class SimTimeoutError(SimError, TimeoutError):
    """The simulator did not reach a state in the time allowed."""
