"""Group commit for single calls: every call waiting at that moment shares one transaction.

One event per request means one transaction per event, and a commit is the expensive part
(SQLite has one writer; PostgreSQL flushes its log). A committer thread takes all the calls
queued while the previous transaction ran, stores them together, and answers each caller
when that transaction has committed: a 2xx still means "committed".
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from tidings.runtime.ingest import Incoming
from tidings.runtime.merges import AliasCall

logger = logging.getLogger(__name__)

#: The most calls one group transaction takes.
MAX_GROUP = 500

Call = Incoming | AliasCall
Store = Callable[[int, list[Call]], object]


@dataclass
class _Waiting:
    workspace_id: int
    call: Call
    done: Future[None]


class GroupCommitter:
    """Threads that commit queued single calls in groups, per workspace."""

    def __init__(self, store: Store, threads: int = 1) -> None:
        self._store = store
        self._queue: queue.Queue[_Waiting | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._run, name=f"committer-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, workspace_id: int, call: Call) -> Future[None]:
        """Queue a call; the future resolves when it is committed (or fails with the error)."""
        done: Future[None] = Future()
        self._queue.put(_Waiting(workspace_id, call, done))
        return done

    def close(self) -> None:
        """Finish what is queued, then stop the threads."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # leave the stop signal for this thread's next turn
                    break
                group.append(more)
            self._commit(group)

    def _commit(self, group: list[_Waiting]) -> None:
        by_workspace: dict[int, list[_Waiting]] = {}
        for item in group:
            by_workspace.setdefault(item.workspace_id, []).append(item)
        for workspace_id, calls in by_workspace.items():
            if self._try(workspace_id, calls) or len(calls) == 1:
                continue
            # One call may have sunk the group: commit each alone, so only it fails.
            for alone in calls:
                self._try(workspace_id, [alone])

    def _try(self, workspace_id: int, waiting: list[_Waiting]) -> bool:
        """Commit these calls together; answer them all. False when the transaction failed."""
        try:
            self._store(workspace_id, [w.call for w in waiting])
        except Exception as exc:
            if len(waiting) == 1:
                waiting[0].done.set_exception(exc)
            logger.info(
                "group commit failed", extra={"action": "group_commit", "calls": len(waiting)}
            )
            return False
        for w in waiting:
            w.done.set_result(None)
        return True
