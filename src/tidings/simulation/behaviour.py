"""How simulated people act: on their own, and in answer to messages."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tidings.simulation.population import Shopper


@dataclass(frozen=True)
class Act:
    """Something a person does at a moment: an event to send to Tidings."""

    at: datetime
    person: int
    name: str
    properties: dict[str, Any] = field(default_factory=dict)


def next_visit(person: Shopper, after: datetime, rng: random.Random) -> datetime:
    """When the person next visits the store on their own."""
    days = rng.expovariate(max(person.session_rate, 1e-4))
    return after + timedelta(days=min(days, 3650))


def visit(person: Shopper, at: datetime, rng: random.Random, serial: int) -> list[Act]:
    """A visit: a session, and perhaps an abandoned cart or an order."""
    acts = [Act(at, person.index, "session_started", {"url": "/"})]
    if person.open_cart is not None and rng.random() < 0.12:
        cart_id, value = person.open_cart
        acts.append(_order(person, at + timedelta(minutes=6), value, cart_id, rng))
    elif rng.random() < person.cart_p:
        cart_id = f"cart_{person.index}_{serial}"
        value = round(person.order_value * rng.uniform(0.6, 1.8), 2)
        person.open_cart = (cart_id, value)
        items = [{"sku": f"SKU-{rng.randint(100, 999)}", "name": rng.choice(_ITEMS)}]
        props = {"cart_id": cart_id, "value": value, "items": items}
        acts.append(Act(at + timedelta(minutes=4), person.index, "cart_abandoned", props))
    elif rng.random() < person.buy_organic_p:
        acts.append(_order(person, at + timedelta(minutes=8), person.order_value, None, rng))
    return acts


#: What a person does with a message comes back through the tracking pixel and the click
#: redirect, not as ordinary events: the simulator hands these acts to the engagement code.
OPENED, CLICKED = "email_opened", "email_clicked"


def answer(
    person: Shopper,
    message: dict[str, Any],
    delivered_at: datetime,
    rng: random.Random,
    appeal: float = 1.0,
) -> list[Act]:
    """What the person does with a message: maybe open it at their reading hour, click, buy.

    `appeal` multiplies the chance to click once opened: a scenario plants a truly better
    message this way, so that reports can be checked against a known effect.
    """
    opened = rng.random() < person.open_p
    if not opened:
        person.open_p *= 0.97  # ignored mail makes the next one easier to ignore
        return []
    ref = {"message_id": message["id"]}
    open_at = _reading_time(person, delivered_at, rng)
    acts = [Act(open_at, person.index, OPENED, ref)]
    person.session_rate = min(person.session_rate * 1.04 + 0.002, 2.0)
    if rng.random() >= min(person.click_p * appeal, 1.0):
        return acts
    click_at = open_at + timedelta(minutes=rng.uniform(0.5, 8))
    acts.append(Act(click_at, person.index, CLICKED, {**ref, "link": 0}))
    acts.append(
        Act(
            click_at + timedelta(seconds=20),
            person.index,
            "session_started",
            {"url": "/from-email"},
        )
    )
    person.session_rate = max(person.session_rate, 0.05)  # a click wins a quiet customer back
    if rng.random() < person.buy_p:
        cart_id, value = person.open_cart or (None, person.order_value)
        acts.append(
            _order(person, click_at + timedelta(minutes=rng.uniform(3, 90)), value, cart_id, rng)
        )
    return acts


_ITEMS = ["linen shirt", "canvas tote", "ceramic mug", "wool scarf", "running cap", "desk lamp"]


def _order(
    person: Shopper, at: datetime, value: float, cart_id: str | None, rng: random.Random
) -> Act:
    person.orders += 1
    person.open_cart = None
    props: dict[str, Any] = {
        "order_id": f"ord_{person.index}_{person.orders}",
        "revenue": round(value * rng.uniform(0.9, 1.1), 2),
    }
    if cart_id is not None:
        props["cart_id"] = cart_id
    return Act(at, person.index, "order_completed", props)


def _reading_time(person: Shopper, after: datetime, rng: random.Random) -> datetime:
    """The person's next reading hour in their timezone, or soon when it is reading time now."""
    tz = ZoneInfo(person.timezone)
    local = after.astimezone(tz)
    if rng.random() < 0.3:
        return after + timedelta(minutes=rng.uniform(2, 45))
    slot = local.replace(hour=person.reading_hour, minute=0, second=0, microsecond=0)
    if slot <= local:
        slot += timedelta(days=1)
    return slot.astimezone(after.tzinfo) + timedelta(minutes=rng.uniform(0, 50))
