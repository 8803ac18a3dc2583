"""Local times in the contact's timezone, across DST changes, and yearly dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from tidings.core.calendar import anniversary_on, next_local_time, stable_fraction, zone


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "tz", "at", "weekdays", "expected"),
    [
        # 07:00 in New York (UTC-5 in winter): 09:00 is later today
        (utc(2026, 1, 5, 12), "America/New_York", time(9), (), utc(2026, 1, 5, 14)),
        (utc(2026, 1, 5, 12), "America/New_York", time(18), (), utc(2026, 1, 5, 23)),
        # exactly at the time: the next day, never 'now'
        (utc(2026, 1, 5, 14), "America/New_York", time(9), (), utc(2026, 1, 6, 14)),
        # the night before spring forward (8 March 2026): 09:00 is now UTC-4
        (utc(2026, 3, 7, 20), "America/New_York", time(9), (), utc(2026, 3, 8, 13)),
        # 02:30 does not exist on 8 March in New York: it happens at 03:30 local
        (utc(2026, 3, 8, 5), "America/New_York", time(2, 30), (), utc(2026, 3, 8, 7, 30)),
        # 01:30 happens twice on 1 November: the first one (still UTC-4)
        (utc(2026, 11, 1, 4), "America/New_York", time(1, 30), (), utc(2026, 11, 1, 5, 30)),
        # Europe changes on 29 March 2026: 09:00 Berlin is 08:00 UTC before, 07:00 after
        (utc(2026, 3, 28, 10), "Europe/Berlin", time(9), (), utc(2026, 3, 29, 7)),
        # only on weekdays: Friday evening waits for Monday
        (utc(2026, 3, 6, 20), "Europe/London", time(9), ("mon", "tue"), utc(2026, 3, 9, 9)),
        # an unknown timezone is treated as UTC rather than failing the journey
        (utc(2026, 1, 5, 12), "Mars/Olympus", time(9), (), utc(2026, 1, 6, 9)),
        (utc(2026, 1, 5, 8), "Mars/Olympus", time(9), (), utc(2026, 1, 5, 9)),
    ],
)
def test_next_local_time(
    now: datetime, tz: str, at: time, weekdays: tuple[str, ...], expected: datetime
) -> None:
    assert next_local_time(now, tz, at, weekdays) == expected


@pytest.mark.parametrize(
    ("born", "year", "expected"),
    [
        (date(1990, 7, 14), 2026, date(2026, 7, 14)),
        (date(1992, 2, 29), 2027, date(2027, 2, 28)),  # a leap-day birthday in a common year
        (date(1992, 2, 29), 2028, date(2028, 2, 29)),
    ],
)
def test_anniversaries(born: date, year: int, expected: date) -> None:
    assert anniversary_on(born, year) == expected


def test_stable_fraction_is_fixed_by_its_parts_and_spread_evenly() -> None:
    assert stable_fraction(7, "split") == stable_fraction(7, "split")
    draws = [stable_fraction(i, "split") for i in range(20_000)]
    assert all(0 <= d < 1 for d in draws)
    below_half = sum(d < 0.5 for d in draws) / len(draws)
    assert 0.48 < below_half < 0.52


def test_anniversaries_due_per_timezone_with_leap_days() -> None:
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from tidings.core.calendar import anniversaries_due

    grace = timedelta(days=1)
    nine = time(9, 0)
    # 2026-03-03 00:30 UTC: 09:30 on 3 March in Tokyo, still 2 March evening in New York.
    now = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)
    assert anniversaries_due(now, ZoneInfo("Asia/Tokyo"), nine, 0, grace) == {"03-03"}
    assert anniversaries_due(now, ZoneInfo("America/New_York"), nine, 0, grace) == {"03-02"}
    # A week-before reminder (offset -7) is due for the 10th.
    assert anniversaries_due(now, ZoneInfo("Asia/Tokyo"), nine, -7, grace) == {"03-10"}
    common = datetime(2027, 2, 28, 10, tzinfo=UTC)
    assert anniversaries_due(common, ZoneInfo("UTC"), nine, 0, grace) == {"02-28", "02-29"}
    leap = datetime(2028, 2, 28, 10, tzinfo=UTC)
    assert anniversaries_due(leap, ZoneInfo("UTC"), nine, 0, grace) == {"02-28"}


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "A" * 300, "Europe/" + "x" * 255, "../etc", ""]
)
def test_an_unusable_timezone_from_a_profile_means_utc(name: str) -> None:
    assert zone(name).key == "UTC"
    # 09:00 UTC the same day, rather than a failed journey
    assert next_local_time(utc(2026, 1, 5, 8), name, time(9)) == utc(2026, 1, 5, 9)
