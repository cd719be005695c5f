"""Shared plumbing of the mission file formats: atomic writes, reading text, number text."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from decimal import Decimal
from pathlib import Path

from ground_station.planning.errors import MissionFileError

PathLike = str | os.PathLike[str]

#: Mode of a newly created file (what umask 022 gives); an existing file keeps its own mode.
_NEW_FILE_MODE = 0o644


def write_text_atomic(path: PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` so that readers see the old file or the whole new one.

    The text goes to a temporary file in the same directory, is flushed to disk, then
    renamed over ``path`` with :func:`os.replace`. On any failure the temporary file is
    removed and ``path`` is left as it was (absent or with its old content).
    """
    target = Path(path)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = _NEW_FILE_MODE
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def read_text(path: PathLike) -> str:
    """The file's text as UTF-8 (a leading byte-order mark is dropped).

    A missing or unreadable file raises the usual :class:`OSError`; bytes that are not
    UTF-8 raise :class:`MissionFileError`.
    """
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MissionFileError(
            f"{os.fspath(path)}: expected UTF-8 text, got an undecodable byte at offset {exc.start}"
        ) from exc


def format_number(value: float) -> str:
    """Text for a number in the text formats: six decimals when that is exact, else the
    shortest text that reads back to the same float; never an exponent; ``NaN`` for NaN."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        raise MissionFileError(f"cannot write a non-finite number ({value!r}) to a mission file")
    six = f"{value:.6f}"
    if float(six) == value:
        return six
    return format(Decimal(repr(value)), "f")
