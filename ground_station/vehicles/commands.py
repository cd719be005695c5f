"""COMMAND_LONG with COMMAND_ACK, retries and typed errors.

Each try re-sends the command with ``confirmation`` incremented; MAV_RESULT_IN_PROGRESS keeps
waiting (without re-sending) up to ``in_progress_timeout_s``; DENIED / TEMPORARILY_REJECTED,
FAILED / CANCELLED / *_ONLY and UNSUPPORTED become :class:`CommandDeniedError`,
:class:`CommandFailedError` and :class:`CommandUnsupportedError`, each carrying the vehicle's
latest STATUSTEXT (ArduPilot explains a refusal there: "PreArm: Need Position Estimate").
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from ground_station.vehicles.errors import (
    CommandDeniedError,
    CommandError,
    CommandFailedError,
    CommandTimeoutError,
    CommandUnsupportedError,
)

if TYPE_CHECKING:
    from ground_station.vehicles.link import VehicleLink
    from ground_station.vehicles.state import StateTracker

log = logging.getLogger(__name__)

#: How long to wait after a refusal for the STATUSTEXT that explains it.
_STATUSTEXT_GRACE_S = 0.3


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandTimeouts:
    ack_s: float = 1.0
    retries: int = 3
    in_progress_s: float = 30.0


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandAck:
    command: int
    result: int
    result_name: str
    progress: int = 0
    result_param2: int = 0
    tries: int = 1


def command_name(command: int) -> str:
    entry = mavlink.enums["MAV_CMD"].get(command)
    return entry.name if entry is not None else f"MAV_CMD({command})"


def mav_result_name(result: int) -> str:
    entry = mavlink.enums["MAV_RESULT"].get(result)
    return entry.name if entry is not None else f"MAV_RESULT({result})"


_ERRORS: dict[int, type[CommandError]] = {
    mavlink.MAV_RESULT_DENIED: CommandDeniedError,
    mavlink.MAV_RESULT_TEMPORARILY_REJECTED: CommandDeniedError,
    mavlink.MAV_RESULT_FAILED: CommandFailedError,
    6: CommandFailedError,  # MAV_RESULT_CANCELLED (newer common.xml)
    mavlink.MAV_RESULT_UNSUPPORTED: CommandUnsupportedError,
}


class CommandClient:
    """Sends COMMAND_LONG to one vehicle and waits for its COMMAND_ACK."""

    def __init__(
        self,
        link: VehicleLink,
        system_id: int,
        component_id: int,
        tracker: StateTracker,
        *,
        timeouts: CommandTimeouts | None = None,
    ) -> None:
        self.link = link
        self.system_id = system_id
        self.component_id = component_id
        self.tracker = tracker
        self.timeouts = timeouts or CommandTimeouts()
        self.sends = 0

    def _statustext_for(self, since: float) -> str:
        deadline = time.monotonic() + _STATUSTEXT_GRACE_S
        with self.tracker.statustext_changed:
            while True:
                recent = [s for s in self.tracker._statustext if s.received_monotonic_s >= since]
                if recent:
                    return recent[-1].text
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.tracker.statustext_changed.wait(left)
        return self.tracker.latest_statustext()

    def command_long(
        self,
        command: int,
        *params: float,
        timeouts: CommandTimeouts | None = None,
    ) -> CommandAck:
        """Send ``command`` with up to 7 params; returns the ACCEPTED ack or raises a CommandError."""
        t = timeouts or self.timeouts
        name = command_name(command)
        started = time.monotonic()
        with self.link.subscribe(self.system_id, ("COMMAND_ACK",)) as sub:
            for confirmation in range(t.retries + 1):
                self.link.send_command_long(self.system_id, self.component_id, command, params, confirmation)
                self.sends += 1
                deadline = time.monotonic() + t.ack_s
                while (left := deadline - time.monotonic()) > 0:
                    msg = sub.get(left)
                    if msg is None:
                        break
                    if int(msg.command) != command:
                        continue
                    target = getattr(msg, "target_system", 0)
                    if target not in (0, self.link.gcs_system_id):
                        continue
                    result = int(msg.result)
                    if result == mavlink.MAV_RESULT_IN_PROGRESS:
                        deadline = max(deadline, time.monotonic() + t.in_progress_s)
                        log.debug("vehicle %d: %s in progress (%s%%)", self.system_id, name, msg.progress)
                        continue
                    if result == mavlink.MAV_RESULT_ACCEPTED:
                        return CommandAck(
                            command=command,
                            result=result,
                            result_name=mav_result_name(result),
                            progress=int(getattr(msg, "progress", 0)),
                            result_param2=int(getattr(msg, "result_param2", 0)),
                            tries=confirmation + 1,
                        )
                    error = _ERRORS.get(result, CommandFailedError)
                    text = self._statustext_for(started)
                    raise error(
                        f"vehicle {self.system_id} refused {name}: {mav_result_name(result)}"
                        + (f" ({text})" if text else ""),
                        command_name=name,
                        result_name=mav_result_name(result),
                        statustext=text,
                    )
                log.debug(
                    "vehicle %d: no COMMAND_ACK for %s (try %d)", self.system_id, name, confirmation + 1
                )
        raise CommandTimeoutError(
            f"vehicle {self.system_id} did not acknowledge {name} "
            f"after {t.retries + 1} tries of {t.ack_s:g} s",
            command_name=name,
            result_name="TIMEOUT",
            statustext=self.tracker.latest_statustext(),
        )
