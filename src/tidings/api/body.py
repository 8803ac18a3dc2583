"""Reading request bodies with hard limits, gzip included, before any parsing."""

from __future__ import annotations

import json
import zlib
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from tidings.api.errors import ApiError
from tidings.core.values import unstorable


async def read_json(request: Request, limit: int) -> Any:
    """The body as JSON, at most `limit` bytes once decompressed.

    The limit holds while reading, so neither a huge upload nor a small gzip that inflates
    to gigabytes (a zip bomb) is ever held in memory whole.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise _too_large(limit)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    # Inflating and parsing up to `limit` bytes is CPU work: off the event loop, which
    # every other request shares.
    return await run_in_threadpool(parse_body, bytes(raw), encoding, limit)


def parse_body(raw: bytes, encoding: str, limit: int) -> Any:
    """A read body as JSON: inflated when gzip (at most `limit` bytes), then parsed."""
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(raw, limit + 1)
        except zlib.error as exc:
            raise ApiError(400, "Bad gzip body", f"the body is not valid gzip: {exc}") from exc
        if len(data) > limit or inflater.unconsumed_tail:
            raise _too_large(limit)
    elif encoding in ("identity", ""):
        data = raw
    else:
        raise ApiError(
            415, "Unsupported encoding", f"Content-Encoding {encoding!r}; send gzip or none"
        )
    try:
        return json.loads(data or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Malformed JSON", f"the body is not JSON: {exc}") from exc
    except RecursionError as exc:
        # Python's JSON reader recurses; nesting this deep is never a real payload.
        raise ApiError(400, "Malformed JSON", "the body is nested too deeply to read") from exc


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "Body too large", f"at most {limit:,} bytes (after decompression)")


def unstorable_message(value: Any, path: str = "") -> str | None:
    """The gate's problems as one line, for validators that raise ValueError; None if fine."""
    problems = unstorable(value, path)
    return "; ".join(str(p) for p in problems) if problems else None
