"""Every table Tidings keeps. Only `tidings.storage` knows these names.

Each table carries `workspace_id`, and each table about a contact carries `contact_id`,
so a distributed PostgreSQL can shard them by contact.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from tidings.storage.types import Id, Json, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Enrollment statuses that are still running; the partial indexes below repeat this list.
OPEN_STATUSES = ("active", "waiting")
#: The partial indexes' predicate, as literal SQL: PostgreSQL can only match an ON CONFLICT
#: target to a partial index when the statement repeats the predicate without parameters.
OPEN_PREDICATE = text("status IN ('active', 'waiting')")

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Signs the tokens in links (clicks, opens, unsubscribes) and webhooks; never shown in links.
    Column("secret", String(64), nullable=False, server_default=""),
    # Delivery settings: sender identity, send-time policies, topics, alert targets.
    Column("settings", Json, nullable=False, server_default="{}"),
    # The lead-scoring model: named scores, their rules and thresholds.
    Column("scoring", Json, nullable=False, server_default="{}"),
    # Set when a simulation filled the workspace: its virtual clock's time at the end,
    # which reports take for "now" (the wall clock would age the data by months).
    Column("simulated_at", UTCDateTime),
    # Changes (to a random number) in every transaction that changes the live workflows,
    # the scoring model or the segments: each process keeps what it read of those and
    # reads again only when the stamp moved, so every worker sees a publish at once.
    Column("config_stamp", BigInteger, nullable=False, server_default="0"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("external_id", String(200)),
    Column("anonymous_id", String(200)),
    Column("email", String(320)),
    Column("phone", String(32)),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("attributes", Json, nullable=False),
    Column("tags", Json, nullable=False),
    Column("consent", Json, nullable=False),
    Column("score", Float, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Named lead scores ({"engagement": 42.5}) as of `scored_at`; the ledger is score_awards.
    Column("scores", Json, nullable=False, server_default="{}"),
    Column("scored_at", UTCDateTime),
    UniqueConstraint("workspace_id", "external_id"),
    UniqueConstraint("workspace_id", "anonymous_id"),
    Index(None, "workspace_id", "email"),
    # The decay sweep visits contacts whose scores are oldest.
    Index(None, "scored_at"),
    # Date triggers ask which timezones are in use, then match days within each.
    Index(None, "workspace_id", "timezone"),
    # Imports, duplicate searches and inbound SMS find people by phone.
    Index(None, "workspace_id", "phone"),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("contact_id", ForeignKey("contacts.id"), nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("properties", Json, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "message_id"),
    Index(None, "contact_id", "name", "occurred_at"),
)

workflows = Table(
    "workflows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("key", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("current_version", Integer, nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
)

workflow_versions = Table(
    "workflow_versions",
    metadata,
    Column("workflow_id", ForeignKey("workflows.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("spec", Json, nullable=False),
    Column("source", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

workflow_drafts = Table(
    "workflow_drafts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    # The workflow key the draft will publish as; the workflow need not exist yet.
    Column("key", String(64), nullable=False),
    # The text exactly as the editor left it, even when it does not validate: never lost.
    Column("source", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=False, server_default=""),
    UniqueConstraint("workspace_id", "key"),
)

# Test sends from the builder and `tidings workflows test-send`, kept apart from `messages`
# so that no figure (reports, caps, duplicate suppression, engagement) can ever count them.
test_sends = Table(
    "test_sends",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("workflow_key", String(64), nullable=False),
    Column("step_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", Text, nullable=True),
    Column("sent_by", String(320), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    # "sent", or "failed" with the transport's answer in `detail`.
    Column("status", String(16), nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
    # The contact the message was rendered for, if any: erasing them deletes the row, whose
    # subject can hold their name.
    Column("contact_id", ForeignKey("contacts.id")),
    Index(None, "workspace_id", "sent_at"),
    Index(None, "contact_id"),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("workflow_id", ForeignKey("workflows.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("contact_id", ForeignKey("contacts.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("step_id", String(64)),
    Column("wake_at", UTCDateTime),
    Column("wait_kind", String(16)),
    Column("entry_key", String(200), nullable=False, server_default=""),
    Column("trigger", Json),
    Column("visits", Json, nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("exit_reason", Text),
    Column("converted_at", UTCDateTime),
    Column("revenue", Float),
    # The event that ended each wait for an event, by step id: later steps read it.
    Column("awaited", Json),
    Index(None, "contact_id"),
    # The workflows list counts who entered and who converted lately, each from an index
    # led by the moment (see storage/list_figures.py for why not by workflow).
    Index("ix_enrollments_entered", "entered_at", "workflow_id", "converted_at"),
    Index(
        "ix_enrollments_converted",
        "converted_at",
        "workflow_id",
        sqlite_where=text("converted_at IS NOT NULL"),
        postgresql_where=text("converted_at IS NOT NULL"),
    ),
    # ... and who is in a journey now (status in it, so SQLite need not read the rows).
    Index(
        "ix_enrollments_open_by_workflow",
        "workflow_id",
        "status",
        sqlite_where=OPEN_PREDICATE,
        postgresql_where=OPEN_PREDICATE,
    ),
    # The scheduler's claim scans only open enrollments, in wake order.
    Index(
        "ix_enrollments_due",
        "wake_at",
        sqlite_where=OPEN_PREDICATE,
        postgresql_where=OPEN_PREDICATE,
    ),
    # No contact is ever in the same workflow twice at once (for the same journey key).
    Index(
        "ux_enrollments_open",
        "workflow_id",
        "contact_id",
        "entry_key",
        unique=True,
        sqlite_where=OPEN_PREDICATE,
        postgresql_where=OPEN_PREDICATE,
    ),
)

step_log = Table(
    "step_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("contact_id", ForeignKey("contacts.id"), nullable=False),
    Column("enrollment_id", ForeignKey("enrollments.id")),
    Column("workflow_id", ForeignKey("workflows.id")),
    Column("version", Integer),
    Column("step_id", String(64)),
    Column("action", String(32), nullable=False),
    Column("enters", Boolean, nullable=False, server_default="0"),
    Column("detail", Text, nullable=False),
    Column("data", Json, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "contact_id", "id"),
    Index(None, "enrollment_id"),
    Index(None, "workflow_id", "step_id", "action"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("contact_id", ForeignKey("contacts.id"), nullable=False),
    Column("enrollment_id", ForeignKey("enrollments.id")),
    Column("workflow_id", ForeignKey("workflows.id")),
    Column("step_id", String(64)),
    # enrollment:step:visit. The unique constraint is what stops a step sending twice.
    Column("idempotency_key", String(200), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", Text),
    Column("body_html", Text),
    Column("body_text", Text),
    Column("payload", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("send_after", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    # The workflow's priority: wins a contact's last free slot under a frequency cap.
    Column("priority", Integer, nullable=False, server_default="0"),
    # Past this the message is stale (its step's useful window): dropped, never sent late.
    Column("expires_at", UTCDateTime),
    # A message in its channel's hands belongs to its worker until then; after it, another
    # takes it over and counts a resend. Unset while a claimed message waits its turn.
    Column("lease_until", UTCDateTime),
    # Times a worker stopped mid-send and another sent again: the one duplicate window.
    Column("resends", Integer, nullable=False, server_default="0"),
    # The provider's id for the message (SMTP Message-ID, SMS sid), to match bounces.
    Column("provider_id", String(200)),
    Column("opened_at", UTCDateTime),
    Column("clicked_at", UTCDateTime),
    UniqueConstraint("workspace_id", "idempotency_key"),
    Index(None, "status", "send_after"),
    # A recipient's messages by time: frequency caps, duplicates, erasure.
    Index(None, "contact_id", "sent_at"),
    Index(None, "workflow_id", "step_id"),
)

approvals = Table(
    "approvals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("contact_id", ForeignKey("contacts.id"), nullable=False),
    Column("enrollment_id", ForeignKey("enrollments.id"), nullable=False),
    Column("step_id", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("approvers", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", UTCDateTime),
    # What the person who decided said about it.
    Column("comment", Text),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("enrollment_id", "step_id", "attempt"),
    Index(None, "workspace_id", "status"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    # "write": ingestion only, safe to ship in an app; "secret": the admin API;
    # "public": ingestion from web pages, restricted (api/browser.py).
    Column("kind", String(16), nullable=False),
    # The first characters, to tell keys apart in lists; never enough to use.
    Column("prefix", String(16), nullable=False),
    # SHA-256 of the whole key; the key itself is shown once and never stored.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

endpoints = Table(
    "endpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("url", String(2048), nullable=False),
    # A receiver answered 410 Gone: nothing more goes to this URL until it is enabled again.
    Column("disabled_at", UTCDateTime),
    Column("reason", String(200)),
    UniqueConstraint("workspace_id", "url"),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    # What was suppressed: "email", "phone", "user_id" or "anonymous_id".
    Column("kind", String(16), nullable=False),
    # HMAC-SHA256 of the normalised value under a key from TIDINGS_SECRET_KEY (hash_version
    # 3) or the workspace secret (2), or plain SHA-256 from before (1): enough to recognise
    # it again, not to recover it.
    Column("value_hash", String(64), nullable=False),
    # A reason code (hard_bounce, complaint, erased, manual), never free text.
    Column("reason", String(200), nullable=False),
    Column("hash_version", Integer, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "kind", "value_hash"),
)

segments = Table(
    "segments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("key", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    # The condition as its author wrote it; parsed again on load (the parser caches).
    Column("condition", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # When membership was last recomputed for everyone; None until the first fill.
    Column("refreshed_at", UTCDateTime),
    UniqueConstraint("workspace_id", "key"),
)

# A segment's size each day (UTC), as of the day's last full refresh (the sweep's): the
# segment page's chart.
segment_sizes = Table(
    "segment_sizes",
    metadata,
    Column("segment_id", ForeignKey("segments.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("size", Integer, nullable=False),
)

segment_members = Table(
    "segment_members",
    metadata,
    Column("segment_id", ForeignKey("segments.id"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id"), primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
    Index(None, "contact_id"),
)

score_awards = Table(
    "score_awards",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("contact_id", ForeignKey("contacts.id"), nullable=False),
    Column("score", String(64), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("points", Float, nullable=False),
    Column("awarded_at", UTCDateTime, nullable=False),
    Column("why", Text, nullable=False),
    Index(None, "contact_id", "score"),
)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    # Stored lower-cased, so "Ann@X.com" and "ann@x.com" are one person.
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False, server_default=""),
    # argon2id, in its own self-describing format; None until an invitation is accepted.
    Column("password_hash", String(200)),
    # SHA-256 of the nonce inside the pending invitation; cleared when it is used.
    Column("invite_hash", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
)

memberships = Table(
    "memberships",
    metadata,
    Column("person_id", ForeignKey("people.id"), primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), primary_key=True),
    # owner, editor, approver or viewer.
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "workspace_id"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    # SHA-256 of the cookie's token; the token itself is only ever in the browser.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("person_id", ForeignKey("people.id"), nullable=False),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    # The absolute end; the idle end is last_seen_at plus the idle limit.
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "person_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    # "person" with the email, or "key" with the key's prefix.
    Column("actor_type", String(16), nullable=False),
    Column("actor", String(320), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject_type", String(64), nullable=False),
    Column("subject_key", String(200), nullable=False, server_default=""),
    Column("details", Json, nullable=False),
    Index(None, "workspace_id", "at"),
)

forms = Table(
    "forms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("key", String(64), nullable=False),
    # Each change makes a new version; a consent's proof names the version it was given on.
    Column("version", Integer, nullable=False),
    Column("spec", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
)

form_consents = Table(
    "form_consents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("contact_id", ForeignKey("contacts.id"), nullable=False),
    # The proof: the form and its version, the exact wording ticked, where and when.
    Column("form_key", String(64), nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("topic", String(64)),
    Column("status", String(16), nullable=False),
    Column("wording", Text, nullable=False),
    Column("page", String(2000), nullable=False, server_default=""),
    Column("given_at", UTCDateTime, nullable=False),
    Index(None, "workspace_id", "contact_id"),
)

form_hits = Table(
    "form_hits",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    Column("form_key", String(64), nullable=False),
    # "view", "start" (a first keystroke) or "submit".
    Column("kind", String(8), nullable=False),
    Column("page", String(2000), nullable=False, server_default=""),
    Column("source", String(200), nullable=False, server_default=""),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "workspace_id", "form_key", "kind"),
)

dry_runs = Table(
    "dry_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    # The name given with --save; saving again under a name replaces the result.
    Column("name", String(64), nullable=False),
    # The dry run's summary as its JSON (simulation/dry_summary.py), read back by reports.
    Column("summary", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

preview_frames = Table(
    "preview_frames",
    metadata,
    # The SHA-256 of the frame's random id, in hex: the id is the credential that opens the
    # frame, so a copy of this table opens none.
    Column("id_hash", String(64), primary_key=True),
    Column("workspace_id", ForeignKey("workspaces.id"), nullable=False),
    # The rendered HTML, which can show a contact's data: kept for minutes only (FRAME_TTL
    # in api/preview_frames.py), so erasure has no row to look for and none is tied to them.
    Column("html", Text, nullable=False),
    # Its length in UTF-8 bytes, summed against the limit on all frames kept.
    Column("size", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)
