"""What web pages may send: origins as browsers send them, first touch, privileged traits."""

from __future__ import annotations

import pytest

from tidings.core.capture import browser_trait_problems, first_touch, normalize_origin


@pytest.mark.parametrize(
    ("written", "origin"),
    [
        ("https://Shop.Example/", "https://shop.example"),  # case and a trailing slash
        ("https://shop.example:443", "https://shop.example"),  # the default port is dropped
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),  # loopback with a port
        ("http://[::1]:8080", "http://[::1]:8080"),  # IPv6
    ],
)
def test_origins_are_written_as_browsers_send_them(written: str, origin: str) -> None:
    assert normalize_origin(written) == origin


@pytest.mark.parametrize(
    "written",
    [
        "shop.example",  # no scheme
        "https://shop.example/path",  # a path
        "ftp://shop.example",  # not a web scheme
        "https://shop.example:99999",  # no such port
        "*",  # a wildcard would let every site send
    ],
)
def test_anything_but_an_origin_is_refused_with_an_example(written: str) -> None:
    with pytest.raises(ValueError, match=r"https://shop\.example|65535"):
        normalize_origin(written)


def test_first_touch_reads_the_page_and_campaign() -> None:
    context = {
        "page": {"url": "https://shop.example/?utm_source=news", "referrer": ""},
        "campaign": {"source": "news", "name": "spring", "medium": 3},
    }
    assert first_touch(context) == {
        "first_landing_page": "https://shop.example/?utm_source=news",
        "first_utm_source": "news",
        "first_utm_campaign": "spring",
        "source": "news",
    }
    referred = {"page": {"url": "https://shop.example/", "referrer": "https://Search.example/q"}}
    assert first_touch(referred)["source"] == "search.example"
    assert first_touch({"page": {"url": "https://shop.example/"}})["source"] == "direct"
    assert first_touch(None) == {}
    assert first_touch({"page": "x"}) == {}


def test_privileged_traits_and_consent_grants_are_named() -> None:
    problems = browser_trait_problems(
        {"tags": [], "consent": {"email": "subscribed", "sms": "unsubscribed"}, "name": "A"},
        "batch[2]",
    )
    assert [p.path for p in problems] == ["batch[2].traits.tags", "batch[2].traits.consent.email"]
    assert browser_trait_problems({"consent": {"email": "unsubscribed"}}, "") == []
