"""Tests for geo.camera: intrinsics, GSD/footprint, attitude/gimbal rotations, pixels <-> rays."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.camera import (
    CAMERA_PRESETS,
    Attitude,
    CameraModel,
    Gimbal,
    camera_preset,
    rotation_enu_from_camera,
)
from geo.errors import CameraModelError, GeoError

P4P = CAMERA_PRESETS["dji-phantom-4-pro"]
NADIR = Gimbal()
LEVEL = Attitude()
S45 = math.sqrt(0.5)

# -- strategies ---------------------------------------------------------------------------------

angles = st.floats(min_value=-180.0, max_value=180.0, allow_nan=False)
attitudes = st.builds(
    Attitude,
    roll_deg=angles,
    pitch_deg=st.floats(min_value=-89.0, max_value=89.0),
    yaw_deg=st.floats(min_value=-360.0, max_value=360.0),
)
gimbals = st.builds(
    Gimbal,
    pitch_deg=st.floats(min_value=-120.0, max_value=30.0),
    roll_deg=st.floats(min_value=-30.0, max_value=30.0),
    yaw_deg=angles,
    stabilised=st.booleans(),
)
cameras = st.sampled_from(sorted(CAMERA_PRESETS.values(), key=lambda c: c.name))


# -- construction and presets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sensor_width_mm", 0.0),
        ("sensor_height_mm", -8.8),
        ("focal_length_mm", float("nan")),
        ("focal_length_mm", float("inf")),
        ("sensor_width_mm", "13.2"),
        ("image_width_px", 0),
        ("image_height_px", -1),
        ("image_width_px", 5472.0),
        ("image_height_px", True),
        ("name", ""),
    ],
)
def test_invalid_camera_raises_camera_model_error(field: str, value: object) -> None:
    kwargs: dict[str, object] = {
        "name": "x",
        "sensor_width_mm": 13.2,
        "sensor_height_mm": 8.8,
        "focal_length_mm": 8.8,
        "image_width_px": 5472,
        "image_height_px": 3648,
    }
    kwargs[field] = value
    with pytest.raises(CameraModelError, match="expected") as info:
        CameraModel(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, GeoError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "cls"),
    [
        ({"roll_deg": float("nan")}, Attitude),
        ({"yaw_deg": float("inf")}, Attitude),
        ({"pitch_deg": "level"}, Attitude),
        ({"pitch_deg": float("nan")}, Gimbal),
        ({"stabilised": "yes"}, Gimbal),
    ],
)
def test_invalid_angles_raise(kwargs: dict[str, object], cls: type) -> None:
    with pytest.raises(CameraModelError, match="expected"):
        cls(**kwargs)


def test_camera_is_frozen_and_keyword_only() -> None:
    with pytest.raises(AttributeError):
        P4P.focal_length_mm = 10.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        CameraModel("x", 13.2, 8.8, 8.8, 5472, 3648)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dji-phantom-4-pro", (13.2, 8.8, 8.8, 5472, 3648)),
        ("dji-mavic-2-pro", (13.2, 8.8, 10.26, 5472, 3648)),
        ("dji-mavic-3e", (17.3, 13.0, 12.29, 5280, 3956)),
        ("dji-mini-4-pro", (9.68, 7.26, 6.72, 4032, 3024)),
        ("sony-a6000-16mm", (23.5, 15.6, 16.0, 6000, 4000)),
        ("raspberry-pi-camera-v2", (3.6736, 2.75968, 3.04, 3280, 2464)),
    ],
)
def test_presets_match_published_specs(name: str, expected: tuple[float, float, float, int, int]) -> None:
    cam = camera_preset(name)
    got = (
        cam.sensor_width_mm,
        cam.sensor_height_mm,
        cam.focal_length_mm,
        cam.image_width_px,
        cam.image_height_px,
    )
    assert got == expected
    assert cam.name == name


@pytest.mark.parametrize("name", ["DJI-Phantom-4-Pro", " dji_phantom_4_pro ", "DJI Phantom 4 Pro"])
def test_preset_lookup_is_case_insensitive(name: str) -> None:
    assert camera_preset(name) is P4P


def test_unknown_preset_lists_known_names() -> None:
    with pytest.raises(CameraModelError) as info:
        camera_preset("dji-phantom-5")
    message = str(info.value)
    assert "dji-phantom-5" in message
    for known in CAMERA_PRESETS:
        assert known in message


def test_presets_are_read_only() -> None:
    with pytest.raises(TypeError):
        CAMERA_PRESETS["mine"] = P4P  # type: ignore[index]


# -- intrinsics, FOV, GSD, footprint -----------------------------------------------------------


def test_intrinsics_phantom_4_pro() -> None:
    # fx = 8.8 mm * 5472 px / 13.2 mm = 3648 px; fy = 8.8 * 3648 / 8.8 = 3648 px.
    np.testing.assert_allclose(
        P4P.intrinsics(), [[3648.0, 0.0, 2736.0], [0.0, 3648.0, 1824.0], [0.0, 0.0, 1.0]], rtol=1e-12
    )
    assert (P4P.cx_px, P4P.cy_px) == (2736.0, 1824.0)


@pytest.mark.parametrize(
    ("name", "hfov_deg", "vfov_deg", "tol_deg"),
    [
        # Raspberry Pi documentation: 62.2 x 48.8 degrees (2 atan(3.6736 / 6.08) = 62.28 deg).
        ("raspberry-pi-camera-v2", 62.2, 48.8, 0.1),
        # 2 atan(13.2 / 17.6) = 73.74 deg, 2 atan(8.8 / 17.6) = 53.13 deg (84 deg diagonal, DJI spec).
        ("dji-phantom-4-pro", 73.74, 53.13, 0.01),
    ],
)
def test_field_of_view(name: str, hfov_deg: float, vfov_deg: float, tol_deg: float) -> None:
    cam = camera_preset(name)
    assert cam.hfov_deg == pytest.approx(hfov_deg, abs=tol_deg)
    assert cam.vfov_deg == pytest.approx(vfov_deg, abs=tol_deg)


def test_phantom_4_pro_diagonal_fov_is_84_deg() -> None:
    diag_mm = math.hypot(P4P.sensor_width_mm, P4P.sensor_height_mm)
    assert math.degrees(2 * math.atan(diag_mm / (2 * P4P.focal_length_mm))) == pytest.approx(84.0, abs=0.5)


@pytest.mark.parametrize(
    ("name", "height_m", "gsd_m"),
    [
        # 13.2 mm / (8.8 mm * 5472 px) * 100 m = 2.741 cm/px (DJI/Pix4D quote ~2.74 cm/px at 100 m).
        ("dji-phantom-4-pro", 100.0, 0.0274123),
        ("dji-phantom-4-pro", 50.0, 0.0137061),
        # 13.2 / (10.26 * 5472) * 100 = 2.351 cm/px.
        ("dji-mavic-2-pro", 100.0, 0.0235115),
        # width axis 17.3 / (12.29 * 5280) * 100 = 2.666 cm/px, height axis 13.0 / (12.29 * 3956) * 100
        # = 2.674 cm/px: the larger, the height axis, wins.
        ("dji-mavic-3e", 100.0, 0.0267385),
        # 23.5 / (16 * 6000) * 120 = 2.9375 cm/px.
        ("sony-a6000-16mm", 120.0, 0.029375),
    ],
)
def test_gsd(name: str, height_m: float, gsd_m: float) -> None:
    assert camera_preset(name).gsd_m(height_m) == pytest.approx(gsd_m, rel=1e-5)


@pytest.mark.parametrize(
    ("name", "height_m", "across_m", "along_m"),
    [
        ("dji-phantom-4-pro", 100.0, 150.0, 100.0),
        ("dji-mavic-2-pro", 100.0, 128.6550, 85.7700),
        ("dji-mavic-3e", 100.0, 140.7649, 105.7771),
        ("sony-a6000-16mm", 80.0, 117.5, 78.0),
        ("raspberry-pi-camera-v2", 30.0, 36.2526, 27.2337),
    ],
)
def test_footprint(name: str, height_m: float, across_m: float, along_m: float) -> None:
    across, along = camera_preset(name).footprint_m(height_m)
    assert (across, along) == pytest.approx((across_m, along_m), rel=1e-5)


@given(cam=cameras, height_m=st.floats(min_value=1.0, max_value=2000.0))
def test_footprint_follows_qgc_formula_and_gsd(cam: CameraModel, height_m: float) -> None:
    across, along = cam.footprint_m(height_m)
    # QGroundControl survey: imageFootprint = altitude * sensor / focal length.
    assert across == pytest.approx(height_m * cam.sensor_width_mm / cam.focal_length_mm, rel=1e-12)
    assert along == pytest.approx(height_m * cam.sensor_height_mm / cam.focal_length_mm, rel=1e-12)
    gsd = cam.gsd_m(height_m)
    assert gsd == pytest.approx(max(across / cam.image_width_px, along / cam.image_height_px), rel=1e-12)
    # GSD grows linearly with height.
    assert cam.gsd_m(2 * height_m) == pytest.approx(2 * gsd, rel=1e-12)


@pytest.mark.parametrize("height_m", [0.0, -10.0, float("nan"), float("inf")])
def test_gsd_and_footprint_reject_bad_heights(height_m: float) -> None:
    with pytest.raises(CameraModelError, match="height_m"):
        P4P.gsd_m(height_m)
    with pytest.raises(CameraModelError, match="height_m"):
        P4P.footprint_m(height_m)
    with pytest.raises(CameraModelError, match="height_m"):
        P4P.footprint_on_flat_ground(height_m=height_m, attitude=LEVEL, gimbal=NADIR)


# -- with_image_size ---------------------------------------------------------------------------


def test_with_image_size_same_aspect_keeps_optics() -> None:
    small = P4P.with_image_size(1368, 912)
    assert (small.sensor_width_mm, small.sensor_height_mm, small.focal_length_mm) == (13.2, 8.8, 8.8)
    assert (small.image_width_px, small.image_height_px) == (1368, 912)
    assert small.hfov_deg == P4P.hfov_deg
    assert small.gsd_m(100.0) == pytest.approx(4 * P4P.gsd_m(100.0))
    assert P4P.image_width_px == 5472  # the original is untouched


@pytest.mark.parametrize(
    ("name", "size", "sensor_mm"),
    [
        # 3:2 sensor, 16:9 video: full width, height cropped to 13.2 * 9 / 16 = 7.425 mm.
        ("dji-phantom-4-pro", (3840, 2160), (13.2, 7.425)),
        # 4:3 sensor, 16:9 video: 17.3 * 9 / 16 = 9.73125 mm.
        ("dji-mavic-3e", (1920, 1080), (17.3, 9.73125)),
        # 3:2 sensor, 1:1 image: full height, width cropped to 8.8 mm.
        ("dji-phantom-4-pro", (1000, 1000), (8.8, 8.8)),
    ],
)
def test_with_image_size_other_aspect_crops_sensor(
    name: str, size: tuple[int, int], sensor_mm: tuple[float, float]
) -> None:
    cam = camera_preset(name).with_image_size(*size)
    assert (cam.sensor_width_mm, cam.sensor_height_mm) == pytest.approx(sensor_mm)
    assert cam.focal_length_mm == camera_preset(name).focal_length_mm
    assert cam.fx_px == pytest.approx(cam.fy_px)  # square pixels


@pytest.mark.parametrize("size", [(0, 1080), (1920, -1), (1920.0, 1080)])
def test_with_image_size_rejects_bad_sizes(size: tuple[object, object]) -> None:
    with pytest.raises(CameraModelError, match="expected"):
        P4P.with_image_size(*size)  # type: ignore[arg-type]


# -- rotations and rays: hand-checked directions -----------------------------------------------


def _ray(cam: CameraModel, u: float, v: float, attitude: Attitude, gimbal: Gimbal) -> np.ndarray:
    return cam.pixel_to_ray(u, v, attitude=attitude, gimbal=gimbal)


CENTRE = (P4P.cx_px, P4P.cy_px)
TOP_CENTRE = (P4P.cx_px, 0.0)
RIGHT_CENTRE = (float(P4P.image_width_px), P4P.cy_px)

c10, s10 = math.cos(math.radians(10)), math.sin(math.radians(10))


@pytest.mark.parametrize(
    ("pixel", "attitude", "gimbal", "expected_enu"),
    [
        # nadir, level, yaw 0: centre straight down.
        (CENTRE, LEVEL, NADIR, (0.0, 0.0, -1.0)),
        # yaw does not move the nadir centre ray.
        (CENTRE, Attitude(yaw_deg=123.0), NADIR, (0.0, 0.0, -1.0)),
        # stabilised gimbal levels out vehicle roll and pitch.
        (CENTRE, Attitude(roll_deg=10.0), NADIR, (0.0, 0.0, -1.0)),
        (CENTRE, Attitude(pitch_deg=10.0, roll_deg=-7.0), NADIR, (0.0, 0.0, -1.0)),
        # fixed mount, right wing down 10 deg: the belly, and the nadir camera, turn to the left (west).
        (CENTRE, Attitude(roll_deg=10.0), Gimbal(stabilised=False), (-s10, 0.0, -c10)),
        # fixed mount, nose up 10 deg: the nadir camera looks forward (north).
        (CENTRE, Attitude(pitch_deg=10.0), Gimbal(stabilised=False), (0.0, s10, -c10)),
        # fixed mount, heading east, right wing down: looks left of east = north.
        (CENTRE, Attitude(yaw_deg=90.0, roll_deg=10.0), Gimbal(stabilised=False), (0.0, s10, -c10)),
        # gimbal pitch -45, heading north: 45 deg below the horizon towards north.
        (CENTRE, LEVEL, Gimbal(pitch_deg=-45.0), (0.0, S45, -S45)),
        # ... heading east.
        (CENTRE, Attitude(yaw_deg=90.0), Gimbal(pitch_deg=-45.0), (S45, 0.0, -S45)),
        # forward-looking camera, heading north / east / south-west.
        (CENTRE, LEVEL, Gimbal(pitch_deg=0.0), (0.0, 1.0, 0.0)),
        (CENTRE, Attitude(yaw_deg=90.0), Gimbal(pitch_deg=0.0), (1.0, 0.0, 0.0)),
        (CENTRE, Attitude(yaw_deg=225.0), Gimbal(pitch_deg=0.0), (-S45, -S45, 0.0)),
        # gimbal yaw is relative to the heading (+ = right): heading north, gimbal yaw 90 looks east.
        (CENTRE, LEVEL, Gimbal(pitch_deg=0.0, yaw_deg=90.0), (1.0, 0.0, 0.0)),
        (
            CENTRE,
            Attitude(yaw_deg=90.0),
            Gimbal(pitch_deg=0.0, yaw_deg=90.0, stabilised=False),
            (0.0, -1.0, 0.0),
        ),
        # fixed forward camera, nose up 10 deg: looks 10 deg above the horizon.
        (CENTRE, Attitude(pitch_deg=10.0), Gimbal(pitch_deg=0.0, stabilised=False), (0.0, c10, s10)),
    ],
)
def test_centre_ray_directions(
    pixel: tuple[float, float], attitude: Attitude, gimbal: Gimbal, expected_enu: tuple[float, float, float]
) -> None:
    np.testing.assert_allclose(_ray(P4P, *pixel, attitude, gimbal), expected_enu, atol=1e-12)


def _horizontal_direction(ray: np.ndarray) -> np.ndarray:
    return ray[:2] / np.linalg.norm(ray[:2])


@pytest.mark.parametrize(
    ("yaw_deg", "top_towards", "right_towards"),
    [
        (0.0, (0.0, 1.0), (1.0, 0.0)),  # top north, right east
        (90.0, (1.0, 0.0), (0.0, -1.0)),  # top east, right south
        (180.0, (0.0, -1.0), (-1.0, 0.0)),  # top south, right west
        (-90.0, (-1.0, 0.0), (0.0, 1.0)),  # top west, right north
    ],
)
def test_nadir_image_top_points_along_heading(
    yaw_deg: float, top_towards: tuple[float, float], right_towards: tuple[float, float]
) -> None:
    attitude = Attitude(yaw_deg=yaw_deg)
    for gimbal in (NADIR, Gimbal(stabilised=False)):
        top = _ray(P4P, *TOP_CENTRE, attitude, gimbal)
        right = _ray(P4P, *RIGHT_CENTRE, attitude, gimbal)
        np.testing.assert_allclose(_horizontal_direction(top), top_towards, atol=1e-12)
        np.testing.assert_allclose(_horizontal_direction(right), right_towards, atol=1e-12)


def test_forward_camera_image_axes() -> None:
    rotation = rotation_enu_from_camera(LEVEL, Gimbal(pitch_deg=0.0))
    # columns: image right = east, image down = down, optical axis = north.
    np.testing.assert_allclose(rotation, [[1, 0, 0], [0, 0, 1], [0, -1, 0]], atol=1e-15)


def test_gimbal_roll_tilts_image_right_down() -> None:
    rotation = rotation_enu_from_camera(LEVEL, Gimbal(pitch_deg=0.0, roll_deg=30.0))
    right = rotation[:, 0]
    np.testing.assert_allclose(right, (math.cos(math.radians(30)), 0.0, -0.5), atol=1e-12)


def test_top_edge_ray_of_nadir_camera_is_half_vfov_off_vertical() -> None:
    top = _ray(P4P, *TOP_CENTRE, LEVEL, NADIR)
    off_nadir_deg = math.degrees(math.acos(-top[2]))
    assert off_nadir_deg == pytest.approx(P4P.vfov_deg / 2, abs=1e-9)


# -- rotations: properties ---------------------------------------------------------------------


@given(attitude=attitudes, gimbal=gimbals)
def test_rotation_is_proper_orthonormal(attitude: Attitude, gimbal: Gimbal) -> None:
    rotation = rotation_enu_from_camera(attitude, gimbal)
    assert rotation.shape == (3, 3)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0, abs=1e-12)


@given(
    yaw_deg=angles,
    gimbal_pitch_deg=st.floats(min_value=-120.0, max_value=30.0),
    gimbal_roll_deg=st.floats(min_value=-30.0, max_value=30.0),
    gimbal_yaw_deg=angles,
)
def test_stabilised_equals_fixed_mount_when_level(
    yaw_deg: float, gimbal_pitch_deg: float, gimbal_roll_deg: float, gimbal_yaw_deg: float
) -> None:
    attitude = Attitude(yaw_deg=yaw_deg)
    kwargs = {"pitch_deg": gimbal_pitch_deg, "roll_deg": gimbal_roll_deg, "yaw_deg": gimbal_yaw_deg}
    np.testing.assert_allclose(
        rotation_enu_from_camera(attitude, Gimbal(**kwargs, stabilised=True)),
        rotation_enu_from_camera(attitude, Gimbal(**kwargs, stabilised=False)),
        atol=1e-12,
    )


@given(attitude=attitudes, gimbal=gimbals)
def test_stabilised_gimbal_ignores_vehicle_roll_and_pitch(attitude: Attitude, gimbal: Gimbal) -> None:
    stabilised = Gimbal(
        pitch_deg=gimbal.pitch_deg, roll_deg=gimbal.roll_deg, yaw_deg=gimbal.yaw_deg, stabilised=True
    )
    np.testing.assert_allclose(
        rotation_enu_from_camera(attitude, stabilised),
        rotation_enu_from_camera(Attitude(yaw_deg=attitude.yaw_deg), stabilised),
        atol=1e-12,
    )


@given(attitude=attitudes, gimbal=gimbals)
def test_yaw_rotates_everything_about_up(attitude: Attitude, gimbal: Gimbal) -> None:
    turned = Attitude(
        roll_deg=attitude.roll_deg, pitch_deg=attitude.pitch_deg, yaw_deg=attitude.yaw_deg + 90.0
    )
    # +90 deg yaw turns clockwise seen from above: north -> east, east -> south, up stays up.
    clockwise_90 = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(
        rotation_enu_from_camera(turned, gimbal),
        clockwise_90 @ rotation_enu_from_camera(attitude, gimbal),
        atol=1e-12,
    )


# -- pixels <-> rays: properties ---------------------------------------------------------------


@settings(max_examples=200)
@given(
    cam=cameras,
    attitude=attitudes,
    gimbal=gimbals,
    fu=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=8),
    fv=st.floats(min_value=0.0, max_value=1.0),
)
def test_round_trip_pixel_ray_pixel(
    cam: CameraModel, attitude: Attitude, gimbal: Gimbal, fu: list[float], fv: float
) -> None:
    u = np.asarray(fu) * cam.image_width_px
    v = np.full_like(u, fv * cam.image_height_px)
    rays = cam.pixel_to_ray(u, v, attitude=attitude, gimbal=gimbal)
    assert rays.shape == (len(fu), 3)
    np.testing.assert_allclose(np.linalg.norm(rays, axis=-1), 1.0, atol=1e-12)
    u2, v2, in_front = cam.ray_to_pixel(rays * 37.5, attitude=attitude, gimbal=gimbal)  # need not be unit
    assert in_front.all()
    np.testing.assert_allclose(u2, u, atol=1e-6)
    np.testing.assert_allclose(v2, v, atol=1e-6)


@given(cam=cameras, attitude=attitudes, gimbal=gimbals, u=st.floats(-1e4, 1e4), v=st.floats(-1e4, 1e4))
def test_round_trip_scalar_pixel(
    cam: CameraModel, attitude: Attitude, gimbal: Gimbal, u: float, v: float
) -> None:
    ray = cam.pixel_to_ray(u, v, attitude=attitude, gimbal=gimbal)
    assert ray.shape == (3,)
    assert np.linalg.norm(ray) == pytest.approx(1.0, abs=1e-12)
    u2, v2, in_front = cam.ray_to_pixel(ray, attitude=attitude, gimbal=gimbal)
    assert u2.shape == v2.shape == in_front.shape == ()
    assert bool(in_front)
    assert float(u2) == pytest.approx(u, abs=1e-6 * max(1.0, abs(u)))
    assert float(v2) == pytest.approx(v, abs=1e-6 * max(1.0, abs(v)))


@given(attitude=attitudes, gimbal=gimbals)
def test_ray_behind_camera_is_not_in_front(attitude: Attitude, gimbal: Gimbal) -> None:
    rays = P4P.pixel_to_ray([100.0, 2000.0], [50.0, 3000.0], attitude=attitude, gimbal=gimbal)
    u, v, in_front = P4P.ray_to_pixel(
        np.vstack([rays, -rays, [[0.0, 0.0, 0.0]]]), attitude=attitude, gimbal=gimbal
    )
    assert in_front.tolist() == [True, True, False, False, False]
    assert np.isnan(u[2:]).all()
    assert np.isnan(v[2:]).all()


def test_pixel_to_ray_broadcasts_grids() -> None:
    cam = P4P.with_image_size(64, 48)
    vv, uu = np.mgrid[0:48, 0:64] + 0.5
    rays = cam.pixel_to_ray(uu, vv, attitude=LEVEL, gimbal=NADIR)
    assert rays.shape == (48, 64, 3)
    u, v, in_front = cam.ray_to_pixel(rays, attitude=LEVEL, gimbal=NADIR)
    assert u.shape == (48, 64)
    assert in_front.all()
    np.testing.assert_allclose(u, uu, atol=1e-9)
    np.testing.assert_allclose(v, vv, atol=1e-9)
    # a row of pixels against one v broadcasts too
    assert cam.pixel_to_ray(np.arange(64.0), 10.0, attitude=LEVEL, gimbal=NADIR).shape == (64, 3)


@pytest.mark.parametrize("bad", [np.zeros((4, 2)), np.zeros(4), 1.0])
def test_ray_to_pixel_rejects_wrong_shapes(bad: object) -> None:
    with pytest.raises(CameraModelError, match=r"\(\.\.\., 3\)"):
        P4P.ray_to_pixel(bad, attitude=LEVEL, gimbal=NADIR)  # type: ignore[arg-type]


def test_pixel_to_ray_rejects_mismatched_shapes() -> None:
    with pytest.raises(CameraModelError, match="broadcastable"):
        P4P.pixel_to_ray(np.zeros(3), np.zeros(4), attitude=LEVEL, gimbal=NADIR)


# -- footprint on flat ground ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CAMERA_PRESETS))
def test_nadir_footprint_corners_are_half_footprint(name: str) -> None:
    cam = camera_preset(name)
    across, along = cam.footprint_m(100.0)
    corners = cam.footprint_on_flat_ground(height_m=100.0, attitude=LEVEL, gimbal=NADIR)
    a, b = across / 2, along / 2
    np.testing.assert_allclose(corners, [[-a, b], [a, b], [a, -b], [-a, -b]], atol=1e-9)


def test_footprint_on_flat_ground_yaw_90_top_points_east() -> None:
    across, along = P4P.footprint_m(100.0)  # 150 x 100 m
    corners = P4P.footprint_on_flat_ground(height_m=100.0, attitude=Attitude(yaw_deg=90.0), gimbal=NADIR)
    # TL: top (east) + left (north); TR: top + right (south); ...
    expected = [[50.0, 75.0], [50.0, -75.0], [-50.0, -75.0], [-50.0, 75.0]]
    assert (across, along) == pytest.approx((150.0, 100.0))
    np.testing.assert_allclose(corners, expected, atol=1e-9)


def test_oblique_footprint_is_a_trapezoid_ahead() -> None:
    corners = P4P.footprint_on_flat_ground(height_m=100.0, attitude=LEVEL, gimbal=Gimbal(pitch_deg=-60.0))
    tl, tr, br, bl = corners
    assert tl[1] == pytest.approx(tr[1])  # far edge parallel to east
    assert bl[1] == pytest.approx(br[1])
    assert tl[1] > bl[1] > 0.0  # top edge farther north than the bottom edge, both ahead
    assert tr[0] - tl[0] > br[0] - bl[0] > 0.0  # far edge wider
    # the centre ray meets the ground at 100 / tan(60 deg) north
    centre = P4P.pixel_to_ray(P4P.cx_px, P4P.cy_px, attitude=LEVEL, gimbal=Gimbal(pitch_deg=-60.0))
    assert centre[1] * 100.0 / -centre[2] == pytest.approx(100.0 / math.tan(math.radians(60.0)))


@pytest.mark.parametrize(
    ("attitude", "gimbal"),
    [
        (LEVEL, Gimbal(pitch_deg=0.0)),
        (LEVEL, Gimbal(pitch_deg=-20.0)),  # top edge at -20 + 26.6 deg: above the horizon
        (Attitude(pitch_deg=80.0), Gimbal(stabilised=False)),
        (LEVEL, Gimbal(pitch_deg=90.0)),  # looking up
    ],
)
def test_horizon_in_view_raises(attitude: Attitude, gimbal: Gimbal) -> None:
    with pytest.raises(CameraModelError, match="horizon"):
        P4P.footprint_on_flat_ground(height_m=100.0, attitude=attitude, gimbal=gimbal)


@given(
    attitude=attitudes,
    gimbal=gimbals,
    height_m=st.floats(min_value=5.0, max_value=500.0),
)
def test_footprint_corners_project_back_to_image_corners(
    attitude: Attitude, gimbal: Gimbal, height_m: float
) -> None:
    try:
        corners = P4P.footprint_on_flat_ground(height_m=height_m, attitude=attitude, gimbal=gimbal)
    except CameraModelError:
        return  # horizon in view for this pose
    points = np.column_stack([corners, np.full(4, -height_m)])
    u, v, in_front = P4P.ray_to_pixel(points, attitude=attitude, gimbal=gimbal)
    assert in_front.all()
    w, h = P4P.image_width_px, P4P.image_height_px
    np.testing.assert_allclose(u, [0, w, w, 0], atol=1e-5 * w)
    np.testing.assert_allclose(v, [0, 0, h, h], atol=1e-5 * h)


# -- cross-check with OpenCV -------------------------------------------------------------------


@settings(max_examples=60)
@given(
    cam=cameras,
    attitude=attitudes,
    gimbal=gimbals,
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_ray_to_pixel_matches_opencv_project_points(
    cam: CameraModel, attitude: Attitude, gimbal: Gimbal, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    camera_enu = np.array([120.0, -40.0, 150.0])
    points_enu = camera_enu + rng.uniform(-500.0, 500.0, size=(32, 3))
    rotation = rotation_enu_from_camera(attitude, gimbal)
    camera_from_world = rotation.T  # world (ENU) -> optical frame
    rvec, _ = cv2.Rodrigues(camera_from_world)
    tvec = -camera_from_world @ camera_enu
    projected, _ = cv2.projectPoints(points_enu, rvec, tvec, cam.intrinsics(), None)
    u, v, in_front = cam.ray_to_pixel(points_enu - camera_enu, attitude=attitude, gimbal=gimbal)
    depth = (points_enu - camera_enu) @ rotation[:, 2]
    keep = depth > 1.0  # well in front: OpenCV projects points behind the camera too (mirrored)
    np.testing.assert_array_equal(in_front[keep], True)
    scale = np.maximum(1.0, np.abs(projected[keep, 0, :]))
    assert np.all(np.abs(u[keep] - projected[keep, 0, 0]) <= 1e-6 * scale[:, 0])
    assert np.all(np.abs(v[keep] - projected[keep, 0, 1]) <= 1e-6 * scale[:, 1])


def test_opencv_nadir_example() -> None:
    # A point 10 m east and 5 m north of the spot under a nadir camera 100 m up, heading north.
    cam = P4P
    rotation = rotation_enu_from_camera(LEVEL, NADIR)
    rvec, _ = cv2.Rodrigues(rotation.T)
    tvec = -rotation.T @ np.array([0.0, 0.0, 100.0])
    projected, _ = cv2.projectPoints(np.array([[10.0, 5.0, 0.0]]), rvec, tvec, cam.intrinsics(), None)
    u, v, _ = cam.ray_to_pixel(np.array([10.0, 5.0, -100.0]), attitude=LEVEL, gimbal=NADIR)
    # right of centre by 10 m / GSD, above centre by 5 m / GSD.
    gsd = cam.gsd_m(100.0)
    assert float(u) == pytest.approx(cam.cx_px + 10.0 / gsd)
    assert float(v) == pytest.approx(cam.cy_px - 5.0 / gsd)
    np.testing.assert_allclose([float(u), float(v)], projected[0, 0], rtol=1e-9)
