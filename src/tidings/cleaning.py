"""Clean contact data: one normal form for emails, phones, names and timezones.

Each cleaner returns the clean value or raises `Unclean` with what is wrong, in words a
person fixing a spreadsheet understands. Nothing here looks anything up on the network:
emails are checked for form (email-validator without DNS), phones against the numbering
plan (phonenumbers).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_SPACES = re.compile(r"\s+")


class Unclean(ValueError):
    """A value that cannot be made clean; the message says why."""


def clean_text(raw: str) -> str:
    """Trimmed, inner runs of whitespace made one space, invisible characters dropped."""
    text = raw.replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")
    return _SPACES.sub(" ", text).strip()


def clean_email(raw: str) -> str:
    """The address in one form: trimmed and lowercased, checked for form (no DNS).

    The whole address is lowercased: every mailbox provider in practice ignores case, and
    one form is what lets `Ann@X.com` and `ann@x.com` be found as the same person.
    """
    text = clean_text(raw).strip("<>").strip()
    if not text:
        raise Unclean("the email is empty")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise Unclean(f"{text!r} is not an email address: {exc}") from exc
    return fold_email(checked.normalized)


def fold_email(address: str) -> str:
    """The form in which two addresses are the same address: trimmed, in Unicode NFC,
    lowercased. `clean_email` ends in it; whatever compares or hashes addresses that may
    not have been cleaned (stored earlier, typed by hand) folds them with this, and only
    this, so that each place agrees with the others."""
    return unicodedata.normalize("NFC", address.strip()).lower()


def to_e164(raw: str, region: str | None) -> str | None:
    """The number in E.164 (+14155550100), or None when it is not a valid number.

    `region` (like "US" or "DE") reads numbers written without a country code.
    """
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_phone(raw: str, region: str | None = None) -> str:
    """The number in E.164 (+14155550123); local numbers read in `region` (US, FR, ...)."""
    text = clean_text(raw)
    if not text:
        raise Unclean("the phone number is empty")
    number = to_e164(text, region)
    if number is None:
        hint = "" if region else "; give a region for local numbers, or write +country"
        raise Unclean(f"{text!r} is not a valid phone number{hint}")
    return number


def clean_name(raw: str) -> str:
    """Trimmed; a name typed all in lower or upper case gets capitals (`ann-marie o'neil`
    becomes `Ann-Marie O'Neil`); a name with mixed case is kept as its owner wrote it."""
    text = clean_text(raw)
    if text and (text == text.lower() or text == text.upper()):
        return re.sub(r"[^\W\d_]+", lambda m: m.group().capitalize(), text.lower())
    return text


def clean_timezone(raw: str) -> str:
    """An IANA timezone name in its proper case (`europe/paris` is Europe/Paris)."""
    text = clean_text(raw)
    name = _zones().get(text.lower())
    if name is None:
        raise Unclean(f"{text!r} is not an IANA timezone; use a name like Europe/Paris")
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # listed but not loadable: a broken tzdata
        raise Unclean(f"{text!r} is not an IANA timezone") from exc
    return name


#: Files some systems keep beside the zones: "localtime" is the server's own zone, so a
#: contact stored with it would move with whatever machine runs Tidings.
_NOT_ZONES = frozenset({"localtime", "posixrules"})


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    zones = available_timezones() - _NOT_ZONES
    return {name.lower(): name for name in zones} | {"utc": "UTC"}


def clean_region(raw: str) -> str:
    """A phone region code (US, FR); raises when phonenumbers does not know it."""
    region = raw.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise Unclean(f"{raw!r} is not a region code; use two letters such as US or FR")
    return region
