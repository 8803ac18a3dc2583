"""The clock renders are judged by: this thread's CPU time, less its garbage collections.

A collection runs in whichever thread happens to allocate when it is due, and a full one
over a large heap takes a tenth of a second or more of that thread's CPU: charged to a
render, it would hold an ordinary message for a pause the template did not cause.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any


class _Collections(threading.local):
    started_at: float | None = None
    spent: float = 0.0


_local = _Collections()


def _on_collection(phase: str, _info: dict[str, Any]) -> None:
    # Called by the interpreter in the thread that runs the collection.
    if phase == "start":
        _local.started_at = time.thread_time()
    elif _local.started_at is not None:
        _local.spent += time.thread_time() - _local.started_at
        _local.started_at = None


gc.callbacks.append(_on_collection)


def render_cpu_seconds() -> float:
    """Seconds of this thread's CPU time spent outside garbage collection; only grows."""
    return time.thread_time() - _local.spent
