"""The Message-ID Tidings gives an email: `<message id.workspace id.tidings@domain>`.

Written when the email is built and read back when a bounce or complaint quotes it: the
message's id inside it finds the message without an index on the stored header.
"""

from __future__ import annotations

import re

_OURS = re.compile(r"^<(\d{1,18})\.\d{1,9}\.tidings@[^>]+>$")


def make_message_id(message_id: int, workspace_id: int, domain: str) -> str:
    """The Message-ID header of outbox message `message_id`, sent from `domain`."""
    return f"<{message_id}.{workspace_id}.tidings@{domain}>"


def message_of(header: str) -> int | None:
    """The outbox message id inside a Message-ID Tidings made; None for any other."""
    found = _OURS.match(header.strip())
    return int(found.group(1)) if found else None
