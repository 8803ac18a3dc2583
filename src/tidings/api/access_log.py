"""The access log without personal data: no query strings, no link tokens.

uvicorn logs each request's path with its query string, so `GET
/api/suppressions/check?address=ann@example.com` would keep the address in the logs after
the person is erased; and the tokens in `/t/`, `/u/`, `/p/` and `/confirm/` links open a
person's preferences, as those in `/approvals/open/` open a decision (and a
`/preview-frames/` id shows a message rendered for a contact); `/api/people/ADDRESS`
names a person of the console. This filter rewrites the path of each access record before
any handler sees it: the query string goes, a token or an address is replaced by `…`.
"""

from __future__ import annotations

import logging
import re

#: Routes whose next segment is a token or an address: `/t/o/TOKEN`, `/u/TOKEN`,
#: `/approvals/open/TOKEN`, `/api/people/ADDRESS`,
#: `/preview-frames/ID`, ...
_TOKEN_PATH = re.compile(
    r"^(/(?:t/[oc]|u|p|confirm|approvals/open|api/people|preview-frames))/[^/?]+"
)
ACCESS_LOGGER = "uvicorn.access"


def scrub_path(path: str) -> str:
    """The path as the access log may keep it: no query string, no link token, no address."""
    bare = path.split("?", 1)[0]
    return _TOKEN_PATH.sub(r"\1/…", bare)


class ScrubAccessLog(logging.Filter):
    """Rewrites uvicorn's access records (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], scrub_path(args[2]), args[3], args[4])
        return True


def scrub_access_log() -> None:
    """Install the filter on uvicorn's access logger (once; a logging reconfiguration
    replaces handlers, not a logger's filters)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, ScrubAccessLog) for f in logger.filters):
        logger.addFilter(ScrubAccessLog())
