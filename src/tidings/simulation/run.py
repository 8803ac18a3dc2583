"""Drive real ingest, scheduler and sweeps on a virtual clock with a simulated population."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from tidings.clock import VirtualClock
from tidings.core.channels import MessageChannel
from tidings.delivery.transports import Recorder, Transports
from tidings.runtime import engagement
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.ingest import IDENTIFY, Incoming, ingest
from tidings.runtime.scheduler import run_until_idle
from tidings.runtime.sweeps import sweep_scores, sweep_segments, sweep_time_triggers
from tidings.simulation.behaviour import CLICKED, OPENED, Act, answer, next_visit, visit
from tidings.simulation.population import Shopper
from tidings.storage import contacts, outbox
from tidings.storage.workflows import Catalog

#: How far the virtual clock moves between rounds of ingest, scheduling and delivery.
TICK = timedelta(minutes=30)
#: How often time-based triggers (inactivity, dates) are swept.
SWEEP_EVERY = timedelta(hours=6)
_INGEST_CHUNK = 1000
#: Where a simulated message's links point: nowhere real.
SIMULATED_URL = "https://tidings.invalid"

Progress = Callable[[float], None]


@dataclass
class SimulationTotals:
    """What the simulated people did, by the simulator's own count."""

    events: int = 0
    delivered: int = 0
    steps: int = 0


class Simulation:
    """A population of `Shopper` acting in the store and answering the messages Tidings sends."""

    def __init__(
        self,
        engine: Engine,
        workspace_id: int,
        people: list[Shopper],
        clock: VirtualClock,
        rng: random.Random,
        catalog: Catalog | None = None,
        channels: Transports | None = None,
        appeal: Mapping[str, float] | None = None,
    ) -> None:
        self.engine = engine
        #: Per template, how much more (or less) people click it than their habit says.
        self.appeal = dict(appeal or {})
        self._engaged: list[Act] = []
        self.workspace_id = workspace_id
        self.people = people
        self.clock = clock
        self.rng = rng
        self.catalog = catalog or Catalog()
        self.totals = SimulationTotals()
        self._queue: list[tuple[datetime, int, Act | int]] = []
        self._serial = itertools.count()
        self._person_of_contact: dict[int, Shopper] = {}
        # The real dispatcher and its policies; only the wire is a stand-in, unless the
        # caller passes real channels (the demo's --smtp).
        stand_in = Recorder()
        self.dispatcher = Dispatcher(
            engine,
            clock,
            channels or Transports(SIMULATED_URL, http=stand_in, smtp=stand_in, sms=stand_in),
            self.catalog,
            batch=500,
            jitter=rng.random,
        )

    def _push(self, at: datetime, item: Act | int) -> None:
        # An int is a person's next unprompted visit; an Act is an event to send.
        heapq.heappush(self._queue, (at, next(self._serial), item))

    def _incoming(self, act: Act) -> Incoming:
        person = self.people[act.person]
        return Incoming(
            message_id=f"sim-{next(self._serial)}",
            user_id=person.external_id,
            name=act.name,
            timestamp=act.at,
            properties=act.properties,
        )

    def _identify(self, person: Shopper, at: datetime) -> Incoming:
        traits = {
            "email": person.email,
            "first_name": person.first_name,
            "timezone": person.timezone,
            "source": person.source,
            "consent": {"email": "subscribed" if person.subscribed else "unsubscribed"},
        }
        return Incoming(
            f"sim-{next(self._serial)}", person.external_id, IDENTIFY, at, traits=traits
        )

    def seed(self) -> None:
        """Existing customers arrive with their history; newcomers are scheduled to sign up."""
        start = self.clock.now()
        history: list[Incoming] = []
        for person in self.people:
            if person.joins_at is None:
                history.append(self._identify(person, start - timedelta(days=400)))
                seen = start - timedelta(days=person.last_seen_days_ago)
                history.append(
                    self._incoming(Act(seen, person.index, "session_started", {"url": "/"}))
                )
                self._push(next_visit(person, start, self.rng), person.index)
            else:
                self._push(person.joins_at, person.index)
        self._ingest(history)

    def run(self, days: float, progress: Progress | None = None) -> SimulationTotals:
        """Run `days` of virtual time."""
        start = self.clock.now()
        end = start + timedelta(days=days)
        next_sweep = start
        joined: set[int] = {p.index for p in self.people if p.joins_at is None}
        while self.clock.now() < end:
            until = min(self.clock.now() + TICK, end)
            batch: list[Incoming] = []
            while self._queue and self._queue[0][0] <= until:
                at, _, item = heapq.heappop(self._queue)
                if isinstance(item, Act):
                    if item.name in (OPENED, CLICKED):
                        self._engaged.append(item)
                    else:
                        batch.append(self._incoming(item))
                    continue
                person = self.people[item]
                if item not in joined:
                    joined.add(item)
                    batch.append(self._identify(person, at))
                    batch.append(self._incoming(Act(at, item, "signed_up", {"source": "web"})))
                for act in visit(person, at, self.rng, next(self._serial)):
                    if act.at <= until:
                        batch.append(self._incoming(act))
                    else:
                        self._push(act.at, act)
                self._push(next_visit(person, at, self.rng), item)
            self.clock.set(until)
            batch.sort(key=lambda i: i.timestamp)
            self._ingest(batch)
            self._engage()
            if self.clock.now() >= next_sweep:
                sweep_time_triggers(self.engine, self.clock, self.catalog)
                sweep_scores(self.engine, self.clock, self.catalog)
                sweep_segments(self.engine, self.clock, self.catalog)
                next_sweep += SWEEP_EVERY
            self.totals.steps += run_until_idle(self.engine, self.clock, self.catalog)
            self._deliver()
            if progress is not None:
                progress((self.clock.now() - start) / (end - start))
        return self.totals

    def _ingest(self, items: list[Incoming]) -> None:
        for chunk in range(0, len(items), _INGEST_CHUNK):
            part = items[chunk : chunk + _INGEST_CHUNK]
            ingest(self.engine, self.workspace_id, part, self.clock, self.catalog)
        self.totals.events += len(items)

    def _engage(self) -> None:
        """Opens and clicks go through the same code as the tracking pixel and the click
        redirect, at the moment the person acted."""
        if not self._engaged:
            return
        acts, self._engaged = sorted(self._engaged, key=lambda a: a.at), []
        with self.engine.begin() as conn:
            found = outbox.messages_by_id(
                conn, sorted({int(a.properties["message_id"]) for a in acts})
            )
            engagement.engaged_many(
                conn,
                self.workspace_id,
                [
                    (
                        found[int(a.properties["message_id"])],
                        None if a.name == OPENED else int(a.properties.get("link", 0)),
                        a.at,
                    )
                    for a in acts
                    if int(a.properties["message_id"]) in found
                ],
                self.clock.now(),
                self.catalog,
            )
        self.totals.events += len(acts)

    def _deliver(self) -> None:
        """Send what is due through the dispatcher; each email that went out reaches its
        person, who may answer it."""
        now = self.clock.now()
        sent = self.dispatcher.run_until_idle()
        if not sent:
            return
        with self.engine.connect() as conn:
            self._learn_contacts(conn, {m.contact_id for m in sent})
        self.totals.delivered += len(sent)
        # In id order, not the order the sending threads finished in: each answer draws
        # from the one random stream, so the run must not depend on thread timing.
        for message in sorted(sent, key=lambda m: m.id):
            person = self._person_of_contact.get(message.contact_id)
            if person is None or message.channel != MessageChannel.EMAIL:
                continue
            row = {"id": message.id, "workflow_id": message.workflow_id, "step_id": message.step_id}
            appeal = self.appeal.get((message.payload or {}).get("template") or "", 1.0)
            for act in answer(person, row, now, self.rng, appeal):
                self._push(act.at, act)

    def _learn_contacts(self, conn: Connection, ids: set[int]) -> None:
        missing = [i for i in ids if i not in self._person_of_contact]
        if not missing:
            return
        by_external = {p.external_id: p for p in self.people}
        for contact_id, external_id in contacts.external_ids(conn, missing).items():
            if external_id in by_external:
                self._person_of_contact[contact_id] = by_external[external_id]
