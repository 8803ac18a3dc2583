"""Profile `tidings demo` in-process: CPU time by function and SQL statements by kind.

    python -m bench.profile_demo --contacts 2000 [--profile out.prof]

cProfile runs on `time.process_time` (CPU time: the machine is shared, so wall time
counts other people's work); every statement the engine sends is counted by a
SQLAlchemy `before_cursor_execute` listener, grouped by its first words and table.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from tidings.cli.main import app

_KIND = re.compile(r"^\s*(\w+)(?:.*?\b(?:FROM|INTO|UPDATE)\s+(\w+))?", re.S | re.I)


def _kind(statement: str) -> str:
    found = _KIND.match(statement)
    if found is None:
        return statement[:30]
    verb, table = found.group(1).upper(), found.group(2)
    if verb == "UPDATE":
        table = statement.split()[1]
    return f"{verb} {table or ''}".strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--where", action="append", default=[], help="show callers of a kind")
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    callers: Counter[tuple[str, str]] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        kind = _kind(statement)
        counts[kind] += 1
        if kind in args.where:
            frames = [
                f"{Path(f.filename).stem}:{f.lineno}:{f.name}"
                for f in traceback.extract_stack()
                if "/tidings/" in f.filename and "/storage/" not in f.filename
            ]
            callers[(kind, " < ".join(reversed(frames[-4:])))] += 1

    event.listen(Engine, "before_cursor_execute", count)
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{folder}/demo.db"
        argv = ["demo", "--contacts", str(args.contacts), "--database", database]
        argv += ["--report", f"{folder}/report.html"]
        profiler = cProfile.Profile(time.process_time)
        wall, cpu = time.perf_counter(), time.process_time()
        if not args.no_profile:
            profiler.enable()
        result = CliRunner().invoke(app, argv, catch_exceptions=False)
        if not args.no_profile:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(result.output.strip().splitlines()[-5])
    print(f"wall {wall:.1f} s, cpu {cpu:.1f} s, statements {sum(counts.values()):,}")
    for kind, n in counts.most_common(25):
        print(f"{n:>8,}  {kind}")
    for (kind, where), n in callers.most_common(30):
        print(f"{n:>8,}  {kind}  {where}")
    if not args.no_profile:
        if args.profile:
            profiler.dump_stats(str(args.profile))
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
