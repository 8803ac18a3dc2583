"""One message that cannot be decided or composed fails alone; the round goes on."""

from __future__ import annotations

from sqlalchemy import update

from tests.integration.conftest import Store
from tests.integration.delivery.test_http_channels import crm_hook
from tests.integration.journeys import deploy, identify, rows, track
from tests.servers import HttpSink
from tidings.runtime.dispatch import Dispatcher
from tidings.storage import tables


def test_a_message_that_raises_while_composing_fails_alone(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    # Given two queued webhooks, one of them stored with headers that are not a mapping
    deploy(store, crm_hook(f"{receiver.url}/crm"))
    for user in ("ann", "bob"):
        identify(store, user, email=f"{user}@example.com")
        track(store, user, "signed_up", plan="pro")
    [broken_id, good_id] = [r.id for r in rows(store, "SELECT id FROM messages ORDER BY id")]
    with store.engine.begin() as conn:
        conn.execute(
            update(tables.messages)
            .where(tables.messages.c.id == broken_id)
            .values(payload={"url": f"{receiver.url}/crm", "headers": ["not", "a", "mapping"]})
        )

    # When the dispatcher runs a round
    done = dispatcher.run_once()

    # Then the good one is sent, and the broken one is failed with its reason
    assert done.sent == 1
    assert [r.path for r in receiver.requests] == ["/crm"]
    status = {
        r.id: (r.status, r.last_error)
        for r in rows(store, "SELECT id, status, last_error FROM messages")
    }
    assert status[good_id] == ("sent", None)
    assert status[broken_id][0] == "failed"
    assert "AttributeError" in status[broken_id][1]
    # and the contact's timeline says so
    [line] = rows(
        store,
        "SELECT detail FROM step_log WHERE action = 'failed' AND contact_id = "
        "(SELECT contact_id FROM messages WHERE id = :id)",
        id=broken_id,
    )
    assert line.detail.startswith("internal error while deciding or composing: AttributeError")
    # and nothing is left to claim
    assert dispatcher.run_once().claimed == 0
