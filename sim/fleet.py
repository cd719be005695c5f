"""Several simulated vehicles in one process: build, start, stop (a context manager).

``SimFleet(FleetConfig(vehicles=2, speedup=20, settle_s=2, base_port=0))`` used as ``with`` starts
one :class:`sim.endpoint.VehicleRunner` thread per vehicle; instance ``N`` (0-based) has system id
``N + 1`` and listens on TCP ``base_port + 10 N`` (ArduPilot SITL's convention, 5760, 5770, ...;
``base_port = 0``: every vehicle takes a free port, read :attr:`SimFleet.tcp_ports`). Vehicles
stand ``spacing_m`` apart eastward of ``home`` so they do not share a spot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from geo.frames import LocalFrame
from geo.terrain_grid import TerrainDatabase
from sim.endpoint import DEFAULT_BASE_PORT, PORT_STEP, LinkImpairment, VehicleRunner
from sim.errors import SimConfigError
from sim.mission_store import MissionStore
from sim.params import ParameterStore, load_parameter_file
from sim.vehicle import Ground, SimVehicle, VehicleConfig

if TYPE_CHECKING:
    from geo.terrain import Terrain

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class FleetConfig:
    """Everything a fleet needs. ``dem``: a path or a loaded :class:`geo.terrain.Terrain` (None: flat).

    ``signing_keys``: one 32-byte key for every vehicle, or a tuple with one per vehicle.
    ``param_overrides`` apply to every vehicle (``SYSID_THISMAV`` is always the instance's).
    ``udp_out``: a GCS address every vehicle sends to (each from its own UDP socket).
    """

    vehicles: int = 1
    home_lat_deg: float = 30.0
    home_lon_deg: float = 110.0
    home_alt_amsl_m: float | None = None
    dem: Path | Terrain | None = None
    speedup: float = 1.0
    dt_s: float = 0.05
    settle_s: float = 40.0
    base_port: int | None = DEFAULT_BASE_PORT
    host: str = "127.0.0.1"
    udp_out: tuple[str, int] | None = None
    params_file: Path | None = None
    param_overrides: dict[str, float] = field(default_factory=dict)
    signing_keys: bytes | tuple[bytes, ...] | None = None
    impairment: LinkImpairment | None = None
    wind_east_m_s: float = 0.0
    wind_north_m_s: float = 0.0
    gps_noise_m: float = 0.0
    spacing_m: float = 5.0
    seed: int = 0
    upload_timeout_s: float = 8.0

    def __post_init__(self) -> None:
        if not 1 <= self.vehicles <= 250:
            raise SimConfigError(f"expected 1-250 vehicles, got {self.vehicles}")
        if self.base_port is not None and not (
            self.base_port == 0 or 1 <= self.base_port <= 65535 - PORT_STEP * (self.vehicles - 1)
        ):
            raise SimConfigError(
                f"expected base_port 0 or a port with room for the fleet, got {self.base_port}"
            )
        if isinstance(self.signing_keys, tuple) and len(self.signing_keys) != self.vehicles:
            raise SimConfigError(f"expected {self.vehicles} signing keys, got {len(self.signing_keys)}")


def build_vehicle(config: FleetConfig, instance: int, *, terrain: Terrain | None = None) -> SimVehicle:
    """Vehicle ``instance`` of a fleet (not started): parameters, mission store, world, terrain database."""
    frame = LocalFrame(origin_lat_deg=config.home_lat_deg, origin_lon_deg=config.home_lon_deg)
    lat, lon = frame.to_geodetic(instance * config.spacing_m, 0.0)
    values = load_parameter_file(config.params_file)
    overrides = {**config.param_overrides, "SYSID_THISMAV": instance + 1}
    params = ParameterStore(values, overrides=overrides)
    ground = Ground(terrain, flat_amsl_m=config.home_alt_amsl_m or 0.0)
    if terrain is not None and config.home_alt_amsl_m is None:
        ground.flat_amsl_m = ground.height_amsl_m(config.home_lat_deg, config.home_lon_deg)
    vconf = VehicleConfig(
        home_lat_deg=float(lat),
        home_lon_deg=float(lon),
        home_alt_amsl_m=config.home_alt_amsl_m,
        settle_s=config.settle_s,
        wind_east_m_s=config.wind_east_m_s,
        wind_north_m_s=config.wind_north_m_s,
        gps_noise_m=config.gps_noise_m,
        seed=config.seed + instance,
    )
    mission = MissionStore(
        mission_limit=int(params.annotations.get("mission_item_limit", 700)),
        upload_timeout_s=config.upload_timeout_s,
    )
    db = TerrainDatabase(spacing_m=int(params.get("TERRAIN_SPACING", 100)))
    return SimVehicle(vconf, params=params, mission=mission, ground=ground, terrain_db=db)


class SimFleet:
    """Vehicles with their runners; ``with SimFleet(cfg) as fleet:`` starts and stops them all."""

    def __init__(self, config: FleetConfig) -> None:
        self.config = config
        terrain = None
        if config.dem is not None:
            from geo.terrain import Terrain

            terrain = config.dem if isinstance(config.dem, Terrain) else Terrain.from_file(config.dem)
        self.runners: list[VehicleRunner] = []
        for n in range(config.vehicles):
            keys = config.signing_keys
            key = keys[n] if isinstance(keys, tuple) else keys
            port = (
                None
                if config.base_port is None
                else (0 if config.base_port == 0 else config.base_port + PORT_STEP * n)
            )
            self.runners.append(
                VehicleRunner(
                    build_vehicle(config, n, terrain=terrain),
                    sysid=n + 1,
                    tcp_port=port,
                    udp_out=config.udp_out,
                    host=config.host,
                    speedup=config.speedup,
                    dt_s=config.dt_s,
                    impairment=config.impairment,
                    signing_key=key,
                )
            )

    def __enter__(self) -> SimFleet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        try:
            for r in self.runners:
                r.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for r in self.runners:
            r.stop()

    @property
    def vehicles(self) -> list[SimVehicle]:
        return [r.vehicle for r in self.runners]

    @property
    def tcp_ports(self) -> list[int]:
        return [r.tcp_port for r in self.runners if r.tcp_port is not None]

    @property
    def udp_ports(self) -> list[int]:
        return [r.udp_port for r in self.runners if r.udp_port is not None]
