"""Times shown to people: in the consortium's time zone (``XIETONG_TIMEZONE``, Beijing time by
default), with the UTC instant kept beside them for machines and for hovering.

Pure functions, no I/O. The answers of the API and the CLI's ``--json`` stay in UTC ISO 8601;
only what a person reads on a page is local.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InputError

__all__ = ["BEIJING", "local_time", "time_zone", "utc_time", "zone_offset"]

#: The consortium's default zone: China Standard Time, UTC+8 all year.
BEIJING = "Asia/Shanghai"


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name`` (``Asia/Shanghai``, ``UTC`` …)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Asia", a name too long
        raise InputError(
            f"{name!r} is not a time zone of the IANA database (e.g. Asia/Shanghai, UTC)."
        ) from None


def local_time(value: str, zone: ZoneInfo) -> str:
    """``value`` (ISO 8601 with an offset, as the index stores times) as the wall-clock time in
    ``zone``: ``2026-11-23 17:00:05``. A value that is not such a time is returned as it is."""
    try:
        instant = datetime.fromisoformat(value)
        if instant.tzinfo is None:
            return value
        # Past 9999-12-31 in the zone (an agreement "valid until" the end of year 9999 seen
        # from UTC+8) there is no such date: shown as it is.
        return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError):
        return value


def utc_time(value: str) -> str:
    """``value`` as the UTC instant a person reads on hover: ``2026-11-23 09:00:05 UTC``."""
    shown = local_time(value, _UTC)
    return value if shown == value else f"{shown} UTC"


_UTC = ZoneInfo("UTC")


def zone_offset(zone: ZoneInfo, at: datetime | None = None) -> str:
    """The zone's offset from UTC at ``at`` (now when omitted): ``UTC+08:00``."""
    moment = (at or datetime.now(zone)).astimezone(zone)
    offset = moment.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"
