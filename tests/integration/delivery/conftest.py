"""Fixtures for delivery tests: loopback servers and a dispatcher wired to them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import Store
from tests.servers import HttpSink, SmtpSink, http_server, smtp_server
from tidings.delivery.netguard import NetGuard
from tidings.delivery.settings import DeliverySettings
from tidings.delivery.sms import SmsChannel, SmsConfig
from tidings.delivery.smtp import SmtpChannel, SmtpConfig
from tidings.delivery.transports import Transports
from tidings.delivery.webhooks import HttpChannel
from tidings.runtime.dispatch import Dispatcher
from tidings.storage.workspaces import save_settings

PUBLIC = "https://mail.shop.example"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    with smtp_server() as found:
        yield found


@pytest.fixture
def receiver() -> Iterator[HttpSink]:
    with http_server() as sink:
        yield sink


@pytest.fixture
def channels(smtp: tuple[SmtpSink, int], receiver: HttpSink) -> Iterator[Transports]:
    _, port = smtp
    found = Transports(
        public_url=PUBLIC,
        http=HttpChannel(NetGuard.from_list(["127.0.0.1"]), timeout=2.0),
        smtp=SmtpChannel(SmtpConfig("127.0.0.1", port, timeout=5.0)),
        sms=SmsChannel(SmsConfig(receiver.url, "AC123", "token", "+15005550006", "US", 2.0)),
        sms_region="US",
    )
    yield found
    found.close()


@pytest.fixture
def dispatcher(store: Store, channels: Transports) -> Dispatcher:
    return Dispatcher(store.engine, store.clock, channels, store.catalog, jitter=lambda: 1.0)


def configure(store: Store, **settings: Any) -> None:
    """Set the workspace's delivery settings (validated as the API would)."""
    valid = DeliverySettings.model_validate(settings)
    with store.engine.begin() as conn:
        save_settings(conn, store.workspace_id, valid.model_dump(mode="json", by_alias=True))
