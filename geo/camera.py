"""Pinhole camera model shared by the planner, the edge node and the simulator.

A :class:`CameraModel` is described the way QGroundControl's custom camera is: sensor size,
focal length and image size. From those come the intrinsics (``K``), the fields of view, the
nadir ground sample distance and footprint the survey planner spaces its lines with, and the
mapping between pixels and rays in the local ENU frame (x east, y north, z up) that the edge
node geolocates detections with and the simulator renders frames with.

Frames and conventions
----------------------
* Pixel coordinates are continuous: the image covers ``[0, W] x [0, H]`` with ``u`` to the
  right and ``v`` down, the centre of the pixel in column ``i``, row ``j`` is
  ``(i + 0.5, j + 0.5)`` and the principal point is the image centre ``(W / 2, H / 2)``
  (Pix4D's convention; OpenCV's calibration puts pixel centres on integers, half a pixel off).
  A detector's box ``[0, 0, W, H]`` covers the whole image.
* The camera optical frame is OpenCV's: x right, y down, z forward along the optical axis.
* The vehicle attitude is the aerospace one: NED world frame, FRD body frame, Z-Y-X
  (yaw, pitch, roll) Euler angles. Yaw 0 = north, 90 = east; pitch + = nose up;
  roll + = right wing down.
* Mounting: with the gimbal at pitch 0, yaw 0, roll 0 the optical axis is the body x axis
  (forward), image right is body y (right) and image down is body z (down). The gimbal turns
  the camera by its own Z-Y-X yaw, pitch, roll. Gimbal pitch -90 looks straight down, with the
  top of the image towards the heading.
* Rotation chain: ``ENU <- NED <- body <- gimbal <- optical``. A stabilised (3-axis) gimbal
  holds its pitch and roll against the horizon, so only the vehicle's yaw reaches the camera:
  ``NED <- Rz(vehicle yaw + gimbal yaw) Ry(gimbal pitch) Rx(gimbal roll) <- gimbal``.

The model is an ideal pinhole (no lens distortion). Angles are degrees at the API and radians
only inside the math.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from geo.errors import CameraModelError

__all__ = [
    "CAMERA_PRESETS",
    "Attitude",
    "CameraModel",
    "Gimbal",
    "camera_preset",
    "rotation_enu_from_camera",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_CORNER_NAMES = ("top-left", "top-right", "bottom-right", "bottom-left")


def _real(value: object, what: str, *, positive: bool) -> float:
    """``value`` as a finite float (and > 0 when ``positive``), else :class:`CameraModelError`."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise CameraModelError(f"expected {what} to be a real number, got {value!r} ({type(value).__name__})")
    out = float(value)
    if not math.isfinite(out) or (positive and out <= 0.0):
        kind = "a positive finite" if positive else "a finite"
        raise CameraModelError(f"expected {what} to be {kind} number, got {value!r}")
    return out


def _positive_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) <= 0:
        raise CameraModelError(
            f"expected {what} to be a positive int, got {value!r} ({type(value).__name__})"
        )
    return int(value)


def _rot_x(angle_rad: float) -> FloatArray:
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_y(angle_rad: float) -> FloatArray:
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rot_z(angle_rad: float) -> FloatArray:
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _zyx(yaw_deg: float, pitch_deg: float, roll_deg: float) -> FloatArray:
    """Rotation taking rotated-frame vectors to the reference frame: ``Rz(yaw) Ry(pitch) Rx(roll)``."""
    return _rot_z(math.radians(yaw_deg)) @ _rot_y(math.radians(pitch_deg)) @ _rot_x(math.radians(roll_deg))


@dataclass(frozen=True, kw_only=True)
class Attitude:
    """Vehicle attitude: NED world, FRD body, Z-Y-X yaw-pitch-roll in degrees.

    ``yaw_deg`` 0 = north, 90 = east; ``pitch_deg`` + = nose up; ``roll_deg`` + = right wing down.
    """

    roll_deg: float = 0.0
    pitch_deg: float = 0.0
    yaw_deg: float = 0.0

    def __post_init__(self) -> None:
        for name in ("roll_deg", "pitch_deg", "yaw_deg"):
            object.__setattr__(self, name, _real(getattr(self, name), f"Attitude.{name}", positive=False))


@dataclass(frozen=True, kw_only=True)
class Gimbal:
    """Camera gimbal angles in degrees.

    ``pitch_deg`` 0 looks forward along the heading, -90 straight down (nadir); ``yaw_deg`` is
    relative to the vehicle heading, + to the right. ``stabilised=True`` (a 3-axis gimbal) holds
    pitch and roll against the horizon whatever the vehicle's roll and pitch (its yaw still
    turns the camera); ``stabilised=False`` is a fixed mount on which the vehicle's roll and
    pitch tilt the camera too.
    """

    pitch_deg: float = -90.0
    roll_deg: float = 0.0
    yaw_deg: float = 0.0
    stabilised: bool = True

    def __post_init__(self) -> None:
        for name in ("pitch_deg", "roll_deg", "yaw_deg"):
            object.__setattr__(self, name, _real(getattr(self, name), f"Gimbal.{name}", positive=False))
        if not isinstance(self.stabilised, bool | np.bool_):
            raise CameraModelError(f"expected Gimbal.stabilised to be a bool, got {self.stabilised!r}")
        object.__setattr__(self, "stabilised", bool(self.stabilised))


def rotation_enu_from_camera(attitude: Attitude, gimbal: Gimbal) -> FloatArray:
    """3x3 rotation taking camera optical-frame vectors (x right, y down, z forward) to ENU."""
    if not isinstance(attitude, Attitude):
        raise TypeError(f"expected attitude to be an Attitude, got {type(attitude).__name__}")
    if not isinstance(gimbal, Gimbal):
        raise TypeError(f"expected gimbal to be a Gimbal, got {type(gimbal).__name__}")
    if gimbal.stabilised:
        ned_from_gimbal = _zyx(attitude.yaw_deg + gimbal.yaw_deg, gimbal.pitch_deg, gimbal.roll_deg)
    else:
        ned_from_body = _zyx(attitude.yaw_deg, attitude.pitch_deg, attitude.roll_deg)
        ned_from_gimbal = ned_from_body @ _zyx(gimbal.yaw_deg, gimbal.pitch_deg, gimbal.roll_deg)
    # Optical (right, down, forward) -> gimbal FRD: forward = z_opt, right = x_opt, down = y_opt.
    gimbal_from_optical = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    # NED -> ENU: east = NED y, north = NED x, up = -NED z.
    enu_from_ned = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    out: FloatArray = enu_from_ned @ ned_from_gimbal @ gimbal_from_optical
    return out


@dataclass(frozen=True, kw_only=True)
class CameraModel:
    """An ideal pinhole camera from sensor size, focal length and image size (QGC custom camera).

    Pixels may be non-square when the sensor's aspect ratio differs from the image's
    (``fx_px != fy_px``); the principal point is the image centre.
    """

    name: str
    sensor_width_mm: float
    sensor_height_mm: float
    focal_length_mm: float
    image_width_px: int
    image_height_px: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise CameraModelError(f"expected CameraModel.name to be a non-empty str, got {self.name!r}")
        for name in ("sensor_width_mm", "sensor_height_mm", "focal_length_mm"):
            object.__setattr__(self, name, _real(getattr(self, name), f"CameraModel.{name}", positive=True))
        for name in ("image_width_px", "image_height_px"):
            object.__setattr__(self, name, _positive_int(getattr(self, name), f"CameraModel.{name}"))

    # -- intrinsics -------------------------------------------------------------------------------

    @property
    def fx_px(self) -> float:
        """Focal length in pixels along the image width."""
        return self.focal_length_mm * self.image_width_px / self.sensor_width_mm

    @property
    def fy_px(self) -> float:
        """Focal length in pixels along the image height."""
        return self.focal_length_mm * self.image_height_px / self.sensor_height_mm

    @property
    def cx_px(self) -> float:
        """Principal point, column: the image centre."""
        return self.image_width_px / 2.0

    @property
    def cy_px(self) -> float:
        """Principal point, row: the image centre."""
        return self.image_height_px / 2.0

    @property
    def hfov_deg(self) -> float:
        """Full horizontal field of view (across the image width)."""
        return math.degrees(2.0 * math.atan(self.sensor_width_mm / (2.0 * self.focal_length_mm)))

    @property
    def vfov_deg(self) -> float:
        """Full vertical field of view (across the image height)."""
        return math.degrees(2.0 * math.atan(self.sensor_height_mm / (2.0 * self.focal_length_mm)))

    def intrinsics(self) -> FloatArray:
        """The 3x3 camera matrix ``K`` (OpenCV layout)."""
        return np.array(
            [[self.fx_px, 0.0, self.cx_px], [0.0, self.fy_px, self.cy_px], [0.0, 0.0, 1.0]], dtype=np.float64
        )

    # -- nadir survey numbers ---------------------------------------------------------------------

    def gsd_m(self, height_m: float) -> float:
        """Nadir ground sample distance in metres per pixel at ``height_m`` above flat ground.

        The larger of the two axes (as QGroundControl's survey does), so the requested GSD holds
        in both directions.
        """
        h = _real(height_m, "height_m", positive=True)
        per_px_w = self.sensor_width_mm / (self.focal_length_mm * self.image_width_px)
        per_px_h = self.sensor_height_mm / (self.focal_length_mm * self.image_height_px)
        return h * max(per_px_w, per_px_h)

    def footprint_m(self, height_m: float) -> tuple[float, float]:
        """Nadir footprint ``(across_m, along_m)`` at ``height_m``: across = image width, along = height.

        ``sensor / focal * height``, the formula QGroundControl's survey uses.
        """
        h = _real(height_m, "height_m", positive=True)
        return (
            h * self.sensor_width_mm / self.focal_length_mm,
            h * self.sensor_height_mm / self.focal_length_mm,
        )

    # -- pixels <-> rays --------------------------------------------------------------------------

    def pixel_to_ray(
        self, u_px: npt.ArrayLike, v_px: npt.ArrayLike, *, attitude: Attitude, gimbal: Gimbal
    ) -> FloatArray:
        """Unit ENU viewing rays through pixels ``(u_px, v_px)``.

        ``u_px`` and ``v_px`` broadcast together; the result has their broadcast shape plus a
        trailing axis of 3: scalars give ``(3,)``, ``n`` pixels give ``(n, 3)``.
        """
        u = np.asarray(u_px, dtype=np.float64)
        v = np.asarray(v_px, dtype=np.float64)
        try:
            u, v = np.broadcast_arrays(u, v)
        except ValueError as exc:
            raise CameraModelError(
                f"expected u_px and v_px of the same (or broadcastable) shapes, got {u.shape} and {v.shape}"
            ) from exc
        x = (u - self.cx_px) / self.fx_px
        y = (v - self.cy_px) / self.fy_px
        dirs = np.stack([x, y, np.ones_like(x)], axis=-1)
        dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
        rotation = rotation_enu_from_camera(attitude, gimbal)
        rays: FloatArray = dirs @ rotation.T
        return rays

    def ray_to_pixel(
        self, rays_enu: npt.ArrayLike, *, attitude: Attitude, gimbal: Gimbal
    ) -> tuple[FloatArray, FloatArray, BoolArray]:
        """Pixels ``(u_px, v_px, in_front)`` where ENU directions ``rays_enu`` (..., 3) appear.

        The inverse of :meth:`pixel_to_ray`; rays need not be unit. ``in_front`` is False for a
        ray at or behind the camera plane, and its ``u_px``/``v_px`` are NaN. Pixels outside the
        image are returned as they fall; compare with ``image_width_px``/``image_height_px``
        to keep only the visible ones.
        """
        rays = np.asarray(rays_enu, dtype=np.float64)
        if rays.ndim == 0 or rays.shape[-1] != 3:
            raise CameraModelError(f"expected rays_enu of shape (..., 3), got shape {rays.shape}")
        rotation = rotation_enu_from_camera(attitude, gimbal)
        cam = rays @ rotation  # row-wise rotation.T @ ray: ENU -> optical frame
        x, y, z = cam[..., 0], cam[..., 1], cam[..., 2]
        in_front: BoolArray = z > 0.0
        safe_z = np.where(in_front, z, 1.0)
        u: FloatArray = np.where(in_front, self.fx_px * x / safe_z + self.cx_px, np.nan)
        v: FloatArray = np.where(in_front, self.fy_px * y / safe_z + self.cy_px, np.nan)
        return u, v, in_front

    def footprint_on_flat_ground(self, *, height_m: float, attitude: Attitude, gimbal: Gimbal) -> FloatArray:
        """East/north offsets in metres (4, 2) of the image corners on flat ground ``height_m`` below.

        Corners in the order top-left, top-right, bottom-right, bottom-left (image corners, not
        pixel centres). :class:`CameraModelError` when a corner ray does not come down to the
        ground (horizon in view): that footprint is unbounded.
        """
        h = _real(height_m, "height_m", positive=True)
        w_px, h_px = float(self.image_width_px), float(self.image_height_px)
        rays = self.pixel_to_ray(
            np.array([0.0, w_px, w_px, 0.0]),
            np.array([0.0, 0.0, h_px, h_px]),
            attitude=attitude,
            gimbal=gimbal,
        )
        down = -rays[:, 2]
        above = down <= 0.0
        if np.any(above):
            elevations = np.degrees(np.arcsin(np.clip(rays[:, 2], -1.0, 1.0)))
            bad = ", ".join(
                f"{_CORNER_NAMES[i]} at {elevations[i]:+.1f} deg" for i in np.flatnonzero(above).tolist()
            )
            raise CameraModelError(
                "expected every image corner to look below the horizon to meet flat ground, "
                f"got corners at or above it ({bad}) with {attitude} and {gimbal}"
            )
        offsets: FloatArray = rays[:, :2] * (h / down)[:, None]
        return offsets

    def with_image_size(self, width_px: int, height_px: int) -> CameraModel:
        """The same camera delivering ``width_px`` x ``height_px`` images (a video mode, a resize).

        With the same aspect ratio as this model the whole sensor is kept and only the pixel
        count changes. With another aspect ratio the sensor area becomes the largest centred
        crop of it with the new aspect ratio (square pixels), as cameras record 16:9 video from
        4:3 or 3:2 sensors; focal length unchanged. A mode that crops the sensor further (e.g.
        the IMX219's native 1080p window) needs its own model with that sensor area.
        """
        w = _positive_int(width_px, "width_px")
        h = _positive_int(height_px, "height_px")
        if w * self.image_height_px == h * self.image_width_px:
            return replace(self, image_width_px=w, image_height_px=h)
        new_aspect = w / h
        if new_aspect >= self.sensor_width_mm / self.sensor_height_mm:
            sensor_w, sensor_h = self.sensor_width_mm, self.sensor_width_mm / new_aspect
        else:
            sensor_w, sensor_h = self.sensor_height_mm * new_aspect, self.sensor_height_mm
        return replace(
            self, image_width_px=w, image_height_px=h, sensor_width_mm=sensor_w, sensor_height_mm=sensor_h
        )


# Published specifications. Each name is the preset's key so ``camera_preset(cam.name)`` works.
CAMERA_PRESETS: Mapping[str, CameraModel] = MappingProxyType(
    {
        # DJI Phantom 4 Pro / Pro V2.0: 1" CMOS 20 MP, 8.8 mm (24 mm equiv.), 5472 x 3648 stills
        # (DJI spec sheet); 13.2 x 8.8 mm is the 1" sensor area, as in QGroundControl's and Pix4D's lists.
        "dji-phantom-4-pro": CameraModel(
            name="dji-phantom-4-pro",
            sensor_width_mm=13.2,
            sensor_height_mm=8.8,
            focal_length_mm=8.8,
            image_width_px=5472,
            image_height_px=3648,
        ),
        # DJI Mavic 2 Pro, Hasselblad L1D-20c: 1" CMOS 20 MP, 10.26 mm (28 mm equiv., EXIF focal
        # length), 5472 x 3648 stills (DJI spec sheet; same numbers in QGroundControl's list).
        "dji-mavic-2-pro": CameraModel(
            name="dji-mavic-2-pro",
            sensor_width_mm=13.2,
            sensor_height_mm=8.8,
            focal_length_mm=10.26,
            image_width_px=5472,
            image_height_px=3648,
        ),
        # DJI Mavic 3 Enterprise (3E) wide camera: 4/3 CMOS 20 MP, 17.3 x 13.0 mm, 12.29 mm
        # (24 mm equiv.), 5280 x 3956 stills (DJI Enterprise spec sheet; focal length from EXIF,
        # as used by photogrammetry tools). Sensor and image aspect differ slightly: fx != fy.
        "dji-mavic-3e": CameraModel(
            name="dji-mavic-3e",
            sensor_width_mm=17.3,
            sensor_height_mm=13.0,
            focal_length_mm=12.29,
            image_width_px=5280,
            image_height_px=3956,
        ),
        # DJI Mini 4 Pro: 1/1.3" CMOS, 12 MP mode 4032 x 3024 with 2.4 um 4-in-1 pixels (DJI spec
        # sheet), so the active area is 4032 x 2.4 um = 9.68 mm by 3024 x 2.4 um = 7.26 mm;
        # 6.72 mm focal length (EXIF; 24 mm equiv.). The 48 MP mode is 8064 x 6048 on the same area.
        "dji-mini-4-pro": CameraModel(
            name="dji-mini-4-pro",
            sensor_width_mm=9.68,
            sensor_height_mm=7.26,
            focal_length_mm=6.72,
            image_width_px=4032,
            image_height_px=3024,
        ),
        # Sony a6000 with a 16 mm lens (e.g. SEL16F28): APS-C 23.5 x 15.6 mm, 6000 x 4000
        # (Sony spec sheet; QGroundControl's "Sony a6000 16mm" entry has the same numbers).
        "sony-a6000-16mm": CameraModel(
            name="sony-a6000-16mm",
            sensor_width_mm=23.5,
            sensor_height_mm=15.6,
            focal_length_mm=16.0,
            image_width_px=6000,
            image_height_px=4000,
        ),
        # Raspberry Pi Camera Module 2 (Sony IMX219), the companion computer's video camera on a
        # small gimbal or fixed mount: 3280 x 2464 px of 1.12 um, so 3.6736 x 2.7597 mm (the
        # documentation rounds to 3.68 x 2.76 mm), 3.04 mm focal length, published FOV
        # 62.2 x 48.8 deg (Raspberry Pi camera hardware documentation).
        "raspberry-pi-camera-v2": CameraModel(
            name="raspberry-pi-camera-v2",
            sensor_width_mm=3.6736,
            sensor_height_mm=2.75968,
            focal_length_mm=3.04,
            image_width_px=3280,
            image_height_px=2464,
        ),
    }
)


def camera_preset(name: str) -> CameraModel:
    """The preset called ``name`` (case-insensitive; spaces and underscores read as dashes)."""
    if not isinstance(name, str):
        raise CameraModelError(f"expected a camera preset name as str, got {name!r} ({type(name).__name__})")
    key = "-".join(name.strip().lower().replace("_", " ").replace("-", " ").split())
    try:
        return CAMERA_PRESETS[key]
    except KeyError:
        known = ", ".join(sorted(CAMERA_PRESETS))
        raise CameraModelError(f"expected one of the camera presets {known}; got {name!r}") from None
