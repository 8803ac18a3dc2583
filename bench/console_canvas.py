"""Opening a 100-step workflow on the console's canvas in headless Chromium.

`python -m bench.console_canvas` builds nothing: run `make console` first. It deploys a
generated workflow of 100 steps (sends, waits, waits for events, branches, splits, updates,
approvals and exits), starts `tidings serve` on SQLite, logs in as a person made with
`tidings users add`, and times a full page load of the canvas until all nodes are drawn, then
the same in the builder (`/workflows/KEY/edit`).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from tests.e2e.console_setup import EMAIL, PASSWORD, prepare, run_node, serving

STEPS = 100


def generated_workflow(steps: int = STEPS) -> dict[str, Any]:
    """A workflow of `steps` steps where every tenth step forks and the forks rejoin."""
    out: list[dict[str, Any]] = []
    for i in range(steps - 1):
        sid, after = f"s{i:03d}", f"s{i + 1:03d}"
        kind = i % 10
        if kind == 3:
            arms = [{"when": f"contact.score >= {i}", "next": after}]
            out.append({"id": sid, "type": "branch", "branches": arms, "else": after})
        elif kind == 6:
            paths = [{"name": n, "percent": 50, "next": after} for n in ("a", "b")]
            out.append({"id": sid, "type": "split", "paths": paths})
        elif kind == 8:
            out.append({"id": sid, "type": "wait", "event": "order_completed", "timeout": "2d"})
        elif kind in (1, 5):
            out.append({"id": sid, "type": "wait", "for": "1d"})
        elif kind == 9:
            out.append({"id": sid, "type": "update", "add_tags": [f"t{i}"]})
        else:
            out.append({"id": sid, "type": "send", "template": "hello"})
    out.append({"id": f"s{steps - 1:03d}", "type": "exit", "reason": "done"})
    return {
        "id": "hundred",
        "name": "A hundred steps",
        "trigger": {"type": "event", "event": "signed_up"},
        "templates": {"hello": {"subject": "Hello", "html": "<p>Hi</p>"}},
        "steps": out,
    }


def bench_canvas(runs: int = 7) -> dict[str, Any]:
    """Median milliseconds from navigation to all 101 nodes drawn, on the canvas and in the
    builder."""
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        spec = cwd / "hundred.yaml"
        spec.write_text(yaml.safe_dump(generated_workflow(), sort_keys=False))
        database = f"sqlite:///{cwd / 'tidings.db'}"
        prepare(database, [spec], cwd)
        with serving(database, cwd) as base:
            done = run_node(
                "canvas-bench.mjs",
                {
                    "CONSOLE_URL": base,
                    "CONSOLE_EMAIL": EMAIL,
                    "CONSOLE_PASSWORD": PASSWORD,
                    "CONSOLE_WORKFLOW": "hundred",
                    "CONSOLE_NODES": str(STEPS + 1),
                    "CONSOLE_RUNS": str(runs),
                },
            )
        if done.returncode != 0:
            raise RuntimeError(done.stdout + done.stderr)
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


if __name__ == "__main__":
    print(json.dumps(bench_canvas()))
