"""A dry run on the workspace's own data: its policies, scoring model and segments apply,
its contacts' history is replayed on a copy, and the real database never changes."""

from __future__ import annotations

import hashlib
import textwrap
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sqlalchemy import Engine, MetaData, select

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, subscriber, track
from tidings.core.spec import Workflow
from tidings.core.validate import validate_workflow
from tidings.delivery.settings import DeliverySettings
from tidings.delivery.transports import Recorder, Transports
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.dry_run import ContactSample, DryRunTooBig, Limits, dry_run
from tidings.runtime.dry_summary import DryRunSummary
from tidings.runtime.ingest import IDENTIFY, Incoming
from tidings.runtime.scoring import set_scoring
from tidings.runtime.segments import define_segment
from tidings.storage import copies
from tidings.storage.engine import create_engine
from tidings.storage.suppressions import SuppressionReason, suppress
from tidings.storage.workspaces import save_settings

CART = """
id: cart
name: Cart
trigger: {event: cart_abandoned}
templates:
  hot: {subject: "Hot", text: "x"}
  vip: {subject: "VIP", text: "x"}
  cold: {subject: "Cold", text: "x"}
steps:
  - id: by_score
    type: branch
    branches:
      - {when: 'contact.scores.engagement >= 20', next: hot}
    else: by_segment
  - id: by_segment
    type: branch
    branches:
      - {when: 'contact.segments contains "vip"', next: vip}
    else: cold
  - {id: hot, type: send, template: hot, next: done}
  - {id: vip, type: send, template: vip, next: done}
  - {id: cold, type: send, template: cold, next: done}
  - {id: done, type: exit}
"""

SCORING = {
    "scores": {"engagement": {"rules": [{"id": "views", "event": "page_viewed", "points": 10}]}},
}


def spec(source: str) -> tuple[Workflow, str]:
    found, problems = validate_workflow(yaml.safe_load(textwrap.dedent(source)))
    assert found is not None, [str(p) for p in problems]
    return found, source


def set_up(store: Store) -> None:
    """A shop with a sender, quiet hours, a scoring model, a segment and three customers:
    ann earned points by viewing pages, cat is a VIP, bob is neither. All three left a
    cart; cat's in the evening, inside the quiet hours."""
    settings = DeliverySettings.model_validate(
        {
            "sender": {"from_email": "news@shop.example", "postal_address": "1 Main St"},
            "policies": {"quiet_hours": {"start": "21:00", "end": "08:00"}},
        }
    )
    with store.engine.begin() as conn:
        save_settings(conn, store.workspace_id, settings.model_dump(mode="json", by_alias=True))
    set_scoring(store.engine, store.workspace_id, SCORING)
    subscriber(store, "ann", plan="basic")
    subscriber(store, "bob", plan="basic")
    subscriber(store, "cat", plan="gold")
    vip = 'contact.plan == "gold"'
    define_segment(store.engine, store.workspace_id, "vip", "VIP", vip, store.clock.now())
    for _ in range(3):
        store.clock.advance(timedelta(minutes=10))
        track(store, "ann", "page_viewed", url="/pricing")
    store.clock.set(datetime(2026, 3, 2, 14, tzinfo=UTC))
    track(store, "ann", "cart_abandoned")
    track(store, "bob", "cart_abandoned")
    store.clock.set(datetime(2026, 3, 2, 22, tzinfo=UTC))
    track(store, "cat", "cart_abandoned")


def fingerprint(engine: Engine) -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its rows."""
    meta = MetaData()
    meta.reflect(engine)
    found: dict[str, tuple[int, str]] = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns or table.c)).all()
            digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
            found[table.name] = (len(rows), digest)
    return found


def run(store: Store, *workflows: str, **options: object) -> DryRunSummary:
    sample = options.pop("sample", ContactSample(contacts=None, since=timedelta(days=30)))
    return dry_run(
        store.engine,
        store.workspace_id,
        [spec(w) for w in workflows],
        datetime(2026, 3, 4, tzinfo=UTC),
        sample=sample,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def test_the_dry_run_applies_the_workspaces_policies_scores_and_segments(store: Store) -> None:
    set_up(store)
    before = fingerprint(store.engine)
    summary = run(store, CART)
    assert fingerprint(store.engine) == before  # nothing real changed
    [cart] = summary.workflows
    assert summary.contacts == 3
    assert cart.entered == 3
    steps = {s.step_id: s for s in cart.steps}
    # The score condition took ann down the first arm, the segment condition took cat.
    assert steps["hot"].sent == 1
    assert steps["vip"].sent == 1
    assert steps["cold"].sent == 1
    assert {a.arm: a.taken for a in steps["by_score"].arms} == {"1": 1, "else": 2}
    assert {a.arm: a.taken for a in steps["by_segment"].arms} == {"1": 1, "else": 1}
    # Cat's message waited for the morning: the quiet hours deferred it once.
    assert steps["vip"].deferred == {"quiet_hours": 1}
    assert cart.never_reached == []
    assert cart.arms_never_taken == []
    assert summary.warnings == []


@pytest.mark.postgres
def test_sampling_real_contacts_from_postgresql_leaves_it_unchanged(pg_store: Store) -> None:
    set_up(pg_store)
    before = fingerprint(pg_store.engine)
    summary = run(
        pg_store, CART, sample=ContactSample(contacts=2, since=timedelta(days=30), seed=3)
    )
    assert fingerprint(pg_store.engine) == before
    assert summary.contacts == 2
    assert summary.workflows[0].entered == 2


def test_coverage_and_a_trigger_that_never_fired(store: Store) -> None:
    set_up(store)
    typo = CART.replace("event: cart_abandoned", "event: cart_abandonned")
    summary = run(store, typo)
    [cart] = summary.workflows
    assert cart.entered == 0
    assert cart.never_reached == ["by_score", "by_segment", "hot", "vip", "cold", "done"]
    assert "by_score: else -> by_segment" in cart.arms_never_taken
    [warning] = summary.warnings
    assert "cart_abandonned" in warning
    assert "page_viewed (3)" in warning
    assert "did you mean cart_abandoned?" in warning


def test_an_events_file_is_replayed_through_ingest(store: Store) -> None:
    """Calls from a file reach contacts the database does not have: they are created in
    the copy only."""
    set_up(store)
    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    calls = [
        Incoming(
            "f1",
            "dan",
            IDENTIFY,
            at,
            traits={"email": "dan@x.example", "consent": {"email": "subscribed"}},
        ),
        Incoming("f2", "dan", "cart_abandoned", at + timedelta(minutes=5)),
        # eve never gave her consent: the send step holds her message.
        Incoming("f3", "eve", IDENTIFY, at, traits={"email": "eve@x.example"}),
        Incoming("f4", "eve", "cart_abandoned", at + timedelta(minutes=6)),
    ]
    before = fingerprint(store.engine)
    summary = dry_run(store.engine, store.workspace_id, [spec(CART)], at, calls=calls, days=1)
    assert fingerprint(store.engine) == before
    [cart] = summary.workflows
    assert cart.entered == 2
    cold = {s.step_id: s for s in cart.steps}["cold"]
    assert (cold.sent, cold.held) == (1, {"consent": 1})
    assert summary.events == 4


def test_a_sample_beyond_the_limit_is_refused(store: Store) -> None:
    set_up(store)
    with pytest.raises(DryRunTooBig, match="at most 2 contacts"):
        run(store, CART, sample=ContactSample(contacts=5), limits=Limits(contacts=2))
    with pytest.raises(DryRunTooBig, match="has 3 contacts; a dry run copies at most 2"):
        run(store, CART, limits=Limits(contacts=2))
    with pytest.raises(DryRunTooBig, match="history has more than 4 events"):
        run(store, CART, limits=Limits(events=4))
    # The API's time bound: a run past it stops with the reason (no time is waited for).
    # It is checked while the sample is copied too, before any replay.
    with pytest.raises(DryRunTooBig, match=r"took longer than it may \(copying the sample\)"):
        run(store, CART, limits=Limits(seconds=0))


VIEWED = CART.replace("'contact.scores.engagement >= 20'", "'performed page_viewed within 30d'")


def test_the_copy_takes_only_the_history_the_conditions_read_and_no_more_than_the_cap(
    store: Store,
) -> None:
    """All of set_up's events are from before the replay; ann abandons a cart in it."""
    set_up(store)
    now = datetime(2026, 3, 4, tzinfo=UTC)
    options: dict[str, object] = {
        "sample": ContactSample(contacts=None, since=timedelta(hours=1)),
        "calls": [Incoming("c1", "ann", "cart_abandoned", now - timedelta(minutes=30))],
        "days": 1,
    }
    # The cart workflow reads no events: only ann's 3 score awards are copied.
    assert run(store, CART, limits=Limits(history=3), **options).workflows[0].entered == 1
    # Asking about page views of the last 30 days, the 9 events of then come too
    # (3 identify calls, 3 page views, 3 carts).
    with pytest.raises(DryRunTooBig, match=r"more than 11 rows to copy \(their events of the 30d"):
        run(store, VIEWED, limits=Limits(history=11), **options)
    [viewed] = run(store, VIEWED, limits=Limits(history=12), **options).workflows
    steps = {s.step_id: s for s in viewed.steps}
    assert (steps["hot"].sent, steps["cold"].sent) == (1, 0)


def test_a_sample_is_drawn_by_the_database_the_same_for_the_same_seed(store: Store) -> None:
    for user in range(30):
        subscriber(store, f"u{user}")
    with store.engine.connect() as conn:
        everyone = copies.sample_contact_ids(conn, store.workspace_id, None, 7)
        drawn = copies.sample_contact_ids(conn, store.workspace_id, 10, 7)
        again = copies.sample_contact_ids(conn, store.workspace_id, 10, 7)
        other = copies.sample_contact_ids(conn, store.workspace_id, 10, 2**31 - 1)
    assert len(everyone) == 30
    assert drawn == again == sorted(set(drawn))
    assert len(drawn) == 10 and set(drawn) <= set(everyone)
    assert len(other) == 10 and other != drawn


NEWS = """
id: news
name: News
trigger: {event: news_due}
templates:
  news: {subject: "News", text: "x"}
steps:
  - {id: news, type: send, template: news}
"""


def test_messages_sent_before_the_replay_count_against_the_caps(store: Store) -> None:
    """Ann got the newsletter yesterday, for real; the workspace allows one email a week, so
    the dry run's cart message waits for a free slot."""
    settings = DeliverySettings.model_validate(
        {
            "sender": {"from_email": "news@shop.example", "postal_address": "1 Main St"},
            "policies": {"caps": [{"limit": 1, "per": "7d", "channel": "email"}]},
        }
    )
    with store.engine.begin() as conn:
        save_settings(conn, store.workspace_id, settings.model_dump(mode="json", by_alias=True))
    subscriber(store, "ann")
    deploy(store, NEWS)
    track(store, "ann", "news_due")
    recorder = Recorder()
    transports = Transports("https://x.invalid", http=recorder, smtp=recorder, sms=recorder)
    sent = Dispatcher(store.engine, store.clock, transports, store.catalog).run_until_idle()
    assert len(sent) == 1
    store.clock.set(datetime(2026, 3, 3, 12, tzinfo=UTC))
    track(store, "ann", "cart_abandoned")
    summary = dry_run(
        store.engine,
        store.workspace_id,
        [spec(CART)],
        datetime(2026, 3, 3, 18, tzinfo=UTC),
        sample=ContactSample(contacts=None, since=timedelta(hours=12)),
        days=1,
    )
    [cart] = summary.workflows
    cold = {s.step_id: s for s in cart.steps}["cold"]
    assert cart.entered == 1
    assert (cold.sent, cold.queued, cold.deferred) == (0, 1, {"cap": 1})


def test_the_suppression_list_applies_under_the_servers_secret_key(store: Store) -> None:
    """Ann's address bounced for real: the dry run drops her message too, though the list
    keeps only hashes keyed by TIDINGS_SECRET_KEY."""
    set_up(store)
    keyed = create_engine(
        store.engine.url.render_as_string(hide_password=False), secret_key="s3cret-key-for-tests"
    )
    try:
        with keyed.begin() as conn:
            suppress(
                conn,
                store.workspace_id,
                [("email", "ann@example.com")],
                SuppressionReason.HARD_BOUNCE,
                store.clock.now(),
            )
        summary = dry_run(
            keyed,
            store.workspace_id,
            [spec(CART)],
            datetime(2026, 3, 4, tzinfo=UTC),
            sample=ContactSample(contacts=None),
        )
    finally:
        keyed.dispose()
    hot = {s.step_id: s for s in summary.workflows[0].steps}["hot"]
    assert (hot.sent, hot.dropped) == (0, {"suppression": 1})


def test_a_copied_message_never_takes_the_place_of_a_dry_run_send(store: Store) -> None:
    """Ann got the cart message for real and abandons again: the dry run sends it again.
    The copied message's key named the real enrollment, whose id the copy's first
    enrollment also gets; the dry run's send must not be taken for it."""
    settings = DeliverySettings.model_validate(
        {
            "sender": {"from_email": "news@shop.example", "postal_address": "1 Main St"},
            "policies": {"caps": [{"limit": 10, "per": "7d", "channel": "email"}]},
        }
    )
    with store.engine.begin() as conn:
        save_settings(conn, store.workspace_id, settings.model_dump(mode="json", by_alias=True))
    subscriber(store, "ann")
    deploy(store, CART)
    first = store.clock.now()
    track(store, "ann", "cart_abandoned")
    recorder = Recorder()
    transports = Transports("https://x.invalid", http=recorder, smtp=recorder, sms=recorder)
    assert len(Dispatcher(store.engine, store.clock, transports, store.catalog).run_until_idle())
    store.clock.advance(timedelta(days=1))
    track(store, "ann", "cart_abandoned")
    summary = dry_run(
        store.engine,
        store.workspace_id,
        [spec(CART)],
        first + timedelta(days=1, hours=6),
        sample=ContactSample(contacts=None, since=timedelta(hours=12)),
        days=1,
    )
    [cart] = summary.workflows
    cold = {s.step_id: s for s in cart.steps}["cold"]
    assert (cart.entered, cold.reached, cold.sent) == (1, 1, 1)


def test_an_old_call_in_an_events_file_cannot_stretch_the_samples_history(store: Store) -> None:
    """A call two years back would have the sample's history copied and replayed from then."""
    set_up(store)
    now = datetime(2026, 3, 4, tzinfo=UTC)
    calls = [Incoming("f1", "dan", "cart_abandoned", now - timedelta(days=2 * 365))]
    with pytest.raises(DryRunTooBig, match=r"is at 2026-03-04 00:00, 730 days after line 7"):
        dry_run(
            store.engine,
            store.workspace_id,
            [spec(CART)],
            now,
            calls=calls,
            where=["line 7"],
            sample=ContactSample(contacts=None),
        )
