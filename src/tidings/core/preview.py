"""A template rendered for a chosen contact and a sample event, as a send step would
render it, without sending anything: what `tidings workflows preview` and the API show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tidings.core.problems import Problem, suggest
from tidings.core.render import RenderError, TimeLimit, render, text_source_from_html
from tidings.core.spec import MessageTemplate, Workflow
from tidings.core.state import ContactView


@dataclass(frozen=True)
class Preview:
    """The parts of a rendered message (None where the template has no such part)."""

    subject: str | None
    html: str | None
    text: str | None


def preview_template(
    workflow: Workflow,
    template: str,
    contact: ContactView,
    event: Mapping[str, Any],
    time_limit: TimeLimit | None = None,
    source: MessageTemplate | None = None,
) -> Preview | Problem:
    """Render `template` of `workflow` for `contact`, with `event` as the trigger (and the
    awaited events of `steps.*` left empty); a problem names what went wrong.

    `source`, when given, is rendered in place of the stored template: the text an editor
    is typing, not yet saved."""
    found = source or workflow.templates.get(template)
    if found is None:
        hint = suggest(template, workflow.templates) or (
            f"this workflow has {', '.join(sorted(workflow.templates)) or 'no templates'}"
        )
        return Problem("template", f"no template {template!r} in {workflow.id}", hint)
    return render_message(found, template, (workflow.id, workflow.name), contact, event, time_limit)


def render_message(
    found: MessageTemplate,
    template: str,
    workflow: tuple[str, str],
    contact: ContactView,
    event: Mapping[str, Any],
    time_limit: TimeLimit | None = None,
) -> Preview | Problem:
    """Render the message `found` (named `template`) of the workflow (id, name): what the
    builder's preview needs before the workflow it is drawing validates."""
    data = {
        "contact": contact.fields(),
        "event": dict(event),
        "trigger": dict(event),
        "workflow": {"id": workflow[0], "name": workflow[1]},
        "steps": {},
    }

    def part(source: str | None, *, html: bool = False) -> str | None:
        return None if source is None else render(source, data, html=html, time_limit=time_limit)

    try:
        subject, html, text = part(found.subject), part(found.html, html=True), part(found.text)
        if text is None and found.html is not None:
            text = part(text_source_from_html(found.html))
    except RenderError as exc:
        return Problem("template", f"{template} does not render: {exc}")
    return Preview(subject, html, text)
