"""Liquid templates: parsed once, rendered against a contact and the triggering event.

Liquid has no access to Python objects beyond the data it is given, so a marketer's
template cannot reach the file system, the database or the interpreter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from liquid import Environment
from liquid.exceptions import LiquidError
from liquid.template import BoundTemplate

_ENV = Environment(autoescape=False)
_HTML_ENV = Environment(autoescape=True)


def _json(value: Any) -> str:
    """Shopify's `json` filter: a value as a JSON literal, for webhook bodies that must stay
    valid JSON whatever a contact's name contains."""
    return json.dumps(value, ensure_ascii=False, default=str)


for _env in (_ENV, _HTML_ENV):
    _env.filters["json"] = _json


class RenderError(Exception):
    """A template failed to parse or render; the message says where."""


@lru_cache(maxsize=2048)
def compile_template(source: str, *, html: bool = False) -> BoundTemplate:
    """Parse a Liquid source once; HTML templates escape what they interpolate.

    Raises:
        RenderError: when the source is not valid Liquid.
    """
    try:
        return (_HTML_ENV if html else _ENV).from_string(source)
    except LiquidError as exc:
        raise RenderError(str(exc).splitlines()[0]) from exc


def render(source: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    """Render a Liquid source against `context`.

    Raises:
        RenderError: when the source does not parse or a filter fails at render time.
    """
    template = compile_template(source, html=html)
    try:
        return template.render(**context)
    except LiquidError as exc:
        raise RenderError(str(exc).splitlines()[0]) from exc


def variables_of(source: str) -> list[tuple[str, ...]]:
    """The global variable paths a template reads, such as ('contact', 'first_name')."""
    analysis = compile_template(source).analyze()
    return [
        tuple(str(s) for s in var.segments) for uses in analysis.globals.values() for var in uses
    ]


@lru_cache(maxsize=512)
def text_source_from_html(source: str) -> str | None:
    """A plain-text Liquid source derived once from an HTML one, for the text part of an
    email that has no text of its own: rendering it per contact is much cheaper than
    turning each rendered HTML into text. Links show after their words, `[words](url)`.

    None when the derived source is not valid Liquid (a tag split across HTML
    attributes, say); the caller then derives the text from the rendered HTML.
    """
    from inscriptis import get_text  # imported when first needed: it pulls in lxml
    from inscriptis.model.config import ParserConfig

    text: str = get_text(source, ParserConfig(display_links=True)).strip() + "\n"
    try:
        compile_template(text)
    except RenderError:
        return None
    return text
