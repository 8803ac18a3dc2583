"""Addresses with a name before the @ that is not ASCII (`ünï@example.com`, which the
cleaning accepts): carried with SMTPUTF8 when the server offers it, refused for good with
the reason when it does not, and never leaving the connection unusable for the next one."""

from __future__ import annotations

import pytest

from tests.servers import smtp_server
from tidings.delivery.results import Failed, Sent
from tidings.delivery.smtp import SmtpChannel, SmtpConfig

RAW = b"Subject: Hi\r\n\r\nHello\r\n"


@pytest.mark.parametrize(
    ("sender", "recipient"),
    [("news@shop.example", "ünï@example.com"), ("nöws@shop.example", "ann@example.com")],
)
def test_a_server_with_smtputf8_gets_the_address_as_written(sender: str, recipient: str) -> None:
    with smtp_server(smtputf8=True) as (sink, port):
        channel = SmtpChannel(SmtpConfig("127.0.0.1", port, timeout=5.0))
        try:
            assert channel.send(sender, recipient, RAW) == Sent()
        finally:
            channel.close()
    [received] = sink.received
    assert (received.mail_from, received.rcpt_to) == (sender, [recipient])


def test_without_smtputf8_the_message_fails_for_good_and_the_next_one_is_sent() -> None:
    with smtp_server() as (sink, port):
        channel = SmtpChannel(SmtpConfig("127.0.0.1", port, timeout=5.0))
        try:
            refused = channel.send("news@shop.example", "ünï@example.com", RAW)
            after = channel.send("news@shop.example", "ann@example.com", RAW)
        finally:
            channel.close()
    assert isinstance(refused, Failed) and refused.permanent and not refused.bounce
    assert "ünï@example.com" in refused.error and "SMTPUTF8" in refused.error
    # The refusal left the connection as it was: the next message goes through on it.
    assert after == Sent()
    assert [r.rcpt_to for r in sink.received] == [["ann@example.com"]]
