"""Group commit bookkeeping: waiting calls share a transaction; a bad call fails alone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from tidings.api.committer import GroupCommitter
from tidings.runtime.ingest import Incoming
from tidings.runtime.merges import AliasCall

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def call(name: str) -> Incoming:
    return Incoming(name, "u1", name, NOW)


def test_calls_waiting_together_commit_together_and_a_bad_one_fails_alone() -> None:
    transactions: list[list[str]] = []
    release = threading.Event()

    def store(workspace_id: int, calls: list[Incoming | AliasCall]) -> None:
        names = [c.message_id for c in calls]
        if names == ["first"]:
            release.wait(5)  # the first transaction is slow: the rest queue behind it
        if "bad" in names:
            raise ValueError("cannot store 'bad'")
        transactions.append(names)

    committer = GroupCommitter(store)
    first = committer.submit(1, call("first"))
    queued = [committer.submit(1, call(name)) for name in ("a", "bad", "b")]
    release.set()
    first.result(5)
    assert [f.result(5) for f in (queued[0], queued[2])] == [None, None]
    with pytest.raises(ValueError, match="cannot store 'bad'"):
        queued[1].result(5)
    committer.close()
    # the three that waited tried one transaction, then each alone: only "bad" failed
    assert transactions == [["first"], ["a"], ["b"]]


def test_each_transaction_holds_one_workspaces_calls() -> None:
    seen: list[tuple[int, list[str]]] = []
    gate = threading.Event()

    def store(workspace_id: int, calls: list[Incoming | AliasCall]) -> None:
        gate.wait(5)
        seen.append((workspace_id, [c.message_id for c in calls]))

    committer = GroupCommitter(store)
    futures = [committer.submit(w, call(f"w{w}-{i}")) for i, w in enumerate([1, 2, 1, 2, 1])]
    gate.set()
    for future in futures:
        future.result(5)
    committer.close()
    assert sorted(m for _, ids in seen for m in ids) == ["w1-0", "w1-2", "w1-4", "w2-1", "w2-3"]
    assert all(m.startswith(f"w{workspace}-") for workspace, ids in seen for m in ids)
