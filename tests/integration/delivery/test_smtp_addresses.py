"""An address with a name before the @ that is not ASCII (`ünï@example.com`, which would
need SMTPUTF8) is refused by the SMTP channel itself, for good and with the reason, and
never leaves the connection unusable for the next message."""

from __future__ import annotations

import pytest

from tests.servers import smtp_server
from tidings.delivery.results import Failed, Sent
from tidings.delivery.smtp import SmtpChannel, SmtpConfig

RAW = b"Subject: Hi\r\n\r\nHello\r\n"


@pytest.mark.parametrize(
    ("sender", "recipient", "named"),
    [
        ("news@shop.example", "ünï@example.com", "ünï@example.com"),
        ("nöws@shop.example", "ann@example.com", "nöws@shop.example"),
    ],
)
def test_a_non_ascii_name_before_the_at_fails_for_good_and_the_next_message_is_sent(
    sender: str, recipient: str, named: str
) -> None:
    with smtp_server() as (sink, port):
        channel = SmtpChannel(SmtpConfig("127.0.0.1", port, timeout=5.0))
        try:
            refused = channel.send(sender, recipient, RAW)
            after = channel.send("news@shop.example", "bob@example.com", RAW)
        finally:
            channel.close()
    assert isinstance(refused, Failed) and refused.permanent and not refused.bounce
    assert named in refused.error and "non-ASCII characters before the @" in refused.error
    # The refusal left the connection as it was: the next message goes through on it.
    assert after == Sent()
    assert [r.rcpt_to for r in sink.received] == [["bob@example.com"]]
