"""One vehicle (system id) on a link: its state, mission transfers and commands.

Every method blocks the calling thread and is thread-safe (one mission transfer at a time per
vehicle); the ``*_async`` twins run it in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from ground_station.planning.mission import HomePosition, Mission
from ground_station.vehicles.commands import CommandAck, CommandClient, CommandTimeouts
from ground_station.vehicles.errors import (
    CommandDeniedError,
    CommandFailedError,
    CommandUnsupportedError,
    FlightError,
    MissionRejectedError,
    UnknownModeError,
    WaitTimeoutError,
)
from ground_station.vehicles.items import (
    MissionType,
    WireItem,
    fence_from_wire,
    has_home_item,
    mission_from_wire,
    rally_from_wire,
    wire_items_for,
)
from ground_station.vehicles.mission_protocol import MissionClient, MissionTimeouts, ProgressCallback
from ground_station.vehicles.state import LinkHealth, StateTracker, VehicleState, mode_names, mode_numbers

if TYPE_CHECKING:
    from geo.terrain import Terrain
    from ground_station.vehicles.link import VehicleLink

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

#: MAV_CMD_COMPONENT_ARM_DISARM param2 that forces a disarm in flight.
FORCE_DISARM_MAGIC = 21196.0


def _async(method: Callable[P, R]) -> Callable[P, Any]:
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, *args, **kwargs)

    wrapper.__name__ = f"{method.__name__}_async"
    wrapper.__doc__ = f"``await`` :meth:`{method.__name__}` in a worker thread."
    return wrapper


@dataclass(frozen=True, kw_only=True, slots=True)
class UploadReport:
    """What :meth:`Vehicle.upload_mission` wrote: item counts per mission type."""

    mission_items: int
    fence_items: int = 0
    rally_items: int = 0


class Vehicle:
    """A vehicle heard on a link. Made by the link on its first autopilot HEARTBEAT."""

    def __init__(self, link: VehicleLink, system_id: int) -> None:
        self.link = link
        self.system_id = system_id
        self.tracker = StateTracker(system_id, link.thresholds)
        self._transfer_lock = threading.Lock()
        self._health = LinkHealth.LOST
        self._dirty = False
        self._last_event = 0.0
        self._next_home_request = 0.0
        self.command_timeouts = CommandTimeouts()

    def __repr__(self) -> str:
        return f"Vehicle(system_id={self.system_id}, link={self.link.url!r})"

    # -- state ----------------------------------------------------------------------------------

    @property
    def state(self) -> VehicleState:
        return self.tracker.snapshot()

    @property
    def component_id(self) -> int:
        return self.tracker.snapshot().component_id

    @property
    def firmware(self) -> str:
        return self.tracker.firmware

    def firmware_or(self, fallback: str) -> str:
        """The firmware its heartbeat names, or ``fallback`` while it says "generic"."""
        return fallback if self.firmware == "generic" else self.firmware

    def wait_until(
        self, predicate: Callable[[VehicleState], bool], *, timeout_s: float, what: str = "condition"
    ) -> VehicleState:
        """Poll the state (20 Hz) until ``predicate`` holds; raises WaitTimeoutError when it does not."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.state
            if predicate(state):
                return state
            if time.monotonic() >= deadline:
                raise WaitTimeoutError(f"vehicle {self.system_id}: no {what} within {timeout_s:g} s")
            time.sleep(0.05)

    def wait_home(self, *, timeout_s: float = 60.0) -> HomePosition:
        """Wait for HOME_POSITION (ArduPilot sends it once it has a position)."""
        state = self.wait_until(lambda s: s.home is not None, timeout_s=timeout_s, what="HOME_POSITION")
        assert state.home is not None
        return state.home

    # -- reader-thread hooks ----------------------------------------------------------------------

    def _on_message(self, msg: Any, now: float) -> None:
        from ground_station.vehicles.link import VehicleEvent

        text = self.tracker.update(msg, now)
        self._dirty = True
        kind = msg.get_type()
        if kind == "HEARTBEAT":
            self._check_health(now)
        elif text is not None:
            self.link.emit(VehicleEvent(kind="statustext", system_id=self.system_id, text=text))
        elif kind == "MISSION_ITEM_REACHED":
            self.link.emit(VehicleEvent(kind="item_reached", system_id=self.system_id, seq=int(msg.seq)))

    def _check_health(self, now: float) -> None:
        from ground_station.vehicles.link import VehicleEvent

        health = self.tracker.health(now)
        if health == self._health:
            return
        previous, self._health = self._health, health
        log.info("vehicle %d: link %s -> %s", self.system_id, previous.value, health.value)
        state = self.tracker.snapshot(now)
        self.link.emit(VehicleEvent(kind="health", system_id=self.system_id, state=state))
        if health == LinkHealth.OK and previous == LinkHealth.LOST and self.link.auto_request_streams:
            # a new vehicle, or one back after a loss (maybe rebooted): ask for its telemetry again
            self.link.request_streams(self.system_id, state.component_id)
            self._next_home_request = now + 2.0

    def _housekeeping(self, now: float) -> None:
        from ground_station.vehicles.link import HOME_REQUEST_PERIOD_S, VehicleEvent

        self._check_health(now)
        if (
            self.link.auto_request_streams
            and self._health != LinkHealth.LOST
            and now >= self._next_home_request
            and not self.tracker.home_known
        ):
            self._next_home_request = now + HOME_REQUEST_PERIOD_S
            self.link.request_home(self.system_id, self.component_id)
        if self._dirty and now - self._last_event >= self.link.event_interval_s:
            self._dirty = False
            self._last_event = now
            self.link.emit(
                VehicleEvent(kind="state", system_id=self.system_id, state=self.tracker.snapshot(now))
            )

    # -- mission transfers --------------------------------------------------------------------------

    def mission_client(
        self, *, timeouts: MissionTimeouts | None = None, on_progress: ProgressCallback | None = None
    ) -> MissionClient:
        from ground_station.vehicles.link import VehicleEvent

        def progress(phase: str, done: int, total: int) -> None:
            self.link.emit(
                VehicleEvent(
                    kind="mission_progress", system_id=self.system_id, text=phase, seq=done, total=total
                )
            )
            if on_progress is not None:
                on_progress(phase, done, total)

        return MissionClient(
            self.link, self.system_id, self.component_id, timeouts=timeouts, on_progress=progress
        )

    def upload_items(
        self,
        items: list[WireItem],
        mission_type: MissionType | str | int = MissionType.MISSION,
        *,
        verify: bool = True,
        timeouts: MissionTimeouts | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        """Upload wire items of one type; with ``verify`` read back, compare, retry, clear on failure."""
        kind = MissionType.parse(mission_type)
        client = self.mission_client(timeouts=timeouts, on_progress=on_progress)
        skip_seq0 = kind == MissionType.MISSION and has_home_item(self.firmware)
        with self._transfer_lock:
            if verify:
                client.upload_verified(items, kind, skip_seq0=skip_seq0)
            else:
                client.upload(items, kind)

    def download_items(
        self,
        mission_type: MissionType | str | int = MissionType.MISSION,
        *,
        timeouts: MissionTimeouts | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[WireItem]:
        client = self.mission_client(timeouts=timeouts, on_progress=on_progress)
        with self._transfer_lock:
            return client.download(MissionType.parse(mission_type))

    def clear(
        self,
        mission_type: MissionType | str | int = MissionType.MISSION,
        *,
        timeouts: MissionTimeouts | None = None,
    ) -> None:
        client = self.mission_client(timeouts=timeouts)
        with self._transfer_lock:
            client.clear(MissionType.parse(mission_type))

    def upload_mission(
        self,
        mission: Mission,
        *,
        mission_types: tuple[MissionType, ...] | None = None,
        firmware: str | None = None,
        timeouts: MissionTimeouts | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> UploadReport:
        """Upload a planned mission: the items (home as item 0 on ArduPilot), and the fence and
        rally lists when the mission has them (or exactly ``mission_types``). Each list is read
        back and compared; see :meth:`MissionClient.upload_verified` for the failure guarantees."""
        fw = firmware or self.firmware_or(mission.firmware)
        if mission_types is None:
            mission_types = (MissionType.MISSION,)
            if mission.fence_polygons or mission.fence_circles:
                mission_types += (MissionType.FENCE,)
            if mission.rally_points:
                mission_types += (MissionType.RALLY,)
        counts = {}
        for kind in mission_types:
            items = wire_items_for(mission, kind, firmware=fw)
            client = self.mission_client(timeouts=timeouts, on_progress=on_progress)
            with self._transfer_lock:
                client.upload_verified(
                    items, kind, skip_seq0=kind == MissionType.MISSION and has_home_item(fw)
                )
            counts[kind] = len(items)
        return UploadReport(
            mission_items=counts.get(MissionType.MISSION, 0),
            fence_items=counts.get(MissionType.FENCE, 0),
            rally_items=counts.get(MissionType.RALLY, 0),
        )

    def download_mission(
        self,
        *,
        include_fence: bool = True,
        include_rally: bool = True,
        timeouts: MissionTimeouts | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Mission:
        """The vehicle's mission (home separate: item 0 on ArduPilot, else HOME_POSITION), and
        its fence and rally lists (empty where the vehicle does not support them)."""
        firmware = self.firmware_or("ardupilot")
        items = self.download_items(MissionType.MISSION, timeouts=timeouts, on_progress=on_progress)
        home, mission_items = mission_from_wire(items, firmware=firmware, home=self.state.home)
        if home is None:
            log.warning("vehicle %d: no home item or HOME_POSITION; home set to 0,0", self.system_id)
            home = HomePosition(lat_deg=0.0, lon_deg=0.0, altitude_amsl_m=0.0)
        polygons: tuple[Any, ...] = ()
        circles: tuple[Any, ...] = ()
        rally: tuple[Any, ...] = ()
        if include_fence:
            fence = self._download_optional(MissionType.FENCE, timeouts)
            polygons, circles = fence_from_wire(fence)
        if include_rally:
            rally = rally_from_wire(self._download_optional(MissionType.RALLY, timeouts))
        return Mission(
            home=home,
            items=mission_items,
            fence_polygons=polygons,
            fence_circles=circles,
            rally_points=rally,
            firmware="px4" if firmware == "px4" else "ardupilot",
        )

    def _download_optional(self, kind: MissionType, timeouts: MissionTimeouts | None) -> list[WireItem]:
        try:
            return self.download_items(kind, timeouts=timeouts)
        except MissionRejectedError as exc:
            if exc.result_name in ("MAV_MISSION_UNSUPPORTED", "MAV_MISSION_ERROR", "MAV_MISSION_DENIED"):
                log.info("vehicle %d: no %s list (%s)", self.system_id, kind.name.lower(), exc.result_name)
                return []
            raise

    # -- commands -------------------------------------------------------------------------------------

    def commands(self, timeouts: CommandTimeouts | None = None) -> CommandClient:
        return CommandClient(
            self.link,
            self.system_id,
            self.component_id,
            self.tracker,
            timeouts=timeouts or self.command_timeouts,
        )

    def command_long(
        self, command: int, *params: float, timeouts: CommandTimeouts | None = None
    ) -> CommandAck:
        return self.commands(timeouts).command_long(command, *params)

    def set_mode(self, name: str, *, wait_s: float = 3.0) -> None:
        """Switch flight mode by name (ArduPilot names by vehicle type, PX4 names); waits up to
        ``wait_s`` for the HEARTBEAT to show it."""
        state = self.state
        firmware = self.firmware_or("ardupilot")
        numbers = mode_numbers(firmware=firmware, mav_type=state.mav_type, name=name)
        if numbers is None:
            known = ", ".join(mode_names(firmware=firmware, mav_type=state.mav_type))
            raise UnknownModeError(f"unknown mode {name!r} for a {firmware} vehicle; expected one of {known}")
        base, main, sub = numbers
        self.command_long(mavlink.MAV_CMD_DO_SET_MODE, float(base), float(main), float(sub))
        if wait_s > 0:
            try:
                self.wait_until(
                    lambda s: s.mode == name.upper(), timeout_s=wait_s, what=f"mode {name.upper()}"
                )
            except TimeoutError:
                log.warning("vehicle %d: mode %s accepted but not yet reported", self.system_id, name)

    def arm(self, *, wait_prearm_s: float = 0.0, retry_interval_s: float = 1.0) -> None:
        """Arm. With ``wait_prearm_s`` > 0 keep retrying refusals (ArduPilot refuses for its first
        ~40 s: "PreArm: Need Position Estimate") until that time is spent, then raise the last one."""
        deadline = time.monotonic() + wait_prearm_s
        while True:
            try:
                self.command_long(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1.0)
                break
            except (CommandDeniedError, CommandFailedError) as exc:
                if time.monotonic() + retry_interval_s > deadline:
                    raise
                log.info(
                    "vehicle %d: arming refused (%s); retrying",
                    self.system_id,
                    exc.statustext or exc.result_name,
                )
                time.sleep(retry_interval_s)
        try:
            self.wait_until(lambda s: s.armed, timeout_s=3.0, what="armed heartbeat")
        except TimeoutError:
            log.warning("vehicle %d: arm accepted but not yet reported", self.system_id)

    def disarm(self, *, force: bool = False) -> None:
        self.command_long(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0.0, FORCE_DISARM_MAGIC if force else 0.0)

    def takeoff(self, altitude_m: float, *, wait_prearm_s: float = 0.0) -> None:
        """GUIDED, arm if needed, MAV_CMD_NAV_TAKEOFF to ``altitude_m`` above home."""
        self.set_mode("GUIDED" if self.firmware != "px4" else "TAKEOFF")
        if not self.state.armed:
            self.arm(wait_prearm_s=wait_prearm_s)
        self.command_long(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, float("nan"), 0, 0, float(altitude_m))

    def start_mission(self, *, first_seq: int | None = None) -> None:
        """AUTO (PX4: MISSION) then MAV_CMD_MISSION_START (which starts it on the ground)."""
        if first_seq is not None:
            self.set_mission_current(first_seq)
        self.set_mode("MISSION" if self.firmware == "px4" else "AUTO")
        try:
            self.command_long(mavlink.MAV_CMD_MISSION_START, 0, 0)
        except CommandUnsupportedError:
            log.info("vehicle %d: MISSION_START unsupported; AUTO alone starts the mission", self.system_id)

    def pause(self) -> None:
        self.command_long(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, 0.0)

    def continue_mission(self) -> None:
        self.command_long(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, 1.0)

    def rtl(self) -> None:
        if self.firmware == "px4":
            self.command_long(mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH)
        else:
            self.set_mode("RTL")

    def land(self) -> None:
        if self.firmware == "px4":
            self.command_long(mavlink.MAV_CMD_NAV_LAND, 0, 0, 0, float("nan"), float("nan"), float("nan"), 0)
        else:
            self.set_mode("LAND")

    def set_mission_current(self, seq: int) -> None:
        """MAV_CMD_DO_SET_MISSION_CURRENT; older firmware: the MISSION_SET_CURRENT message."""
        try:
            self.command_long(mavlink.MAV_CMD_DO_SET_MISSION_CURRENT, float(seq))
        except CommandUnsupportedError:
            self.link.send(
                mavlink.MAVLink_mission_set_current_message(self.system_id, self.component_id, seq)
            )
            self.wait_until(
                lambda s: s.mission_current_seq == seq, timeout_s=3.0, what=f"mission current {seq}"
            )

    def resume_after_rtl(
        self,
        *,
        terrain: Terrain | None = None,
        reached_seq: int | None = None,
        wait_prearm_s: float = 0.0,
        timeouts: MissionTimeouts | None = None,
    ) -> Mission:
        """Fly the rest of the mission after an RTL: download it, build the rest from the leg the
        vehicle was flying (:func:`ground_station.planning.resume.resume_mission`, from the last
        reached item), upload it with read-back, arm if needed and start it in AUTO."""
        from ground_station.planning.resume import resume_mission

        state = self.state
        mission = self.download_mission(include_fence=False, include_rally=False, timeouts=timeouts)
        offset = 1 if has_home_item(self.firmware_or(mission.firmware)) else 0
        reached = reached_seq if reached_seq is not None else state.last_reached_seq
        start_index = 0 if reached is None else max(0, reached - offset + 1)
        resume_index = next(
            (k for k in range(start_index, len(mission.items)) if mission.items[k].has_position), None
        )
        if resume_index is None:
            raise FlightError(
                f"vehicle {self.system_id}: nothing left to resume after item {reached} "
                f"(mission has {len(mission.items)} items)"
            )
        rest = resume_mission(mission, resume_index=resume_index, terrain=terrain)
        log.info(
            "vehicle %d: resuming from item %d (%d items)", self.system_id, resume_index, len(rest.items)
        )
        self.upload_mission(rest, mission_types=(MissionType.MISSION,), timeouts=timeouts)
        if not self.state.armed:
            self.set_mode("GUIDED" if self.firmware != "px4" else "LOITER")
            self.arm(wait_prearm_s=wait_prearm_s)
        self.start_mission(first_seq=offset)
        return rest

    # -- async twins ----------------------------------------------------------------------------------

    upload_mission_async = _async(upload_mission)
    download_mission_async = _async(download_mission)
    upload_items_async = _async(upload_items)
    download_items_async = _async(download_items)
    clear_async = _async(clear)
    command_long_async = _async(command_long)
    set_mode_async = _async(set_mode)
    arm_async = _async(arm)
    disarm_async = _async(disarm)
    takeoff_async = _async(takeoff)
    start_mission_async = _async(start_mission)
    pause_async = _async(pause)
    continue_mission_async = _async(continue_mission)
    rtl_async = _async(rtl)
    land_async = _async(land)
    set_mission_current_async = _async(set_mission_current)
    resume_after_rtl_async = _async(resume_after_rtl)
    wait_until_async = _async(wait_until)
