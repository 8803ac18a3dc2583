"""Bounce (RFC 3464 DSN) and complaint (RFC 5965 ARF) messages, as mail servers send them."""

from __future__ import annotations

import pytest

from tidings.delivery.dsn import BounceNotice, NotAReport, parse_report
from tidings.delivery.results import Bounce

SENT_ID = "<20260302120000.42@shop.example.com>"


def mail(text: str) -> bytes:
    """A message as it arrives over SMTP: CRLF line ends."""
    return text.lstrip("\n").replace("\n", "\r\n").encode()


def dsn(
    recipients: str, *, status_type: str = "message/delivery-status", original: str = ""
) -> bytes:
    """A Postfix-style bounce: explanation, status fields, and the original's headers."""
    return mail(
        f"""
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: bounces@shop.example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="B-1"

--B-1
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.
I'm sorry to have to inform you that your message could not be delivered.

--B-1
Content-Type: {status_type}

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 4Q1ZyV2kXwz9sWP
Arrival-Date: Mon,  2 Mar 2026 12:00:01 +0000 (UTC)
{recipients}
--B-1
{original}
--B-1--
"""
    )


ORIGINAL_HEADERS = f"""Content-Type: text/rfc822-headers; charset=us-ascii

From: Shop <news@shop.example.com>
To: ann@example.com
Subject: Spring sale
Message-ID: {SENT_ID}
"""

UNKNOWN_USER = """
Final-Recipient: rfc822; ann@example.com
Original-Recipient: rfc822;ann@example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.example.com
Diagnostic-Code: smtp; 550 5.1.1 <ann@example.com>: Recipient address rejected:
    User unknown in virtual mailbox table
"""

MAILBOX_FULL_RETRYING = """
Final-Recipient: rfc822; bob@example.org
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full
Will-Retry-Until: Thu, 5 Mar 2026 12:00:01 +0000
"""


def test_an_unknown_user_is_a_hard_bounce_of_the_message_sent() -> None:
    [report] = parse_report(dsn(UNKNOWN_USER, original=ORIGINAL_HEADERS))
    assert report.kind is Bounce.HARD
    assert report.recipient == "ann@example.com"
    assert report.message_id == SENT_ID  # ties the bounce to the message Tidings sent
    # The status, then the server's words, its folded line joined.
    assert report.reason == (
        "5.1.1 550 5.1.1 <ann@example.com>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )


def test_a_delay_is_a_soft_bounce() -> None:
    [report] = parse_report(dsn(MAILBOX_FULL_RETRYING, original=ORIGINAL_HEADERS))
    assert report == BounceNotice(
        Bounce.SOFT, "bob@example.org", "4.2.2 452 4.2.2 Mailbox full", SENT_ID
    )


@pytest.mark.parametrize(
    ("action", "status", "kind"),
    [
        ("failed", "5.7.1", Bounce.HARD),  # refused by policy: for good
        ("failed", "4.4.7", Bounce.SOFT),  # given up after retrying a temporary failure
        ("delayed", "4.4.1", Bounce.SOFT),  # no answer yet, still trying
        ("Failed", "5.0.0", Bounce.HARD),  # field values are not case-sensitive
    ],
)
def test_hard_means_failed_with_a_permanent_status(action: str, status: str, kind: Bounce) -> None:
    block = f"\nFinal-Recipient: rfc822; ann@example.com\nAction: {action}\nStatus: {status}\n"
    [report] = parse_report(dsn(block))
    assert report.kind is kind
    assert report.reason == status  # no Diagnostic-Code: the status alone


def test_each_failed_recipient_is_reported_and_delivered_ones_are_not() -> None:
    delivered = "\nFinal-Recipient: rfc822; cy@example.com\nAction: delivered\nStatus: 2.0.0\n"
    relayed = "\nFinal-Recipient: rfc822; di@example.com\nAction: relayed\nStatus: 2.0.0\n"
    found = parse_report(dsn(UNKNOWN_USER + delivered + MAILBOX_FULL_RETRYING + relayed))
    assert [(r.recipient, r.kind) for r in found] == [
        ("ann@example.com", Bounce.HARD),
        ("bob@example.org", Bounce.SOFT),
    ]


def test_the_original_recipient_stands_in_for_a_missing_final_recipient() -> None:
    block = "\nOriginal-Recipient: rfc822; ann@example.com\nAction: failed\nStatus: 5.1.1\n"
    [report] = parse_report(dsn(block))
    assert report.recipient == "ann@example.com"


def test_a_recipient_without_an_address_is_skipped_and_others_kept() -> None:
    nameless = "\nAction: failed\nStatus: 5.1.1\n"
    [report] = parse_report(dsn(nameless + UNKNOWN_USER))
    assert report.recipient == "ann@example.com"


def test_a_report_without_a_status_gives_the_action_as_the_reason() -> None:
    [report] = parse_report(dsn("\nFinal-Recipient: rfc822; ann@example.com\nAction: failed\n"))
    assert (report.kind, report.reason) == (Bounce.SOFT, "failed")  # no 5.x.x: not for good


def test_the_original_message_quoted_whole_names_the_message() -> None:
    whole = f"""Content-Type: message/rfc822

From: Shop <news@shop.example.com>
To: ann@example.com
Message-ID: {SENT_ID}
Content-Type: text/plain

Spring sale!
"""
    [report] = parse_report(dsn(UNKNOWN_USER, original=whole))
    assert report.message_id == SENT_ID


def test_a_bounce_that_quotes_nothing_has_no_message_id() -> None:
    [report] = parse_report(dsn(UNKNOWN_USER))
    assert report.message_id is None


def test_an_internationalised_bounce_is_read_as_utf8() -> None:
    # RFC 6533: SMTPUTF8 mail bounces with message/global-delivery-status and
    # message/global-headers, their fields in UTF-8.
    block = """
Final-Recipient: utf-8; jörg@bücher.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 Empfänger unbekannt
"""
    original = f"""Content-Type: message/global-headers

From: Shop <news@shop.example.com>
To: jörg@bücher.example
Message-ID: {SENT_ID}
"""
    [report] = parse_report(
        dsn(block, status_type="message/global-delivery-status", original=original)
    )
    assert report == BounceNotice(
        Bounce.HARD, "jörg@bücher.example", "5.1.1 550 5.1.1 Empfänger unbekannt", SENT_ID
    )


def arf(feedback: str, original_to: str = "ann@example.com") -> bytes:
    """An abuse report as a mailbox provider's feedback loop sends it (RFC 5965 section 5)."""
    return mail(
        f"""
From: <abusedesk@mailbox.example>
Date: Thu, 5 Mar 2026 09:30:00 +0000
Subject: FW: Spring sale
To: <fbl@shop.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
     boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.1 on Thu, 5 Mar 2026 09:00:00 +0000.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

{feedback}
--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

From: <news@shop.example.com>
Received: from mailserver.example.net (mailserver.example.net [192.0.2.1])
        by mailbox.example with ESMTP id M63d4137594e46; Thu, 5 Mar 2026 09:00:00 +0000
To: {original_to}
Subject: Spring sale
MIME-Version: 1.0
Message-ID: {SENT_ID}
Date: Thu, 5 Mar 2026 08:59:00 +0000
Content-Type: text/plain

Spring sale!

--part1_13d.2e68ed54_boundary--
"""
    )


FEEDBACK = """Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <bounces@shop.example.com>
Original-Rcpt-To: <ann@example.com>
Arrival-Date: Thu, 5 Mar 2026 09:00:00 +0000
Reported-Domain: shop.example.com
Source-IP: 192.0.2.1
"""


def test_an_abuse_report_is_a_complaint_about_the_message_sent() -> None:
    [report] = parse_report(arf(FEEDBACK))
    assert report == BounceNotice(Bounce.COMPLAINT, "ann@example.com", "feedback: abuse", SENT_ID)


def test_a_redacted_report_names_the_recipient_from_the_original_to() -> None:
    # Many feedback loops leave out Original-Rcpt-To to protect the reporter.
    redacted = FEEDBACK.replace("Original-Rcpt-To: <ann@example.com>\n", "")
    [report] = parse_report(arf(redacted, original_to="Ann <ann@example.com>"))
    assert report.recipient == "ann@example.com"


def test_a_report_naming_no_recipient_at_all_is_refused() -> None:
    redacted = FEEDBACK.replace("Original-Rcpt-To: <ann@example.com>\n", "")
    with pytest.raises(NotAReport, match="names no recipient"):
        parse_report(arf(redacted, original_to=""))


@pytest.mark.parametrize(
    ("feedback_type", "reason"),
    [
        ("Feedback-Type: fraud", "feedback: fraud"),
        ("Feedback-Type: Not-Spam", "feedback: not-spam"),
        ("", "feedback: abuse"),  # the type left out: abuse, the usual one
    ],
)
def test_the_feedback_type_is_the_reason(feedback_type: str, reason: str) -> None:
    fields = FEEDBACK.replace("Feedback-Type: abuse", feedback_type)
    [report] = parse_report(arf(fields.lstrip("\n")))
    assert report.reason == reason


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        # An ordinary reply that landed in the bounce mailbox.
        (mail("From: ann@example.com\nSubject: Re: Spring sale\n\nThanks!\n"), "got text/plain"),
        (
            mail(
                'Content-Type: multipart/report; report-type=disposition-notification; boundary="x"'
                "\n\n--x\nContent-Type: text/plain\n\nread\n--x--\n"
            ),
            "report-type disposition-notification is neither",
        ),
        (
            mail('Content-Type: multipart/report; boundary="x"\n\n--x\n\n--x--\n'),
            r"report-type \(none\)",
        ),
        # Only delivered recipients: nothing bounced.
        (
            dsn("\nFinal-Recipient: rfc822; cy@example.com\nAction: delivered\nStatus: 2.0.0\n"),
            "names no failed recipient",
        ),
        (dsn(""), "names no failed recipient"),  # no recipient block at all
        (
            mail(
                'Content-Type: multipart/report; report-type=feedback-report; boundary="x"'
                "\n\n--x\nContent-Type: text/plain\n\nspam\n--x--\n"
            ),
            "no message/feedback-report part",
        ),
        (b"", "got text/plain"),  # an empty message
    ],
)
def test_what_is_not_a_report_is_refused_saying_why(raw: bytes, why: str) -> None:
    with pytest.raises(NotAReport, match=why):
        parse_report(raw)
