"""Vehicle profiles from the parameter files in firmware_configs/ and from hand-made ones."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymavlink.mavparm import MAVParmDict

from ground_station.planning.errors import PlanningError, VehicleProfileError
from ground_station.planning.vehicle import (
    ANNOTATIONS,
    MIN_RESERVE_FRACTION,
    VehicleProfile,
    default_vehicle_profile,
    firmware_configs_dir,
    load_vehicle_profile,
    read_parameter_file,
)

CONFIG_FILES = sorted([*firmware_configs_dir().glob("*.parm"), *firmware_configs_dir().glob("*.params")])
ARDUCOPTER_FILE = firmware_configs_dir() / "patrol-quad.arducopter.parm"
PX4_FILE = firmware_configs_dir() / "patrol-quad.px4.params"

# A small valid vehicle for each firmware; cases override entries (None removes one).
AP_PARAMS: dict[str, str] = {
    "WPNAV_SPEED": "1000",
    "WPNAV_SPEED_UP": "300",
    "WPNAV_SPEED_DN": "200",
    "WPNAV_ACCEL": "250",
    "WPNAV_RADIUS": "200",
    "RTL_ALT": "6000",
    "BATT_CAPACITY": "10000",
    "BATT_LOW_MAH": "2500",
}
AP_ANNOTATIONS = {"cruise_current_a": "24", "mission_item_limit": "700"}
PX4_PARAMS: dict[str, str] = {
    "MAV_SYS_ID": "1",
    "MPC_XY_CRUISE": "10.0",
    "MPC_Z_VEL_MAX_UP": "3.0",
    "MPC_Z_VEL_MAX_DN": "2.0",
    "MPC_ACC_HOR": "2.5",
    "NAV_ACC_RAD": "2.0",
    "RTL_RETURN_ALT": "60.0",
    "BAT1_CAPACITY": "10000.0",
    "BAT_AVRG_CURRENT": "24.0",
    "BAT_LOW_THR": "0.25",
}
PX4_ANNOTATIONS = {"mission_item_limit": "2000"}
PX4_INTEGER_PARAMS = {"MAV_SYS_ID", "GF_ACTION", "COM_FLT_TIME_MAX", "COM_LOW_BAT_ACT", "NAV_DLL_ACT"}


def _merge(base: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    merged = dict(base)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def write_parm(
    path: Path, changes: dict[str, str | None] | None = None, annotations: dict[str, str | None] | None = None
) -> Path:
    lines = ["# test vehicle"]
    lines += [f"#@ {k} {v}" for k, v in _merge(AP_ANNOTATIONS, annotations or {}).items()]
    lines += [f"{k} {v}" for k, v in _merge(AP_PARAMS, changes or {}).items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_params(
    path: Path, changes: dict[str, str | None] | None = None, annotations: dict[str, str | None] | None = None
) -> Path:
    lines = ["# Onboard parameters for Vehicle 1", "#", "# Vehicle-Id\tComponent-Id\tName\tValue\tType"]
    lines += [f"#@ {k} {v}" for k, v in _merge(PX4_ANNOTATIONS, annotations or {}).items()]
    for name, value in _merge(PX4_PARAMS, changes or {}).items():
        lines.append(f"1\t1\t{name}\t{value}\t{6 if name in PX4_INTEGER_PARAMS else 9}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- the shipped files ---------------------------------------------------------------------------


def test_firmware_configs_holds_both_firmwares() -> None:
    assert ARDUCOPTER_FILE in CONFIG_FILES and PX4_FILE in CONFIG_FILES


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name)
def test_every_shipped_parameter_file_gives_a_sane_profile(path: Path) -> None:
    profile = load_vehicle_profile(path)
    assert profile.firmware == ("px4" if path.suffix == ".params" else "ardupilot")
    assert 0 < profile.cruise_speed_m_s <= 20
    assert 0 < profile.climb_rate_m_s <= 10 and 0 < profile.descent_rate_m_s <= 10
    assert profile.acceleration_m_s2 > 0 and profile.waypoint_radius_m > 0 and profile.rtl_altitude_m > 0
    assert 10 * 60 <= profile.endurance_s <= 60 * 60
    assert MIN_RESERVE_FRACTION <= profile.reserve_fraction <= 0.5
    assert profile.mission_item_limit > 100
    assert 0 < profile.max_altitude_agl_m <= 120
    assert profile.usable_endurance_s == pytest.approx(profile.endurance_s * (1 - profile.reserve_fraction))
    assert set(ANNOTATIONS) & set(profile.params), "the planner annotations travel with the parameters"


def test_arducopter_and_px4_files_of_the_same_airframe_agree() -> None:
    ap, px4 = load_vehicle_profile(ARDUCOPTER_FILE), load_vehicle_profile(PX4_FILE)
    for field in (
        "cruise_speed_m_s",
        "climb_rate_m_s",
        "descent_rate_m_s",
        "acceleration_m_s2",
        "waypoint_radius_m",
        "rtl_altitude_m",
        "endurance_s",
        "reserve_fraction",
        "max_altitude_agl_m",
    ):
        assert getattr(ap, field) == pytest.approx(getattr(px4, field)), field


def test_the_parm_file_reads_as_mavproxy_reads_it(capsys: pytest.CaptureFixture[str]) -> None:
    """pymavlink's MAVParmDict.load is MAVProxy's `param load`: same names, same values, no bad lines."""
    theirs = MAVParmDict()
    assert theirs.load(str(ARDUCOPTER_FILE), use_excludes=False)
    assert "Invalid line" not in capsys.readouterr().out
    ours = {k: v for k, v in read_parameter_file(ARDUCOPTER_FILE).items() if k not in ANNOTATIONS}
    assert ours == dict(theirs)


def test_default_vehicle_profile_is_the_arducopter_quad() -> None:
    assert default_vehicle_profile() == load_vehicle_profile(ARDUCOPTER_FILE)


def test_read_parameter_file_returns_parameters_and_annotations() -> None:
    values = read_parameter_file(PX4_FILE)
    assert values["MPC_XY_CRUISE"] == 10.0 and values["BAT_AVRG_CURRENT"] == 22.0
    assert values["mission_item_limit"] == 2000
    assert read_parameter_file(ARDUCOPTER_FILE)["cruise_current_a"] == 22.0


# --- values to profile fields --------------------------------------------------------------------

AP_CASES: list[tuple[str, dict[str, str | None], dict[str, str | None], dict[str, float]]] = [
    (
        "centimetres become metres",
        {"WPNAV_SPEED": "1250", "WPNAV_SPEED_UP": "250", "WPNAV_SPEED_DN": "150", "WPNAV_RADIUS": "350"},
        {},
        {"cruise_speed_m_s": 12.5, "climb_rate_m_s": 2.5, "descent_rate_m_s": 1.5, "waypoint_radius_m": 3.5},
    ),
    (
        "cm/s/s and cm",
        {"WPNAV_ACCEL": "100", "RTL_ALT": "4500"},
        {},
        {"acceleration_m_s2": 1.0, "rtl_altitude_m": 45.0},
    ),
    (
        "Copter 4.7 names are in metres",
        {
            "WPNAV_SPEED": None,
            "WP_SPD": "12.5",
            "WPNAV_SPEED_UP": None,
            "WP_SPD_UP": "2.5",
            "WPNAV_RADIUS": None,
            "WP_RADIUS_M": "3",
            "RTL_ALT": None,
            "RTL_ALT_M": "45",
        },
        {},
        {"cruise_speed_m_s": 12.5, "climb_rate_m_s": 2.5, "waypoint_radius_m": 3.0, "rtl_altitude_m": 45.0},
    ),
    ("capacity over current", {"BATT_CAPACITY": "5000"}, {"cruise_current_a": "20"}, {"endurance_s": 900.0}),
    ("low-battery failsafe is the reserve", {"BATT_LOW_MAH": "3000"}, {}, {"reserve_fraction": 0.3}),
    ("a thin reserve is raised to 0.2", {"BATT_LOW_MAH": "1000"}, {}, {"reserve_fraction": 0.2}),
    ("no low-battery failsafe: 0.2", {"BATT_LOW_MAH": None}, {}, {"reserve_fraction": 0.2}),
    ("no fence: 120 m", {}, {}, {"max_altitude_agl_m": 120.0}),
    (
        "altitude fence",
        {"FENCE_ENABLE": "1", "FENCE_TYPE": "7", "FENCE_ALT_MAX": "90"},
        {},
        {"max_altitude_agl_m": 90.0},
    ),
    (
        "fence without the altitude bit",
        {"FENCE_ENABLE": "1", "FENCE_TYPE": "6", "FENCE_ALT_MAX": "90"},
        {},
        {"max_altitude_agl_m": 120.0},
    ),
    (
        "altitude fence configured but disabled",
        {"FENCE_ENABLE": "0", "FENCE_TYPE": "7", "FENCE_ALT_MAX": "90"},
        {},
        {"max_altitude_agl_m": 120.0},
    ),
    ("enabled fence with firmware defaults: 100 m", {"FENCE_ENABLE": "1"}, {}, {"max_altitude_agl_m": 100.0}),
    ("item limit", {}, {"mission_item_limit": "450"}, {"mission_item_limit": 450}),
]


@pytest.mark.parametrize(
    ("changes", "annotations", "expected"), [c[1:] for c in AP_CASES], ids=[c[0] for c in AP_CASES]
)
def test_arducopter_values_to_profile(
    tmp_path: Path,
    changes: dict[str, str | None],
    annotations: dict[str, str | None],
    expected: dict[str, float],
) -> None:
    profile = load_vehicle_profile(write_parm(tmp_path / "quad.parm", changes, annotations))
    assert profile.firmware == "ardupilot" and profile.name == "quad"
    for field, value in expected.items():
        assert getattr(profile, field) == pytest.approx(value), field


PX4_CASES: list[tuple[str, dict[str, str | None], dict[str, float]]] = [
    (
        "metres per second as they are",
        {},
        {"cruise_speed_m_s": 10.0, "climb_rate_m_s": 3.0, "descent_rate_m_s": 2.0},
    ),
    (
        "cruise limited by MPC_XY_VEL_MAX",
        {"MPC_XY_CRUISE": "15", "MPC_XY_VEL_MAX": "12"},
        {"cruise_speed_m_s": 12.0},
    ),
    ("mission climb rate", {"MPC_Z_V_AUTO_UP": "2.0", "MPC_Z_VEL_MAX_UP": "4.0"}, {"climb_rate_m_s": 2.0}),
    ("mission climb rate above the maximum", {"MPC_Z_V_AUTO_UP": "5.0"}, {"climb_rate_m_s": 3.0}),
    ("mission descent rate", {"MPC_Z_V_AUTO_DN": "1.5"}, {"descent_rate_m_s": 1.5}),
    (
        "acceleration, radius, return",
        {},
        {"acceleration_m_s2": 2.5, "waypoint_radius_m": 2.0, "rtl_altitude_m": 60},
    ),
    (
        "capacity over BAT_AVRG_CURRENT",
        {"BAT1_CAPACITY": "5000", "BAT_AVRG_CURRENT": "20"},
        {"endurance_s": 900.0},
    ),
    ("COM_FLT_TIME_MAX caps the endurance", {"COM_FLT_TIME_MAX": "1200"}, {"endurance_s": 1200.0}),
    ("COM_FLT_TIME_MAX -1 is off", {"COM_FLT_TIME_MAX": "-1"}, {"endurance_s": 1500.0}),
    ("COM_FLT_TIME_MAX above the battery", {"COM_FLT_TIME_MAX": "3600"}, {"endurance_s": 1500.0}),
    ("BAT_LOW_THR is the reserve", {"BAT_LOW_THR": "0.3"}, {"reserve_fraction": 0.3}),
    ("PX4's default BAT_LOW_THR is raised to 0.2", {"BAT_LOW_THR": None}, {"reserve_fraction": 0.2}),
    ("vertical geofence", {"GF_ACTION": "3", "GF_MAX_VER_DIST": "100"}, {"max_altitude_agl_m": 100.0}),
    (
        "vertical geofence with no action",
        {"GF_ACTION": "0", "GF_MAX_VER_DIST": "100"},
        {"max_altitude_agl_m": 120.0},
    ),
    ("vertical geofence off", {"GF_ACTION": "3", "GF_MAX_VER_DIST": "0"}, {"max_altitude_agl_m": 120.0}),
]


@pytest.mark.parametrize(("changes", "expected"), [c[1:] for c in PX4_CASES], ids=[c[0] for c in PX4_CASES])
def test_px4_values_to_profile(
    tmp_path: Path, changes: dict[str, str | None], expected: dict[str, float]
) -> None:
    profile = load_vehicle_profile(write_params(tmp_path / "quad.params", changes))
    assert profile.firmware == "px4" and profile.mission_item_limit == 2000
    for field, value in expected.items():
        assert getattr(profile, field) == pytest.approx(value), field


def test_mission_planner_and_sitl_spellings_are_read(tmp_path: Path) -> None:
    """Mission Planner writes NAME,VALUE; SITL default files carry hex values and trailing comments."""
    path = write_parm(tmp_path / "mp.param")
    text = path.read_text().replace("WPNAV_SPEED 1000", "WPNAV_SPEED,1000.000000")
    text = text.replace("WPNAV_RADIUS 200", "WPNAV_RADIUS 0xC8  # 2 m")
    path.write_text(text)
    profile = load_vehicle_profile(path)
    assert (profile.cruise_speed_m_s, profile.waypoint_radius_m) == (10.0, 2.0)


def test_an_ardupilot_file_saved_by_qgroundcontrol_is_read(tmp_path: Path) -> None:
    lines = ["# Onboard parameters for Vehicle 1", "#@ cruise_current_a 24", "#@ mission_item_limit 700"]
    lines += [
        f"1\t1\t{name}\t{value}\t{4 if name != 'SYSID_THISMAV' else 2}" for name, value in AP_PARAMS.items()
    ]
    lines.append("1\t1\tSYSID_THISMAV\t1\t2")
    lines.append("1\t154\tWPNAV_SPEED\t500\t4")  # another component's parameter of the same name is skipped
    path = tmp_path / "saved.params"
    path.write_text("\n".join(lines) + "\n")
    profile = load_vehicle_profile(path)
    assert profile.firmware == "ardupilot" and profile.cruise_speed_m_s == 10.0


def test_a_file_of_another_suffix_is_read_by_its_content(tmp_path: Path) -> None:
    px4 = write_params(tmp_path / "px4.txt")
    ap = write_parm(tmp_path / "ap.txt")
    assert load_vehicle_profile(px4).firmware == "px4" and load_vehicle_profile(ap).firmware == "ardupilot"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    speed_cm_s=st.integers(min_value=10, max_value=2000),
    capacity_mah=st.integers(min_value=1000, max_value=30000),
    low_share=st.floats(min_value=0.0, max_value=0.95),
    current_a=st.floats(min_value=1.0, max_value=200.0),
)
def test_conversions_hold_for_any_valid_file(
    tmp_path: Path, speed_cm_s: int, capacity_mah: int, low_share: float, current_a: float
) -> None:
    low_mah = math.floor(low_share * capacity_mah)
    path = write_parm(
        tmp_path / "any.parm",
        {"WPNAV_SPEED": str(speed_cm_s), "BATT_CAPACITY": str(capacity_mah), "BATT_LOW_MAH": str(low_mah)},
        {"cruise_current_a": repr(current_a)},
    )
    profile = load_vehicle_profile(path)
    assert profile.cruise_speed_m_s == pytest.approx(speed_cm_s / 100)
    assert profile.endurance_s == pytest.approx(capacity_mah / 1000 / current_a * 3600)
    assert profile.reserve_fraction == pytest.approx(max(low_mah / capacity_mah, 0.2))
    assert 0 < profile.usable_endurance_s <= profile.endurance_s * 0.8 + 1e-9


# --- malformed files -----------------------------------------------------------------------------

BROKEN_PARM: list[tuple[str, str, tuple[str, ...]]] = [
    ("three tokens", "WPNAV_SPEED 1000 1200", ("line 4", "expected `NAME VALUE`", "WPNAV_SPEED 1000 1200")),
    ("one token", "WPNAV_SPEED", ("line 4", "expected `NAME VALUE`")),
    ("not a number", "WPNAV_SPEED fast", ("line 4", "expected a number for WPNAV_SPEED", "'fast'")),
    ("not finite", "WPNAV_SPEED nan", ("line 4", "expected a finite number for WPNAV_SPEED")),
    ("lowercase name", "wpnav_speed 1000", ("line 4", "expected a parameter name", "'wpnav_speed'")),
    ("name too long", "WPNAV_SPEED_UP_FAST 300", ("line 4", "expected a parameter name")),
    ("set twice", "WPNAV_SPEED 900", ("line 5", "WPNAV_SPEED set twice (first on line 4)")),
    ("bad annotation", "#@ cruise_current_a", ("line 4", "expected a planner annotation `#@ NAME VALUE`")),
    (
        "unknown annotation",
        "#@ cruise_curent_a 20",
        ("line 4", "unknown planner annotation 'cruise_curent_a'"),
    ),
    (
        "annotation twice",
        "#@ mission_item_limit 500",
        ("line 4", "annotation mission_item_limit given twice"),
    ),
]


@pytest.mark.parametrize(("line", "fragments"), [c[1:] for c in BROKEN_PARM], ids=[c[0] for c in BROKEN_PARM])
def test_malformed_parm_lines_are_named(tmp_path: Path, line: str, fragments: tuple[str, ...]) -> None:
    path = write_parm(tmp_path / "broken.parm")
    lines = path.read_text().splitlines()
    lines.insert(3, line)  # after the comment and the two annotations: line 4
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(VehicleProfileError) as caught:
        read_parameter_file(path)
    for fragment in (str(path), *fragments):
        assert fragment in str(caught.value)


BAD_AP_VALUES: list[tuple[str, dict[str, str | None], dict[str, str | None], tuple[str, ...]]] = [
    (
        "missing cruise speed",
        {"WPNAV_SPEED": None},
        {},
        ("missing WPNAV_SPEED (cm/s) or WP_SPD (m/s)", "cruise"),
    ),
    ("missing capacity", {"BATT_CAPACITY": None}, {}, ("missing BATT_CAPACITY (mAh)",)),
    (
        "zero speed",
        {"WPNAV_SPEED": "0"},
        {},
        ("WPNAV_SPEED = 0 cm/s = 0 m/s: expected the cruise speed in (0, 30] m/s", "line"),
    ),
    ("negative climb", {"WPNAV_SPEED_UP": "-100"}, {}, ("WPNAV_SPEED_UP = -100 cm/s", "climb rate")),
    ("zero descent", {"WPNAV_SPEED_DN": "0"}, {}, ("WPNAV_SPEED_DN", "descent rate")),
    ("zero acceleration", {"WPNAV_ACCEL": "0"}, {}, ("WPNAV_ACCEL", "acceleration")),
    ("cm/s written as WP_SPD", {"WPNAV_SPEED": None, "WP_SPD": "1000"}, {}, ("WP_SPD = 1000 m/s", "(0, 30]")),
    (
        "both generations",
        {"WP_SPD": "10"},
        {},
        ("WPNAV_SPEED (line", "WP_SPD (line", "both set the cruise speed"),
    ),
    ("no current", {}, {"cruise_current_a": None}, ("#@ cruise_current_a VALUE", "no parameter for it")),
    ("zero current", {}, {"cruise_current_a": "0"}, ("expected cruise_current_a in (0, 500] A",)),
    ("no item limit", {}, {"mission_item_limit": None}, ("#@ mission_item_limit VALUE",)),
    ("fractional item limit", {}, {"mission_item_limit": "700.5"}, ("mission_item_limit an integer",)),
    (
        "reserve above the pack",
        {"BATT_LOW_MAH": "12000"},
        {},
        ("BATT_LOW_MAH = 12000 mAh", "BATT_CAPACITY = 10000"),
    ),
    (
        "zero altitude fence",
        {"FENCE_ENABLE": "1", "FENCE_TYPE": "1", "FENCE_ALT_MAX": "0"},
        {},
        ("FENCE_ALT_MAX = 0 m", "fence altitude"),
    ),
]


@pytest.mark.parametrize(
    ("changes", "annotations", "fragments"), [c[1:] for c in BAD_AP_VALUES], ids=[c[0] for c in BAD_AP_VALUES]
)
def test_impossible_arducopter_values_are_refused(
    tmp_path: Path,
    changes: dict[str, str | None],
    annotations: dict[str, str | None],
    fragments: tuple[str, ...],
) -> None:
    path = write_parm(tmp_path / "bad.parm", changes, annotations)
    with pytest.raises(VehicleProfileError) as caught:
        load_vehicle_profile(path)
    for fragment in (str(path), *fragments):
        assert fragment in str(caught.value)


BAD_PX4: list[tuple[str, dict[str, str | None], dict[str, str | None], tuple[str, ...]]] = [
    ("capacity unset", {"BAT1_CAPACITY": "-1.0"}, {}, ("BAT1_CAPACITY = -1 mAh", "battery capacity")),
    ("no current", {"BAT_AVRG_CURRENT": None}, {}, ("missing BAT_AVRG_CURRENT (A)",)),
    ("no cruise", {"MPC_XY_CRUISE": None}, {}, ("missing MPC_XY_CRUISE (m/s)",)),
    ("zero radius", {"NAV_ACC_RAD": "0.0"}, {}, ("NAV_ACC_RAD = 0 m", "waypoint radius")),
    ("ArduPilot annotation", {}, {"cruise_current_a": "24"}, ("set that instead of #@ cruise_current_a",)),
    ("reserve of the whole pack", {"BAT_LOW_THR": "1.0"}, {}, ("BAT_LOW_THR = 1", "[0, 1)")),
    ("no item limit", {}, {"mission_item_limit": None}, ("#@ mission_item_limit VALUE",)),
]


@pytest.mark.parametrize(
    ("changes", "annotations", "fragments"), [c[1:] for c in BAD_PX4], ids=[c[0] for c in BAD_PX4]
)
def test_impossible_px4_values_are_refused(
    tmp_path: Path,
    changes: dict[str, str | None],
    annotations: dict[str, str | None],
    fragments: tuple[str, ...],
) -> None:
    path = write_params(tmp_path / "bad.params", changes, annotations)
    with pytest.raises(VehicleProfileError) as caught:
        load_vehicle_profile(path)
    for fragment in (str(path), *fragments):
        assert fragment in str(caught.value)


BROKEN_QGC: list[tuple[str, str, tuple[str, ...]]] = [
    ("four fields", "1\t1\tMPC_XY_CRUISE\t10.0", ("line 4", "expected `VEHICLE-ID<tab>COMPONENT-ID")),
    ("NAME VALUE line", "MPC_XY_CRUISE 10.0", ("line 4", "QGroundControl .params")),
    ("component not a number", "1\tx\tMPC_XY_CRUISE\t10.0\t9", ("line 4", "expected integer vehicle id")),
    ("unknown type", "1\t1\tMPC_XY_CRUISE\t10.0\t12", ("line 4", "MAV_PARAM_TYPE from 1 to 10")),
    (
        "fraction in an integer",
        "1\t1\tGF_ACTION\t2.5\t6",
        ("line 4", "expected an integer value for GF_ACTION"),
    ),
]


@pytest.mark.parametrize(("line", "fragments"), [c[1:] for c in BROKEN_QGC], ids=[c[0] for c in BROKEN_QGC])
def test_malformed_qgc_lines_are_named(tmp_path: Path, line: str, fragments: tuple[str, ...]) -> None:
    path = write_params(tmp_path / "broken.params")
    lines = path.read_text().splitlines()
    lines.insert(3, line)  # after the three header comments: line 4
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(VehicleProfileError) as caught:
        read_parameter_file(path)
    for fragment in (str(path), *fragments):
        assert fragment in str(caught.value)


def test_unreadable_empty_and_ambiguous_files(tmp_path: Path) -> None:
    with pytest.raises(VehicleProfileError, match="cannot read the parameter file"):
        load_vehicle_profile(tmp_path / "absent.parm")
    (tmp_path / "empty.parm").write_text("# nothing here\n\n")
    with pytest.raises(VehicleProfileError, match="found none"):
        load_vehicle_profile(tmp_path / "empty.parm")
    (tmp_path / "binary.parm").write_bytes(b"\xff\xfe\x00WPNAV")
    with pytest.raises(VehicleProfileError, match="UTF-8"):
        load_vehicle_profile(tmp_path / "binary.parm")
    (tmp_path / "neither.params").write_text("1\t1\tFOO\t1\t6\n")
    with pytest.raises(VehicleProfileError, match="cannot tell the firmware"):
        load_vehicle_profile(tmp_path / "neither.params")


def test_the_error_is_a_planning_error_and_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(VehicleProfileError) as caught:
        load_vehicle_profile(write_parm(tmp_path / "bad.parm", {"WPNAV_SPEED": "0"}))
    assert isinstance(caught.value, PlanningError) and isinstance(caught.value, ValueError)


# --- the dataclass itself ------------------------------------------------------------------------


def _profile(**changes: object) -> VehicleProfile:
    fields: dict[str, object] = {
        "name": "test",
        "firmware": "ardupilot",
        "cruise_speed_m_s": 10.0,
        "climb_rate_m_s": 3.0,
        "descent_rate_m_s": 2.0,
        "acceleration_m_s2": 2.5,
        "waypoint_radius_m": 2.0,
        "rtl_altitude_m": 60.0,
        "endurance_s": 1500.0,
        "reserve_fraction": 0.25,
        "mission_item_limit": 700,
    }
    fields.update(changes)
    return VehicleProfile(**fields)  # type: ignore[arg-type]


def test_profile_defaults_usable_endurance_and_frozen_params() -> None:
    profile = _profile(params={"WPNAV_SPEED": 1000.0})
    assert profile.max_altitude_agl_m == 120.0
    assert profile.usable_endurance_s == pytest.approx(1125.0)
    with pytest.raises(TypeError):
        profile.params["WPNAV_SPEED"] = 1.0  # type: ignore[index]
    assert hash(profile) == hash(_profile(params={"OTHER": 1.0}))


@pytest.mark.parametrize(
    "changes",
    [
        {"cruise_speed_m_s": 0.0},
        {"climb_rate_m_s": -1.0},
        {"descent_rate_m_s": math.nan},
        {"endurance_s": 0.0},
        {"rtl_altitude_m": -5.0},
        {"reserve_fraction": 1.0},
        {"mission_item_limit": 0},
        {"mission_item_limit": 7.5},
        {"firmware": "inav"},
        {"max_altitude_agl_m": 0.0},
    ],
    ids=str,
)
def test_impossible_profiles_cannot_be_built(changes: dict[str, object]) -> None:
    with pytest.raises(VehicleProfileError, match="expected"):
        _profile(**changes)
