"""GET /api/workflows?figures=30d: the list with each workflow's figures, for every role."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.people import Browser, add_member, served
from tests.integration.conftest import Store
from tests.integration.journeys import WAITING_WELCOME, deploy, subscriber, tick, track
from tidings.storage.people import Role


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    add_member(store, "vi@example.com", Role.VIEWER)
    yield from served(store)


def _viewer(client: TestClient) -> Browser:
    browser = Browser(client)
    assert browser.login("vi@example.com").status_code == 200
    return browser


def test_a_viewer_reads_how_each_workflow_is_doing(store: Store, client: TestClient) -> None:
    deploy(store, WAITING_WELCOME)
    for user in ("ann", "bob"):
        subscriber(store, user)
        track(store, user, "signed_up")
    entered_at = store.clock.now()
    tick(store, timedelta(days=1))
    track(store, "ann", "order_completed")
    viewer = _viewer(client)

    [row] = viewer.call("GET", "/api/workflows", params={"figures": "30d"}).json()
    assert row["key"] == "welcome"
    assert row["figures"] == {
        "in_journey": 1,
        "entered": 2,
        "converted": 1,
        "entered_converted": 1,
        "last_entered_at": entered_at.isoformat().replace("+00:00", "Z"),
        "has_goal": True,
    }
    # A month on, the period holds nothing but bob, still waiting, is in the journey.
    tick(store, timedelta(days=31))
    viewer = _viewer(client)  # the session has lapsed meanwhile
    [later] = viewer.call("GET", "/api/workflows", params={"figures": "30d"}).json()
    assert later["figures"]["in_journey"] == 1
    assert (later["figures"]["entered"], later["figures"]["converted"]) == (0, 0)
    assert later["figures"]["last_entered_at"] is None
    [plain] = viewer.call("GET", "/api/workflows").json()
    assert plain["figures"] is None


@pytest.mark.parametrize("period", ["a month", "0d", "99999999999999d"])
def test_a_period_that_is_not_one_is_refused_by_name(client: TestClient, period: str) -> None:
    answer = _viewer(client).call("GET", "/api/workflows", params={"figures": period})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["path"] == "figures"
