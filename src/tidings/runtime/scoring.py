"""Scoring in the shell: read the workspace's model, award points for a batch of events,
keep each contact's named scores current, explain every change on the timeline, and turn
threshold crossings into `score_crossed` events that workflows start on."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine

from tidings.core.scoring import (
    NO_SCORING,
    Award,
    Crossing,
    Scoring,
    crossings,
    event_awards,
    fit_awards,
    parse_scoring,
    score_value,
    values,
)
from tidings.core.state import ContactView, EventView
from tidings.errors import SpecInvalid
from tidings.runtime.segments import Announcement
from tidings.runtime.transactions import transact
from tidings.storage import scores as ledger_store
from tidings.storage import step_log
from tidings.storage.contacts import load_contacts
from tidings.storage.workflows import WorkspaceConfig
from tidings.storage.workspaces import load_scoring_document, save_scoring_document

SCORE_CROSSED = "score_crossed"
#: Scores fade continuously; the sweep writes the faded values down this often per contact.
DECAY_EVERY = timedelta(days=1)


def load_scoring(conn: Connection, workspace_id: int) -> Scoring:
    """The workspace's scoring model, or none."""
    raw = load_scoring_document(conn, workspace_id)
    return _parsed(json.dumps(raw, sort_keys=True)) if raw else NO_SCORING


def scoring_of(config: WorkspaceConfig) -> Scoring:
    """The scoring model of a workspace's `config` (as `load_scoring` reads it), or none."""
    return _parsed(config.scoring) if config.scoring != "{}" else NO_SCORING


@lru_cache(maxsize=64)
def _parsed(text: str) -> Scoring:
    scoring, _ = parse_scoring(json.loads(text))
    return scoring or NO_SCORING


def set_scoring(engine: Engine, workspace_id: int, document: Any) -> Scoring:
    """Check and store a scoring model.

    Raises:
        SpecInvalid: with every problem and its path.
    """
    scoring, problems = parse_scoring(document)
    if scoring is None:
        raise SpecInvalid("scoring", problems, kind="scoring model")

    def work(conn: Connection) -> None:
        save_scoring_document(conn, workspace_id, dict(document))

    transact(engine, work)
    return scoring


def score_batch(
    conn: Connection,
    workspace_id: int,
    scoring: Scoring,
    happened: Sequence[tuple[int, EventView]],
    profiles: Mapping[int, ContactView],
    now: datetime,
) -> list[Announcement]:
    """Award points for these events and re-check fit for these contacts; store the awards,
    the new scores and a timeline line for each change; return the threshold crossings."""
    if not scoring.scores:
        return []
    contact_ids = sorted(profiles)
    ledgers = ledger_store.ledgers(conn, contact_ids)
    by_contact: dict[int, list[EventView]] = {cid: [] for cid in contact_ids}
    for cid, event in happened:
        by_contact.setdefault(cid, []).append(event)
    new: list[tuple[int, Award]] = []
    lines: list[step_log.NewLine] = []
    changed: dict[int, dict[str, float]] = {}
    news: list[Announcement] = []
    for cid in contact_ids:
        fields = profiles[cid].fields()
        past = ledgers.get(cid, [])
        earned: list[Award] = []
        for event in by_contact.get(cid, []):
            earned += event_awards(scoring, event, fields, [*past, *earned], now)
        earned += fit_awards(scoring, fields, [*past, *earned], now)
        if not earned:
            continue
        before = values(scoring, past, now)
        after = values(scoring, [*past, *earned], now)
        changed[cid] = after
        new += [(cid, award) for award in earned]
        # Each line shows the score as that award left it: two awards in one event are
        # two steps, not twice the final value.
        lines += [
            step_log.line(
                workspace_id,
                cid,
                "scored",
                f"{a.score} {a.points:+g} by rule {a.rule}: {a.why}; now {value:g}",
                now,
                data={"score": a.score, "rule": a.rule, "points": a.points, "value": value},
            )
            for a, value in zip(earned, _running(scoring, past, earned, now), strict=True)
        ]
        news += _announce(cid, crossings(scoring, before, after), now)
    ledger_store.add_awards(conn, workspace_id, new)
    ledger_store.save_scores(conn, changed, now)
    step_log.append_lines(conn, lines)
    return news


def _running(
    scoring: Scoring, past: Sequence[Award], earned: Sequence[Award], now: datetime
) -> list[float]:
    """The value of each award's score just after that award, in order."""
    return [
        score_value(
            scoring.scores[a.score],
            (p for p in [*past, *earned[: i + 1]] if p.score == a.score),
            now,
        )
        for i, a in enumerate(earned)
    ]


def decay_scores(
    conn: Connection, workspace_id: int, scoring: Scoring, now: datetime, limit: int
) -> tuple[int, list[Announcement]]:
    """Write down faded scores for the contacts scored longest ago (a page of them);
    a fade below a threshold is a crossing too (the lead cooled off)."""
    ids = ledger_store.stale_scored(conn, workspace_id, now - DECAY_EVERY, limit)
    if not ids:
        return 0, []
    ledgers = ledger_store.ledgers(conn, ids)
    stored = load_contacts(conn, ids)
    news: list[Announcement] = []
    current: dict[int, dict[str, float]] = {}
    for cid in ids:
        before = {k: float(v) for k, v in stored[cid].scores.items()} if cid in stored else {}
        current[cid] = values(scoring, ledgers.get(cid, []), now)
        news += _announce(cid, crossings(scoring, before, current[cid]), now)
    ledger_store.save_scores(conn, current, now)
    return len(ids), news


def _announce(contact_id: int, found: Sequence[Crossing], now: datetime) -> list[Announcement]:
    stamp = now.isoformat()
    return [
        Announcement(
            contact_id,
            f"score:{contact_id}:{c.threshold}:{c.direction}:{stamp}",
            SCORE_CROSSED,
            {
                "threshold": c.threshold,
                "score": c.score,
                "at": c.at,
                "direction": c.direction,
                "value": c.value,
            },
        )
        for c in found
    ]
