"""`tidings workflows simulate` of two workflows that enroll into each other's journeys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

#: Each order enrolls the customer in `thanks`, which the order also starts by itself.
ORDERS = """\
id: orders
name: Orders
trigger: {event: order_completed}
entry: {reentry: always}
steps:
  - {id: thank, type: enroll, workflow: thanks}
"""

THANKS = """\
id: thanks
name: Thanks
trigger: {event: order_completed}
entry: {reentry: always}
templates:
  t: {subject: "Thank you", text: "..."}
steps:
  - {id: pause, type: wait, for: 1h}
  - {id: thank, type: send, template: t, kind: transactional}
"""


def test_simulating_an_enroll_pair_runs_to_the_end(tmp_path: Path) -> None:
    (tmp_path / "orders.yaml").write_text(ORDERS)
    (tmp_path / "thanks.yaml").write_text(THANKS)
    files = ["orders.yaml", "thanks.yaml"]
    result = subprocess.run(
        [sys.executable, "-m", "tidings", "workflows", "simulate", *files, "--contacts", "200"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "orders v1" in result.stdout and "thanks v1" in result.stdout


def test_a_workflow_enrolling_into_one_deployed_before_deploys_alone(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/t.db"
    (tmp_path / "orders.yaml").write_text(ORDERS)
    (tmp_path / "thanks.yaml").write_text(THANKS)

    def tidings(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "tidings", *args, "--database", db]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)

    assert tidings("init").returncode == 0
    # Given the workflow an enroll step names, deployed on its own first
    assert tidings("workflows", "deploy", "thanks.yaml").returncode == 0
    # the workflow that enrolls into it deploys without it among the files
    result = tidings("workflows", "deploy", "orders.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "orders: deployed, version 1" in result.stdout
    # and a workflow that is nowhere is still refused, with the fix
    (tmp_path / "orders.yaml").write_text(ORDERS.replace("workflow: thanks", "workflow: thank"))
    refused = tidings("workflows", "deploy", "orders.yaml")
    assert refused.returncode == 3
    assert "unknown workflow 'thank'" in refused.stdout + refused.stderr
