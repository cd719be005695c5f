"""Vehicle side of the MAVLink mission protocol, as ArduPilot 4.x does it, as a pure state machine.

:class:`MissionStore` is driven by decoded pymavlink messages (:meth:`MissionStore.handle`) and a
clock (:meth:`MissionStore.update`); it returns the messages to send (:class:`Outgoing`) and never
touches a socket. The clock is the *wall* clock in the simulator: the transfer runs over a real
link, so its timeouts must not shrink with time acceleration.

What it reproduces of ``libraries/GCS_MAVLink/MissionItemProtocol*.cpp`` (ArduPilot 4.5-4.7):

* Three item lists by ``mission_type``: mission (0), fence (1), rally (2). Any other type gets
  MISSION_ACK ``MAV_MISSION_UNSUPPORTED``. Mission item 0 is home (command 16, frame 0, AMSL);
  fence and rally have no home item.
* Upload: MISSION_COUNT -> (count above the limit: ACK ``MAV_MISSION_NO_SPACE`` and a STATUSTEXT
  "Only N items are supported") -> MISSION_REQUEST (never MISSION_REQUEST_INT) for seq 0, 1, ...;
  MISSION_ITEM_INT and MISSION_ITEM are both accepted. An item whose seq is not the one requested
  gets ACK ``MAV_MISSION_INVALID_SEQUENCE`` and the transfer goes on (a duplicate or a stale
  retry does no harm). An item the autopilot cannot store (unknown command, unsupported frame,
  bad DO_JUMP target, out-of-range lat/lon) ends the transfer with its error ACK. After the last
  item: ACK ``MAV_MISSION_ACCEPTED`` and STATUSTEXT "Flight plan received" (mission) /
  "Rally points received" (rally).
* While a transfer is in progress, MISSION_COUNT from another system/component is DENIED, from
  the same one it restarts the transfer; MISSION_REQUEST_LIST / MISSION_REQUEST(_INT) are DENIED;
  MISSION_CLEAR_ALL from the uploader cancels the transfer and clears (ArduPilot 4.5+
  ``cancel_upload``), from anyone else it is DENIED. An item outside any transfer: ACK ERROR.
* Timeouts: no item for ``rerequest_s`` (1 s) -> the request is sent again; no item for
  ``upload_timeout_s`` (8 s) -> STATUSTEXT "Mission upload timeout" and MISSION_ACK
  ``MAV_MISSION_OPERATION_CANCELLED`` to the uploader.
* **Broken uploads.** The waypoint mission and the rally list are written *in place*:
  MISSION_COUNT truncates the stored list to ``min(old, count)`` items and each item replaces
  (or appends) its seq as it arrives. A transfer that stops half-way therefore leaves the new
  head followed by whatever of the old tail survived the truncation: a mix that only reading the
  mission back can reveal. The fence is different: its items are buffered and written only when
  the last one arrived, so a broken fence upload leaves the old fence intact.
* Download: MISSION_REQUEST_LIST -> MISSION_COUNT; MISSION_REQUEST_INT -> MISSION_ITEM_INT,
  MISSION_REQUEST -> MISSION_ITEM (degrees). A mission seq past the end gets MISSION_COUNT (to
  tell the GCS the real size) and ACK ERROR; fence/rally seq past the end ACK INVALID_SEQUENCE.
  Stored items come back the way ArduPilot stores them: frames 5/6/11 read back as 0/3/10,
  ``autocontinue`` 1, altitudes to the centimetre.
* MISSION_CLEAR_ALL empties the list (the mission keeps its home item; type 255 clears all three).
* MISSION_WRITE_PARTIAL_LIST re-requests ``start..end`` in place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.errors import SimConfigError

log = logging.getLogger(__name__)

MISSION = mavlink.MAV_MISSION_TYPE_MISSION
FENCE = mavlink.MAV_MISSION_TYPE_FENCE
RALLY = mavlink.MAV_MISSION_TYPE_RALLY
ALL = mavlink.MAV_MISSION_TYPE_ALL

#: Frames whose x/y are latitude/longitude; MISSION_ITEM sends degrees, MISSION_ITEM_INT degE7.
GLOBAL_FRAMES = frozenset({0, 3, 10, 5, 6, 11})
#: How ArduPilot stores frames: the _INT variants read back as the plain ones.
_STORED_FRAME = {5: 0, 6: 3, 11: 10}
_MISSION_FRAMES = frozenset({0, 2, 3, 10, 5, 6, 11})

#: NAV commands that carry a location (lat/lon checked on upload).
NAV_WITH_LOCATION = frozenset({16, 17, 18, 19, 21, 22, 31, 82, 94})
#: Commands ArduCopter's AP_Mission stores (others: MAV_MISSION_UNSUPPORTED).
COPTER_MISSION_COMMANDS = frozenset(
    {
        16, 17, 18, 19, 20, 21, 22, 30, 31, 82, 83, 92, 93, 94,  # NAV
        112, 113, 114, 115,  # CONDITION
        176, 177, 178, 179, 181, 182, 183, 184, 189, 191, 194, 201, 202, 203, 205, 206, 207, 208, 211,
        212, 214, 215, 216, 217, 218, 222, 223, 1000, 1001, 2000, 2001, 2500, 2501, 3000, 42600,
    }
)  # fmt: skip
FENCE_COMMANDS = frozenset({5000, 5001, 5002, 5003, 5004})
_FENCE_FRAMES = frozenset({0, 3, 10, 5, 6, 11})
_RALLY_FRAMES = frozenset({3, 6})
_TYPE_NAMES = {MISSION: "Mission", FENCE: "Fence", RALLY: "Rally"}


@dataclass(frozen=True, kw_only=True)
class MissionItem:
    """One stored item, in MISSION_ITEM_INT terms: ``x``/``y`` are degE7 for global frames."""

    seq: int
    frame: int
    command: int
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    x: int = 0
    y: int = 0
    z: float = 0.0
    current: int = 0
    autocontinue: int = 1
    mission_type: int = MISSION

    @property
    def lat_deg(self) -> float:
        return self.x / 1e7

    @property
    def lon_deg(self) -> float:
        return self.y / 1e7


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    """A message to send on ``link`` (``None``: every link)."""

    link: Hashable | None
    message: Any


@dataclass(kw_only=True)
class _Transfer:
    link: Hashable
    sysid: int
    compid: int
    request_i: int
    request_last: int
    last_receive_s: float
    last_request_s: float
    buffer: list[MissionItem | None] = field(default_factory=list)  # fence only


def statustext(text: str, severity: int = mavlink.MAV_SEVERITY_INFO) -> Any:
    """A STATUSTEXT message (text cut to the field's 50 bytes)."""
    return mavlink.MAVLink_statustext_message(severity, text.encode()[:50])


def item_from_message(msg: Any) -> MissionItem:
    """A MISSION_ITEM or MISSION_ITEM_INT as a :class:`MissionItem` (degrees -> degE7 for MISSION_ITEM)."""
    frame = int(msg.frame)
    if msg.get_type() == "MISSION_ITEM" and frame in GLOBAL_FRAMES:
        x, y = round(float(msg.x) * 1e7), round(float(msg.y) * 1e7)
    else:
        x, y = int(msg.x), int(msg.y)
    return MissionItem(
        seq=int(msg.seq),
        frame=frame,
        command=int(msg.command),
        param1=float(msg.param1),
        param2=float(msg.param2),
        param3=float(msg.param3),
        param4=float(msg.param4),
        x=x,
        y=y,
        z=float(msg.z),
        current=int(msg.current),
        autocontinue=int(msg.autocontinue),
        mission_type=int(getattr(msg, "mission_type", 0)),
    )


class MissionStore:
    """Mission, fence and rally lists of one vehicle and the transfer state machine over them.

    ``sysid``/``compid``: the vehicle's own ids (for nothing but logging; targets come from the
    sender). ``*_limit``: most items each list stores. ``on_change(mission_type)`` is called after
    every stored change (used by the vehicle to reload fences, reset jump counters).
    """

    def __init__(
        self,
        *,
        mission_limit: int = 700,
        fence_limit: int = 84,
        rally_limit: int = 20,
        upload_timeout_s: float = 8.0,
        rerequest_s: float = 1.0,
    ) -> None:
        for label, v in (
            ("mission_limit", mission_limit),
            ("fence_limit", fence_limit),
            ("rally_limit", rally_limit),
        ):
            if v < 1:
                raise SimConfigError(f"expected {label} >= 1, got {v}")
        if not (upload_timeout_s > 0 and rerequest_s > 0):
            raise SimConfigError(f"expected positive timeouts, got {upload_timeout_s=}, {rerequest_s=}")
        self._limits = {MISSION: mission_limit, FENCE: fence_limit, RALLY: rally_limit}
        self.upload_timeout_s = upload_timeout_s
        self.rerequest_s = rerequest_s
        self._lists: dict[int, list[MissionItem]] = {
            MISSION: [MissionItem(seq=0, frame=0, command=16)],
            FENCE: [],
            RALLY: [],
        }
        self._transfers: dict[int, _Transfer] = {}
        #: Bumped on every stored change, per type: lets a reader notice a new mission.
        self.version: dict[int, int] = {MISSION: 0, FENCE: 0, RALLY: 0}

    # -- reading -------------------------------------------------------------------------------

    def items(self, mission_type: int = MISSION) -> list[MissionItem]:
        """A copy of the stored list (the mission's item 0 is home)."""
        return list(self._lists[mission_type])

    def count(self, mission_type: int = MISSION) -> int:
        return len(self._lists[mission_type])

    def item(self, seq: int) -> MissionItem | None:
        """Mission item ``seq``, or None past the end."""
        lst = self._lists[MISSION]
        return lst[seq] if 0 <= seq < len(lst) else None

    def receiving(self, mission_type: int = MISSION) -> bool:
        return mission_type in self._transfers

    # -- writing outside the protocol ----------------------------------------------------------

    def set_home(self, *, lat_deg: float, lon_deg: float, altitude_amsl_m: float) -> None:
        """Write home into mission item 0 (ArduPilot rewrites it whenever home is set)."""
        self._lists[MISSION][0] = MissionItem(
            seq=0,
            frame=0,
            command=16,
            x=round(lat_deg * 1e7),
            y=round(lon_deg * 1e7),
            z=round(altitude_amsl_m, 2),
        )

    def load(self, items: Sequence[MissionItem], mission_type: int = MISSION) -> None:
        """Replace a list directly (tests, scripted demos); the mission keeps its home item 0."""
        stored = [self._stored(replace(it, seq=i, mission_type=mission_type)) for i, it in enumerate(items)]
        if mission_type == MISSION:
            home = self._lists[MISSION][0]
            stored = [home, *stored[1:]] if stored else [home]
        self._lists[mission_type] = stored
        self.version[mission_type] += 1

    def clear(self, mission_type: int = MISSION) -> None:
        if mission_type == MISSION:
            self._lists[MISSION] = self._lists[MISSION][:1]
        else:
            self._lists[mission_type] = []
        self.version[mission_type] += 1

    # -- the protocol --------------------------------------------------------------------------

    def handle(self, msg: Any, *, link: Hashable, now_s: float) -> list[Outgoing] | None:
        """Process one message from a GCS; None when it is not a mission-protocol message."""
        kind = msg.get_type()
        handlers: dict[str, Callable[..., list[Outgoing]] | None] = {
            "MISSION_COUNT": self._on_count,
            "MISSION_ITEM": self._on_item,
            "MISSION_ITEM_INT": self._on_item,
            "MISSION_REQUEST_LIST": self._on_request_list,
            "MISSION_REQUEST": self._on_request,
            "MISSION_REQUEST_INT": self._on_request,
            "MISSION_CLEAR_ALL": self._on_clear_all,
            "MISSION_WRITE_PARTIAL_LIST": self._on_partial,
            "MISSION_ACK": None,
        }
        if kind not in handlers:
            return None
        handler = handlers[kind]
        if handler is None:
            return []
        sysid, compid = msg.get_srcSystem(), msg.get_srcComponent()
        mtype = int(getattr(msg, "mission_type", 0))
        if mtype not in self._lists and not (kind == "MISSION_CLEAR_ALL" and mtype == ALL):
            return [self._ack(link, sysid, compid, mavlink.MAV_MISSION_UNSUPPORTED, mtype)]
        out: list[Outgoing] = handler(msg, link, sysid, compid, mtype, now_s)
        return out

    def update(self, now_s: float) -> list[Outgoing]:
        """Re-request overdue items, cancel stalled transfers."""
        out: list[Outgoing] = []
        for mtype, t in list(self._transfers.items()):
            if now_s - t.last_receive_s > self.upload_timeout_s:
                del self._transfers[mtype]
                log.info("%s upload timed out at seq %d", _TYPE_NAMES[mtype], t.request_i)
                out.append(
                    Outgoing(
                        link=t.link,
                        message=statustext(
                            f"{_TYPE_NAMES[mtype]} upload timeout", mavlink.MAV_SEVERITY_WARNING
                        ),
                    )
                )
                out.append(
                    self._ack(t.link, t.sysid, t.compid, mavlink.MAV_MISSION_OPERATION_CANCELLED, mtype)
                )
            elif now_s - t.last_request_s > self.rerequest_s:
                out.append(self._request(t, mtype, now_s))
        return out

    # -- handlers ------------------------------------------------------------------------------

    def _on_count(
        self, msg: Any, link: Hashable, sysid: int, compid: int, mtype: int, now_s: float
    ) -> list[Outgoing]:
        t = self._transfers.get(mtype)
        if t is not None and (t.sysid, t.compid) != (sysid, compid):
            return [self._ack(link, sysid, compid, mavlink.MAV_MISSION_DENIED, mtype)]
        self._transfers.pop(mtype, None)
        count = int(msg.count)
        if count > self._limits[mtype]:
            text = statustext(f"Only {self._limits[mtype]} items are supported", mavlink.MAV_SEVERITY_WARNING)
            return [
                self._ack(link, sysid, compid, mavlink.MAV_MISSION_NO_SPACE, mtype),
                Outgoing(link=None, message=text),
            ]
        if mtype != FENCE:  # truncate in place (the mission keeps its home item)
            keep = max(1, count) if mtype == MISSION else count
            if len(self._lists[mtype]) > keep:
                self._lists[mtype] = self._lists[mtype][:keep]
                self.version[mtype] += 1
        if count == 0:
            return self._complete(link, sysid, compid, mtype, [])
        t = _Transfer(
            link=link,
            sysid=sysid,
            compid=compid,
            request_i=0,
            request_last=count - 1,
            last_receive_s=now_s,
            last_request_s=now_s,
            buffer=[None] * count if mtype == FENCE else [],
        )
        self._transfers[mtype] = t
        return [self._request(t, mtype, now_s)]

    def _on_partial(
        self, msg: Any, link: Hashable, sysid: int, compid: int, mtype: int, now_s: float
    ) -> list[Outgoing]:
        start, end, n = int(msg.start_index), int(msg.end_index), len(self._lists[mtype])
        if mtype == FENCE or start > n or end > n or end < start or mtype in self._transfers:
            return [self._ack(link, sysid, compid, mavlink.MAV_MISSION_ERROR, mtype)]
        t = _Transfer(
            link=link,
            sysid=sysid,
            compid=compid,
            request_i=start,
            request_last=end,
            last_receive_s=now_s,
            last_request_s=now_s,
        )
        self._transfers[mtype] = t
        return [self._request(t, mtype, now_s)]

    def _on_item(
        self, msg: Any, link: Hashable, sysid: int, compid: int, mtype: int, now_s: float
    ) -> list[Outgoing]:
        t = self._transfers.get(mtype)
        if t is None:
            return [self._ack(link, sysid, compid, mavlink.MAV_MISSION_ERROR, mtype)]
        item = item_from_message(msg)
        if item.seq != t.request_i:
            return [self._ack(link, sysid, compid, mavlink.MAV_MISSION_INVALID_SEQUENCE, mtype)]
        if (sysid, compid) != (t.sysid, t.compid):
            return [self._ack(link, sysid, compid, mavlink.MAV_MISSION_DENIED, mtype)]
        result = self._check(item, mtype, t)
        if result == mavlink.MAV_MISSION_ACCEPTED:
            result = self._write(item, mtype, t)
        if result != mavlink.MAV_MISSION_ACCEPTED:
            del self._transfers[mtype]
            return [self._ack(link, sysid, compid, result, mtype)]
        t.last_receive_s = now_s
        t.request_i += 1
        if t.request_i > t.request_last:
            del self._transfers[mtype]
            return self._complete(link, sysid, compid, mtype, t.buffer)
        return [self._request(t, mtype, now_s)]

    def _on_request_list(
        self, msg: Any, link: Hashable, sysid: int, compid: int, mtype: int, now_s: float
    ) -> list[Outgoing]:
        if mtype in self._transfers:
            return [self._ack(link, sysid, compid, mavlink.MAV_MISSION_DENIED, mtype)]
        count = len(self._lists[mtype])
        return [
            Outgoing(link=link, message=mavlink.MAVLink_mission_count_message(sysid, compid, count, mtype))
        ]

    def _on_request(
        self, msg: Any, link: Hashable, sysid: int, compid: int, mtype: int, now_s: float
    ) -> list[Outgoing]:
        if mtype in self._transfers:
            return [self._ack(link, sysid, compid, mavlink.MAV_MISSION_DENIED, mtype)]
        seq, lst = int(msg.seq), self._lists[mtype]
        if not 0 <= seq < len(lst):
            if mtype == MISSION:
                count_msg = mavlink.MAVLink_mission_count_message(sysid, compid, len(lst), mtype)
                return [
                    Outgoing(link=link, message=count_msg),
                    self._ack(link, sysid, compid, mavlink.MAV_MISSION_ERROR, mtype),
                ]
            return [self._ack(link, sysid, compid, mavlink.MAV_MISSION_INVALID_SEQUENCE, mtype)]
        it = lst[seq]
        p = (sysid, compid, seq, it.frame, it.command, 0, 1, it.param1, it.param2, it.param3, it.param4)
        if msg.get_type() == "MISSION_REQUEST_INT":
            reply = mavlink.MAVLink_mission_item_int_message(*p, it.x, it.y, it.z, mtype)
        else:
            glob = it.frame in GLOBAL_FRAMES
            x = it.x / 1e7 if glob else float(it.x)
            y = it.y / 1e7 if glob else float(it.y)
            reply = mavlink.MAVLink_mission_item_message(*p, x, y, it.z, mtype)
        return [Outgoing(link=link, message=reply)]

    def _on_clear_all(
        self, msg: Any, link: Hashable, sysid: int, compid: int, mtype: int, now_s: float
    ) -> list[Outgoing]:
        types = list(self._lists) if mtype == ALL else [mtype]
        for m in types:
            t = self._transfers.get(m)
            if t is not None:
                if (t.sysid, t.compid) != (sysid, compid):
                    return [self._ack(link, sysid, compid, mavlink.MAV_MISSION_DENIED, mtype)]
                del self._transfers[m]  # the uploader cancels its own upload (cancel_upload)
        for m in types:
            self.clear(m)
        return [self._ack(link, sysid, compid, mavlink.MAV_MISSION_ACCEPTED, mtype)]

    # -- helpers -------------------------------------------------------------------------------

    def _check(self, item: MissionItem, mtype: int, t: _Transfer) -> int:
        if mtype == MISSION:
            if item.command not in COPTER_MISSION_COMMANDS:
                return int(mavlink.MAV_MISSION_UNSUPPORTED)
            if item.frame not in _MISSION_FRAMES:
                return int(mavlink.MAV_MISSION_UNSUPPORTED_FRAME)
            if item.command == mavlink.MAV_CMD_DO_JUMP:
                target, n = int(item.param1), len(self._lists[MISSION])
                if target == 0 or (target >= n and target > t.request_last):
                    return int(mavlink.MAV_MISSION_ERROR)
        elif mtype == FENCE:
            if item.frame not in _FENCE_FRAMES:
                return int(mavlink.MAV_MISSION_UNSUPPORTED_FRAME)
            if item.command not in FENCE_COMMANDS:
                return int(mavlink.MAV_MISSION_UNSUPPORTED)
        else:
            if item.command != mavlink.MAV_CMD_NAV_RALLY_POINT:
                return int(mavlink.MAV_MISSION_UNSUPPORTED)
            if item.frame not in _RALLY_FRAMES:
                return int(mavlink.MAV_MISSION_UNSUPPORTED_FRAME)
        located = mtype != MISSION or (item.command in NAV_WITH_LOCATION and item.frame in GLOBAL_FRAMES)
        if located and item.seq != 0:
            if abs(item.x) > 900_000_000:
                return int(mavlink.MAV_MISSION_INVALID_PARAM5_X)
            if abs(item.y) > 1_800_000_000:
                return int(mavlink.MAV_MISSION_INVALID_PARAM6_Y)
        return int(mavlink.MAV_MISSION_ACCEPTED)

    @staticmethod
    def _stored(item: MissionItem) -> MissionItem:
        frame = _STORED_FRAME.get(item.frame, item.frame)
        z = round(item.z, 2) if item.mission_type == MISSION else float(int(item.z))
        if item.mission_type == FENCE:
            z = 0.0
        return replace(item, frame=frame, z=z, current=0, autocontinue=1)

    def _write(self, item: MissionItem, mtype: int, t: _Transfer) -> int:
        stored = self._stored(replace(item, mission_type=mtype))
        if mtype == FENCE:
            t.buffer[item.seq] = stored
            return int(mavlink.MAV_MISSION_ACCEPTED)
        lst = self._lists[mtype]
        if item.seq < len(lst):
            lst[item.seq] = stored
        elif item.seq == len(lst):
            lst.append(stored)
        else:
            return int(mavlink.MAV_MISSION_ERROR)
        self.version[mtype] += 1
        return int(mavlink.MAV_MISSION_ACCEPTED)

    def _complete(
        self, link: Hashable, sysid: int, compid: int, mtype: int, buffer: list[MissionItem | None]
    ) -> list[Outgoing]:
        out = [self._ack(link, sysid, compid, mavlink.MAV_MISSION_ACCEPTED, mtype)]
        if mtype == FENCE:
            self._lists[FENCE] = [it for it in buffer if it is not None]
            self.version[FENCE] += 1
        elif mtype == MISSION:
            out.insert(0, Outgoing(link=link, message=statustext("Flight plan received")))
        else:
            out.insert(0, Outgoing(link=link, message=statustext("Rally points received")))
        log.info("%s upload complete: %d items", _TYPE_NAMES[mtype], len(self._lists[mtype]))
        return out

    def _request(self, t: _Transfer, mtype: int, now_s: float) -> Outgoing:
        t.last_request_s = now_s
        return Outgoing(
            link=t.link,
            message=mavlink.MAVLink_mission_request_message(t.sysid, t.compid, t.request_i, mtype),
        )

    @staticmethod
    def _ack(link: Hashable, sysid: int, compid: int, result: int, mtype: int) -> Outgoing:
        return Outgoing(link=link, message=mavlink.MAVLink_mission_ack_message(sysid, compid, result, mtype))
