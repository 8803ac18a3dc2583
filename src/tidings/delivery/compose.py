"""Turning an outbox row into an email: tracked links, the footer, headers, DKIM.

Rendering (Liquid) happened when the step ran; what happens here depends on the message's
id and the workspace's sender settings, so it is done at send time.
"""

from __future__ import annotations

import binascii
import html as html_lib
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.charset import Charset
from email.header import Header
from email.headerregistry import Address
from email.policy import SMTP
from email.utils import format_datetime
from functools import lru_cache

from tidings.delivery.settings import Sender, ascii_address

CRLF = "\r\n"
#: Longest line SMTP allows, without its CRLF (RFC 5321 4.5.3.1.6).
MAX_LINE = 998

#: An anchor's href with an absolute web URL: the links that get click tracking.
_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"'\s>]+)\2""", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
#: An address the email package would write as it is: a dot-atom local part (RFC 5322
#: 3.2.3, nothing to quote) at an ASCII domain.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
)


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
class EmailParts:
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


_TEXT_URL = re.compile(r"""https?://[^\s<>()\[\]"']+""")


def _track_text(text: str, tracked: list[str], click_url: Callable[[int], str]) -> str:
    """The text part's copies of the HTML's links go through the same redirects."""
    index = {url: i for i, url in reversed(list(enumerate(tracked)))}

    def swap(match: re.Match[str]) -> str:
        found = index.get(match.group(0))
        return match.group(0) if found is None else click_url(found)

    return _TEXT_URL.sub(swap, text)


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
    """A header value on one line: line breaks and other control characters in rendered
    text must not add headers or break the folding."""
    printable = "".join(" " if unicodedata.category(c) == "Cc" else c for c in value)
    return " ".join(printable.split())


def _fold(name: str, value: str) -> str:
    """An unstructured header (Subject) as SMTP carries it: plain ASCII words folded
    between words under 78 characters, anything else RFC 2047 encoded as a run of
    encoded words, lines joined by CRLF. Without the trailing CRLF (`_assemble` adds it).

    Not the SMTP policy's folder: it drops the space between encoded and plain words in
    long mixed text, decodes a literal `=?...?=` typed in a subject, and may fold right
    after the colon, which the email package then reads back with a leading space.
    """
    if not _is_plain(value):
        return f"{name}: {Header(value, 'utf-8', header_name=name).encode(linesep=CRLF)}"
    lines, line = [], f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > 78 and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + word
    return CRLF.join([*lines, line])


def _is_plain(value: str) -> bool:
    """ASCII words short enough to fold between, none looking like an encoded word."""
    return value.isascii() and "=?" not in value and all(len(w) <= 70 for w in value.split())


@lru_cache(maxsize=4096)
def _mailbox(header: str, address: str, name: str = "") -> str:
    """From, To or Reply-To with one address, its domain in ASCII (IDNA) form.

    A non-ASCII name goes in one encoded word when the line stays within SMTP's 998
    octets: split into several, RFC 2047 readers join the words while the email package
    (and some clients) put a space between them, changing the name.

    Cached, and a plain address without a name is written directly: the email package's
    header parser took a third of the time of composing a message, and the sender's own
    lines are the same in every message.
    """
    if not name and _PLAIN_ADDRESS.fullmatch(address) and len(header) + 2 + len(address) <= 78:
        return f"{header}: {address}"
    local, _, domain = ascii_address(address).rpartition("@")
    mailbox = Address(display_name=_header_text(name), username=local, domain=domain)
    if mailbox.display_name and not mailbox.display_name.isascii():
        word = Charset("utf-8").header_encode(mailbox.display_name)
        line = f"{header}: {word} <{mailbox.addr_spec}>"
        if len(line) <= MAX_LINE:
            return line
    folded: str = SMTP.header_factory(header, [mailbox]).fold(policy=SMTP)
    return folded.removesuffix(CRLF)


def _part(body: str, subtype: str) -> bytes:
    """A UTF-8 text part, quoted-printable (readable in the raw, safe for 7-bit relays)."""
    data = body.replace("\r\n", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
    head += "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    return head.encode() + bytes(encoded).replace(b"\n", b"\r\n")


def _headers(sender: Sender, to: str, subject: str, msgid: str, now: datetime) -> list[str]:
    found = [
        _mailbox("From", sender.from_email, sender.from_name),
        _mailbox("To", _header_text(to)),
        _fold("Subject", _header_text(subject)),
        f"Date: {format_datetime(now)}",
        f"Message-ID: {_header_text(msgid)}",
    ]
    if sender.reply_to:
        found.append(_mailbox("Reply-To", sender.reply_to))
    found.append("MIME-Version: 1.0")
    return found


def _assemble(headers: list[str], parts: list[bytes]) -> bytes:
    """Headers and one part, or a multipart/alternative of several, with CRLF line ends.

    Written out directly rather than through the email package's generator, which took
    most of the dispatcher's time (bench/). The boundary starts with `=_`, which
    quoted-printable bodies cannot contain.
    """
    if len(parts) == 1:
        return ("\r\n".join(headers) + "\r\n").encode() + parts[0]
    boundary = f"=_tidings_{secrets.token_hex(12)}"
    head = [*headers, f'Content-Type: multipart/alternative; boundary="{boundary}"']
    out = ("\r\n".join(head) + "\r\n\r\n").encode()
    for part in parts:
        out += f"--{boundary}\r\n".encode() + part + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def build_email(
    out: EmailParts, sender: Sender, links: Links, now: datetime
) -> tuple[bytes, list[str]]:
    """The message as sent (multipart/alternative when there is HTML) and its tracked links."""
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
    if tracked:
        text = _track_text(text, tracked, links.click)
    if out.marketing:
        text = text.rstrip("\n") + "\n" + _footer_text(links, out.postal_address)

    headers = _headers(sender, out.to, out.subject, out.message_id, now)
    if out.marketing:
        # RFC 8058: a POST to this HTTPS URL unsubscribes with no further step.
        headers.append(f"List-Unsubscribe: <{links.unsubscribe}>")
        headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    parts = [_part(text, "plain")] + ([_part(html, "html")] if html is not None else [])
    return _assemble(headers, parts), tracked


def build_alert_email(
    to: str, subject: str, text: str, sender: Sender, message_id: str, now: datetime
) -> bytes:
    """A plain internal alert to a person in the business: no tracking, no footer."""
    named = sender if sender.from_name else sender.model_copy(update={"from_name": "Tidings"})
    return _assemble(_headers(named, to, subject, message_id, now), [_part(text, "plain")])


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
