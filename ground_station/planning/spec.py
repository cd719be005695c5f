"""Patrol specs: the YAML files in ``missions/`` and the ``shanshui plan`` options, as one model.

A spec names its area file, DEM and vehicle file relative to itself; the CLI's options
override what the spec says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from geo.camera import CameraModel, camera_preset
from geo.errors import GeoError
from geo.terrain import Terrain
from ground_station.planning.errors import MissionFileError
from ground_station.planning.geometry import load_area
from ground_station.planning.planner import PatrolRequest, Pattern, TerrainMode
from ground_station.planning.vehicle import DEFAULT_PROFILE_FILE, firmware_configs_dir, load_vehicle_profile


class GeneratedTerrain(BaseModel):
    """A seeded synthetic DEM (mountains, river valley, reservoir): see :meth:`geo.Terrain.generate`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int
    center: tuple[float, float]  # (lat_deg, lon_deg)
    size_m: float = Field(default=8000.0, gt=0)
    cell_m: float = Field(default=30.0, gt=0)
    relief_m: float = Field(default=900.0, gt=0)
    base_m: float = 300.0

    def terrain(self) -> Terrain:
        return Terrain.generate(
            seed=self.seed,
            center_lat_deg=self.center[0],
            center_lon_deg=self.center[1],
            size_m=self.size_m,
            cell_m=self.cell_m,
            relief_m=self.relief_m,
            base_m=self.base_m,
        )


class GeneratedDem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    generated: GeneratedTerrain


class PatrolSpec(BaseModel):
    """What a pilot writes (YAML) or types (CLI). Paths may be relative to ``base_dir``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    area: Path
    pattern: Pattern
    dem: Path | GeneratedDem
    agl_m: float = Field(default=80.0, gt=0)
    home: tuple[float, float] | None = None
    homes: tuple[tuple[float, float], ...] = ()  # more launch points; each sortie takes off from the best
    terrain_mode: TerrainMode = TerrainMode.RELATIVE
    camera: str = "dji-mavic-3e"
    side_overlap: float = Field(default=0.7, ge=0, lt=1)
    front_overlap: float = Field(default=0.8, ge=0, lt=1)
    width_m: float | None = Field(default=None, gt=0)
    offset_m: float = 0.0
    angle_deg: float | None = None
    gimbal_pitch_deg: float = Field(default=-90.0, ge=-90, le=30)
    speed_m_s: float | None = Field(default=None, gt=0, le=30)
    tolerance_m: float = Field(default=10.0, ge=0)
    turnaround_m: float = Field(default=10.0, ge=0)
    fence_margin_m: float = Field(default=50.0, gt=0)
    vehicle: Path = Field(default_factory=lambda: firmware_configs_dir() / DEFAULT_PROFILE_FILE)
    max_leg_s: float | None = Field(default=None, gt=0)
    ceiling_agl_m: float | None = Field(default=None, gt=0)
    rally: tuple[tuple[float, float], ...] = ()
    out: tuple[Path, ...] = ()
    preview: Path | None = None
    base_dir: Path = Path(".")

    @field_validator("home", "homes", "rally")
    @classmethod
    def _points_in_range(cls, v: Any) -> Any:
        for lat, lon in [] if v is None else ([v] if v and isinstance(v[0], float) else v):
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"expected points as [LAT, LON] in degrees, got [{lat}, {lon}]")
        return v

    def resolve(self, p: Path) -> Path:
        return p if p.is_absolute() else (self.base_dir / p)

    def request(self) -> PatrolRequest:
        """Load the files the spec names and build the planner's request."""
        area = load_area(self.resolve(self.area))
        if self.name:
            area = type(area)(geometry=area.geometry, name=self.name)
        try:
            if isinstance(self.dem, GeneratedDem):
                terrain = self.dem.generated.terrain()
            else:
                terrain = Terrain.from_file(self.resolve(self.dem))
        except GeoError as exc:
            raise MissionFileError(f"DEM {self.dem}: {exc}") from exc
        vehicle = load_vehicle_profile(self.resolve(self.vehicle))
        try:
            camera: CameraModel = camera_preset(self.camera)
        except GeoError as exc:
            raise MissionFileError(str(exc)) from exc
        return PatrolRequest(
            area=area,
            pattern=self.pattern,
            terrain=terrain,
            vehicle=vehicle,
            camera=camera,
            agl_m=self.agl_m,
            home_deg=self.home,
            more_homes_deg=self.homes,
            terrain_mode=self.terrain_mode,
            side_overlap=self.side_overlap,
            front_overlap=self.front_overlap,
            width_m=self.width_m,
            offset_m=self.offset_m,
            angle_deg=self.angle_deg,
            gimbal_pitch_deg=self.gimbal_pitch_deg,
            speed_m_s=self.speed_m_s,
            tolerance_m=self.tolerance_m,
            turnaround_m=self.turnaround_m,
            fence_margin_m=self.fence_margin_m,
            max_sortie_s=self.max_leg_s,
            ceiling_agl_m=self.ceiling_agl_m,
            rally_deg=self.rally,
        )


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'spec'}: {e['msg']}" for e in exc.errors(include_url=False)
    )


def load_spec(path: str | Path, **overrides: Any) -> PatrolSpec:
    """Read a mission YAML; ``overrides`` (CLI options that were given) win over the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MissionFileError(f"{path}: cannot read the spec ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise MissionFileError(f"{path}: expected YAML, {exc}") from exc
    if not isinstance(data, dict):
        raise MissionFileError(f"{path}: expected a mapping of options, got {type(data).__name__}")
    if isinstance(data.get("out"), str):
        data["out"] = [data["out"]]
    data.update({k: v for k, v in overrides.items() if v is not None})
    data["base_dir"] = path.parent
    return make_spec(data, source=str(path))


def make_spec(data: dict[str, Any], *, source: str = "options") -> PatrolSpec:
    try:
        return PatrolSpec.model_validate(data)
    except ValidationError as exc:
        raise MissionFileError(f"{source}: {_errors(exc)}") from exc
