"""Times for people: the consortium's zone on the page, the UTC instant on hover."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from ledger import InputError
from ledger.localtime import BEIJING, local_time, time_zone, utc_time, zone_offset
from ledger.settings import Settings


def test_beijing_time_is_eight_hours_ahead_of_utc_across_midnight() -> None:
    zone = time_zone(BEIJING)
    assert local_time("2026-11-23T09:00:05+00:00", zone) == "2026-11-23 17:00:05"
    assert local_time("2026-12-31T16:30:00+00:00", zone) == "2027-01-01 00:30:00"
    assert local_time("2026-11-23T17:00:05+08:00", zone) == "2026-11-23 17:00:05"
    assert zone_offset(zone) == "UTC+08:00"


def test_another_zone_follows_its_summer_time() -> None:
    berlin = time_zone("Europe/Berlin")
    assert local_time("2026-07-01T12:00:00+00:00", berlin) == "2026-07-01 14:00:00"
    assert local_time("2026-12-01T12:00:00+00:00", berlin) == "2026-12-01 13:00:00"
    assert zone_offset(berlin, datetime(2026, 7, 1, tzinfo=UTC)) == "UTC+02:00"
    assert zone_offset(time_zone("America/St_Johns"), datetime(2026, 12, 1, tzinfo=UTC)) == (
        "UTC-03:30"
    )


def test_the_last_instant_of_year_9999_is_shown_as_it_is_where_it_has_no_local_date() -> None:
    # "Valid until 9999-12-31T23:59:59Z" is in year 10000 in Beijing: no date says it.
    assert local_time("9999-12-31T23:59:59+00:00", time_zone(BEIJING)) == (
        "9999-12-31T23:59:59+00:00"
    )
    assert utc_time("9999-12-31T23:59:59+00:00") == "9999-12-31 23:59:59 UTC"


def test_the_utc_instant_for_hovering() -> None:
    assert utc_time("2026-11-23T17:00:05+08:00") == "2026-11-23 09:00:05 UTC"


@pytest.mark.parametrize("value", ["", "soon", "2026-11-23T09:00:05", "2026-13-01T00:00:00Z"])
def test_what_is_not_an_instant_is_shown_as_it_is(value: str) -> None:
    # No offset (a naive time) is not an instant: converting it would invent one.
    assert local_time(value, time_zone(BEIJING)) == value
    assert utc_time(value) == value


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", "../etc/passwd", "Asia/Shanghai ", "Asia", "A" * 5000]
)
def test_an_unknown_zone_is_one_sentence(name: str) -> None:
    with pytest.raises(InputError) as refused:
        time_zone(name)
    assert str(refused.value) == (
        f"{name!r} is not a time zone of the IANA database (e.g. Asia/Shanghai, UTC)."
    )


def test_the_settings_refuse_an_unknown_zone_when_they_load() -> None:
    assert Settings(_env_file=None).timezone == BEIJING  # type: ignore[call-arg]
    assert Settings(_env_file=None, timezone="UTC").timezone == "UTC"  # type: ignore[call-arg]
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, timezone="Mars/Olympus")  # type: ignore[call-arg]
    assert "'Mars/Olympus' is not a time zone of the IANA database" in str(refused.value)
