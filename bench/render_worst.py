"""The slowest renders the counted limits allow, and ordinary ones, timed on this machine.

Run: `python -m bench.render_worst`. Prints, per template, the best and worst of a few
renders (wall seconds) and what stopped it (the limit, or none).
"""

from __future__ import annotations

import time
from typing import Any

from tidings.core.render import RenderError, render

BIG = "{% assign s = 'x' %}{% for i in (1..16) %}{% assign s = s | append: s %}{% endfor %}"
CATALOGUE = [{"name": f"p{i}", "details": [f"d{j}" for j in range(50)]} for i in range(100)]

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "ordinary: a welcome email": (
        "<p>Hi {{ contact.first_name | default: 'there' | capitalize }},</p>"
        "{% if contact.plan == 'pro' %}<p>Thanks for going pro.</p>{% endif %}"
        "<p>Your cart: {{ event.total | default: 0 }} EUR</p>",
        {"contact": {"first_name": "ann", "plan": "pro"}, "event": {"total": 42}},
    ),
    "ordinary: a catalogue of 100 items x 50 details": (
        "{% for p in event.products %}<h2>{{ p.name | upcase }}</h2>"
        "{% for d in p.details %}<li>{{ d }}</li>{% endfor %}{% endfor %}",
        {"event": {"products": CATALOGUE}},
    ),
    "worst: the whole node budget": (
        "{% for i in (1..9000) %}" + "{% if i == 1 %}{% endif %}" * 5 + "{% endfor %}",
        {},
    ),
    "worst: the node budget on a long text": (
        BIG + "{% for i in (1..9000) %}{% if s contains 'z' %}{% endif %}{% endfor %}",
        {},
    ),
    "worst: sorting a long list again and again": (
        "{% for i in (1..100) %}{% assign s = event.items | sort | size %}{% endfor %}",
        {"event": {"items": list(range(20000))}},
    ),
    "worst: the node budget with filters": (
        "{% for i in (1..9000) %}{{ i | plus: 1 | times: 3 | modulo: 7 }}{% endfor %}",
        {},
    ),
}


def _time(source: str, data: dict[str, Any], runs: int = 5) -> tuple[float, float, str]:
    times, outcome = [], "rendered"
    for _ in range(runs):
        started = time.perf_counter()
        try:
            render(source, data)
        except RenderError as exc:
            outcome = str(exc)
        times.append(time.perf_counter() - started)
    return min(times), max(times), outcome


def main() -> None:
    for name, (source, data) in CASES.items():
        best, worst, outcome = _time(source, data)
        print(f"{name:50} best {best * 1000:7.1f} ms  worst {worst * 1000:7.1f} ms  {outcome}")


if __name__ == "__main__":
    main()
