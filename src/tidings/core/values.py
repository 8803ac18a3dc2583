"""The gate for user JSON: what both databases can store and give back unchanged.

SQLite and PostgreSQL disagree on the edges of JSON. PostgreSQL refuses NUL, lone
surrogates and non-finite numbers outright; SQLite stores them, then its JSON functions
call the row malformed and Python cannot encode the text to UTF-8 for an answer. Numbers
past 2**53 do not come back as they went in from one database or the other. So every
value a user sends is walked here once, at the door, and refused with the path of each
bad part.

The walk is iterative: a value nested a thousand levels deep costs a loop, not the stack.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from tidings.core.problems import Problem

#: Deepest nesting accepted; real payloads rarely pass 5, and some JSON readers recurse.
MAX_DEPTH = 64
#: Largest integer a double holds exactly: numbers up to it read back the same from both
#: databases, and SQL comparisons and sums on them stay exact.
MAX_SAFE_INTEGER = 2**53
#: Problems reported per value; a flood of bad parts is summed up after this many.
MAX_PROBLEMS = 20
#: Parts (strings, numbers, lists, mappings...) one value may hold. A call of 32 KB holds at
#: most about 16,000 and a real workflow a few hundred; a YAML document whose aliases repeat
#: one another ("billion laughs") holds billions in a few hundred bytes, and walking or
#: storing them all would hold a worker for hours.
MAX_PARTS = 100_000
#: Characters no database keeps: NUL, and UTF-16 surrogates, which are only ever valid in
#: pairs inside UTF-16 and never in a Python string read from UTF-8.
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored and read back, or None when it can."""
    # One search in C: calls of 32 KB arrive by the hundred.
    if _BAD_CHARACTER.search(text) is None:
        return None
    if "\x00" in text:
        return r"contains a NUL character (\u0000), which cannot be stored"
    return "contains a lone surrogate (half of a UTF-16 pair), which is not valid Unicode"


def bad_character_at(text: str) -> int | None:
    """The position of the first character no database keeps (NUL, a lone surrogate)."""
    found = _BAD_CHARACTER.search(text)
    return None if found is None else found.start()


def number_problem(number: float | int) -> str | None:
    """Why a number cannot be stored and read back exactly, or None when it can."""
    if isinstance(number, bool):
        return None
    if isinstance(number, float) and not math.isfinite(number):
        return "not a finite number (NaN, Infinity and numbers past 1e308 cannot be stored)"
    if abs(number) > MAX_SAFE_INTEGER:
        # Past this, SQLite gives integers back as doubles and PostgreSQL gives doubles
        # back as integers (1e20 is 100000000000000000000 to JSONB).
        return f"a number beyond ±2**53 ({MAX_SAFE_INTEGER:,}); send it as a string"
    return None


def unstorable(value: Any, path: str = "") -> list[Problem]:
    """Every part of a JSON value that cannot be stored and read back faithfully, or one
    problem when it holds more than `MAX_PARTS` parts.

    Args:
        value: a value as `json.loads` gives it (dict, list, str, int, float, bool, None).
        path: where the value sits, prefixed to each problem's path (`batch[3]`).

    Returns:
        One problem per bad part, path first (`batch[3].properties.total`); empty when
        the whole value is fine.
    """
    problems: list[Problem] = []
    for where, message in _walk(value, path):
        if len(problems) == MAX_PROBLEMS:
            problems.append(Problem(path, "more problems than shown; fix these first"))
            break
        problems.append(Problem(where, message))
    return problems


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    parts = 0
    while stack:
        item, where, depth = stack.pop()
        parts += 1
        if parts > MAX_PARTS:
            yield (
                path,
                f"holds more than {MAX_PARTS:,} values (each use of a YAML alias counts)",
            )
            return
        if isinstance(item, Mapping | list | tuple | set | frozenset):
            if depth >= MAX_DEPTH:
                yield where, f"nested deeper than {MAX_DEPTH} levels"
                continue
            children: list[tuple[Any, str, int]] = []
            yield from _children(item, where, depth + 1, children)
            # Reversed so problems come out in the order they appear in the value.
            stack.extend(reversed(children))
        elif (why := _leaf_problem(item)) is not None:
            yield where, why


def _leaf_problem(item: Any) -> str | None:
    if isinstance(item, str):
        return text_problem(item)
    if isinstance(item, int | float):
        return number_problem(item)
    if isinstance(item, bytes | bytearray):
        # YAML's !!binary: stored as text it is whatever its bytes decode to, or fails.
        return "binary data (YAML !!binary) cannot be stored; write it as text"
    return None


def _children(
    item: Any, where: str, depth: int, children: list[tuple[Any, str, int]]
) -> Iterator[tuple[str, str]]:
    """Add a container's members to `children`; yield the problems of a mapping's keys."""
    if not isinstance(item, Mapping):
        children.extend((child, f"{where}[{i}]", depth) for i, child in enumerate(item))
        return
    for key, child in item.items():
        name = str(key)
        if isinstance(key, bytes | bytearray):
            yield _join(where, name), "the key is binary data (YAML !!binary)"
        elif (why := text_problem(name)) is not None:
            # The key is named by its escaped form: it may not even print.
            yield _join(where, ascii(name)), f"the key {why}"
        else:
            children.append((child, _join(where, name), depth))


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def scrubbed(value: Any) -> Any:
    """A copy of a stored value that any reader can use: lone surrogates and NUL become
    U+FFFD, non-finite numbers become None, numbers past ±2**53 become their digits as
    text, and nesting past the limit is cut off (None).

    For rows written before the gate existed; new values never need it.
    """
    if not isinstance(value, Mapping | list):
        return _scrub_leaf(value)
    root: Any = {} if isinstance(value, Mapping) else []
    stack: list[tuple[Any, Any, int]] = [(value, root, 0)]
    while stack:
        source, target, depth = stack.pop()
        pairs = source.items() if isinstance(source, Mapping) else enumerate(source)
        for key, child in pairs:
            if isinstance(child, Mapping | list):
                copy: Any = None
                if depth + 1 < MAX_DEPTH:
                    copy = {} if isinstance(child, Mapping) else []
                    stack.append((child, copy, depth + 1))
            else:
                copy = _scrub_leaf(child)
            if isinstance(target, dict):
                target[_scrub_text(str(key))] = copy
            else:
                target.append(copy)
    return root


def _scrub_leaf(value: Any) -> Any:
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    # Text keeps every digit; a float would lose them or overflow.
    return value if abs(value) <= MAX_SAFE_INTEGER else str(value)


def _scrub_text(text: str) -> str:
    return _BAD_CHARACTER.sub("\ufffd", text)
