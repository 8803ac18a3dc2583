"""The access log keeps no addresses from query strings and no link tokens."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import uvicorn

from tidings.api.access_log import ACCESS_LOGGER, ScrubAccessLog, scrub_access_log, scrub_path


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("/api/suppressions/check?address=ann%40example.com", "/api/suppressions/check"),
        ("/api/contacts?email=ann@example.com&limit=5", "/api/contacts"),
        ("/t/o/MTI.abc-def_123", "/t/o/…"),
        ("/t/c/MTI.abc?x=1", "/t/c/…"),
        ("/u/MTI.abc", "/u/…"),
        ("/p/MTI.abc", "/p/…"),
        ("/confirm/MTI.abc", "/confirm/…"),
        ("/approvals/open/MTI.abc", "/approvals/open/…"),  # opens a decision
        ("/api/people/bo%40example.com", "/api/people/…"),  # a person of the console
        ("/api/people", "/api/people"),
        ("/preview-frames/Zm9vYmFyYmF6cXV4cXV1eA", "/preview-frames/…"),
        ("/v1/batch", "/v1/batch"),
        ("/unsubscribe-help", "/unsubscribe-help"),  # not a link route
    ],
)
def test_paths_lose_query_strings_and_tokens(path: str, kept: str) -> None:
    assert scrub_path(path) == kept


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_log() -> Iterator[_Lines]:
    logger = logging.getLogger(ACCESS_LOGGER)
    before = (list(logger.filters), list(logger.handlers), logger.propagate, logger.level)
    lines = _Lines()
    yield lines
    logger.filters, logger.handlers, logger.propagate = before[0], before[1], before[2]
    logger.setLevel(before[3])


def test_uvicorn_access_records_are_scrubbed_after_uvicorn_configures_logging(
    access_log: _Lines,
) -> None:
    # Given: the filter installed as `tidings serve` does, then uvicorn's own logging setup
    scrub_access_log()
    scrub_access_log()  # installing twice adds one filter
    uvicorn.Config(app=lambda: None, log_level="info")
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(access_log)
    # When: uvicorn logs a request the way its protocol classes do
    logger.info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/api/suppressions/check?address=ann@example.com",
        "1.1",
        200,
    )
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/u/MTI.secret", "1.1", 200)
    # Then
    assert access_log.lines == [
        '127.0.0.1:5000 - "GET /api/suppressions/check HTTP/1.1" 200',
        '127.0.0.1:5000 - "GET /u/… HTTP/1.1" 200',
    ]
    assert sum(isinstance(f, ScrubAccessLog) for f in logger.filters) == 1
