"""A simulated ArduCopter: kinematics, flight modes, mission execution and failsafes, stepped by ``dt``.

Pure: no sockets, no threads, no wall clock. :class:`SimVehicle` advances by :meth:`SimVehicle.step`
(sim seconds), takes commands as MAVLink numbers (:meth:`SimVehicle.command`, :meth:`SimVehicle.set_mode`)
and leaves what it has to say (STATUSTEXT, MISSION_ITEM_REACHED, camera triggers, home changes) in
:attr:`SimVehicle.events`, which the endpoint drains.

Model (kinematic, enough for a ground station): the position moves toward a target with the
horizontal speed limited by WPNAV_SPEED (or a DO_CHANGE_SPEED override) and acceleration by
WPNAV_ACCEL, slowing down as ``sqrt(2 a d)`` near it; vertical speed limited by WPNAV_SPEED_UP /
WPNAV_SPEED_DN (LAND_SPEED in the last LAND_ALT_LOW). Roll and pitch follow from the commanded
acceleration plus the lean into the wind, yaw turns toward the track. The battery drains by a
current derived from the ``#@ cruise_current_a`` annotation of the parameter file (hover 90 % of
it, more with airspeed and climb). The ground is the world's ground truth (a DEM or flat ground at
home altitude); the vehicle's own terrain knowledge for frame-10 items is its terrain database,
filled only by TERRAIN_DATA from the ground station.

ArduCopter behaviour reproduced:

* No position for the first ``settle_s`` seconds (GPS fix at half of it): arming refused with
  "PreArm: GPS: waiting for fix" / "PreArm: Need Position Estimate"; home set when the position
  estimate comes, and again on arming.
* Arming in STABILIZE, ALT_HOLD, LOITER, GUIDED, and AUTO with a mission; with terrain-frame
  mission items, refused with "PreArm: waiting for terrain data" until the terrain database covers
  them; refused inside a fence breach or with a low battery. ``param2 = 21196`` forces it.
* Auto-disarm: after touching down in LAND / RTL / a mission LAND (1 s), or DISARM_DELAY seconds
  armed on the ground without taking off.
* AUTO runs the mission from MISSION_CURRENT when started (MAV_CMD_MISSION_START, or switching to
  AUTO while armed; landed needs a NAV_TAKEOFF first: "Auto: Missing Takeoff Cmd"). DO commands
  that follow a NAV command run when that NAV command starts; DO_JUMP repeats ``param2`` times
  (-1 = forever). MISSION_ITEM_REACHED when a NAV command completes (after its hold time),
  STATUSTEXT "Mission: N WP" when one starts. At the end of a mission without RTL/LAND the
  vehicle stays in AUTO and holds position (Copter's ``exit_mission`` loiter); landed: disarms.
* RTL: climb to RTL_ALT (above home; above terrain from the terrain database when RTL_ALT_TYPE = 1
  and the data is there), fly home at RTL_SPEED, loiter RTL_LOIT_TIME, land, disarm.
* Failsafes: battery low/critical by mAh used (BATT_LOW_MAH/BATT_CRT_MAH -> BATT_FS_LOW_ACT /
  BATT_FS_CRT_ACT); fence breach (FENCE_TYPE bits: 1 altitude, 2 circle FENCE_RADIUS around home,
  4 uploaded polygons/circles) -> FENCE_ACTION; GCS heartbeat (from SYSID_MYGCS) lost for
  FS_GCS_TIMEOUT seconds of wall time (the link is real) -> FS_GCS_ENABLE action, unless
  FS_OPTIONS says continue (bit 1 in AUTO, bit 4 in pilot modes, bit 3 while landing). Each with
  its STATUSTEXT.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from geo.frames import LocalFrame
from geo.terrain_grid import TerrainDatabase, TerrainRequest
from sim.errors import SimConfigError
from sim.mission_store import FENCE, GLOBAL_FRAMES, RALLY, MissionItem, MissionStore
from sim.params import ParameterStore

if TYPE_CHECKING:
    from geo.terrain import Terrain

log = logging.getLogger(__name__)

GRAVITY_M_S2 = 9.80665
FORCE_ARM_MAGIC = 21196
_CRIT = mavlink.MAV_SEVERITY_CRITICAL
_WARN = mavlink.MAV_SEVERITY_WARNING
_INFO = mavlink.MAV_SEVERITY_INFO
ACCEPTED = mavlink.MAV_RESULT_ACCEPTED
FAILED = mavlink.MAV_RESULT_FAILED
DENIED = mavlink.MAV_RESULT_DENIED
UNSUPPORTED = mavlink.MAV_RESULT_UNSUPPORTED
_TERRAIN_FRAMES = frozenset({10, 11})
_RELATIVE_FRAMES = frozenset({3, 6})
_CLIMB_ACCEL_M_S2 = 2.5
_TOUCHDOWN_DISARM_S = 1.0
_FULL_VOLTAGE_V = 25.2
_EMPTY_VOLTAGE_V = 21.0
_RESISTANCE_OHM = 0.012


class Mode(IntEnum):
    """ArduCopter flight modes (``custom_mode`` numbers, as pymavlink's ``mode_mapping_acm``)."""

    STABILIZE = 0
    ALT_HOLD = 2
    AUTO = 3
    GUIDED = 4
    LOITER = 5
    RTL = 6
    LAND = 9
    BRAKE = 17


ARMABLE_MODES = frozenset({Mode.STABILIZE, Mode.ALT_HOLD, Mode.LOITER, Mode.GUIDED, Mode.AUTO})
_PILOT_MODES = frozenset({Mode.STABILIZE, Mode.ALT_HOLD, Mode.LOITER})
_NEEDS_POSITION = frozenset({Mode.AUTO, Mode.GUIDED, Mode.LOITER, Mode.RTL, Mode.BRAKE})
_CMD_NAMES = {16: "WP", 17: "LoitUnlim", 19: "LoitTime", 20: "RTL", 21: "Land", 22: "Takeoff"}


# -- events -----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StatusText:
    severity: int
    text: str


@dataclass(frozen=True, kw_only=True)
class ItemReached:
    seq: int


@dataclass(frozen=True, kw_only=True)
class MissionCurrentChanged:
    seq: int


@dataclass(frozen=True, kw_only=True)
class HomeChanged:
    lat_deg: float
    lon_deg: float
    altitude_amsl_m: float


@dataclass(frozen=True, kw_only=True)
class CameraTriggered:
    image_index: int
    lat_deg: float
    lon_deg: float
    altitude_amsl_m: float
    altitude_rel_m: float
    roll_deg: float
    pitch_deg: float
    yaw_deg: float
    time_s: float


Event = StatusText | ItemReached | MissionCurrentChanged | HomeChanged | CameraTriggered


# -- configuration ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class VehicleConfig:
    """One simulated vehicle. ``home_alt_amsl_m`` None: the ground's height at home."""

    home_lat_deg: float
    home_lon_deg: float
    home_alt_amsl_m: float | None = None
    settle_s: float = 40.0
    wind_east_m_s: float = 0.0
    wind_north_m_s: float = 0.0
    gps_noise_m: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not (-90 < self.home_lat_deg < 90 and -180 <= self.home_lon_deg <= 180):
            raise SimConfigError(
                f"expected a home lat/lon in range, got ({self.home_lat_deg}, {self.home_lon_deg})"
            )
        if not (self.settle_s >= 0 and math.isfinite(self.settle_s)):
            raise SimConfigError(f"expected settle_s >= 0, got {self.settle_s}")
        if self.gps_noise_m < 0:
            raise SimConfigError(f"expected gps_noise_m >= 0, got {self.gps_noise_m}")


class Ground:
    """The world's ground truth: a :class:`geo.terrain.Terrain`, or flat at ``flat_amsl_m``."""

    def __init__(self, terrain: Terrain | None = None, *, flat_amsl_m: float = 0.0) -> None:
        self.terrain = terrain
        self.flat_amsl_m = flat_amsl_m

    def height_amsl_m(self, lat_deg: float, lon_deg: float) -> float:
        if self.terrain is None:
            return self.flat_amsl_m
        try:
            h = float(self.terrain.elevation(lat_deg, lon_deg))
        except ValueError:  # outside the DEM or a void: flat at the fallback height
            return self.flat_amsl_m
        return h if math.isfinite(h) else self.flat_amsl_m


# -- the vehicle ------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class _Nav:
    """The active NAV command of a running mission."""

    item: MissionItem
    x_m: float
    y_m: float
    alt_amsl_m: float
    terrain_z_m: float | None  # frame 10: height above terrain to keep
    reached: bool = False
    hold_until_s: float | None = None
    landing: bool = False


class SimVehicle:
    """One simulated ArduCopter. See the module docstring for the behaviour.

    ``params``: its parameters (read live, so PARAM_SET takes effect at once); ``mission``: its
    mission/fence/rally store; ``ground``: ground truth; ``terrain_db``: the vehicle's terrain
    database (None: terrain-frame items cannot be flown and terrain checks are skipped).
    """

    def __init__(
        self,
        config: VehicleConfig,
        *,
        params: ParameterStore,
        mission: MissionStore | None = None,
        ground: Ground | None = None,
        terrain_db: TerrainDatabase | None = None,
    ) -> None:
        self.config = config
        self.params = params
        self.mission = mission if mission is not None else MissionStore()
        self.ground = ground if ground is not None else Ground(flat_amsl_m=config.home_alt_amsl_m or 0.0)
        self.terrain_db = terrain_db
        self.frame = LocalFrame(origin_lat_deg=config.home_lat_deg, origin_lon_deg=config.home_lon_deg)
        self._rng = random.Random(config.seed)
        ground0 = self.ground.height_amsl_m(config.home_lat_deg, config.home_lon_deg)
        self.events: list[Event] = []
        # state
        self.time_s = 0.0
        self.x_m = 0.0
        self.y_m = 0.0
        self.alt_amsl_m = ground0
        self.ve_m_s = 0.0
        self.vn_m_s = 0.0
        self.vu_m_s = 0.0
        self.ae_m_s2 = 0.0
        self.an_m_s2 = 0.0
        self.yaw_deg = 0.0
        self.roll_deg = 0.0
        self.pitch_deg = 0.0
        self.yaw_rate_deg_s = 0.0
        self.armed = False
        self.mode = Mode.STABILIZE
        self.landed = True
        self.home: tuple[float, float, float] | None = None
        self.consumed_mah = 0.0
        self.current_a = 0.0
        self.gimbal_pitch_deg = 0.0
        self.gimbal_yaw_deg = 0.0
        self.image_count = 0
        self._lat_deg = config.home_lat_deg
        self._lon_deg = config.home_lon_deg
        self._ground_m = ground0
        self._target: tuple[float, float, float] | None = None  # x, y, alt AMSL
        self._speed_override_m_s: float | None = None
        self._climb_override_m_s: float | None = None
        self._descent_override_m_s: float | None = None
        self._landed_since_s: float | None = 0.0
        self._touchdown_s: float | None = None
        self._took_off = False
        # mission runner
        self.mission_seq = 1
        self.mission_running = False
        self.mission_complete = False
        self.paused = False
        self._nav: _Nav | None = None
        self._jump_counts: dict[int, int] = {}
        self._mission_version = -1
        # RTL
        self._rtl_stage = ""
        self._rtl_alt_amsl_m = 0.0
        self._rtl_loiter_until_s = 0.0
        self._pause_point: tuple[float, float, float] = (0.0, 0.0, 0.0)
        # camera
        self._trigger_dist_m = 0.0
        self._last_trigger_xy: tuple[float, float] | None = None
        # failsafes
        self.batt_low = False
        self.batt_critical = False
        self.fence_breached = ""
        self.gcs_failsafe = False
        self.last_gcs_heartbeat_s: float | None = None
        # sim seconds per wall second of the link: the ground station's heartbeats come on the
        # wall clock, so FS_GCS_TIMEOUT is counted in wall seconds (the runner sets its speedup)
        self.link_time_scale = 1.0
        self._fence_version = -1
        self._fence_shapes: list[tuple[str, Any]] = []
        self.events.append(StatusText(severity=_INFO, text="ArduCopter V4.6.0 (shanshui sim)"))

    # -- read-outs -----------------------------------------------------------------------------

    @property
    def gps_fix(self) -> bool:
        return self.time_s >= 0.5 * self.config.settle_s

    @property
    def has_position(self) -> bool:
        return self.time_s >= self.config.settle_s

    @property
    def lat_deg(self) -> float:
        return self._lat_deg

    @property
    def lon_deg(self) -> float:
        return self._lon_deg

    @property
    def ground_amsl_m(self) -> float:
        return self._ground_m

    @property
    def altitude_agl_m(self) -> float:
        return self.alt_amsl_m - self._ground_m

    @property
    def altitude_rel_home_m(self) -> float:
        return self.alt_amsl_m - (self.home[2] if self.home else self._ground_m)

    @property
    def groundspeed_m_s(self) -> float:
        return math.hypot(self.ve_m_s, self.vn_m_s)

    @property
    def airspeed_m_s(self) -> float:
        return math.hypot(self.ve_m_s - self.config.wind_east_m_s, self.vn_m_s - self.config.wind_north_m_s)

    @property
    def flying(self) -> bool:
        return self.armed and not self.landed

    @property
    def voltage_v(self) -> float:
        frac = min(1.0, self.consumed_mah / max(1.0, self.params.get("BATT_CAPACITY", 3300)))
        return (
            _FULL_VOLTAGE_V
            - (_FULL_VOLTAGE_V - _EMPTY_VOLTAGE_V) * frac**1.5
            - _RESISTANCE_OHM * self.current_a
        )

    @property
    def battery_remaining_pct(self) -> int:
        cap = max(1.0, self.params.get("BATT_CAPACITY", 3300))
        return max(0, min(100, round(100.0 * (1.0 - self.consumed_mah / cap))))

    def reported_position(self) -> tuple[float, float]:
        """Lat/lon as telemetry gives them: 0, 0 before the position estimate; noisy with GPS noise."""
        if not self.has_position:
            return 0.0, 0.0
        if self.config.gps_noise_m <= 0:
            return self._lat_deg, self._lon_deg
        dx = self._rng.gauss(0.0, self.config.gps_noise_m)
        dy = self._rng.gauss(0.0, self.config.gps_noise_m)
        lat, lon = self.frame.to_geodetic(self.x_m + dx, self.y_m + dy)
        return float(lat), float(lon)

    def drain_events(self) -> list[Event]:
        out, self.events = self.events, []
        return out

    def _say(self, text: str, severity: int = _INFO) -> None:
        log.info("sysid %d: %s", int(self.params.get("SYSID_THISMAV", 1)), text)
        self.events.append(StatusText(severity=severity, text=text))

    # -- parameters in SI ----------------------------------------------------------------------

    def _p(self, name: str) -> float:
        return self.params.get(name, 0.0)

    def _wp_speed_m_s(self) -> float:
        if self._speed_override_m_s is not None:
            return self._speed_override_m_s
        return max(0.2, self._p("WPNAV_SPEED") / 100.0)

    def _climb_m_s(self) -> float:
        return self._climb_override_m_s or max(0.1, self._p("WPNAV_SPEED_UP") / 100.0)

    def _descent_m_s(self) -> float:
        return self._descent_override_m_s or max(0.1, self._p("WPNAV_SPEED_DN") / 100.0)

    def _accel_m_s2(self) -> float:
        return max(0.5, self._p("WPNAV_ACCEL") / 100.0)

    # -- home, terrain, frames -----------------------------------------------------------------

    def _set_home_here(self) -> None:
        self.home = (self._lat_deg, self._lon_deg, self.alt_amsl_m)
        self.mission.set_home(lat_deg=self._lat_deg, lon_deg=self._lon_deg, altitude_amsl_m=self.alt_amsl_m)
        self.events.append(
            HomeChanged(lat_deg=self._lat_deg, lon_deg=self._lon_deg, altitude_amsl_m=self.alt_amsl_m)
        )

    def terrain_height(self, lat_deg: float, lon_deg: float) -> float | None:
        """The terrain database's height there; None when not loaded (or no database)."""
        if self.terrain_db is None:
            return None
        try:
            return float(self.terrain_db.height_amsl(lat_deg, lon_deg))
        except LookupError:
            return None

    def terrain_locations(self) -> list[tuple[float, float]]:
        """Where the vehicle wants terrain data: here, home, mission NAV locations, rally points."""
        out: list[tuple[float, float]] = []
        if self.has_position:
            out.append((self._lat_deg, self._lon_deg))
        if self.home is not None:
            out.append((self.home[0], self.home[1]))
        for it in self.mission.items()[1:]:
            if it.frame in GLOBAL_FRAMES and (it.x or it.y) and it.command < mavlink.MAV_CMD_NAV_LAST:
                out.append((it.lat_deg, it.lon_deg))
        out.extend((it.lat_deg, it.lon_deg) for it in self.mission.items(RALLY))
        return out

    def terrain_request(self) -> TerrainRequest | None:
        """The next TERRAIN_REQUEST to send (a ``TerrainRequest``), or None when nothing is missing."""
        if self.terrain_db is None or self._p("TERRAIN_ENABLE") < 1:
            return None
        for lat, lon in self.terrain_locations():
            req = self.terrain_db.request_for(lat, lon)
            if req is not None:
                return req
        return None

    def _mission_terrain_missing(self) -> bool:
        if self.terrain_db is None:
            return False
        for it in self.mission.items()[1:]:
            if it.frame in _TERRAIN_FRAMES and it.command < mavlink.MAV_CMD_NAV_LAST:
                lat, lon = (it.lat_deg, it.lon_deg) if (it.x or it.y) else (self._lat_deg, self._lon_deg)
                if not self.terrain_db.covers(lat, lon):
                    return True
        return False

    def _alt_amsl_for(self, frame: int, z: float, lat_deg: float, lon_deg: float) -> float | None:
        if frame in _RELATIVE_FRAMES:
            return (self.home[2] if self.home else self._ground_m) + z
        if frame in _TERRAIN_FRAMES:
            h = self.terrain_height(lat_deg, lon_deg)
            return None if h is None else h + z
        return z

    # -- commands ------------------------------------------------------------------------------

    def set_mode(self, mode: int) -> bool:
        """Change flight mode as ArduCopter would; False (and a STATUSTEXT) when refused."""
        try:
            new = Mode(int(mode))
        except ValueError:
            self._say(f"Unknown mode {mode}", _WARN)
            return False
        if new == self.mode:
            return True
        if new in _NEEDS_POSITION and not self.has_position:
            self._say(f"Mode change to {new.name} failed: requires position", _WARN)
            return False
        if new == Mode.AUTO:
            if self.mission.count() <= 1:
                self._say("Mode change to AUTO failed: no mission", _WARN)
                return False
            if self.armed and self.landed and not self._mission_starts_with_takeoff():
                self._say("Auto: Missing Takeoff Cmd", _WARN)
                return False
        self._enter(new)
        return True

    def _enter(self, new: Mode) -> None:
        log.debug("mode %s -> %s", self.mode.name, new.name)
        self.mode = new
        self.paused = False
        self._speed_override_m_s = self._climb_override_m_s = self._descent_override_m_s = None
        if new != Mode.AUTO:
            self.mission_running = False
            self._nav = None
        self._target = None if self.landed else self._stopping_point()
        if new == Mode.RTL:
            self._start_rtl()
        elif new == Mode.AUTO and self.armed:
            self.start_mission()

    def _stopping_point(self) -> tuple[float, float, float]:
        a = self._accel_m_s2()
        v = self.groundspeed_m_s
        d = v * v / (2 * a) if v > 0 else 0.0
        if v > 1e-6:
            return self.x_m + self.ve_m_s / v * d, self.y_m + self.vn_m_s / v * d, self.alt_amsl_m
        return self.x_m, self.y_m, self.alt_amsl_m

    def arm(self, *, force: bool = False) -> int:
        """MAV_CMD_COMPONENT_ARM_DISARM param1 = 1: MAV_RESULT."""
        if self.armed:
            return ACCEPTED
        if not force:
            failures = self.prearm_failures()
            if failures:
                for text in failures:
                    self._say(text, _CRIT)
                return FAILED
        self.armed = True
        self._took_off = False
        self._landed_since_s = self.time_s
        self.batt_low = self.batt_critical = False
        self.fence_breached = ""
        if self.has_position:
            self._set_home_here()
        log.info("armed in %s", self.mode.name)
        return ACCEPTED

    def prearm_failures(self) -> list[str]:
        """The STATUSTEXTs a refused arm would send, in ArduPilot's order; empty when it may arm."""
        out: list[str] = []
        if self.mode not in ARMABLE_MODES or (self.mode == Mode.AUTO and self.mission.count() <= 1):
            return ["Arm: Mode not armable"]
        if not self.gps_fix:
            out.append("PreArm: GPS: waiting for fix")
        if not self.has_position:
            out.append("PreArm: Need Position Estimate")
        if self._p("TERRAIN_ENABLE") >= 1 and self._mission_terrain_missing():
            out.append("PreArm: waiting for terrain data")
        if self._p("FENCE_ENABLE") >= 1 and self.has_position:
            breach = self._fence_breach()
            if breach:
                out.append(f"PreArm: Vehicle breaching {breach} fence")
        low = self._p("BATT_LOW_MAH")
        if low > 0 and self.consumed_mah >= self._p("BATT_CAPACITY") - low:
            out.append("PreArm: Battery 1 low capacity")
        return out

    def disarm(self, *, force: bool = False) -> int:
        if not self.armed:
            return ACCEPTED
        if self.flying and not force:
            return FAILED
        self.armed = False
        self.mission_running = False
        self._nav = None
        self._target = None
        self._touchdown_s = None
        log.info("disarmed")
        return ACCEPTED

    def takeoff(self, altitude_rel_m: float) -> int:
        if self.mode != Mode.GUIDED or not self.armed:
            return FAILED
        if not self.landed:
            # a retried takeoff while climbing: accepted, same target (idempotent)
            return ACCEPTED if self._target is not None else FAILED
        if altitude_rel_m <= 0:
            return FAILED
        base = self.home[2] if self.home else self._ground_m
        self._target = (self.x_m, self.y_m, max(base + altitude_rel_m, self._ground_m + 1.0))
        self._took_off = True
        return ACCEPTED

    def goto(self, lat_deg: float, lon_deg: float, alt_amsl_m: float) -> int:
        """DO_REPOSITION in GUIDED: fly there."""
        if not self.armed or self.landed:
            return FAILED
        if self.mode != Mode.GUIDED and not self.set_mode(Mode.GUIDED):
            return FAILED
        x, y = self.frame.to_local(lat_deg, lon_deg)
        self._target = (float(x), float(y), alt_amsl_m)
        return ACCEPTED

    def start_mission(self) -> bool:
        if self.mission.count() <= 1:
            return False
        if self.mission_complete or not (1 <= self.mission_seq < self.mission.count()):
            self.mission_seq = 1
            self._jump_counts.clear()
        self.mission_complete = False
        self.mission_running = True
        self.paused = False
        self._mission_version = self.mission.version[0]
        self._nav = None
        self._advance_from(self.mission_seq)
        return True

    def set_mission_current(self, seq: int, *, reset: bool = False) -> bool:
        """MISSION_SET_CURRENT / DO_SET_MISSION_CURRENT: False when ``seq`` is past the end."""
        count = self.mission.count()
        seq = max(1, int(seq))
        if seq >= count and count > 1:
            return False
        if reset:
            self._jump_counts.clear()
        self.mission_seq = seq if count > 1 else 1
        self.mission_complete = False
        self.events.append(MissionCurrentChanged(seq=self.mission_seq))
        if self.mission_running and self.mode == Mode.AUTO:
            self._nav = None
            self._advance_from(self.mission_seq)
        return True

    def change_speed(self, speed_type: int, speed_m_s: float) -> int:
        if speed_m_s == -1:
            return ACCEPTED
        default = speed_m_s == -2
        if not default and speed_m_s <= 0:
            return FAILED
        if speed_type in (0, 1):
            self._speed_override_m_s = None if default else speed_m_s
        elif speed_type == 2:
            self._climb_override_m_s = None if default else speed_m_s
        elif speed_type == 3:
            self._descent_override_m_s = None if default else speed_m_s
        else:
            return FAILED
        return ACCEPTED

    def pause_continue(self, resume: bool) -> int:
        if self.mode != Mode.AUTO or not self.mission_running:
            return FAILED
        if resume:
            self.paused = False
        elif not self.paused:
            self.paused = True
            self._pause_point = self._stopping_point()
        return ACCEPTED

    def note_gcs_heartbeat(self) -> None:
        """A HEARTBEAT from the ground station (SYSID_MYGCS) arrived now."""
        self.last_gcs_heartbeat_s = self.time_s
        if self.gcs_failsafe:
            self.gcs_failsafe = False
            self._say("GCS Failsafe Cleared", _CRIT)

    def command(self, command: int, params: Sequence[float], *, frame: int | None = None) -> int:
        """COMMAND_LONG / COMMAND_INT (``params``: param1..4, x/lat, y/lon, z); MAV_RESULT."""
        p = [float(v) if math.isfinite(float(v)) else 0.0 for v in (*params, 0, 0, 0, 0, 0, 0, 0)[:7]]
        handlers: dict[int, Callable[[list[float], int | None], int]] = {
            mavlink.MAV_CMD_COMPONENT_ARM_DISARM: self._cmd_arm,
            mavlink.MAV_CMD_NAV_TAKEOFF: lambda q, f: self.takeoff(q[6]),
            mavlink.MAV_CMD_MISSION_START: self._cmd_mission_start,
            mavlink.MAV_CMD_DO_SET_MODE: self._cmd_set_mode,
            mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH: lambda q, f: (
                ACCEPTED if self.set_mode(Mode.RTL) else FAILED
            ),
            mavlink.MAV_CMD_NAV_LAND: lambda q, f: ACCEPTED if self.set_mode(Mode.LAND) else FAILED,
            mavlink.MAV_CMD_DO_SET_MISSION_CURRENT: lambda q, f: (
                ACCEPTED if self.set_mission_current(int(q[0]), reset=q[1] > 0) else FAILED
            ),
            mavlink.MAV_CMD_DO_PAUSE_CONTINUE: lambda q, f: self.pause_continue(q[0] >= 1),
            mavlink.MAV_CMD_DO_CHANGE_SPEED: lambda q, f: self.change_speed(int(q[0]), q[1]),
            mavlink.MAV_CMD_DO_REPOSITION: self._cmd_reposition,
            mavlink.MAV_CMD_DO_MOUNT_CONTROL: lambda q, f: self._gimbal(q[0], q[2]),
            mavlink.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW: lambda q, f: self._gimbal(q[0], q[1]),
            mavlink.MAV_CMD_DO_DIGICAM_CONTROL: lambda q, f: self._digicam(q[4]),
            mavlink.MAV_CMD_DO_SET_CAM_TRIGG_DIST: lambda q, f: self._cam_trigg_dist(q[0], q[2]),
        }
        handler = handlers.get(int(command))
        if handler is None:
            return UNSUPPORTED
        return handler(p, frame)

    def _cmd_arm(self, p: list[float], frame: int | None) -> int:
        force = round(p[1]) == FORCE_ARM_MAGIC
        return self.arm(force=force) if p[0] >= 0.5 else self.disarm(force=force)

    def _cmd_set_mode(self, p: list[float], frame: int | None) -> int:
        if not int(p[0]) & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED:
            return DENIED
        return ACCEPTED if self.set_mode(int(p[1])) else FAILED

    def _cmd_mission_start(self, p: list[float], frame: int | None) -> int:
        if self.mode != Mode.AUTO and not self.set_mode(Mode.AUTO):
            return FAILED
        if not self.armed:
            return FAILED
        if self.landed and not self._mission_starts_with_takeoff():
            self._say("Auto: Missing Takeoff Cmd", _WARN)
            return FAILED
        if not self.mission_running and not self.start_mission():
            return FAILED
        return ACCEPTED

    def _cmd_reposition(self, p: list[float], frame: int | None) -> int:
        lat, lon = p[4], p[5]
        if frame is not None and frame in GLOBAL_FRAMES and abs(lat) > 90:  # COMMAND_INT degE7
            lat, lon = lat / 1e7, lon / 1e7
        alt = self._alt_amsl_for(frame if frame is not None else 3, p[6], lat, lon)
        if alt is None:
            return FAILED
        return self.goto(lat, lon, alt)

    def _gimbal(self, pitch_deg: float, yaw_deg: float) -> int:
        lo, hi = self._p("MNT1_PITCH_MIN"), self._p("MNT1_PITCH_MAX")
        self.gimbal_pitch_deg = min(hi, max(lo, pitch_deg))
        self.gimbal_yaw_deg = yaw_deg
        return ACCEPTED

    def _digicam(self, shoot: float) -> int:
        if round(shoot) == 1:
            self._trigger_camera()
        return ACCEPTED

    def _cam_trigg_dist(self, dist_m: float, trigger_now: float) -> int:
        if dist_m < 0:
            return FAILED
        self._trigger_dist_m = dist_m
        self._last_trigger_xy = None
        if round(trigger_now) == 1 and dist_m > 0:
            self._trigger_camera()
        return ACCEPTED

    def _trigger_camera(self) -> None:
        self.image_count += 1
        self._last_trigger_xy = (self.x_m, self.y_m)
        self.events.append(
            CameraTriggered(
                image_index=self.image_count,
                lat_deg=self._lat_deg,
                lon_deg=self._lon_deg,
                altitude_amsl_m=self.alt_amsl_m,
                altitude_rel_m=self.altitude_rel_home_m,
                roll_deg=self.roll_deg,
                pitch_deg=self.pitch_deg,
                yaw_deg=self.yaw_deg,
                time_s=self.time_s,
            )
        )

    # -- mission execution ---------------------------------------------------------------------

    def _mission_starts_with_takeoff(self) -> bool:
        for it in self.mission.items()[1:]:
            if it.command < mavlink.MAV_CMD_NAV_LAST:
                return it.command == mavlink.MAV_CMD_NAV_TAKEOFF
        return False

    def _advance_from(self, seq: int, *, after_nav: bool = False) -> None:
        """Start the NAV command at or after ``seq`` (running DO commands and jumps on the way).

        ``after_nav``: ``seq`` follows a NAV command that just completed, whose DO commands ran
        when it started; skip them up to the next NAV command or jump (ArduPilot's separate DO and
        NAV cursors)."""
        for _ in range(10_000):
            it = self.mission.item(seq)
            if it is None or seq == 0:
                self._mission_done()
                return
            if it.command == mavlink.MAV_CMD_DO_JUMP:
                target, repeat = int(it.param1), int(it.param2)
                done = self._jump_counts.get(seq, 0)
                if repeat < 0 or done < repeat:
                    self._jump_counts[seq] = done + 1
                    seq = target
                    after_nav = False
                else:
                    seq += 1
                continue
            if after_nav and it.command >= mavlink.MAV_CMD_NAV_LAST:
                seq += 1
                continue
            if it.command < mavlink.MAV_CMD_NAV_LAST:
                self._start_nav(it)
                nxt = seq + 1
                while (d := self.mission.item(nxt)) is not None and d.command >= mavlink.MAV_CMD_NAV_LAST:
                    if d.command == mavlink.MAV_CMD_DO_JUMP:
                        break
                    self._do_command(d)
                    nxt += 1
                return
            self._do_command(it)  # DO command before the first NAV command
            seq += 1
        self._say("Mission: too many jumps", _WARN)
        self._mission_done()

    def _do_command(self, it: MissionItem) -> None:
        entry = mavlink.enums["MAV_CMD"].get(it.command)
        self._say(f"Mission: {it.seq} {entry.name.removeprefix('MAV_CMD_') if entry else it.command}")
        self.command(it.command, (it.param1, it.param2, it.param3, it.param4, float(it.x), float(it.y), it.z))

    def _start_nav(self, it: MissionItem) -> None:
        self.mission_seq = it.seq
        self.events.append(MissionCurrentChanged(seq=it.seq))
        name = _CMD_NAMES.get(it.command, str(it.command))
        self._say(f"Mission: {it.seq} {name}")
        if it.command == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
            self._nav = _Nav(item=it, x_m=0.0, y_m=0.0, alt_amsl_m=0.0, terrain_z_m=None)
            self._start_rtl()
            return
        located = it.frame in GLOBAL_FRAMES and (it.x != 0 or it.y != 0)
        lat, lon = (it.lat_deg, it.lon_deg) if located else (self._lat_deg, self._lon_deg)
        x, y = self.frame.to_local(lat, lon) if located else (self.x_m, self.y_m)
        terrain_z = None
        if it.command == mavlink.MAV_CMD_NAV_LAND:
            alt = self.alt_amsl_m
        elif it.z == 0 and it.frame in _RELATIVE_FRAMES and it.command != mavlink.MAV_CMD_NAV_TAKEOFF:
            alt = self.alt_amsl_m  # altitude 0: keep the current one (Copter)
        else:
            a = self._alt_amsl_for(it.frame, it.z, lat, lon)
            if a is None:
                self._say("Failsafe: Terrain data missing", _CRIT)
                self._enter(Mode.RTL)
                return
            alt = a
            if it.frame in _TERRAIN_FRAMES:
                terrain_z = it.z
        self._nav = _Nav(item=it, x_m=float(x), y_m=float(y), alt_amsl_m=alt, terrain_z_m=terrain_z)
        if it.command == mavlink.MAV_CMD_NAV_TAKEOFF:
            self._nav.x_m, self._nav.y_m = self.x_m, self.y_m
            self._took_off = True
            if not self.landed and self.alt_amsl_m >= alt:
                self._nav.alt_amsl_m = self.alt_amsl_m

    def _mission_done(self) -> None:
        self._nav = None
        self.mission_running = False
        self.mission_complete = True
        if self.landed and self.armed:
            self.disarm()
        else:
            self._target = self._stopping_point()

    def _run_mission(self) -> None:
        if self.mission.version[0] != self._mission_version:
            self._mission_version = self.mission.version[0]
            if self._nav is not None and self._nav.item.seq >= self.mission.count():
                self._advance_from(self._nav.item.seq)
        nav = self._nav
        if nav is None:
            return
        if self.paused:
            self._target = self._pause_point
            return
        cmd = nav.item.command
        if cmd == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
            self._run_rtl()
            if not self.armed:
                self._complete_nav(nav)
            return
        alt = nav.alt_amsl_m
        if nav.terrain_z_m is not None:
            h = self.terrain_height(self._lat_deg, self._lon_deg)
            if h is not None:
                alt = h + nav.terrain_z_m
        if cmd == mavlink.MAV_CMD_NAV_TAKEOFF:
            self._target = (nav.x_m, nav.y_m, alt)
            if self.alt_amsl_m >= alt - 0.3:
                self._complete_nav(nav)
            return
        if cmd == mavlink.MAV_CMD_NAV_LAND:
            if not nav.landing:
                self._target = (nav.x_m, nav.y_m, self.alt_amsl_m)
                if math.hypot(nav.x_m - self.x_m, nav.y_m - self.y_m) < 1.0:
                    nav.landing = True
            if nav.landing:
                self._target = None
                self._land_step()
                if not self.armed:
                    self._complete_nav(nav)
            return
        self._target = (nav.x_m, nav.y_m, alt)
        radius = nav.item.param2 if nav.item.param2 > 0 else self._p("WPNAV_RADIUS") / 100.0
        dist = math.dist((nav.x_m, nav.y_m, alt), (self.x_m, self.y_m, self.alt_amsl_m))
        if not nav.reached and dist <= max(radius, 0.5):
            nav.reached = True
            hold = (
                nav.item.param1
                if cmd in (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_CMD_NAV_LOITER_TIME)
                else 0.0
            )
            nav.hold_until_s = self.time_s + max(0.0, hold)
        if nav.reached and cmd != mavlink.MAV_CMD_NAV_LOITER_UNLIM:
            assert nav.hold_until_s is not None
            if self.time_s >= nav.hold_until_s:
                self._complete_nav(nav)

    def _complete_nav(self, nav: _Nav) -> None:
        self.events.append(ItemReached(seq=nav.item.seq))
        if self._nav is nav:
            self._nav = None
            if nav.item.command in (mavlink.MAV_CMD_NAV_LAND, mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH):
                self._mission_done()
            else:
                self._advance_from(nav.item.seq + 1, after_nav=True)

    # -- RTL and LAND --------------------------------------------------------------------------

    def _start_rtl(self) -> None:
        if self.landed:
            self._rtl_stage = "land"
            return
        home_alt = self.home[2] if self.home else self._ground_m
        rtl_alt = self._p("RTL_ALT") / 100.0
        target = home_alt + rtl_alt
        if self._p("RTL_ALT_TYPE") >= 1:
            h = self.terrain_height(self._lat_deg, self._lon_deg)
            hh = self.terrain_height(self.home[0], self.home[1]) if self.home else None
            if h is not None and hh is not None:
                target = max(h, hh) + rtl_alt
        self._rtl_alt_amsl_m = max(self.alt_amsl_m, target)
        self._rtl_stage = "climb"

    def _run_rtl(self) -> None:
        stage = self._rtl_stage
        if stage == "climb":
            self._target = (self.x_m, self.y_m, self._rtl_alt_amsl_m)
            if self.alt_amsl_m >= self._rtl_alt_amsl_m - 0.5:
                self._rtl_stage = "return"
        elif stage == "return":
            self._target = (0.0, 0.0, self._rtl_alt_amsl_m)
            if self.home is not None:
                hx, hy = self.frame.to_local(self.home[0], self.home[1])
                self._target = (float(hx), float(hy), self._rtl_alt_amsl_m)
            if math.hypot(self._target[0] - self.x_m, self._target[1] - self.y_m) <= 2.0:
                self._rtl_stage = "loiter"
                self._rtl_loiter_until_s = self.time_s + self._p("RTL_LOIT_TIME") / 1000.0
        elif stage == "loiter":
            if self.time_s >= self._rtl_loiter_until_s:
                final = self._p("RTL_ALT_FINAL") / 100.0
                if final > 0:
                    assert self._target is not None
                    self._target = (
                        self._target[0],
                        self._target[1],
                        (self.home[2] if self.home else 0) + final,
                    )
                    self._rtl_stage = "final"
                else:
                    self._rtl_stage = "land"
        elif stage == "land":
            self._target = None
            self._land_step()

    def _land_step(self) -> None:
        """Descend where we are: WPNAV_SPEED_DN high up, LAND_SPEED below LAND_ALT_LOW."""
        self._target = None

    # -- the step ------------------------------------------------------------------------------

    def step(self, dt_s: float) -> None:
        """Advance ``dt_s`` seconds of simulated time."""
        if not dt_s > 0:
            raise SimConfigError(f"expected dt_s > 0, got {dt_s}")
        had_position = self.has_position
        had_fix = self.gps_fix
        self.time_s += dt_s
        if self.gps_fix and not had_fix:
            self._say("GPS 1: detected u-blox")
        if self.has_position and not had_position:
            self._say("EKF3 IMU0 is using GPS")
            self._set_home_here()
        self._guide()
        self._move(dt_s)
        self._contact()
        self._battery(dt_s)
        if self.armed:
            self._failsafes()
        self._camera()

    def _guide(self) -> None:
        if not self.armed:
            self._target = None
            return
        if self.mode == Mode.AUTO:
            if self.mission_running:
                self._run_mission()
            elif self._target is None and not self.landed:
                self._target = self._stopping_point()
        elif self.mode == Mode.RTL:
            self._run_rtl()
        elif self.mode == Mode.LAND:
            self._land_step()
        elif self._target is None and not self.landed:
            self._target = self._stopping_point()

    def _move(self, dt: float) -> None:
        a_max = self._accel_m_s2()
        if not self.armed:
            want_e = want_n = 0.0
            want_u = self.vu_m_s - GRAVITY_M_S2 * dt if not self.landed else 0.0
        elif self._target is None:
            want_e = want_n = 0.0
            if self.landed:
                want_u = 0.0
            else:  # landing (or holding with no target: descend)
                agl = self.altitude_agl_m
                low = self._p("LAND_ALT_LOW") / 100.0
                land = max(0.1, self._p("LAND_SPEED") / 100.0)
                want_u = -(land if agl <= low else max(land, self._descent_m_s()))
        else:
            tx, ty, talt = self._target
            dx, dy = tx - self.x_m, ty - self.y_m
            dist = math.hypot(dx, dy)
            speed_cap = self._wp_speed_m_s()
            if self.mode == Mode.RTL and self._p("RTL_SPEED") > 0:
                speed_cap = self._p("RTL_SPEED") / 100.0
            speed = min(speed_cap, math.sqrt(2 * a_max * dist), dist / dt)
            want_e, want_n = (dx / dist * speed, dy / dist * speed) if dist > 1e-6 else (0.0, 0.0)
            dz = talt - self.alt_amsl_m
            vz_cap = self._climb_m_s() if dz > 0 else self._descent_m_s()
            want_u = math.copysign(min(vz_cap, math.sqrt(2 * _CLIMB_ACCEL_M_S2 * abs(dz)), abs(dz) / dt), dz)
            if self.landed and dz <= 0.05:
                want_u = 0.0
        if self.landed:
            want_e = want_n = 0.0
        dve, dvn = want_e - self.ve_m_s, want_n - self.vn_m_s
        dv = math.hypot(dve, dvn)
        if dv > a_max * dt:
            dve, dvn = dve / dv * a_max * dt, dvn / dv * a_max * dt
        self.ae_m_s2, self.an_m_s2 = dve / dt, dvn / dt
        self.ve_m_s += dve
        self.vn_m_s += dvn
        if self.armed:
            dvu = want_u - self.vu_m_s
            self.vu_m_s += max(-_CLIMB_ACCEL_M_S2 * dt * 4, min(_CLIMB_ACCEL_M_S2 * dt * 4, dvu))
        else:
            self.vu_m_s = want_u
        self.x_m += self.ve_m_s * dt
        self.y_m += self.vn_m_s * dt
        self.alt_amsl_m += self.vu_m_s * dt
        lat, lon = self.frame.to_geodetic(self.x_m, self.y_m)
        self._lat_deg, self._lon_deg = float(lat), float(lon)
        self._ground_m = self.ground.height_amsl_m(self._lat_deg, self._lon_deg)
        self._attitude(dt)

    def _attitude(self, dt: float) -> None:
        gs = self.groundspeed_m_s
        if gs > 1.0:
            want = math.degrees(math.atan2(self.ve_m_s, self.vn_m_s)) % 360.0
            err = (want - self.yaw_deg + 540.0) % 360.0 - 180.0
            step = max(-90.0 * dt, min(90.0 * dt, err))
            self.yaw_deg = (self.yaw_deg + step) % 360.0
            self.yaw_rate_deg_s = step / dt
        else:
            self.yaw_rate_deg_s = 0.0
        if self.landed:
            self.roll_deg = self.pitch_deg = 0.0
            return
        # lean: commanded acceleration plus drag from the air moving past (lean into the wind)
        drag = 0.08
        ae = self.ae_m_s2 + drag * (self.ve_m_s - self.config.wind_east_m_s)
        an = self.an_m_s2 + drag * (self.vn_m_s - self.config.wind_north_m_s)
        yaw = math.radians(self.yaw_deg)
        fwd = ae * math.sin(yaw) + an * math.cos(yaw)
        right = ae * math.cos(yaw) - an * math.sin(yaw)
        lim = self._p("ANGLE_MAX") / 100.0 or 30.0
        self.pitch_deg = max(-lim, min(lim, -math.degrees(math.atan2(fwd, GRAVITY_M_S2))))
        self.roll_deg = max(-lim, min(lim, math.degrees(math.atan2(right, GRAVITY_M_S2))))

    def _contact(self) -> None:
        if self.alt_amsl_m <= self._ground_m + 0.02 and self.vu_m_s <= 0.0:
            self.alt_amsl_m = self._ground_m
            self.vu_m_s = 0.0
            if not self.landed:
                self.landed = True
                self._landed_since_s = self.time_s
                self._touchdown_s = self.time_s
                self.ve_m_s = self.vn_m_s = 0.0
        elif self.landed and self.alt_amsl_m > self._ground_m + 0.1:
            self.landed = False
            self._landed_since_s = None
        if not self.armed or not self.landed:
            return
        landing = (
            self.mode in (Mode.LAND, Mode.RTL)
            or (self._nav is not None and self._nav.item.command in (20, 21))
            or (self.mode == Mode.AUTO and self.mission_complete)
        )
        if landing and self._touchdown_s is not None:
            if self.time_s - self._touchdown_s >= _TOUCHDOWN_DISARM_S:
                nav = self._nav
                self._say("Land complete, disarming")
                self.disarm()
                if nav is not None:
                    self.events.append(ItemReached(seq=nav.item.seq))
                    self.mission_complete = True
            return
        climbing = self._target is not None and self._target[2] > self._ground_m + 0.1
        if climbing:
            return
        since = self._landed_since_s if self._landed_since_s is not None else self.time_s
        if self.time_s - since >= max(0.0, self._p("DISARM_DELAY")) and self._p("DISARM_DELAY") > 0:
            self._say("Disarming motors (auto disarm)")
            self.disarm()

    def _battery(self, dt: float) -> None:
        cruise_a = float(self.params.annotations.get("cruise_current_a", 20.0))
        if not self.armed:
            self.current_a = 0.4
        elif self.landed:
            self.current_a = 1.5
        else:
            v_ref = max(1.0, self._p("WPNAV_SPEED") / 100.0)
            climb = max(0.0, self.vu_m_s) / max(0.5, self._p("WPNAV_SPEED_UP") / 100.0)
            self.current_a = cruise_a * (0.9 + 0.15 * (self.airspeed_m_s / v_ref) ** 2 + 0.15 * climb)
        self.consumed_mah += self.current_a * dt / 3.6

    # -- failsafes -----------------------------------------------------------------------------

    def _failsafe_action(self, action: int, reason: str) -> None:
        """ArduCopter's failsafe action numbers (battery/GCS style): 1 land, 2/3/4 RTL, 5 land/terminate."""
        if self.landed:
            self.disarm()
            return
        if action in (2, 3, 4) and self.mode not in (Mode.RTL, Mode.LAND):
            if not self.set_mode(Mode.RTL):
                self._enter(Mode.LAND)
        elif action in (1, 5) and self.mode != Mode.LAND:
            self._enter(Mode.LAND)
        log.info("failsafe %s -> %s", reason, self.mode.name)

    def _failsafes(self) -> None:
        cap = self._p("BATT_CAPACITY")
        low, crit = self._p("BATT_LOW_MAH"), self._p("BATT_CRT_MAH")
        if crit > 0 and not self.batt_critical and self.consumed_mah >= cap - crit:
            self.batt_critical = self.batt_low = True
            self._say(f"Battery 1 is critical {self.voltage_v:.2f}V used {self.consumed_mah:.0f} mAh", _CRIT)
            self._failsafe_action(int(self._p("BATT_FS_CRT_ACT")), "battery critical")
        elif low > 0 and not self.batt_low and self.consumed_mah >= cap - low:
            self.batt_low = True
            self._say(f"Battery 1 is low {self.voltage_v:.2f}V used {self.consumed_mah:.0f} mAh", _CRIT)
            self._failsafe_action(int(self._p("BATT_FS_LOW_ACT")), "battery low")
        if not self.armed:
            return
        if self._p("FENCE_ENABLE") >= 1 and not self.landed:
            breach = self._fence_breach()
            if breach and not self.fence_breached:
                self.fence_breached = breach
                self._say(f"Fence Breached: {breach}", _CRIT)
                action = int(self._p("FENCE_ACTION"))
                if action in (1, 3, 5):
                    self._failsafe_action(2, "fence")
                elif action == 2:
                    self._failsafe_action(1, "fence")
                elif action == 4 and self.mode not in (Mode.RTL, Mode.LAND):
                    self._enter(Mode.BRAKE)
            elif not breach and self.fence_breached:
                self.fence_breached = ""
                self._say("Fence breach cleared", _INFO)
        self._gcs_failsafe()

    def _gcs_failsafe(self) -> None:
        enable = int(self._p("FS_GCS_ENABLE"))
        if enable == 0 or self.last_gcs_heartbeat_s is None or self.gcs_failsafe or self.landed:
            return
        if self.time_s - self.last_gcs_heartbeat_s <= self._p("FS_GCS_TIMEOUT") * self.link_time_scale:
            return
        self.gcs_failsafe = True
        options = int(self._p("FS_OPTIONS"))
        if self.mode == Mode.AUTO and (options & 2 or enable == 2):
            self._say("GCS Failsafe - Continuing Auto Mode", _CRIT)
            return
        if self.mode in _PILOT_MODES and options & 16:
            self._say("GCS Failsafe - Continuing Pilot Control", _CRIT)
            return
        if self.mode in (Mode.LAND, Mode.RTL):
            self._say("GCS Failsafe - Continuing Landing" if options & 8 else "GCS Failsafe", _CRIT)
            return
        self._say("GCS Failsafe", _CRIT)
        self._failsafe_action({1: 2, 2: 2, 3: 2, 4: 2, 5: 1}.get(enable, 2), "gcs")

    def _fence_breach(self) -> str:
        """Name of the fence breached here ("Circle", "Polygon", "Altitude"), or ""."""
        ftype = int(self._p("FENCE_TYPE"))
        home_xy = (0.0, 0.0)
        if self.home is not None:
            hx, hy = self.frame.to_local(self.home[0], self.home[1])
            home_xy = (float(hx), float(hy))
        if ftype & 1 and self.altitude_rel_home_m > self._p("FENCE_ALT_MAX"):
            return "Altitude"
        if ftype & 2 and math.dist(home_xy, (self.x_m, self.y_m)) > self._p("FENCE_RADIUS"):
            return "Circle"
        if ftype & 4:
            self._load_fence()
            for kind, shape in self._fence_shapes:
                if kind == "incl_poly" and not _inside(shape, self.x_m, self.y_m):
                    return "Polygon"
                if kind == "excl_poly" and _inside(shape, self.x_m, self.y_m):
                    return "Polygon"
                if kind in ("incl_circle", "excl_circle"):
                    cx, cy, r = shape
                    inside = math.hypot(self.x_m - cx, self.y_m - cy) <= r
                    if inside == (kind == "excl_circle"):
                        return "Circle"
        return ""

    def _load_fence(self) -> None:
        if self.mission.version[FENCE] == self._fence_version:
            return
        self._fence_version = self.mission.version[FENCE]
        shapes: list[tuple[str, Any]] = []
        items = self.mission.items(FENCE)
        i = 0
        while i < len(items):
            it = items[i]
            x, y = self.frame.to_local(it.lat_deg, it.lon_deg)
            if it.command in (5001, 5002):
                n = max(1, int(it.param1))
                verts = [self.frame.to_local(v.lat_deg, v.lon_deg) for v in items[i : i + n]]
                if len(verts) >= 3:
                    shapes.append(("incl_poly" if it.command == 5001 else "excl_poly", verts))
                i += n
                continue
            if it.command in (5003, 5004):
                shapes.append(("incl_circle" if it.command == 5003 else "excl_circle", (x, y, it.param1)))
            i += 1
        self._fence_shapes = shapes

    def _camera(self) -> None:
        if self._trigger_dist_m <= 0 or not self.flying:
            return
        if self._last_trigger_xy is None:
            self._trigger_camera()
            return
        if math.dist(self._last_trigger_xy, (self.x_m, self.y_m)) >= self._trigger_dist_m:
            self._trigger_camera()


def _inside(poly: Sequence[tuple[float, float]], x: float, y: float) -> bool:
    """Even-odd ray casting: is (x, y) inside the polygon?"""
    inside = False
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside
