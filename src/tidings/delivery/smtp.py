"""Email over SMTP to any provider: plain, STARTTLS or implicit TLS, with or without login.

One connection is kept open across messages and opened again when the server drops it.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from tidings.delivery.results import Failed, Result, Sent
from tidings.delivery.settings import ascii_address
from tidings.errors import ConfigError


@dataclass(frozen=True)
class SmtpConfig:
    """Where to hand mail over. From a URL:

    `smtp://host:25` (no TLS), `smtp://user:pass@host:587?starttls=1` (STARTTLS),
    `smtps://user:pass@host:465` (TLS from the start).
    """

    host: str
    port: int
    security: str = "none"  # none, starttls or tls
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> SmtpConfig:
        """Parse TIDINGS_SMTP_URL, naming what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ConfigError(
                f"TIDINGS_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme!r}"
            )
        if not parts.hostname:
            raise ConfigError("TIDINGS_SMTP_URL has no host, like smtp://mail.example.com:587")
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
        security = "tls" if parts.scheme == "smtps" else "starttls" if starttls else "none"
        try:
            port = parts.port or (465 if security == "tls" else 587 if starttls else 25)
        except ValueError:
            raise ConfigError("TIDINGS_SMTP_URL has a port that is not a number") from None
        return cls(
            host=parts.hostname,
            port=port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )


class SmtpChannel:
    """Sends raw messages; classifies the server's answers into retry, bounce or give up.

    Each sending thread keeps its own connection (the dispatcher sends several messages
    at once: a provider's round trips, not the CPU, set the pace).
    """

    def __init__(self, config: SmtpConfig, tls: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.tls = tls or ssl.create_default_context()
        self._local = threading.local()
        self._open: set[smtplib.SMTP] = set()
        self._lock = threading.Lock()

    def _connection(self) -> smtplib.SMTP:
        """This thread's connection, opened on first use."""
        client: smtplib.SMTP | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._connect()
            with self._lock:
                self._open.add(client)
        return client

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        client: smtplib.SMTP
        if c.security == "tls":
            client = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=self.tls)
        else:
            client = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        try:
            if c.security == "starttls":
                client.starttls(context=self.tls)
            if c.username:
                client.login(c.username, c.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def send(self, sender: str, recipient: str, raw: bytes) -> Result:
        """Hand one message to the server."""
        # The envelope is ASCII: internationalised domains go in their IDNA form. A name
        # before the @ that is not ASCII would need SMTPUTF8, which Tidings does not ask for
        # (the preparers drop such addresses first); smtplib would raise mid-transaction and
        # leave the connection to fail the next message, so it is refused here too.
        sender, recipient = ascii_address(sender), ascii_address(recipient)
        for address in (sender, recipient):
            if not address.isascii():
                return Failed(
                    f"{address} has non-ASCII characters before the @, which Tidings cannot "
                    "send to",
                    permanent=True,
                )
        for attempt in (1, 2):
            try:
                self._connection().sendmail(sender, [recipient], raw)
                return Sent()
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()))
                return _answer(code, reply, bounce=True)
            except smtplib.SMTPSenderRefused as exc:
                return _answer(exc.smtp_code, exc.smtp_error, bounce=False)
            except smtplib.SMTPDataError as exc:
                return _answer(exc.smtp_code, exc.smtp_error, bounce=False)
            except smtplib.SMTPAuthenticationError as exc:
                self._drop()
                return Failed(f"the SMTP server refused the login: {exc.smtp_code}")
            except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
                self._drop()
                if attempt == 2:
                    return Failed(f"cannot reach the SMTP server: {exc}")
            except smtplib.SMTPException as exc:
                self._drop()
                return Failed(f"SMTP error: {exc}")
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        """Forget this thread's connection after an error."""
        client, self._local.client = getattr(self._local, "client", None), None
        if client is not None:
            with self._lock:
                self._open.discard(client)
            _goodbye(client)

    def close(self) -> None:
        """Say goodbye to the server on every connection."""
        with self._lock:
            clients, self._open = list(self._open), set()
        self._local = threading.local()
        for client in clients:
            _goodbye(client)


def _goodbye(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _answer(code: int, reply: bytes | str, *, bounce: bool) -> Failed:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    error = f"SMTP {code}: {text}"
    if 500 <= code < 600:
        return Failed(error, permanent=True, bounce=bounce)
    return Failed(error)
