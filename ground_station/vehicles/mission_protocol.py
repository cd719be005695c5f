"""The MAVLink mission protocol, ground-station side: upload, download and clear of the
mission, fence and rally lists (https://mavlink.io/en/services/mission.html).

Timeouts and retries follow the spec: 1500 ms for a reply to MISSION_COUNT, REQUEST_LIST,
CLEAR_ALL and while waiting for the vehicle's next request; 250 ms per item when we request
items; 5 re-sends of the last message before giving up. The vehicle may answer MISSION_COUNT
with MISSION_REQUEST or MISSION_REQUEST_INT (real ArduPilot sends MISSION_REQUEST); we always
reply with MISSION_ITEM_INT. Duplicate and out-of-order requests are answered with the item
asked for (a request for an earlier item is legal). A MISSION_ACK other than ACCEPTED becomes
:class:`MissionRejectedError` with the MAV_MISSION_RESULT name.

:meth:`MissionClient.upload_verified` reads the list back after each upload and compares it;
on failure it retries the whole upload, and in the end clears the list so the vehicle never
flies a silent mix of old and new items.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from ground_station.vehicles.errors import (
    MissionProtocolError,
    MissionRejectedError,
    MissionTimeoutError,
    MissionUnconfirmedError,
    MissionVerifyError,
    VehicleMissionState,
)
from ground_station.vehicles.items import MissionType, WireItem, compare_items
from ground_station.vehicles.state import LinkHealth

if TYPE_CHECKING:
    from ground_station.vehicles.link import MessageSubscription, VehicleLink

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]  # (phase "upload"/"download", done, total)

_UPLOAD_TYPES = ("MISSION_REQUEST", "MISSION_REQUEST_INT", "MISSION_ACK")
_DOWNLOAD_TYPES = ("MISSION_COUNT", "MISSION_ITEM_INT", "MISSION_ITEM", "MISSION_ACK")


@dataclass(frozen=True, kw_only=True, slots=True)
class MissionTimeouts:
    """Protocol timing (spec defaults) and the bounded whole-upload retry of a verified upload."""

    default_s: float = 1.5
    item_s: float = 0.25
    retries: int = 5
    # re-sends allowed while the vehicle's heartbeats still arrive: on a lossy radio a lost
    # request or answer is far likelier than a vehicle that stopped (20 % loss each way fails
    # six tries in a row once in 450 items, so a 700-item transfer needs more than the spec's 5)
    lossy_retries: int = 20
    upload_attempts: int = 3


def result_name(code: int) -> str:
    entry = mavlink.enums["MAV_MISSION_RESULT"].get(code)
    return entry.name if entry is not None else f"MAV_MISSION_RESULT({code})"


def _type_name(mission_type: int) -> str:
    try:
        return MissionType(mission_type).name.lower()
    except ValueError:
        return f"type {mission_type}"


class MissionClient:
    """Mission transfers with one vehicle (system id, autopilot component id) over a link."""

    def __init__(
        self,
        link: VehicleLink,
        system_id: int,
        component_id: int = 1,
        *,
        timeouts: MissionTimeouts | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.link = link
        self.system_id = system_id
        self.component_id = component_id
        self.timeouts = timeouts or link.mission_timeouts
        self.on_progress = on_progress
        self.resends = 0  # messages re-sent after a timeout, over this client's life

    # -- helpers ------------------------------------------------------------------------------

    def _progress(self, phase: str, done: int, total: int) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(phase, done, total)
            except Exception:
                log.exception("mission progress callback failed")

    def _retries(self, answered: bool) -> int:
        """Re-sends allowed for one message: the spec's, or ``lossy_retries`` once the vehicle has
        answered in this transfer and while its heartbeats still arrive (a lossy link, not a
        vehicle that stopped or never took part)."""
        vehicle = self.link.vehicles().get(self.system_id)
        alive = answered and vehicle is not None and vehicle.state.health != LinkHealth.LOST
        return max(self.timeouts.retries, self.timeouts.lossy_retries) if alive else self.timeouts.retries

    def _item_message(self, items: Sequence[WireItem], seq: int, mission_type: int) -> Any:
        return items[seq].to_message(
            target_system=self.system_id,
            target_component=self.component_id,
            seq=seq,
            mission_type=mission_type,
        )

    def _mine(self, msg: Any, mission_type: int) -> bool:
        target = getattr(msg, "target_system", 0)
        if target not in (0, self.link.gcs_system_id):
            return False
        return int(getattr(msg, "mission_type", 0)) == mission_type

    def _rejected(
        self, msg: Any, what: str, mission_type: int, vehicle_mission: VehicleMissionState
    ) -> MissionRejectedError:
        name = result_name(int(msg.type))
        return MissionRejectedError(
            f"vehicle {self.system_id} rejected the {_type_name(mission_type)} {what}: {name}"
            + (
                f"; the vehicle's {_type_name(mission_type)} is unchanged"
                if vehicle_mission == "unchanged"
                else ""
            ),
            result_code=int(msg.type),
            result_name=name,
            vehicle_mission=vehicle_mission,
        )

    # -- upload ---------------------------------------------------------------------------------

    def upload(self, items: Sequence[WireItem], mission_type: int = MissionType.MISSION) -> None:
        """One upload (no read-back). On failure ``error.vehicle_mission`` says whether any item
        was written (``"unknown"``) or not (``"unchanged"``)."""
        t = self.timeouts
        count = len(items)
        count_msg = mavlink.MAVLink_mission_count_message(
            self.system_id, self.component_id, count, mission_type
        )
        sent_any = False
        highest_sent = -1
        highest_requested = -1
        last_sent: Any = count_msg
        resends = 0
        deadline = time.monotonic() + t.default_s * (t.retries + 1) * 2 + count * t.default_s
        with self.link.subscribe(self.system_id, _UPLOAD_TYPES) as sub:
            self.link.send(count_msg)
            while True:
                state: VehicleMissionState = "unknown" if sent_any else "unchanged"
                left = deadline - time.monotonic()
                if left <= 0:
                    raise MissionTimeoutError(
                        f"{_type_name(mission_type)} upload to vehicle {self.system_id} took too long "
                        f"({highest_sent + 1} of {count} items sent)",
                        vehicle_mission=state,
                    )
                # spec: 1500 ms for the first request, 250 ms for each next one after an item
                msg = sub.get(min(t.item_s if sent_any else t.default_s, left))
                if msg is None:
                    if resends >= self._retries(answered=highest_requested >= 0):
                        phase = "MISSION_COUNT" if not sent_any else f"item {highest_sent}"
                        raise MissionTimeoutError(
                            f"vehicle {self.system_id} stopped answering the {_type_name(mission_type)} "
                            f"upload after {phase} ({resends} re-sends, {t.default_s:g} s each)"
                            + ("; the vehicle's list is unchanged" if not sent_any else ""),
                            vehicle_mission=state,
                        )
                    resends += 1
                    self.resends += 1
                    log.debug("vehicle %d: no reply, re-sending %s", self.system_id, last_sent.get_type())
                    self.link.send(last_sent)
                    continue
                if not self._mine(msg, mission_type):
                    continue
                if msg.get_type() == "MISSION_ACK":
                    if msg.type == mavlink.MAV_MISSION_INVALID_SEQUENCE and sent_any:
                        # ArduPilot's answer to a duplicate or stale item; its transfer goes on.
                        # Refusing the re-sent item it last asked for means it has that item and
                        # its request for the next one was lost: send that one now rather than
                        # wait out the vehicle's 1 s re-request.
                        nxt = highest_requested + 1
                        if resends and highest_sent == highest_requested and nxt < count:
                            last_sent = self._item_message(items, nxt, mission_type)
                            self.link.send(last_sent)
                            highest_sent = nxt
                            self._progress("upload", nxt + 1, count)
                        continue
                    if msg.type == mavlink.MAV_MISSION_ERROR and highest_sent == count - 1 and resends:
                        raise MissionUnconfirmedError(
                            f"vehicle {self.system_id} took all {count} {_type_name(mission_type)} items "
                            "but its acceptance was lost (a re-sent last item found no upload in "
                            "progress); read the list back to know what it holds",
                            vehicle_mission="unknown",
                        )
                    if msg.type != mavlink.MAV_MISSION_ACCEPTED:
                        raise self._rejected(msg, "upload", mission_type, state)
                    if highest_sent == count - 1:
                        self._progress("upload", count, count)
                        return
                    raise MissionProtocolError(
                        f"vehicle {self.system_id} accepted the {_type_name(mission_type)} upload after "
                        f"{highest_sent + 1} of {count} items",
                        vehicle_mission=state,
                    )
                seq = int(msg.seq)
                if not 0 <= seq < count:
                    log.warning("vehicle %d requested item %d of %d; ignored", self.system_id, seq, count)
                    continue
                highest_requested = max(highest_requested, seq)
                last_sent = self._item_message(items, seq, mission_type)
                self.link.send(last_sent)
                sent_any = True
                resends = 0
                if seq > highest_sent:
                    highest_sent = seq
                    self._progress("upload", seq + 1, count)

    # -- download -------------------------------------------------------------------------------

    def download(self, mission_type: int = MissionType.MISSION) -> list[WireItem]:
        t = self.timeouts
        with self.link.subscribe(self.system_id, _DOWNLOAD_TYPES) as sub:
            request = mavlink.MAVLink_mission_request_list_message(
                self.system_id, self.component_id, mission_type
            )
            count_msg = self._exchange(sub, request, ("MISSION_COUNT",), t.default_s, mission_type, None)
            count = int(count_msg.count)
            items: list[WireItem] = []
            for seq in range(count):
                request = mavlink.MAVLink_mission_request_int_message(
                    self.system_id, self.component_id, seq, mission_type
                )
                msg = self._exchange(
                    sub, request, ("MISSION_ITEM_INT", "MISSION_ITEM"), t.item_s, mission_type, seq
                )
                items.append(WireItem.from_message(msg))
                self._progress("download", seq + 1, count)
            self.link.send(
                mavlink.MAVLink_mission_ack_message(
                    self.system_id, self.component_id, mavlink.MAV_MISSION_ACCEPTED, mission_type
                )
            )
        return items

    def _exchange(
        self,
        sub: MessageSubscription,
        request: Any,
        answers: tuple[str, ...],
        timeout_s: float,
        mission_type: int,
        seq: int | None,
    ) -> Any:
        """Send ``request`` and wait for one of ``answers`` (with ``seq`` if given), re-sending on timeout."""
        self.link.send(request)
        resends = 0
        deadline = time.monotonic() + timeout_s
        while True:
            msg = sub.get(max(0.0, deadline - time.monotonic()))
            if msg is None:
                if resends >= self._retries(answered=seq is not None):
                    what = request.get_type() + (f" {seq}" if seq is not None else "")
                    raise MissionTimeoutError(
                        f"vehicle {self.system_id} did not answer {what} ({_type_name(mission_type)}) "
                        f"after {resends} re-sends, {timeout_s:g} s each",
                        vehicle_mission="unchanged",
                    )
                resends += 1
                self.resends += 1
                self.link.send(request)
                deadline = time.monotonic() + timeout_s
                continue
            if not self._mine(msg, mission_type):
                continue
            kind = msg.get_type()
            if kind == "MISSION_ACK":
                if msg.type == mavlink.MAV_MISSION_ACCEPTED:
                    continue  # a stray ACK from an earlier exchange
                raise self._rejected(msg, request.get_type(), mission_type, "unchanged")
            if kind in answers and (seq is None or int(msg.seq) == seq):
                return msg

    # -- clear ----------------------------------------------------------------------------------

    def clear(self, mission_type: int = MissionType.MISSION) -> None:
        t = self.timeouts
        request = mavlink.MAVLink_mission_clear_all_message(self.system_id, self.component_id, mission_type)
        resends = 0
        with self.link.subscribe(self.system_id, ("MISSION_ACK",)) as sub:
            self.link.send(request)
            while True:
                deadline = time.monotonic() + t.default_s
                while (left := deadline - time.monotonic()) > 0:
                    msg = sub.get(left)
                    if msg is None or not self._mine(msg, mission_type):
                        continue
                    if msg.type == mavlink.MAV_MISSION_ACCEPTED:
                        return
                    if msg.type == mavlink.MAV_MISSION_INVALID_SEQUENCE:
                        continue  # a late answer to an item of the upload being abandoned
                    raise self._rejected(msg, "clear", mission_type, "unknown")
                if resends >= self._retries(answered=False):
                    raise MissionTimeoutError(
                        f"vehicle {self.system_id} did not acknowledge MISSION_CLEAR_ALL "
                        f"({_type_name(mission_type)}) after {resends} re-sends",
                        vehicle_mission="unknown",
                    )
                resends += 1
                self.resends += 1
                self.link.send(request)

    # -- verified upload --------------------------------------------------------------------------

    def upload_verified(
        self, items: Sequence[WireItem], mission_type: int = MissionType.MISSION, *, skip_seq0: bool = False
    ) -> list[WireItem]:
        """Upload, read back, compare; retry the whole upload up to ``timeouts.upload_attempts``
        times; if it never matches, clear the list and raise (``vehicle_mission`` = "cleared", or
        "unchanged" when nothing was ever written, or "unknown" when even clearing failed).

        ``skip_seq0`` leaves item 0 out of the comparison (ArduPilot's home, which the vehicle
        replaces with its own). Returns the items read back.
        """
        attempts = max(1, self.timeouts.upload_attempts)
        written = False
        last_error: MissionProtocolError | None = None
        name = _type_name(mission_type)
        for attempt in range(1, attempts + 1):
            try:
                try:
                    self.upload(items, mission_type)
                except MissionUnconfirmedError as exc:
                    log.info("vehicle %d: %s", self.system_id, exc)  # the read-back decides
                written = True
                got = self.download(mission_type)
                difference = compare_items(items, got, skip_seq0=skip_seq0)
                if not difference:
                    return got
                last_error = MissionVerifyError(
                    f"the {name} read back from vehicle {self.system_id} differs from the upload: "
                    f"{difference}"
                )
                log.warning(
                    "vehicle %d: %s (attempt %d of %d)", self.system_id, last_error, attempt, attempts
                )
            except MissionRejectedError as exc:
                written = written or exc.vehicle_mission != "unchanged"
                last_error = exc
                if exc.vehicle_mission == "unchanged" and not written:
                    raise  # refused outright: nothing to undo, and asking again will not help
                break  # a rejection is deterministic: do not retry
            except MissionProtocolError as exc:
                written = written or exc.vehicle_mission != "unchanged"
                last_error = exc
                log.warning(
                    "vehicle %d: %s upload attempt %d of %d failed: %s",
                    self.system_id,
                    name,
                    attempt,
                    attempts,
                    exc,
                )
        assert last_error is not None  # the loop ran at least once and did not return
        if not written:
            last_error.vehicle_mission = "unchanged"
            raise last_error
        try:
            self.clear(mission_type)
        except MissionProtocolError as clear_error:
            last_error.vehicle_mission = "unknown"
            last_error.args = (
                f"{last_error.args[0]}; clearing the {name} also failed ({clear_error}): the vehicle may "
                "hold a mix of old and new items, do not fly it",
            )
            raise last_error from clear_error
        last_error.vehicle_mission = "cleared"
        last_error.args = (
            f"{last_error.args[0]}; the vehicle's {name} was cleared (MISSION_CLEAR_ALL) after "
            f"{attempt} attempt(s) so that it cannot fly a mix of old and new items",
        )
        raise last_error
