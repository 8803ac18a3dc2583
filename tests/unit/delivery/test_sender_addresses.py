"""Sender addresses are checked strictly: nothing rides along into a header."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tidings.delivery.settings import Sender, address_problem, ascii_address


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("a@b.co\n", "line break"),  # a trailing newline would reach Reply-To
        ("a@b.co\r\nBcc: eve@example.com", "line break"),
        ("a@b.co\x00", "control character"),
        (" a@b.co", "spaces"),
        ("a@b.co, eve@example.com", "spaces"),
        ("a@b.co,eve@example.com", "not an email address"),
        ("<a@b.co>", "not an email address"),
        ("no-at-sign", "not an email address"),
        ("zoë@bücher.example", "non-ASCII characters before the @"),
        ("a@" + "b" * 300 + ".co", "longer than"),
        ("a@shop_example.com", "not a host name"),
        ("a@-shop.example", "not a host name"),
        ("a..b@shop.example", "not an email address"),
    ],
)
def test_bad_addresses_are_refused_with_the_reason(value: str, problem: str) -> None:
    found = address_problem(value)
    assert found is not None and problem in found


@pytest.mark.parametrize(
    "value",
    ["news@shop.example", "a.b+tag@mail.example.com", "ann@bücher.example", "dev@localhost"],
)
def test_good_addresses_pass(value: str) -> None:
    assert address_problem(value) is None


def test_an_internationalised_domain_is_carried_in_ascii() -> None:
    assert ascii_address("ann@bücher.example") == "ann@xn--bcher-kva.example"
    assert ascii_address("ann@shop.example") == "ann@shop.example"


@pytest.mark.parametrize("field", ["from_email", "reply_to"])
def test_the_sender_names_the_field_with_a_bad_address(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Sender.model_validate({field: "a@b.co\n"})
    [error] = caught.value.errors()
    assert error["loc"] == (field,)
    assert "line break" in error["msg"]


def test_a_from_name_with_a_control_character_is_refused() -> None:
    with pytest.raises(ValidationError, match="from_name"):
        Sender(from_name="Shop\x1b[31m")
