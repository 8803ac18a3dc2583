"""The simulator sends through the real dispatcher, so a workflow's own policies hold
there as they do in production."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import text

from tidings.core import validate_workflow
from tidings.simulation.scenario import DEMO_SETTINGS, run_scenario
from tidings.storage.engine import create_engine

WELCOME = """
id: welcome
name: Welcome, one email a day
trigger: {type: event, event: signed_up}
policies:
  frequency_caps: [{limit: 1, per: 1d}]
templates:
  hello: {subject: "Hello", html: "<p>Hello</p>"}
  tips: {subject: "Tips", html: "<p>Tips</p>"}
steps:
  - {id: hello, type: send, template: hello}
  - {id: wait, type: wait, for: 1h}
  - {id: tips, type: send, template: tips}
"""


def test_a_workflows_cap_holds_in_the_simulator(tmp_path: Path) -> None:
    spec, problems = validate_workflow(yaml.safe_load(WELCOME))
    assert spec is not None, [str(p) for p in problems]
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        run_scenario(
            engine, [(spec, WELCOME)], contacts=150, days=3, seed=5, settings=DEMO_SETTINGS
        )
        with engine.connect() as conn:
            sent = conn.execute(
                text("SELECT contact_id, sent_at FROM messages WHERE status = 'sent'")
            ).all()
            deferred = conn.execute(
                text("SELECT detail FROM step_log WHERE action = 'deferred'")
            ).all()
    finally:
        engine.dispose()

    by_contact: dict[int, list[datetime]] = defaultdict(list)
    for contact_id, sent_at in sent:
        by_contact[contact_id].append(datetime.fromisoformat(str(sent_at)))
    pairs = [sorted(times) for times in by_contact.values() if len(times) == 2]
    # The tips would follow an hour after the hello; the workflow's cap moves them a day on.
    assert pairs, "the run sent no contact both emails"
    assert all(second - first >= timedelta(days=1) for first, second in pairs)
    assert deferred and all("(the workflow's own policy)" in d.detail for d in deferred)
