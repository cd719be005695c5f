"""Plain functions behind the ``shanshui vehicle ...`` commands (the CLI wires and prints).

Each opens the link, does one job, closes the link, and either returns a small result or
raises a :class:`~ground_station.vehicles.errors.VehicleLinkError` (or the planner's
``MissionFileError`` for a bad file); :func:`exit_code` maps an exception to the process exit
status the CLI should use.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from ground_station.planning.errors import PlanningError
from ground_station.planning.mission import MavCmd, Mission
from ground_station.vehicles.errors import (
    BadVehicleUrlError,
    CommandError,
    CommandTimeoutError,
    FlightError,
    MissionRejectedError,
    MissionVerifyError,
    VehicleLinkError,
)
from ground_station.vehicles.items import MissionType, has_home_item
from ground_station.vehicles.link import SigningConfig, VehicleEvent, VehicleLink
from ground_station.vehicles.state import VehicleState

if TYPE_CHECKING:
    from geo.terrain import Terrain

log = logging.getLogger(__name__)

EventCallback = Callable[[VehicleEvent], None]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2  # bad URL, bad mission file, bad argument
EXIT_NO_LINK = 3  # no vehicle, link lost, timeouts
EXIT_REFUSED = 4  # the vehicle rejected the mission or a command, or read-back differed
EXIT_FLIGHT_FAILED = 5  # the flight did not complete


def exit_code(error: BaseException) -> int:
    """The exit status for an exception raised by these functions."""
    if isinstance(error, MissionRejectedError | MissionVerifyError) or (
        isinstance(error, CommandError) and not isinstance(error, CommandTimeoutError)
    ):
        return EXIT_REFUSED
    if isinstance(error, FlightError):
        return EXIT_FLIGHT_FAILED
    if isinstance(error, BadVehicleUrlError | PlanningError | FileNotFoundError):
        return EXIT_BAD_INPUT
    if isinstance(error, TimeoutError | ConnectionError | LookupError):
        return EXIT_NO_LINK
    if isinstance(error, ValueError):
        return EXIT_BAD_INPUT
    return EXIT_ERROR


@dataclass(frozen=True, kw_only=True)
class UploadResult:
    url: str
    system_id: int
    mission_items: int
    fence_items: int
    rally_items: int


@dataclass(frozen=True, kw_only=True)
class DownloadResult:
    url: str
    system_id: int
    path: Path
    mission_items: int
    fence_polygons: int
    fence_circles: int
    rally_points: int


@dataclass(frozen=True, kw_only=True)
class FlightResult:
    url: str
    system_id: int
    mission_items: int
    last_reached_seq: int | None
    duration_s: float
    final_state: VehicleState


def _mission_types(mission_type: str) -> tuple[MissionType, ...] | None:
    """``all``: None, for :meth:`Vehicle.upload_mission` to send what the mission has."""
    return None if mission_type.lower() == "all" else (MissionType.parse(mission_type),)


def _open(url: str, signing_key: bytes | None, **kwargs: Any) -> VehicleLink:
    signing = SigningConfig(key=signing_key) if signing_key is not None else None
    return VehicleLink.open(url, signing=signing, **kwargs)


def upload_file(
    path: str | os.PathLike[str],
    url: str,
    mission_type: str = "all",
    *,
    system_id: int | None = None,
    connect_timeout_s: float = 15.0,
    signing_key: bytes | None = None,
    on_event: EventCallback | None = None,
) -> UploadResult:
    """Read a ``.plan``/``.waypoints`` file and upload it (``mission_type``: ``all``, ``mission``,
    ``fence`` or ``rally``), each list read back and compared."""
    from ground_station.planning.formats import read_mission

    mission = read_mission(path)
    kinds = _mission_types(mission_type)
    with _open(url, signing_key) as link:
        if on_event is not None:
            link.add_listener(on_event)
        vehicle = link.wait_vehicle(system_id, timeout_s=connect_timeout_s)
        report = vehicle.upload_mission(mission, mission_types=kinds)
        return UploadResult(
            url=url,
            system_id=vehicle.system_id,
            mission_items=report.mission_items,
            fence_items=report.fence_items,
            rally_items=report.rally_items,
        )


def download_to(
    url: str,
    out_path: str | os.PathLike[str],
    *,
    system_id: int | None = None,
    connect_timeout_s: float = 15.0,
    signing_key: bytes | None = None,
) -> DownloadResult:
    """Download mission, fence and rally and write them in the format ``out_path``'s suffix
    names (``.plan`` keeps all three; ``.waypoints`` the mission only)."""
    from ground_station.planning.formats import write_mission

    with _open(url, signing_key) as link:
        vehicle = link.wait_vehicle(system_id, timeout_s=connect_timeout_s)
        mission = vehicle.download_mission()
    write_mission(mission, out_path)
    return DownloadResult(
        url=url,
        system_id=vehicle.system_id,
        path=Path(out_path),
        mission_items=len(mission.items),
        fence_polygons=len(mission.fence_polygons),
        fence_circles=len(mission.fence_circles),
        rally_points=len(mission.rally_points),
    )


def _seq_list(seqs: list[int]) -> str:
    return ", ".join(map(str, seqs[:10])) + (f" and {len(seqs) - 10} more" if len(seqs) > 10 else "")


def _ends_on_ground(mission: Mission) -> bool:
    return bool(mission.items) and mission.items[-1].command in (MavCmd.NAV_RETURN_TO_LAUNCH, MavCmd.NAV_LAND)


def fly_file(
    path: str | os.PathLike[str],
    url: str,
    dem: str | os.PathLike[str] | Terrain | None = None,
    timeout_s: float = 1800.0,
    on_event: EventCallback | None = None,
    *,
    system_id: int | None = None,
    connect_timeout_s: float = 15.0,
    wait_prearm_s: float = 120.0,
    signing_key: bytes | None = None,
) -> FlightResult:
    """Fly a mission file: serve terrain from ``dem`` (if given), wait for home, upload (read
    back), arm in GUIDED (retrying pre-arm refusals for ``wait_prearm_s``), start AUTO, and
    follow it until every NAV item is reached (MISSION_ITEM_REACHED, or MISSION_CURRENT past it
    when a report was lost) and, for missions ending in RTL/LAND, the vehicle has landed and
    disarmed; otherwise it holds at the end. ``on_event`` gets the link's events plus ``phase``
    events (``text``: connecting, waiting_home, uploading, arming, flying, done).

    Raises FlightError when the vehicle disarms early or ``timeout_s`` passes."""
    from geo.terrain import Terrain
    from ground_station.planning.formats import read_mission

    mission = read_mission(path)
    terrain = Terrain.from_file(os.fspath(dem)) if isinstance(dem, str | os.PathLike) else dem
    started = time.monotonic()
    deadline = started + timeout_s

    def phase(name: str, system: int = 0) -> None:
        log.info("fly %s: %s", os.fspath(path), name)
        if on_event is not None:
            on_event(VehicleEvent(kind="phase", system_id=system, text=name))

    phase("connecting")
    with _open(url, signing_key) as link:
        if terrain is not None:
            link.serve_terrain(terrain)
        if on_event is not None:
            link.add_listener(on_event)
        vehicle = link.wait_vehicle(system_id, timeout_s=connect_timeout_s)
        sid = vehicle.system_id
        phase("waiting_home", sid)
        vehicle.wait_home(timeout_s=max(1.0, deadline - time.monotonic()))
        phase("uploading", sid)
        vehicle.upload_mission(mission)
        phase("arming", sid)
        firmware = vehicle.firmware_or(mission.firmware)
        vehicle.set_mode("GUIDED" if firmware != "px4" else "LOITER")
        vehicle.arm(wait_prearm_s=min(wait_prearm_s, max(0.0, deadline - time.monotonic())))
        phase("flying", sid)
        offset = 1 if has_home_item(firmware) else 0
        ends_on_ground = _ends_on_ground(mission)
        nav_seqs = {i + offset for i, it in enumerate(mission.items) if it.command < mavlink.MAV_CMD_NAV_LAST}
        reached: set[int] = set()

        def note_reached(event: VehicleEvent) -> None:
            if event.kind == "item_reached" and event.system_id == sid and event.seq is not None:
                reached.add(event.seq)

        link.add_listener(note_reached)
        vehicle.start_mission()
        was_armed = False
        while True:
            state = vehicle.state
            was_armed = was_armed or state.armed
            # a lost MISSION_ITEM_REACHED is implied by MISSION_CURRENT moving past the item
            current = state.mission_current_seq or 0
            done = {s for s in nav_seqs if s in reached or s < current}
            if ends_on_ground and was_armed and not state.armed and current == max(nav_seqs):
                done.add(current)  # landed at the end: the final RTL/LAND is done
            missing = sorted(nav_seqs - done)
            if not missing and (not ends_on_ground or not state.armed):
                break
            if was_armed and not state.armed and missing:
                raise FlightError(
                    f"vehicle {sid} disarmed with items {_seq_list(missing)} not reached "
                    f"(mode {state.mode}; {state.last_statustext or 'no message'})"
                )
            if time.monotonic() >= deadline:
                raise FlightError(
                    f"vehicle {sid}: the flight did not complete within {timeout_s:g} s "
                    f"(items {_seq_list(missing) or 'all reached, still airborne'}; at item {current}, "
                    f"mode {state.mode}, health {state.health})"
                )
            time.sleep(0.05)
        phase("done", sid)
        return FlightResult(
            url=url,
            system_id=sid,
            mission_items=len(mission.items),
            last_reached_seq=vehicle.state.last_reached_seq,
            duration_s=time.monotonic() - started,
            final_state=vehicle.state,
        )


__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_ERROR",
    "EXIT_FLIGHT_FAILED",
    "EXIT_NO_LINK",
    "EXIT_OK",
    "EXIT_REFUSED",
    "DownloadResult",
    "FlightResult",
    "UploadResult",
    "VehicleLinkError",
    "download_to",
    "exit_code",
    "fly_file",
    "upload_file",
]
