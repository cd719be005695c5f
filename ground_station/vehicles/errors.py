"""Errors of the vehicle link: one root, each subclass also the matching builtin."""

from __future__ import annotations

from typing import Literal

#: What a failed mission transfer left on the vehicle.
VehicleMissionState = Literal["unchanged", "cleared", "unknown"]


class VehicleLinkError(Exception):
    """Root of every error raised by :mod:`ground_station.vehicles`."""


class BadVehicleUrlError(VehicleLinkError, ValueError):
    """A connection URL is malformed or names an unsupported transport."""


class SigningKeyError(VehicleLinkError, ValueError):
    """A MAVLink 2 signing key is not 32 bytes."""


class LinkLostError(VehicleLinkError, ConnectionError):
    """The link is closed, or the vehicle stopped sending heartbeats."""


class VehicleNotFoundError(VehicleLinkError, LookupError):
    """No vehicle with the requested system id has been heard on the link(s)."""


class UnknownModeError(VehicleLinkError, ValueError):
    """A flight-mode name the vehicle's firmware does not have."""


class MissionProtocolError(VehicleLinkError):
    """A mission, fence or rally transfer failed.

    ``vehicle_mission`` says what the vehicle holds afterwards: ``"unchanged"`` (it failed
    before any item was written), ``"cleared"`` (the list was cleared with MISSION_CLEAR_ALL
    after failing), or ``"unknown"`` (items may have been written and clearing failed).
    """

    def __init__(self, message: str, *, vehicle_mission: VehicleMissionState = "unknown") -> None:
        super().__init__(message)
        self.vehicle_mission: VehicleMissionState = vehicle_mission


class MissionRejectedError(MissionProtocolError, ValueError):
    """The vehicle answered with a MISSION_ACK other than MAV_MISSION_ACCEPTED."""

    def __init__(
        self,
        message: str,
        *,
        result_code: int,
        result_name: str,
        vehicle_mission: VehicleMissionState = "unknown",
    ) -> None:
        super().__init__(message, vehicle_mission=vehicle_mission)
        self.result_code = result_code
        self.result_name = result_name


class MissionTimeoutError(MissionProtocolError, TimeoutError):
    """The vehicle stopped answering during a transfer, after every retry."""


class MissionUnconfirmedError(MissionProtocolError, TimeoutError):
    """Every item went out but the vehicle's final MISSION_ACK was lost: only a read-back can
    tell whether it holds the new list (ArduPilot answers a re-sent last item with
    MAV_MISSION_ERROR once its transfer is over)."""


class MissionVerifyError(MissionProtocolError, ValueError):
    """The mission read back after an upload differs from the one sent."""


class CommandError(VehicleLinkError):
    """A COMMAND_LONG was refused or not answered.

    ``result_name`` is the MAV_RESULT name (or ``"TIMEOUT"``); ``statustext`` the vehicle's
    latest STATUSTEXT line when the command failed (e.g. ``"PreArm: Need Position Estimate"``).
    """

    def __init__(self, message: str, *, command_name: str, result_name: str, statustext: str = "") -> None:
        super().__init__(message)
        self.command_name = command_name
        self.result_name = result_name
        self.statustext = statustext


class CommandDeniedError(CommandError, PermissionError):
    """MAV_RESULT_DENIED or MAV_RESULT_TEMPORARILY_REJECTED."""


class CommandFailedError(CommandError, RuntimeError):
    """MAV_RESULT_FAILED (or CANCELLED): the vehicle tried and could not."""


class CommandUnsupportedError(CommandError, NotImplementedError):
    """MAV_RESULT_UNSUPPORTED: the vehicle does not know the command."""


class CommandTimeoutError(CommandError, TimeoutError):
    """No COMMAND_ACK after every retry."""


class FlightError(VehicleLinkError, RuntimeError):
    """A flight did not complete: the vehicle left AUTO, disarmed early or ran out of time."""


class WaitTimeoutError(VehicleLinkError, TimeoutError):
    """A vehicle state did not come about in time (home position, armed, a mode, ...)."""
