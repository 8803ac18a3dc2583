"""Liquid rendering: the json filter for webhook bodies, and text derived from HTML."""

from __future__ import annotations

import json

from tidings.core.render import render, text_source_from_html


def test_json_filter_keeps_a_webhook_body_valid_whatever_the_data() -> None:
    body = '{"name": {{ contact.name | json }}, "tags": {{ contact.tags | json }}}'
    data = {"contact": {"name": 'Zoë "Z" O\'Neil\n', "tags": ["vip", "new"]}}
    assert json.loads(render(body, data)) == {"name": 'Zoë "Z" O\'Neil\n', "tags": ["vip", "new"]}


def test_text_derived_from_an_html_template_renders_per_contact() -> None:
    html = (
        "<h1>Hi {{ contact.first_name }}</h1><p>Your cart: "
        '<a href="{{ event.url }}">go back</a></p><ul>{% for i in event.items %}'
        "<li>{{ i }}</li>{% endfor %}</ul>"
    )
    source = text_source_from_html(html)
    assert source is not None
    text = render(
        source,
        {
            "contact": {"first_name": "Tom & Jerry"},
            "event": {"url": "https://s.example/c?a=1&b=2", "items": ["mug", "cap"]},
        },
    )
    assert "Hi Tom & Jerry" in text  # not HTML-escaped in the text part
    assert "[go back](https://s.example/c?a=1&b=2)" in text
    assert "* mug" in text and "* cap" in text


def test_text_derivation_gives_up_on_liquid_split_by_markup() -> None:
    html = '<p class="{% if contact.vip %}">vip</p><p>{% endif %}</p>'
    assert text_source_from_html(html) is None
