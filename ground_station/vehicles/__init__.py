"""MAVLink links to many vehicles: connections by URL, live state, the mission protocol
(mission, fence, rally), commands, and terrain for the vehicle.

    from ground_station.vehicles import VehicleLink

    with VehicleLink.open("udpin://0.0.0.0:14550") as link:
        vehicle = link.wait_vehicle(timeout_s=10)
        vehicle.upload_mission(mission)          # read back and compared
        vehicle.arm(wait_prearm_s=60)
        vehicle.start_mission()

Nothing here plans missions; nothing runs at import time.
"""

from ground_station.vehicles.commands import CommandAck, CommandTimeouts
from ground_station.vehicles.connection import VehicleUrl, parse_vehicle_url
from ground_station.vehicles.errors import (
    BadVehicleUrlError,
    CommandDeniedError,
    CommandError,
    CommandFailedError,
    CommandTimeoutError,
    CommandUnsupportedError,
    FlightError,
    LinkLostError,
    MissionProtocolError,
    MissionRejectedError,
    MissionTimeoutError,
    MissionUnconfirmedError,
    MissionVerifyError,
    SigningKeyError,
    UnknownModeError,
    VehicleLinkError,
    VehicleNotFoundError,
    WaitTimeoutError,
)
from ground_station.vehicles.items import MissionType, WireItem
from ground_station.vehicles.link import SigningConfig, VehicleEvent, VehicleLink
from ground_station.vehicles.manager import VehicleManager
from ground_station.vehicles.mission_protocol import MissionTimeouts
from ground_station.vehicles.state import HealthThresholds, LinkHealth, VehicleState
from ground_station.vehicles.vehicle import UploadReport, Vehicle

__all__ = [
    "BadVehicleUrlError",
    "CommandAck",
    "CommandDeniedError",
    "CommandError",
    "CommandFailedError",
    "CommandTimeoutError",
    "CommandTimeouts",
    "CommandUnsupportedError",
    "FlightError",
    "HealthThresholds",
    "LinkHealth",
    "LinkLostError",
    "MissionProtocolError",
    "MissionRejectedError",
    "MissionTimeoutError",
    "MissionTimeouts",
    "MissionUnconfirmedError",
    "MissionType",
    "MissionVerifyError",
    "SigningConfig",
    "SigningKeyError",
    "UnknownModeError",
    "UploadReport",
    "Vehicle",
    "VehicleEvent",
    "VehicleLink",
    "VehicleLinkError",
    "VehicleManager",
    "VehicleNotFoundError",
    "VehicleState",
    "VehicleUrl",
    "WaitTimeoutError",
    "WireItem",
    "parse_vehicle_url",
]
