"""Turning an outbox row into an email: tracked links, the footer, headers, DKIM.

Rendering (Liquid) happened when the step ran; what happens here depends on the message's
id and the workspace's sender settings, so it is done at send time.
"""

from __future__ import annotations

import html as html_lib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import charset
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import format_datetime, formataddr

from tidings.delivery.settings import Sender

#: An anchor's href with an absolute web URL: the links that get click tracking.
_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"'\s>]+)\2""", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)

#: SMTP line endings; headers are not folded below the protocol's limit, so a long
#: List-Unsubscribe URL stays on one line for receivers that read it naively.
_WIRE = compat32.clone(linesep="\r\n")
#: UTF-8 bodies as quoted-printable: readable in the raw, safe for 7-bit relays.
_QP = charset.Charset("utf-8")
_QP.body_encoding = charset.QP

#: Headers a DKIM signature covers: identity, content, and the unsubscribe pair (RFC 8058
#: requires the signature to cover both List-Unsubscribe headers).
DKIM_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"Reply-To",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"MIME-Version",
    b"Content-Type",
)


@dataclass(frozen=True)
class Links:
    """The URLs a message links back to, each carrying a signed token."""

    open: str
    click: Callable[[int], str]
    unsubscribe: str
    preferences: str


@dataclass(frozen=True)
class Outgoing:
    """What the email is made of."""

    message_id: str  # the Message-ID header, <...@domain>
    to: str
    subject: str
    html: str | None
    text: str | None
    marketing: bool
    postal_address: str = ""
    #: Off for messages whose links must reach the person untouched (a confirmation link).
    track: bool = True


def track_links(html: str, click_url: Callable[[int], str]) -> tuple[str, list[str]]:
    """Send every web link through the click redirect; return the new HTML and the URLs
    in order, which the message stores so each redirect can only lead where it did."""
    links: list[str] = []

    def swap(match: re.Match[str]) -> str:
        links.append(html_lib.unescape(match.group(3)))
        return f"{match.group(1)}{match.group(2)}{click_url(len(links) - 1)}{match.group(2)}"

    return _HREF.sub(swap, html), links


def text_from_html(html: str) -> str:
    """A readable plain-text part from the HTML, links shown after their words."""
    from inscriptis import get_text  # imported when first needed: it pulls in lxml
    from inscriptis.model.config import ParserConfig

    text: str = get_text(html, ParserConfig(display_links=True))
    return text.strip() + "\n"


def _append_to_body(html: str, extra: str) -> str:
    ends = [m.start() for m in _BODY_END.finditer(html)]
    if not ends:
        return html + extra
    return html[: ends[-1]] + extra + html[ends[-1] :]


def _footer_html(links: Links, postal: str) -> str:
    address = f"<br>{html_lib.escape(postal)}" if postal else ""
    return (
        '<div style="margin-top:24px;font-size:12px;color:#666">'
        f'<a href="{html_lib.escape(links.unsubscribe)}">Unsubscribe</a> · '
        f'<a href="{html_lib.escape(links.preferences)}">Email preferences</a>{address}</div>'
    )


def _footer_text(links: Links, postal: str) -> str:
    lines = ["", "--", f"Unsubscribe: {links.unsubscribe}", f"Preferences: {links.preferences}"]
    if postal:
        lines.append(postal)
    return "\n".join(lines) + "\n"


def _header_text(value: str) -> str:
    """A header value on one line: line breaks in rendered text must not add headers."""
    return " ".join(value.split())


def _encoded(value: str) -> str:
    """ASCII stays as it is; anything else is RFC 2047 encoded."""
    value = _header_text(value)
    return value if value.isascii() else Header(value, "utf-8").encode()


def _part(body: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(body, _QP)
    return part


def _base_headers(
    message: Message, sender: Sender, to: str, subject: str, msgid: str, now: datetime
) -> None:
    message["From"] = formataddr((_header_text(sender.from_name), sender.from_email), "utf-8")
    message["To"] = to
    message["Subject"] = _encoded(subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = msgid
    if sender.reply_to:
        message["Reply-To"] = sender.reply_to


def to_bytes(message: Message) -> bytes:
    """The message as sent: CRLF line ends, headers never folded below 998 characters."""
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, maxheaderlen=0, policy=_WIRE).flatten(message)
    return out.getvalue()


def build_email(
    out: Outgoing, sender: Sender, links: Links, now: datetime
) -> tuple[Message, list[str]]:
    """The MIME message (multipart/alternative when there is HTML) and its tracked links.

    Built with the email package's classic API: the same bytes as the newer one for this
    shape of message, in a fifth of the time (bench/).
    """
    tracked: list[str] = []
    html = out.html
    if html is not None:
        if out.track:
            html, tracked = track_links(html, links.click)
        if out.marketing:
            html = _append_to_body(html, _footer_html(links, out.postal_address))
        if out.track:
            pixel = f'<img src="{html_lib.escape(links.open)}" width="1" height="1" alt="">'
            html = _append_to_body(html, pixel)
    text = out.text if out.text is not None else text_from_html(html or "")
    if out.marketing:
        text = text.rstrip("\n") + "\n" + _footer_text(links, out.postal_address)

    message: Message
    if html is None:
        message = _part(text, "plain")
    else:
        message = MIMEMultipart("alternative")
        message.attach(_part(text, "plain"))
        message.attach(_part(html, "html"))
    _base_headers(message, sender, out.to, out.subject, out.message_id, now)
    if out.marketing:
        # RFC 8058: a POST to this HTTPS URL unsubscribes with no further step.
        message["List-Unsubscribe"] = f"<{links.unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message, tracked


def build_alert_email(
    to: str, subject: str, text: str, sender: Sender, message_id: str, now: datetime
) -> Message:
    """A plain internal alert to a person in the business: no tracking, no footer."""
    message = _part(text, "plain")
    alert_sender = (
        sender if sender.from_name else sender.model_copy(update={"from_name": "Tidings"})
    )
    _base_headers(message, alert_sender, to, subject, message_id, now)
    return message


def dkim_sign(raw: bytes, selector: str, domain: str, private_key: bytes) -> bytes:
    """The message with a DKIM-Signature header prepended (relaxed/relaxed, rsa-sha256)."""
    import dkim

    present = {
        line.split(b":", 1)[0].strip().lower()
        for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        if b":" in line and not line.startswith((b" ", b"\t"))
    }
    include = [h for h in DKIM_HEADERS if h.lower() in present]
    signature = dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        private_key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=include,
    )
    return bytes(signature) + raw
