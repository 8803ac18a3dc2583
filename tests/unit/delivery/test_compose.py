"""Composing an email from an outbox row: its MIME structure, tracking, footer and headers.

Messages are read back with the standard library's parser, as a mail client would, so the
tests hold whatever bytes the header encoding chooses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from tidings.delivery.compose import EmailParts, Links, build_alert_email, build_email, track_links
from tidings.delivery.settings import Sender

NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
SENDER = Sender(from_email="news@shop.example.com", from_name="Shop", postal_address="1 Main St")
LINKS = Links(
    open="https://t.shop.example.com/p/OPEN",
    click=lambda i: f"https://t.shop.example.com/t/CLICK{i}",
    unsubscribe="https://t.shop.example.com/u/UNSUB",
    preferences="https://t.shop.example.com/prefs/PREF",
)
HTML = (
    "<html><body><p>Hello Ann,</p>"
    '<p><a href="https://shop.example.com/sale?a=1&amp;b=2">See the sale</a> or '
    "<a href='http://shop.example.com/help'>get help</a>, "
    '<a href="mailto:help@shop.example.com">write to us</a>, '
    '<a href="/relative">here</a>.</p></body></html>'
)


def outgoing(**changes: object) -> EmailParts:
    fields: dict[str, object] = {
        "message_id": "<m1@shop.example.com>",
        "to": "ann@example.com",
        "subject": "Spring sale",
        "html": HTML,
        "text": None,
        "marketing": True,
    }
    fields.update(changes)
    return EmailParts(**fields)  # type: ignore[arg-type]


def parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    return str(part.get_content())


def build(out: EmailParts, sender: Sender = SENDER) -> tuple[EmailMessage, list[str], bytes]:
    raw, tracked = build_email(out, sender, LINKS, NOW)
    return parsed(raw), tracked, raw


# --- structure ------------------------------------------------------------------------------


def test_html_mail_is_multipart_alternative_text_first() -> None:
    message, _, _ = build(outgoing())
    assert message.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # clients show the last one they can
    for part in message.iter_parts():
        assert part.get_content_charset() == "utf-8"


def test_text_only_mail_is_a_single_text_part() -> None:
    message, tracked, _ = build(outgoing(html=None, text="Hello Ann", marketing=False))
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    assert body(message, "plain") == "Hello Ann"
    assert tracked == []


def test_the_text_part_is_derived_from_the_html_with_its_links() -> None:
    message, _, _ = build(outgoing(marketing=False, track=False))
    text = body(message, "plain")
    assert "Hello Ann," in text and "See the sale" in text and "<p>" not in text
    assert "https://shop.example.com/sale?a=1&b=2" in text  # the link after its words


def test_a_given_text_part_is_used_as_written() -> None:
    message, _, _ = build(outgoing(text="Hand-written text.", marketing=False, track=False))
    assert body(message, "plain") == "Hand-written text."


def test_every_line_ends_in_crlf_and_bodies_survive_the_transfer_encoding() -> None:
    long_line = "é" * 300 + " end"  # non-ASCII and longer than a line may be
    message, _, raw = build(outgoing(html=f"<p>{long_line}</p>", text=long_line, marketing=False))
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare LF
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998  # RFC 5322's limit
    assert body(message, "plain") == long_line
    assert long_line in body(message, "html")


def test_headers_name_sender_recipient_date_and_message_id() -> None:
    message, _, _ = build(outgoing())
    assert message["From"].addresses[0].addr_spec == "news@shop.example.com"
    assert message["From"].addresses[0].display_name == "Shop"
    assert str(message["To"]) == "ann@example.com"
    assert str(message["Subject"]) == "Spring sale"
    assert str(message["Message-ID"]) == "<m1@shop.example.com>"
    assert parsedate_to_datetime(str(message["Date"])) == NOW
    assert str(message["MIME-Version"]) == "1.0"


def test_reply_to_is_written_when_set() -> None:
    message, _, _ = build(
        outgoing(), SENDER.model_copy(update={"reply_to": "help@shop.example.com"})
    )
    assert str(message["Reply-To"]) == "help@shop.example.com"
    plain, _, _ = build(outgoing())
    assert plain["Reply-To"] is None


@pytest.mark.parametrize(
    ("subject", "name"),
    [
        ("Frühlingsangebot: 20 % auf alles", "Café Müller"),
        ("春のセール 🌸", "ショップ"),
        ("Ünïcödé " * 20, "Shop"),  # long enough to need folding
    ],
)
def test_non_ascii_subjects_and_names_read_back_as_written(subject: str, name: str) -> None:
    sender = SENDER.model_copy(update={"from_name": name})
    message, _, raw = build(outgoing(subject=subject), sender)
    assert str(message["Subject"]) == " ".join(subject.split())
    assert message["From"].addresses[0].display_name == name
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()  # headers stay 7-bit


# --- the unsubscribe footer and headers -----------------------------------------------------------


def test_marketing_mail_has_one_click_unsubscribe_headers() -> None:
    message, _, _ = build(outgoing())
    # RFC 8058: the HTTPS URL in angle brackets, and the one-click marker.
    assert str(message["List-Unsubscribe"]) == f"<{LINKS.unsubscribe}>"
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"


def test_marketing_mail_has_the_footer_in_both_parts() -> None:
    message, _, _ = build(outgoing(postal_address="Shop & Co, 1 <Main> St"))
    html, text = body(message, "html"), body(message, "plain")
    assert f'href="{LINKS.unsubscribe}"' in html and f'href="{LINKS.preferences}"' in html
    assert "Shop &amp; Co, 1 &lt;Main&gt; St" in html  # the address as text, not markup
    assert f"Unsubscribe: {LINKS.unsubscribe}" in text
    assert f"Preferences: {LINKS.preferences}" in text
    assert text.rstrip().endswith("Shop & Co, 1 <Main> St")


def test_transactional_mail_has_no_unsubscribe_footer_or_headers() -> None:
    message, _, _ = build(outgoing(marketing=False))
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    assert LINKS.unsubscribe not in body(message, "html")
    assert LINKS.unsubscribe not in body(message, "plain")


def test_the_footer_goes_inside_the_body_of_the_html() -> None:
    message, _, _ = build(outgoing(track=False))
    html = body(message, "html")
    assert html.index("Unsubscribe") < html.index("</body>")
    assert html.rstrip().endswith("</html>")


# --- tracking ---------------------------------------------------------------------------------


def test_web_links_go_through_click_redirects_in_order() -> None:
    message, tracked, _ = build(outgoing(marketing=False))
    # The original URLs as the person would reach them (&amp; read as &), in order.
    assert tracked == ["https://shop.example.com/sale?a=1&b=2", "http://shop.example.com/help"]
    html = body(message, "html")
    assert 'href="https://t.shop.example.com/t/CLICK0"' in html
    assert "href='https://t.shop.example.com/t/CLICK1'" in html  # its quotes kept
    assert "https://shop.example.com/sale" not in html
    # Links that are not web pages stay as they are.
    assert 'href="mailto:help@shop.example.com"' in html and 'href="/relative"' in html


def test_the_text_part_links_go_through_the_same_redirects() -> None:
    message, _, _ = build(outgoing(marketing=False))
    text = body(message, "plain")
    assert "https://t.shop.example.com/t/CLICK0" in text
    assert "https://shop.example.com/sale" not in text


def test_the_open_pixel_is_the_last_thing_in_the_body() -> None:
    message, _, _ = build(outgoing())
    html = body(message, "html")
    pixel = f'<img src="{LINKS.open}" width="1" height="1" alt="">'
    assert html.count(pixel) == 1
    assert html.index("Unsubscribe") < html.index(pixel) < html.index("</body>")


def test_html_without_a_body_tag_gets_the_pixel_at_the_end() -> None:
    message, _, _ = build(outgoing(html="<p>Hi</p>", marketing=False))
    assert (
        body(message, "html")
        .rstrip()
        .endswith(f'<img src="{LINKS.open}" width="1" height="1" alt="">')
    )


def test_untracked_mail_keeps_its_links_and_has_no_pixel() -> None:
    # A double opt-in confirmation: the link must reach the person as it is.
    message, tracked, _ = build(outgoing(marketing=False, track=False))
    html = body(message, "html")
    assert tracked == []
    assert 'href="https://shop.example.com/sale?a=1&amp;b=2"' in html
    assert LINKS.open not in html


def test_track_links_leaves_a_message_without_links_alone() -> None:
    assert track_links("<p>No links</p>", LINKS.click) == ("<p>No links</p>", [])


# --- header injection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["subject", "to", "message_id"],
)
@pytest.mark.parametrize("line_break", ["\r\n", "\n", "\r"])
def test_line_breaks_in_rendered_values_cannot_add_headers(field: str, line_break: str) -> None:
    values = {
        "subject": f"Hi{line_break}Bcc: victim@example.net",
        "to": f"ann@example.com{line_break}Bcc: victim@example.net",
        "message_id": f"<m1@shop.example.com>{line_break}Bcc: victim@example.net",
    }
    message, _, raw = build(outgoing(**{field: values[field]}))
    assert message["Bcc"] is None
    assert b"\r\nBcc:" not in raw.split(b"\r\n\r\n", 1)[0]
    assert message.defects == []


def test_a_sender_name_with_a_line_break_is_refused_at_the_settings() -> None:
    with pytest.raises(ValueError, match="must not contain line breaks"):
        Sender(from_email="news@shop.example.com", from_name="Shop\r\nBcc: victim@example.net")


# --- alerts -------------------------------------------------------------------------------------


def test_an_alert_is_plain_text_without_tracking_or_footer() -> None:
    raw = build_alert_email(
        "lead@shop.example.com",
        "Approval needed",
        "Call ann@example.com? https://shop.example.com/approve",
        Sender(from_email="news@shop.example.com"),
        "<a1@shop.example.com>",
        NOW,
    )
    message = parsed(raw)
    assert message.get_content_type() == "text/plain"
    assert message["From"].addresses[0].display_name == "Tidings"  # a sender with no name
    assert message["List-Unsubscribe"] is None
    assert body(message, "plain") == "Call ann@example.com? https://shop.example.com/approve"
