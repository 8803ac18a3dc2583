"""One logging setup for `tidings serve` and `tidings worker` (and uvicorn's loggers).

Records go to stderr as logfmt (the default, for people and grep), json (one object per line,
for log shippers) or text, chosen by TIDINGS_LOG_FORMAT, at TIDINGS_LOG_LEVEL. Every field a
caller attaches with `extra={...}` is printed, and a filter replaces every configured secret
and every password written in a URL with *** before any formatter sees the record.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from tidings.config import URL_PASSWORD, Settings

MASK = "***"

#: The attributes every LogRecord has; anything else on a record came from `extra`
#: (except uvicorn's color_message, a copy of the message with terminal colour codes).
_STANDARD = frozenset(
    [
        *vars(logging.LogRecord("", 0, "", 0, "", None, None)),
        *("message", "asctime", "taskName", "color_message"),
    ]
)
#: uvicorn configures these itself unless told not to; they propagate to ours instead.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` with each secret and each URL password replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return URL_PASSWORD.sub(rf"\1{MASK}\3", text)


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller attached to `record` with `extra={...}`."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class RedactSecrets(logging.Filter):
    """Replaces secrets in a record's message, its extra fields and its traceback."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a URL is masked whole before the password inside it.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage(), self._secrets), None
        for key, value in extras(record).items():
            if isinstance(value, str):
                setattr(record, key, redact(value, self._secrets))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def _fields(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "time": _timestamp(record),
        "level": record.levelname.lower(),
        "logger": record.name,
        "message": record.getMessage(),
    }
    fields.update(extras(record))
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    if record.exc_text:
        fields["exception"] = record.exc_text
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then every extra field."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record, self), default=str, ensure_ascii=False)


def _logfmt_value(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        text = ",".join(str(item) for item in value)
    else:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text and not re.search(r'[\s="\\]', text):
        return text
    return json.dumps(text, ensure_ascii=False)


class LogfmtFormatter(logging.Formatter):
    """key=value pairs on one line (a traceback follows on its own lines)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record, self)
        exception = fields.pop("exception", None)
        line = " ".join(f"{key}={_logfmt_value(value)}" for key, value in fields.items())
        return f"{line}\n{exception}" if exception else line


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...`, the extra fields after the message."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record, self)
        exception = fields.pop("exception", None)
        head = f"{fields.pop('time')} {fields.pop('level').upper():<7} {fields.pop('logger')}:"
        tail = " ".join(f"{k}={_logfmt_value(v)}" for k, v in list(fields.items())[1:])
        line = f"{head} {fields['message']}" + (f"  {tail}" if tail else "")
        return f"{line}\n{exception}" if exception else line


_FORMATTERS: dict[str, type[logging.Formatter]] = {
    "json": JsonFormatter,
    "logfmt": LogfmtFormatter,
    "text": TextFormatter,
}


def configure_logging(settings: Settings, filters: Sequence[logging.Filter] = ()) -> None:
    """Send every log record to stderr in the configured format, secrets masked.

    `filters` run after the secrets are masked (the access log's query-string filter, say).
    Calling it again replaces the earlier setup.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_FORMATTERS[settings.log_format]())
    handler.addFilter(RedactSecrets(settings.secret_values()))
    for extra_filter in filters:
        handler.addFilter(extra_filter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in _UVICORN:
        found = logging.getLogger(name)
        found.handlers.clear()
        found.propagate = True
        found.setLevel(settings.log_level)
    # Alembic narrates each step at INFO; tidings.storage.migrate logs what was applied.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
