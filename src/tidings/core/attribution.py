"""Attribution: which messages and workflows get the credit for a conversion.

Every model splits one conversion (and its revenue) among the touches that came before it
inside the window, so that the credits of a conversion always add up to one. Running them
side by side shows how much a workflow's credit depends on the model rather than on what it
did; the holdout lift, not any of these, says what it caused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: The models, in the order reports show them.
MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position")


@dataclass(frozen=True)
class Touch:
    """A message that reached a contact: when, and from which workflow and step."""

    at: datetime
    workflow: str
    step: str


@dataclass(frozen=True)
class Conversion:
    """A contact's conversion (a goal event) and the revenue it brought."""

    contact_id: int
    at: datetime
    revenue: float


@dataclass
class Credit:
    """Conversions (fractional) and revenue credited to one workflow or one message step."""

    conversions: float = 0.0
    revenue: float = 0.0


@dataclass
class Attribution:
    """Credits per model, by workflow and by (workflow, step); conversions nobody touched."""

    by_workflow: dict[str, dict[str, Credit]] = field(default_factory=dict)
    by_step: dict[str, dict[tuple[str, str], Credit]] = field(default_factory=dict)
    conversions: int = 0
    revenue: float = 0.0
    untouched: int = 0
    untouched_revenue: float = 0.0


def _first(n: int) -> list[float]:
    return [1.0] + [0.0] * (n - 1)


def _last(n: int) -> list[float]:
    return [0.0] * (n - 1) + [1.0]


def _linear(n: int) -> list[float]:
    return [1.0 / n] * n


def _position(n: int) -> list[float]:
    """40% to the first touch, 40% to the last, 20% shared by those between; with two
    touches, half each."""
    if n == 1:
        return [1.0]
    if n == 2:
        return [0.5, 0.5]
    middle = 0.2 / (n - 2)
    return [0.4] + [middle] * (n - 2) + [0.4]


def time_decay_weights(ages: Sequence[timedelta], half_life: timedelta) -> list[float]:
    """Credits halving for every `half_life` a touch came before the conversion."""
    raw = [0.5 ** (age / half_life) for age in ages]
    total = sum(raw)
    return [w / total for w in raw]


def credits(
    model: str, touches: Sequence[Touch], converted_at: datetime, half_life: timedelta
) -> list[float]:
    """Each touch's share of one conversion under `model`; touches oldest first.

    Raises:
        ValueError: for an unknown model or no touches.
    """
    if not touches:
        raise ValueError("a conversion with no touches has nothing to credit")
    n = len(touches)
    shapes: dict[str, Callable[[int], list[float]]] = {
        "first_touch": _first,
        "last_touch": _last,
        "linear": _linear,
        "position": _position,
    }
    if model == "time_decay":
        return time_decay_weights([converted_at - t.at for t in touches], half_life)
    if model not in shapes:
        raise ValueError(f"unknown attribution model {model!r}; use one of {', '.join(MODELS)}")
    return shapes[model](n)


def attribute(
    conversions: Iterable[Conversion],
    touches: Mapping[int, Sequence[Touch]],
    *,
    window: timedelta,
    half_life: timedelta,
    models: Sequence[str] = MODELS,
) -> Attribution:
    """Credit each conversion to the touches in the `window` before it, under every model.

    `touches` holds each contact's touches in time order. A touch at the very moment of the
    conversion counts (the click that led to the order); one after it does not.
    """
    result = Attribution(
        by_workflow={m: defaultdict(Credit) for m in models},
        by_step={m: defaultdict(Credit) for m in models},
    )
    for conversion in conversions:
        result.conversions += 1
        result.revenue += conversion.revenue
        start = conversion.at - window
        before = sorted(
            (t for t in touches.get(conversion.contact_id, ()) if start <= t.at <= conversion.at),
            key=lambda t: t.at,
        )
        if not before:
            result.untouched += 1
            result.untouched_revenue += conversion.revenue
            continue
        for model in models:
            for touch, share in zip(
                before, credits(model, before, conversion.at, half_life), strict=True
            ):
                for credit in (
                    result.by_workflow[model][touch.workflow],
                    result.by_step[model][(touch.workflow, touch.step)],
                ):
                    credit.conversions += share
                    credit.revenue += share * conversion.revenue
    result.by_workflow = {m: dict(c) for m, c in result.by_workflow.items()}
    result.by_step = {m: dict(c) for m, c in result.by_step.items()}
    return result
