"""Reading Segment calls is total: any JSON gives a call or a rejection, never an exception,
and nothing accepted holds what a database cannot store and give back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.api.segment_protocol import Rejected, read_call
from tidings.core.values import unstorable
from tidings.runtime.ingest import Incoming
from tidings.runtime.merges import AliasCall

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
FIELDS = [
    "type", "userId", "anonymousId", "messageId", "previousId", "event", "name", "category",
    "groupId", "properties", "traits", "context", "timestamp", "sentAt", "email", "phone",
    "timezone", "first_name", "total",
]  # fmt: skip
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and infinities included
    st.text(),  # lone surrogates and NUL included
    st.sampled_from(["track", "identify", "page", "screen", "group", "alias", "2026-03-01"]),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=3)), inner, max_size=5),
    ),
    max_leaves=25,
)
CALLS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8)


@settings(max_examples=400, deadline=None)
@given(st.one_of(CALLS, VALUES), st.sampled_from([None, "track", "identify", "page", "alias"]))
def test_any_call_is_read_or_rejected_and_what_is_read_can_be_stored(
    raw: Any, call_type: str | None
) -> None:
    call = read_call(raw, "batch[0]", NOW, call_type)
    assert isinstance(call, Incoming | AliasCall | Rejected)
    if isinstance(call, Rejected):
        assert call.problems
        assert all(p.path.startswith("batch[0]") for p in call.problems)
    elif isinstance(call, Incoming):
        assert unstorable(dict(call.properties)) == []
        assert unstorable(dict(call.traits)) == []
        assert unstorable([call.name, call.message_id, call.user_id, call.anonymous_id]) == []
