"""Checked access to parsed JSON: every failure is a :class:`MissionFileError` naming the
source, the JSON path (``$.mission.items[3].params[4]``), what was expected and what came."""

from __future__ import annotations

import json
import math
from typing import Any

from ground_station.planning.errors import MissionFileError

_MISSING = object()


def describe(value: object) -> str:
    """A short, readable account of a JSON value for an error message."""
    if value is _MISSING:
        return "nothing (the key is missing)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (boolean)"
    if isinstance(value, int | float):
        return f"{value!r} (number)"
    if isinstance(value, str):
        text = json.dumps(value)
        return f"{text[:60]}{'...' if len(text) > 60 else ''} (string)"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    if isinstance(value, dict):
        keys = ", ".join(sorted(map(str, value))[:6])
        return f"an object with keys [{keys}{', ...' if len(value) > 6 else ''}]"
    return f"{type(value).__name__}"


class JsonReader:
    """Typed getters over parsed JSON that fail with the file name and JSON path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, path: str, expected: str, got: object) -> MissionFileError:
        return MissionFileError(f"{self.source}: {path}: expected {expected}, got {describe(got)}")

    def obj(self, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(path, "an object", value)
        return value

    def key(self, obj: dict[str, Any], key: str, path: str) -> Any:
        """``obj[key]``; a missing key names the key and the keys that are there."""
        if key not in obj:
            raise MissionFileError(
                f"{self.source}: {path}: expected key {key!r}, got {describe(obj)} (no {key!r})"
            )
        return obj[key]

    def array(self, value: object, path: str, *, length: int | None = None, min_length: int = 0) -> list[Any]:
        if not isinstance(value, list):
            raise self.error(path, "an array", value)
        if length is not None and len(value) != length:
            raise self.error(path, f"an array of {length}", value)
        if len(value) < min_length:
            raise self.error(path, f"an array of at least {min_length}", value)
        return value

    def string(self, value: object, path: str) -> str:
        if not isinstance(value, str):
            raise self.error(path, "a string", value)
        return value

    def boolean(self, value: object, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(path, "true or false", value)
        return value

    def number(self, value: object, path: str, *, nullable: bool = False) -> float:
        """A finite number; with ``nullable``, null (QGC's NaN) reads as NaN."""
        if value is None and nullable:
            return math.nan
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self._bad_number(value, path, nullable)
        out = float(value)
        if math.isinf(out) or (math.isnan(out) and not nullable):
            return self._bad_number(value, path, nullable)
        return out

    def _bad_number(self, value: object, path: str, nullable: bool) -> float:
        raise self.error(path, "a finite number or null" if nullable else "a finite number", value)

    def integer(self, value: object, path: str, *, low: int, high: int) -> int:
        """An integer in ``low..high`` (a JSON number with no fraction, ``16`` or ``16.0``)."""
        expected = f"an integer in {low}..{high}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(path, expected, value)
        if isinstance(value, float) and not value.is_integer():
            raise self.error(path, expected, value)
        out = int(value)
        if not low <= out <= high:
            raise self.error(path, expected, value)
        return out
