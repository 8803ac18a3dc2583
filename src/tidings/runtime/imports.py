"""Contact imports from CSV: map columns, clean every value, find who is already known,
and create, update or merge, all in one transaction (a dry run rolls it back).

A row only adds what it carries: an empty cell never erases a known value, and a consent
withdrawal on file is never turned back into consent by an import.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Connection, Engine

from tidings.cleaning import (
    Unclean,
    clean_email,
    clean_name,
    clean_phone,
    clean_text,
    clean_timezone,
    fold_email,
)
from tidings.core.problems import Problem
from tidings.core.values import text_problem
from tidings.errors import SpecInvalid
from tidings.storage import imports as store
from tidings.storage.merges import WITHDRAWN

#: Rows are looked up and written this many at a time, inside the one transaction.
BATCH = 1000
#: Standard fields a column can map to; anything else becomes an attribute.
FIELDS = (
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "timezone",
    "tags",
    "consent.email",
    "consent.sms",
)
#: Header spellings seen in real exports, for the automatic mapping.
_ALIASES = {
    "external_id": {"external_id", "user_id", "userid", "customer_id", "id", "contact_id"},
    "email": {"email", "e_mail", "email_address", "mail"},
    "phone": {"phone", "phone_number", "mobile", "mobile_phone", "telephone", "tel", "cell"},
    "first_name": {"first_name", "firstname", "given_name", "first"},
    "last_name": {"last_name", "lastname", "surname", "family_name", "last"},
    "timezone": {"timezone", "time_zone", "tz"},
    "tags": {"tags", "labels"},
    "consent.email": {"email_consent", "email_opt_in", "subscribed", "newsletter"},
    "consent.sms": {"sms_consent", "sms_opt_in"},
}
_YES = {"yes", "y", "true", "1", "subscribed", "opted in", "opt-in", "x"}
_NO = {"no", "n", "false", "0", "unsubscribed", "opted out", "opt-out"}
_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d+)?")


def attribute_name(header: str) -> str:
    """A column header as an attribute name: `Company Size` is company_size."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", clean_text(header)).strip("_").lower()
    return name or "column"


def map_columns(
    headers: Sequence[str], overrides: Mapping[str, str]
) -> tuple[dict[str, str | None], list[Problem]]:
    """Each header's target: a standard field, `attributes.NAME`, or None to skip it.

    `overrides` maps a header to a target ("" skips the column); the rest map by name.
    """
    problems: list[Problem] = []
    for header in overrides:
        if header not in headers:
            problems.append(
                Problem(f"map.{header}", "no such column", f"the columns are {', '.join(headers)}")
            )
    columns: dict[str, str | None] = {}
    for header in headers:
        if header in overrides:
            target = overrides[header].strip()
            if target and target not in FIELDS and not target.startswith("attributes."):
                problems.append(
                    Problem(
                        f"map.{header}",
                        f"unknown field {target!r}",
                        f"use one of {', '.join(FIELDS)}, attributes.NAME, or nothing to skip",
                    )
                )
            columns[header] = target or None
            continue
        name = attribute_name(header)
        known = next((f for f, names in _ALIASES.items() if name in names), None)
        columns[header] = known or f"attributes.{name}"
    taken: dict[str, str] = {}
    for header, mapped in columns.items():
        if mapped is None:
            continue
        if mapped in taken:
            problems.append(
                Problem(
                    f"map.{header}",
                    f"{taken[mapped]!r} and {header!r} both map to {mapped}",
                    f"skip one with --map '{header}='",
                )
            )
        taken[mapped] = header
    return columns, problems


@dataclass
class Parsed:
    """One row, cleaned."""

    row: int
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    timezone: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    consent: dict[str, str] = field(default_factory=dict)
    #: An earlier row of the file named the same person; this one only adds to it.
    duplicate: bool = False

    def identities(self) -> list[str]:
        """What identifies the person, strongest first. Two different user ids, or two
        different emails, are two people even when they share a weaker identifier (a family
        address, a shared phone, a switchboard): see `_same_person`."""
        found = [f"u:{self.external_id}"] if self.external_id else []
        found += [f"e:{self.email}"] if self.email else []
        return found + ([f"p:{self.phone}"] if self.phone else [])

    def absorb(self, later: Parsed) -> None:
        """A later row about the same person adds what it carries."""
        for name in ("external_id", "email", "phone", "timezone"):
            if getattr(later, name) is not None:
                setattr(self, name, getattr(later, name))
        self.attributes.update(later.attributes)
        self.tags = sorted(set(self.tags) | set(later.tags))
        self.consent.update(later.consent)


@dataclass(frozen=True)
class Rejection:
    """A row that was not imported, and why."""

    row: int
    reason: str


@dataclass
class ImportReport:
    """What an import did, or (in a dry run) would do."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Rows about a person an earlier row of the file already named: (row, earlier row).
    merged: list[tuple[int, int]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    #: Rows sharing an email or phone with someone else: imported as their own contact,
    #: not merged, with the reason.
    conflicts: list[Rejection] = field(default_factory=list)
    dry_run: bool = False

    def conflict(self, row: int, reason: str) -> None:
        """Note a row's first conflict (a row is reported once)."""
        # A row's conflicts are found while the file is read and when its batch is
        # written, at most a batch apart: the tail of the list is enough to look in.
        if not any(c.row == row for c in self.conflicts[-2 * BATCH :]):
            self.conflicts.append(Rejection(row, reason))


def _value(text: str) -> Any:
    """A cell as an attribute value: numbers as numbers, except codes with a leading zero."""
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def parse_row(
    row: int, cells: Mapping[str, str | None], columns: Mapping[str, str | None], region: str | None
) -> Parsed | Rejection:
    """Clean one row's cells into a contact, or say which cell is wrong and why."""
    parsed = Parsed(row)
    for header, target in columns.items():
        raw = cells.get(header)
        if target is None or raw is None or not clean_text(raw):
            continue
        if (why := text_problem(raw)) is not None:
            # A NUL read from the file would fail the whole import's transaction on PostgreSQL.
            return Rejection(row, f"column {header!r}: the cell {why}")
        try:
            _apply(parsed, target, raw, region)
        except Unclean as exc:
            return Rejection(row, f"column {header!r}: {exc}")
    if not parsed.identities():
        return Rejection(row, "no user id, email or phone to know the contact by")
    return parsed


def _apply(parsed: Parsed, target: str, raw: str, region: str | None) -> None:
    match target:
        case "external_id":
            parsed.external_id = clean_text(raw)[:200]
        case "email":
            parsed.email = clean_email(raw)
        case "phone":
            parsed.phone = clean_phone(raw, region)
        case "timezone":
            parsed.timezone = clean_timezone(raw)
        case "first_name" | "last_name":
            parsed.attributes[target] = clean_name(raw)
        case "tags":
            parsed.tags = sorted({clean_text(t) for t in re.split(r"[;,|]", raw) if t.strip()})
        case "consent.email" | "consent.sms":
            answer = clean_text(raw).lower()
            if answer in _YES:
                parsed.consent[target.split(".")[1]] = "subscribed"
            elif answer in _NO:
                parsed.consent[target.split(".")[1]] = "unsubscribed"
            else:
                raise Unclean(f"{raw!r} is not a consent answer; use yes or no")
        case _:
            parsed.attributes[target.removeprefix("attributes.")] = _value(clean_text(raw))


def read_rows(
    handle: TextIO,
) -> tuple[list[str], Iterator[tuple[int, dict[str, str | None]] | Rejection]]:
    """The header and an iterator of (row number, cells), or rejections for broken rows.

    Row numbers are the file's line numbers (the header is line 1), so a person can find
    the row in a spreadsheet. The delimiter (, ; tab |) is sniffed from the start.
    """
    sample = handle.read(64 * 1024)
    handle.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(handle, dialect)
    try:
        headers = [clean_text(h) for h in next(reader)]
    except StopIteration:
        raise SpecInvalid("csv", [Problem("header", "the file is empty")], kind="import") from None
    if not any(headers):
        raise SpecInvalid("csv", [Problem("header", "the first line names no columns")], "import")

    def rows() -> Iterator[tuple[int, dict[str, str | None]] | Rejection]:
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Rejection(line, f"unreadable CSV: {exc}")
                return
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(headers):
                yield Rejection(line, f"{len(cells)} cells but the header names {len(headers)}")
                continue
            yield line, {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(headers)}

    return headers, rows()


def import_contacts(  # noqa: C901 (read, check, write in batches; splitting is left to do)
    engine: Engine,
    workspace_id: int,
    handle: TextIO,
    now: datetime,
    *,
    mapping: Mapping[str, str] | None = None,
    region: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV file of contacts in one transaction; a dry run rolls it back.

    Raises:
        SpecInvalid: when the header or the mapping is wrong (nothing is read then).
    """
    headers, rows = read_rows(handle)
    columns, problems = map_columns(headers, mapping or {})
    if problems:
        raise SpecInvalid("column mapping", problems, kind="import")
    report = ImportReport(dry_run=dry_run)
    with engine.connect() as conn, conn.begin() as transaction:
        # identity key -> (the first row that named it, that row's user id and email)
        seen: dict[str, tuple[int, str | None, str | None]] = {}
        batch: list[Parsed] = []
        for item in rows:
            if isinstance(item, Rejection):
                report.rows += 1
                report.rejected.append(item)
                continue
            line, cells = item
            report.rows += 1
            parsed = parse_row(line, cells, columns, region)
            if isinstance(parsed, Rejection):
                report.rejected.append(parsed)
                continue
            earlier = None
            for key in parsed.identities():
                if key not in seen:
                    continue
                first, user, email = seen[key]
                if _same_person(key, user, email, parsed):
                    earlier = first
                    break
                report.conflict(line, _conflict_reason(key, f"row {first}", user, email))
            if earlier is not None:
                report.merged.append((line, earlier))
                parsed.duplicate = True
            for key in parsed.identities():
                seen.setdefault(key, (earlier or line, parsed.external_id, parsed.email))
            batch.append(parsed)
            if len(batch) >= BATCH:
                _write(conn, workspace_id, batch, report, now)
                batch = []
                if report.rows % (BATCH * 10) < BATCH:
                    store.refresh_statistics(conn)
                if progress is not None:
                    progress(report.rows)
        _write(conn, workspace_id, batch, report, now)
        if progress is not None:
            progress(report.rows)
        if dry_run:
            transaction.rollback()
    return report


def _write(  # noqa: C901 (match, then create or update; splitting is left to do)
    conn: Connection, workspace_id: int, batch: list[Parsed], report: ImportReport, now: datetime
) -> None:
    """Find who each row is, then create the new and update the known, in bulk."""
    if not batch:
        return
    known = store.find_known(
        conn,
        workspace_id,
        external_ids={p.external_id for p in batch if p.external_id},
        emails={p.email for p in batch if p.email},
        phones={p.phone for p in batch if p.phone},
    )
    index: dict[str, dict[str, Any]] = {}
    for found in known:
        for key in _row_keys(found):
            index.setdefault(key, found)
    fresh: dict[str, Parsed] = {}  # first key -> the new contact rows of this batch merge into
    touched: dict[int, dict[str, Any]] = {}
    counted_ids: set[int] = set()
    for parsed in batch:
        row: dict[str, Any] | None = None
        for key in parsed.identities():
            match = index.get(key)
            if match is None:
                continue
            if _same_person(key, match["external_id"], match["email"], parsed):
                row = match
                break
            who = f"contact {match['id']}"
            report.conflict(
                parsed.row, _conflict_reason(key, who, match["external_id"], match["email"])
            )
        if row is None:
            into = next(
                (
                    fresh[k]
                    for k in parsed.identities()
                    if k in fresh and _same_person(k, fresh[k].external_id, fresh[k].email, parsed)
                ),
                None,
            )
            if into is None:
                fresh[parsed.identities()[0]] = parsed
                into = parsed
                report.created += int(not parsed.duplicate)
            else:
                into.absorb(parsed)
            for key in parsed.identities():
                fresh.setdefault(key, into)
            continue
        before = dict(row)
        _merge_into(row, parsed)
        counted = parsed.duplicate or row["id"] in counted_ids
        counted_ids.add(row["id"])
        if row != before:
            touched[row["id"]] = row
            report.updated += int(not counted)
        elif not counted:
            report.unchanged += 1
        for key in parsed.identities():
            index.setdefault(key, row)
    created = list({id(p): p for p in fresh.values()}.values())
    store.insert_contacts(conn, workspace_id, [_new_row(p, now) for p in created])
    store.update_contacts(conn, list(touched.values()), now)


def _same_person(key: str, user: str | None, email: str | None, parsed: Parsed) -> bool:
    """Whether a match on `key` (a `u:`, `e:` or `p:` identity) makes `parsed` the person
    known by `user` and `email`.

    A user id decides alone. An email match is the same person unless both carry
    different user ids; a phone match unless they carry different user ids or emails:
    a phone is shared by a household or a switchboard, and merging would lose someone.
    """
    if key.startswith("u:"):
        return True
    if _differ(user, parsed.external_id):
        return False
    return key.startswith("e:") or not _differ(_folded(email), _folded(parsed.email))


def _differ(known: str | None, incoming: str | None) -> bool:
    return known is not None and incoming is not None and known != incoming


def _folded(email: str | None) -> str | None:
    return fold_email(email) if email else None


def _conflict_reason(key: str, who: str, user: str | None, email: str | None) -> str:
    """Why a row that shares an identifier with `who` was kept apart from it."""
    kind, _, value = key.partition(":")
    shared = {"e": "email", "p": "phone"}.get(kind, "user id")
    other = f"user id {user}" if user else f"email {email}"
    return (
        f"shares the {shared} {value} with {who} ({other}) but is a different person;"
        " imported as a separate contact, not merged"
    )


def _row_keys(row: Mapping[str, Any]) -> list[str]:
    keys = [f"u:{row['external_id']}"] if row["external_id"] else []
    keys += [f"e:{row['email']}"] if row["email"] else []
    return keys + ([f"p:{row['phone']}"] if row["phone"] else [])


def _merge_into(row: dict[str, Any], parsed: Parsed) -> None:
    """Progressive profiling: add what the row carries, erase nothing, keep withdrawals."""
    for name in ("external_id", "email", "phone", "timezone"):
        value = getattr(parsed, name)
        if value is not None and (name != "external_id" or row[name] is None):
            row[name] = value
    row["attributes"] = {**row["attributes"], **parsed.attributes}
    row["tags"] = sorted(set(row["tags"]) | set(parsed.tags))
    consent = dict(row["consent"])
    for channel, status in parsed.consent.items():
        if consent.get(channel) not in WITHDRAWN:
            consent[channel] = status
    row["consent"] = consent


def _new_row(parsed: Parsed, now: datetime) -> dict[str, Any]:
    return {
        "external_id": parsed.external_id,
        "email": parsed.email,
        "phone": parsed.phone,
        "timezone": parsed.timezone or "UTC",
        "attributes": parsed.attributes,
        "tags": parsed.tags,
        "consent": parsed.consent,
        "created_at": now,
        "updated_at": now,
    }


def report_text(report: ImportReport) -> str:
    """The report as plain lines (for logs and tests)."""
    out = io.StringIO()
    head = "dry run, nothing written; would be " if report.dry_run else ""
    out.write(
        f"{report.rows} rows: {head}{report.created} created, {report.updated} updated, "
        f"{len(report.merged)} merged into earlier rows, {report.unchanged} unchanged, "
        f"{len(report.rejected)} rejected, {len(report.conflicts)} kept apart\n"
    )
    for row, earlier in report.merged:
        out.write(f"row {row}: the same person as row {earlier}, merged\n")
    for conflict in report.conflicts:
        out.write(f"row {conflict.row}: {conflict.reason}\n")
    for rejection in report.rejected:
        out.write(f"row {rejection.row}: {rejection.reason}\n")
    return out.getvalue()
