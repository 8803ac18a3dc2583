"""A file of Segment calls, one JSON object a line (NDJSON), read as the API reads them.

Each line is judged alone by `segment_protocol.read_call`, so a bad line is reported with
its number and every mistake in it, and the lines around it are kept. A line may also be
a Segment batch (`{"batch": [...]}`), whose calls are judged one by one.

A file is not a live delivery: each call happens at its `timestamp`, future ones included
(a scenario for next week), and `sentAt` is ignored (it corrects a device's clock against
the moment a call arrives, which a file does not have).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from tidings.api.segment_protocol import Rejected, read_call
from tidings.core.problems import Problem
from tidings.runtime.ingest import Incoming
from tidings.runtime.merges import AliasCall


@dataclass
class CallsFile:
    """The calls read from a file, and the problems of the lines that could not be."""

    calls: list[Incoming | AliasCall] = field(default_factory=list)
    #: Where each call is in the file (`line 3`, `line 4.batch[0]`), in the same order.
    where: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: How many calls were refused.
    rejected: int = 0


#: Read as the moment every call arrived, so that no timestamp is in the future; a call
#: without one is then given the time the file is read.
_NEVER = datetime(9999, 1, 1, tzinfo=UTC)


def read_calls(text: str, received_at: datetime) -> CallsFile:
    """Every call of an NDJSON text; a call without a timestamp happened at `received_at`."""
    found = CallsFile()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            raw: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            found.rejected += 1
            found.problems.append(
                Problem(
                    where,
                    f"not JSON: {exc.msg} at column {exc.colno}",
                    "each line is one Segment call, a JSON object",
                )
            )
            continue
        batch = raw.get("batch") if isinstance(raw, dict) else None
        items = (
            [(f"{where}.batch[{i}]", item) for i, item in enumerate(batch)]
            if isinstance(batch, list)
            else [(where, raw)]
        )
        for path, item in items:
            if isinstance(item, dict):
                item = {k: v for k, v in item.items() if k != "sentAt"}
            call = read_call(item, path, _NEVER)
            if isinstance(call, Rejected):
                found.rejected += 1
                found.problems += call.problems
            else:
                untimed = call.timestamp == _NEVER
                found.calls.append(replace(call, timestamp=received_at) if untimed else call)
                found.where.append(path)
    return found
