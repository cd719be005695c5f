"""Errors of the planner: one root, each subclass also a builtin."""

from __future__ import annotations


class PlanningError(Exception):
    """Root of every error raised by :mod:`ground_station.planning`."""


class InvalidAreaError(PlanningError, ValueError):
    """An area, corridor or hole is empty, self-intersecting or otherwise unusable."""


class PlanLimitError(PlanningError, ValueError):
    """A plan breaks a limit: item count, ceiling, clearance, rates or endurance."""


class MissionFileError(PlanningError, ValueError):
    """A mission file (.plan, .waypoints, spec) is malformed; the message says where."""


class VehicleProfileError(PlanningError, ValueError):
    """A parameter file lacks what the planner needs or holds an impossible value."""
