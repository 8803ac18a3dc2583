"""Time-based triggers: inactivity fires once per quiet spell; birthdays once a year, locally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, insert, update

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, identify, rows, subscriber, track
from tidings.runtime.sweeps import sweep_time_triggers
from tidings.storage.tables import contacts

QUIET = """
id: winback
name: Win back
trigger: {type: inactivity, event: visited, for: 30d}
entry: {reentry: always, when: 'consent.email == "subscribed"'}
templates:
  miss: {subject: "We miss you", text: "come back"}
steps:
  - {id: miss, type: send, template: miss}
"""


ENROLLED = (
    "SELECT c.external_id, w.key FROM enrollments e JOIN workflows w ON w.id = e.workflow_id "
    "JOIN contacts c ON c.id = e.contact_id ORDER BY c.external_id"
)


def sweep(store: Store) -> int:
    return sweep_time_triggers(store.engine, store.clock, store.catalog)


def test_inactivity_fires_once_per_quiet_spell(store: Store) -> None:
    deploy(store, QUIET)
    subscriber(store, "quiet")
    subscriber(store, "busy")
    track(store, "quiet", "visited")
    track(store, "busy", "visited")
    store.clock.advance(timedelta(days=29))
    track(store, "busy", "visited")
    assert sweep(store) == 0  # nobody has been quiet for 30 days yet

    store.clock.advance(timedelta(days=1))
    assert sweep(store) == 1  # "quiet" now has
    store.clock.advance(timedelta(days=3))
    assert sweep(store) == 0  # the same spell never fires twice

    track(store, "quiet", "visited")  # a visit ends the spell ...
    store.clock.advance(timedelta(days=30))
    assert sweep(store) == 2  # ... and a new one starts it again; "busy" went quiet too


def test_a_refused_contact_is_judged_once_per_spell(store: Store) -> None:
    deploy(store, QUIET)
    identify(store, "nope", email="nope@example.com", consent={"email": "unsubscribed"})
    track(store, "nope", "visited")
    store.clock.advance(timedelta(days=31))
    for _ in range(3):
        assert sweep(store) == 0
        store.clock.advance(timedelta(hours=6))
    refusals = rows(store, "SELECT detail FROM step_log WHERE action = 'not_enrolled'")
    assert [r[0] for r in refusals] == ['entry condition not met: consent.email == "subscribed"']


BIRTHDAY = """
id: birthday
name: Birthday
trigger: {type: date, field: birthday, at: "09:00"}
entry: {reentry: period, period: 300d}
templates:
  cake: {subject: "Happy birthday", text: "cake"}
steps:
  - {id: cake, type: send, template: cake}
"""


def test_birthdays_fire_at_nine_local_once_a_year_and_on_leap_days(store: Store) -> None:
    deploy(store, BIRTHDAY)
    subscriber(store, "tokyo", birthday="1990-03-03", timezone="Asia/Tokyo")
    subscriber(store, "ny", birthday="1985-03-03", timezone="America/New_York")
    subscriber(store, "leap", birthday="1992-02-29", timezone="UTC")

    def sweep_at(at: datetime) -> int:
        store.clock.set(at)
        return sweep(store)

    assert sweep_at(datetime(2026, 3, 2, 23, 59, tzinfo=UTC)) == 0
    assert sweep_at(datetime(2026, 3, 3, 0, 0, tzinfo=UTC)) == 1  # 09:00 in Tokyo
    assert sweep_at(datetime(2026, 3, 3, 13, 59, tzinfo=UTC)) == 0
    assert sweep_at(datetime(2026, 3, 3, 14, 0, tzinfo=UTC)) == 1  # 09:00 in New York
    assert sweep_at(datetime(2026, 3, 4, 12, 0, tzinfo=UTC)) == 0  # once a year
    birthdays = rows(store, "SELECT recipient FROM messages ORDER BY id")
    assert [r[0] for r in birthdays] == ["tokyo@example.com", "ny@example.com"]


def test_a_leap_day_birthday_is_celebrated_on_28_february(store: Store) -> None:
    deploy(store, BIRTHDAY)
    subscriber(store, "leap", birthday="1992-02-29")
    store.clock.set(datetime(2027, 2, 28, 9, 30, tzinfo=UTC))
    assert sweep(store) == 1


def test_in_a_leap_year_29_february_is_celebrated_on_the_day(store: Store) -> None:
    deploy(store, BIRTHDAY)
    subscriber(store, "leap", birthday="1992-02-29")
    store.clock.set(datetime(2028, 2, 28, 9, 30, tzinfo=UTC))
    assert sweep(store) == 0
    store.clock.set(datetime(2028, 2, 29, 9, 30, tzinfo=UTC))
    assert sweep(store) == 1


def test_the_date_sweep_reads_only_the_contacts_whose_day_it_is(store: Store) -> None:
    """Thousands of birthdays on other days cost the sweep nothing: the same statements as a
    handful, and only the due contact is enrolled (a sweep that paged through everyone
    would issue a query per page)."""
    deploy(store, BIRTHDAY)
    now = store.clock.now()  # 2026-03-02 12:00 UTC

    def people(start: int, count: int, day: str) -> None:
        with store.engine.begin() as conn:
            conn.execute(
                insert(contacts),
                [
                    {
                        "workspace_id": store.workspace_id,
                        "external_id": f"p{n}",
                        "email": f"p{n}@example.com",
                        "timezone": "Europe/Paris" if n % 2 else "UTC",
                        "attributes": {"birthday": day},
                        "tags": [],
                        "consent": {"email": "subscribed"},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(start, start + count)
                ],
            )

    def statements() -> tuple[int, int]:
        seen: list[str] = []

        def count(conn: object, cursor: object, sql: str, *args: object) -> None:
            seen.append(sql)

        event.listen(store.engine, "before_cursor_execute", count)
        try:
            started = sweep(store)
        finally:
            event.remove(store.engine, "before_cursor_execute", count)
        return started, len(seen)

    people(0, 10, "1980-07-14")
    people(10, 1, "1990-03-02")  # today; 09:00 local has passed in both zones
    started, few = statements()
    assert started == 1
    people(11, 5000, "1980-07-14")
    people(5011, 1, "1985-03-02")
    started, many = statements()
    assert started == 1
    # 5,000 more contacts on other days add nothing (the second sweep also finds the
    # workflow's spec already cached: one statement fewer).
    assert many <= few
    assert statements()[0] == 0  # and nobody twice


def test_a_workflow_whose_sweep_raises_leaves_the_others_swept(store: Store) -> None:
    # Given an inactivity workflow with a contact gone quiet, and a birthday workflow
    deploy(store, BIRTHDAY)
    deploy(store, QUIET)
    subscriber(store, "quiet")
    track(store, "quiet", "visited")
    # and a contact whose stored timezone makes the date sweep raise (a name too long
    # for the zone files: OSError, a Python error, not the database's)
    subscriber(store, "odd", birthday="1990-03-02")
    with store.engine.begin() as conn:
        conn.execute(
            update(contacts)
            .where(contacts.c.external_id == "odd")
            .values(timezone="\U0001f600" * 64)
        )
    store.clock.advance(timedelta(days=30))

    # When the time triggers are swept, both contacts, quiet for 30 days, are enrolled in
    # the inactivity workflow all the same
    assert sweep(store) == 2
    assert [tuple(r) for r in rows(store, ENROLLED)] == [("odd", "winback"), ("quiet", "winback")]
