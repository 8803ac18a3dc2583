"""Renders are judged by CPU time that leaves out garbage collections."""

from __future__ import annotations

import gc
import time

from tidings.runtime.render_clock import render_cpu_seconds


def test_a_full_collection_is_not_charged_to_the_render_clock() -> None:
    # Given a heap with enough objects that a full collection takes measurable CPU time
    heap = [[i] for i in range(1_000_000)]
    before_cpu, before_render = time.thread_time(), render_cpu_seconds()
    # When a full collection runs in this thread
    gc.collect()
    cpu, render = time.thread_time() - before_cpu, render_cpu_seconds() - before_render
    # Then the thread spent CPU on it, but almost none of it shows on the render clock
    assert cpu > 0
    assert render < cpu / 2
    del heap


def test_the_render_clock_counts_work_outside_collections() -> None:
    before = render_cpu_seconds()
    total = 0
    for i in range(2_000_000):
        total += i * i
    assert render_cpu_seconds() > before
