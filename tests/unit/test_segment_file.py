"""Files of Segment calls (NDJSON) for dry runs: each bad line is named by its number, and
the lines around it are kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tidings.api.segment_file import read_calls
from tidings.runtime.ingest import Incoming

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def test_bad_lines_are_named_and_their_neighbours_kept() -> None:
    lines = [
        json.dumps({"type": "track", "userId": "ann", "event": "cart_abandoned"}),
        "{not json",
        "",
        json.dumps({"type": "track", "userId": "ann"}),
        json.dumps(
            {
                "batch": [
                    {"type": "page", "anonymousId": "a1", "name": "Pricing"},
                    {"type": "identify", "timestamp": "yesterday", "userId": "bob"},
                ]
            }
        ),
        json.dumps({"type": "alias", "previousId": "a1", "userId": "ann"}),
        # Next week's scenario, sent by a device whose clock was an hour off: a file's calls
        # happen at their timestamps.
        json.dumps(
            {
                "type": "track",
                "userId": "ann",
                "event": "webinar_started",
                "timestamp": "2026-03-09T10:00:00Z",
                "sentAt": "2026-03-09T11:00:00Z",
            }
        ),
    ]
    found = read_calls("\n".join(lines), NOW)
    assert [str(p) for p in found.problems] == [
        "line 2: not JSON: Expecting property name enclosed in double quotes at column 2"
        " (each line is one Segment call, a JSON object)",
        'line 4.event: track needs the event\'s name, like "Order Completed"',
        "line 5.batch[1].timestamp: 'yesterday' is not an ISO-8601 time, like 2026-03-02T10:00:00Z",
    ]
    assert found.rejected == 3
    names = [c.name if isinstance(c, Incoming) else "alias" for c in found.calls]
    assert names == ["cart_abandoned", "page_viewed", "alias", "webinar_started"]
    assert found.calls[0].timestamp == NOW  # no timestamp: it happened when it was read
    assert found.calls[-1].timestamp == datetime(2026, 3, 9, 10, tzinfo=UTC)
