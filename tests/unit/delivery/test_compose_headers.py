"""Headers as SMTP carries them: any Unicode subject or sender name is encoded and folded
so that strict servers take it (CRLF only, no line over 998 octets) and every reader
shows what was written."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.delivery.compose import EmailParts, Links, build_alert_email, build_email
from tidings.delivery.settings import Sender, ascii_address

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LINKS = Links(
    open="https://t.example/t/o/x",
    click=lambda i: f"https://t.example/t/c/{i}",
    unsubscribe="https://t.example/u/" + "x" * 120,
    preferences="https://t.example/p/y",
)
#: Names as the settings accept them: anything but control characters.
NAMES = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=150)


def shown(value: str) -> str:
    """What a header shows for a value: control characters and runs of whitespace made
    one space, trimmed (a header is one line)."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in value)
    return " ".join(text.split())


def email(subject: str, name: str, to: str = "ann@example.com") -> bytes:
    sender = Sender(from_email="news@shop.example", from_name=name, reply_to="help@shop.example")
    out = EmailParts("<m1@shop.example>", to, subject, "<p>Hi</p>", None, marketing=True)
    raw, _ = build_email(out, sender, LINKS, NOW)
    return raw


def parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects, message.defects
    return message


def assert_smtp_safe(raw: bytes) -> None:
    assert re.search(rb"(?<!\r)\n", raw) is None, "a bare LF"
    assert re.search(rb"\r(?!\n)", raw) is None, "a bare CR"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii(), "headers must be ASCII without SMTPUTF8"


@settings(max_examples=200, deadline=None)
@given(subject=st.text(max_size=600), name=NAMES)
def test_any_unicode_subject_and_name_survive_the_trip(subject: str, name: str) -> None:
    raw = email(subject, name)
    assert_smtp_safe(raw)
    message = parsed(raw)
    assert message["Subject"] == shown(subject)
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (shown(name), "news@shop.example")
    assert message["Reply-To"].addresses[0].addr_spec == "help@shop.example"


@settings(max_examples=100, deadline=None)
@given(subject=st.text(max_size=300), name=NAMES)
def test_internal_alerts_are_as_safe(subject: str, name: str) -> None:
    sender = Sender(from_email="news@shop.example", from_name=name)
    raw = build_alert_email("rep@shop.example", subject, "text", sender, "<a@x>", NOW)
    assert_smtp_safe(raw)
    assert parsed(raw)["Subject"] == shown(subject)


@pytest.mark.parametrize(
    "subject",
    [
        "Grüße aus Köln — " * 40,  # long non-ASCII: encoded words on many lines
        "plain words " * 200,  # long ASCII: folded between words
        "x" * 3000,  # one ASCII word longer than a line may be
        "a literal =?utf-8?q?encoded_word?= stays as typed",
        "line\nbreaks\r\nand\rcarriage returns cannot add headers\nBcc: eve@example.com",
    ],
)
def test_long_and_tricky_subjects(subject: str) -> None:
    raw = email(subject, "Zoë")
    assert_smtp_safe(raw)
    message = parsed(raw)
    assert message["Subject"] == shown(subject)
    assert message["Bcc"] is None


def test_an_internationalised_domain_is_written_in_ascii() -> None:
    message = parsed(email("Hi", "Zoë", to="ann@bücher.example"))
    assert message["To"].addresses[0].addr_spec == "ann@xn--bcher-kva.example"


def test_a_name_with_quotes_and_commas_stays_one_mailbox() -> None:
    message = parsed(email("Hi", 'Zoë "Z", O\'Neil <boss@example.com>'))
    [sender] = message["From"].addresses
    assert sender.display_name == 'Zoë "Z", O\'Neil <boss@example.com>'
    assert sender.addr_spec == "news@shop.example"


def test_a_name_too_long_for_one_encoded_word_is_folded_within_the_limits() -> None:
    name = "𐀀" * 200  # 800 octets of UTF-8: one encoded word would pass 998
    raw = email("Hi", name)
    assert_smtp_safe(raw)
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    [folded] = re.findall(r"^From: .*?(?=\r\n\S)", head, flags=re.MULTILINE | re.DOTALL)
    # RFC 2047 readers join adjacent encoded words: the name comes back whole.
    value = folded.removeprefix("From: ").replace("\r\n", "")
    decoded = str(make_header(decode_header(value)))
    assert decoded == f"{name} <news@shop.example>"


@pytest.mark.parametrize(
    "address",
    [
        "ann@example.com",
        "o'brien+news@mail.example.co.uk",
        "a.b-c_d{x}@sub-1.example",
        "x" * 64 + "@" + "d" * 60 + ".example",
        '"quoted local"@example.com',
        "dots..twice@example.com",
        "ünï@example.com",
        "ann@bücher.example",
    ],
)
def test_a_to_header_is_what_the_email_package_writes(address: str) -> None:
    # The composer writes plain addresses itself for speed: the email package's SMTP policy
    # is the reference for every form, plain or not.
    raw = email("Hi", "Shop", to=address)
    line = next(h for h in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n") if h.startswith(b"To:"))
    local, _, domain = ascii_address(address).rpartition("@")
    reference = policy.SMTP.header_factory("To", [Address(username=local, domain=domain)])
    assert line + b"\r\n" == reference.fold(policy=policy.SMTP).encode()
