"""The one logging setup: every extra field printed, every secret masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from tidings.config import load_settings
from tidings.logs import configure_logging, redact

SMTP_PASSWORD = "pw-7f3a9c"
SMS_TOKEN = "tok-51d0e2"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _settings(log_format: str) -> object:
    return load_settings(
        smtp_url=f"smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:2525",
        sms_token=SMS_TOKEN,
        log_format=log_format,
    )


def test_settings_repr_and_str_hide_every_secret() -> None:
    settings = load_settings(
        database_url="postgresql://tidings:db-pass-93@127.0.0.1/tidings",
        smtp_url=f"smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:2525",
        sms_token=SMS_TOKEN,
    )
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        for secret in (SMTP_PASSWORD, SMS_TOKEN, "db-pass-93"):
            assert secret not in shown
    # The values themselves are intact where they are used.
    assert settings.sms_token.get_secret_value() == SMS_TOKEN


def test_json_lines_carry_every_extra_field_and_no_secret(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(_settings("json"))  # type: ignore[arg-type]
    log = logging.getLogger("tidings.test")
    log.info(
        "sending through smtp://mailer:%s@127.0.0.1:2525",
        SMTP_PASSWORD,
        extra={"action": "send", "message_id": 42, "token": SMS_TOKEN},
    )
    try:
        raise RuntimeError(f"provider refused token {SMS_TOKEN}")
    except RuntimeError:
        log.exception("round failed", extra={"action": "dispatch_round"})
    lines = capsys.readouterr().err.splitlines()
    first = json.loads(lines[0])
    assert first["level"] == "info" and first["logger"] == "tidings.test"
    assert first["message"] == "sending through smtp://mailer:***@127.0.0.1:2525"
    assert first["action"] == "send" and first["message_id"] == 42 and first["token"] == "***"
    second = json.loads(lines[1])
    assert second["action"] == "dispatch_round"
    assert "RuntimeError: provider refused token ***" in second["exception"]
    assert len(lines) == 2
    assert SMTP_PASSWORD not in "\n".join(lines) and SMS_TOKEN not in "\n".join(lines)


def test_logfmt_is_the_default_and_quotes_what_needs_it(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(load_settings())
    logging.getLogger("tidings.runtime").warning(
        "loop failed",
        extra={"action": "claim_due", "error": 'database is "locked"', "ids": [3, 4]},
    )
    line = capsys.readouterr().err.strip()
    assert "level=warning logger=tidings.runtime" in line
    assert (
        'message="loop failed" action=claim_due error="database is \\"locked\\"" ids=3,4'
    ) in line


def test_the_level_setting_drops_quieter_records(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(load_settings(log_level="warning", log_format="text"))
    logging.getLogger("tidings.x").info("quiet")
    logging.getLogger("uvicorn.error").warning("loud", extra={"port": 8000})
    out = capsys.readouterr().err
    assert "quiet" not in out
    assert "WARNING uvicorn.error: loud  port=8000" in out


def test_redact_masks_url_passwords_without_being_told_them() -> None:
    assert redact("cannot reach postgresql://u:p4ss@db/x") == "cannot reach postgresql://u:***@db/x"
    assert redact("token abc123 rejected", ["abc123"]) == "token *** rejected"
