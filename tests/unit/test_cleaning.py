"""Cleaning contact data: what identify calls and imports store, and what they refuse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.cleaning import (
    Unclean,
    clean_email,
    clean_name,
    clean_phone,
    clean_region,
    clean_text,
    clean_timezone,
    fold_email,
    to_e164,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Ann Lee ", "Ann Lee"),  # trimmed
        ("Ann \t\n  Lee", "Ann Lee"),  # inner runs of whitespace become one space
        ("Ann\u00a0Lee", "Ann Lee"),  # a no-break space pasted from a web page
        ("\ufeffAnn\u200b Lee", "Ann Lee"),  # a byte-order mark and a zero-width space
        ("   ", ""),  # nothing but blanks
    ],
)
def test_text_is_trimmed_and_invisible_characters_dropped(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (" Ann@Example.COM ", "ann@example.com"),  # trimmed, one case for the whole address
        ("<bob@example.com>", "bob@example.com"),  # angle brackets from a mail client
        ("\ufeffcy@example.com\u200b", "cy@example.com"),  # invisible characters from a CSV
        ("ANN@BÜCHER.DE", "ann@bücher.de"),  # an internationalised domain, lowercased too
        ("josé@example.com", "josé@example.com"),  # a non-ASCII mailbox name
    ],
)
def test_emails_are_stored_in_one_form(raw: str, clean: str) -> None:
    assert clean_email(raw) == clean


def test_two_spellings_of_one_address_clean_to_the_same_value() -> None:
    assert clean_email("Ann@X.com") == clean_email(" ann@x.COM")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "the email is empty"),
        ("  <> ", "the email is empty"),
        ("ann", "'ann' is not an email address: .*@-sign"),
        ("ann@", "'ann@' is not an email address"),
        ("ann@@example.com", "is not an email address"),
        ("a..b@example.com", "two periods in a row"),
        ("ann lee@example.com", "is not an email address"),  # a space before the @
        ("ann@localhost", "is not an email address"),  # no domain a message could reach
        ("ann@example", "is not an email address"),
    ],
)
def test_what_is_not_an_email_is_refused_saying_why(raw: str, why: str) -> None:
    with pytest.raises(Unclean, match=why):
        clean_email(raw)


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+1 212 555 0199", None, "+12125550199"),  # international form needs no region
        ("(212) 555-0199", "US", "+12125550199"),  # a local US number
        ("212.555.0199", "US", "+12125550199"),
        ("01 42 68 53 00", "FR", "+33142685300"),  # a Paris number, trunk 0 dropped
        ("030 12345678", "DE", "+493012345678"),  # a Berlin number
        ("020 7946 0958", "GB", "+442079460958"),  # a London number
        ("+44 20 7946 0958", "US", "+442079460958"),  # a country code beats the region
        ("0044 20 7946 0958", "FR", "+442079460958"),  # France's international prefix
        ("+1\u00a0212\u00a0555\u00a00199", None, "+12125550199"),  # no-break spaces
        ("tel:+1-212-555-0199", None, "+12125550199"),  # a tel: link
    ],
)
def test_phones_are_stored_in_e164(raw: str, region: str | None, e164: str) -> None:
    assert clean_phone(raw, region) == e164


def test_one_number_written_two_ways_cleans_to_one_value() -> None:
    # The import's duplicate check relies on this (issue 12's Hana and Ivan).
    assert clean_phone("+1 212 555 0199") == clean_phone("(212) 555-0199", "US")


@pytest.mark.parametrize(
    ("raw", "region", "why"),
    [
        ("", "US", "the phone number is empty"),
        ("  ", None, "the phone number is empty"),
        # A local number without a region: the message says how to fix it.
        ("(212) 555-0199", None, "give a region for local numbers, or write \\+country"),
        ("12345", "US", "'12345' is not a valid phone number$"),  # too short
        ("555-0199", "US", "is not a valid phone number"),  # seven digits: no area code
        ("+1 212 555 01999", None, "is not a valid phone number"),  # one digit too many
        ("call me", "US", "is not a valid phone number"),
    ],
)
def test_what_is_not_a_phone_number_is_refused_saying_why(
    raw: str, region: str | None, why: str
) -> None:
    with pytest.raises(Unclean, match=why):
        clean_phone(raw, region)


def test_e164_is_none_for_what_is_not_a_number() -> None:
    assert to_e164("+1 212 555 0199", None) == "+12125550199"
    assert to_e164("not a number", "US") is None  # unparseable
    assert to_e164("+1 212 555 01999", None) is None  # parseable, not a valid number
    assert to_e164("(212) 555-0199", None) is None  # needs a region


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ann-marie o'neil", "Ann-Marie O'Neil"),  # all lower case: capitals after - and '
        ("JOHN SMITH", "John Smith"),  # all upper case
        ("  ann   lee ", "Ann Lee"),  # trimmed as text is
        ("ÉMILE ZOLA", "Émile Zola"),  # accented capitals
        ("josé o\u2019neil", "José O\u2019Neil"),  # a typographic apostrophe
        ("McDonald", "McDonald"),  # mixed case is kept as its owner wrote it
        ("de la Cruz", "de la Cruz"),
        ("mary-kate mcdonald", "Mary-Kate Mcdonald"),  # all lower: no guessing at Mc
        ("李小龙", "李小龙"),  # a script without case is left alone
        ("ΟΔΥΣΣΕΑΣ", "Οδυσσεας"),  # Greek, with the final sigma
        ("", ""),
    ],
)
def test_names_typed_in_one_case_get_capitals(raw: str, clean: str) -> None:
    assert clean_name(raw) == clean


def test_a_greek_name_ends_in_a_final_sigma() -> None:
    assert clean_name("ΟΔΥΣΣΕΑΣ")[-1] == "ς"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),  # the proper case restored
        ("AMERICA/NEW_YORK", "America/New_York"),
        (" America/Argentina/Buenos_Aires ", "America/Argentina/Buenos_Aires"),
        ("utc", "UTC"),
        ("Etc/GMT+1", "Etc/GMT+1"),
        ("Asia/Calcutta", "Asia/Calcutta"),  # an old name IANA keeps as a link
    ],
)
def test_timezones_are_iana_names_in_their_proper_case(raw: str, clean: str) -> None:
    assert clean_timezone(raw) == clean


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "Mars/Olympus",  # no such zone
        "GMT+1",  # an offset, not a zone
        "CEST",  # an abbreviation, not a zone
        "Europe/Paris/",
        "../../etc/passwd",  # a path, not a name
        # The server's own zone, a file some systems keep beside the real ones: a contact
        # stored with it would move with whatever machine runs Tidings.
        "localtime",
        "posixrules",
    ],
)
def test_what_is_not_a_timezone_is_refused_with_an_example(raw: str) -> None:
    with pytest.raises(Unclean, match="is not an IANA timezone; use a name like Europe/Paris"):
        clean_timezone(raw)


@pytest.mark.parametrize(("raw", "clean"), [("us", "US"), (" fr ", "FR"), ("GB", "GB")])
def test_regions_are_two_letter_codes(raw: str, clean: str) -> None:
    assert clean_region(raw) == clean


@pytest.mark.parametrize("raw", ["", "XX", "uk", "USA", "France"])
def test_unknown_regions_are_refused_with_an_example(raw: str) -> None:
    with pytest.raises(Unclean, match=f"{raw!r} is not a region code; use two letters such as US"):
        clean_region(raw)


# --- one normal form: cleaning what is clean changes nothing ------------------------------------

local_parts = st.from_regex(r"[A-Za-z0-9._%+-]{1,20}", fullmatch=True)
domains = st.from_regex(r"[A-Za-z0-9-]{1,12}\.(com|ORG|de|example)", fullmatch=True)


@given(text=st.text(max_size=40))
@settings(max_examples=200)
def test_clean_text_and_names_are_stable(text: str) -> None:
    assert clean_text(clean_text(text)) == clean_text(text)
    assert clean_name(clean_name(text)) == clean_name(text)


@given(local=local_parts, domain=domains, pad=st.sampled_from(["", " ", "\u00a0", "\ufeff"]))
@settings(max_examples=200)
def test_a_clean_email_cleans_to_itself(local: str, domain: str, pad: str) -> None:
    try:
        once = clean_email(f"{pad}{local}@{domain}{pad}")
    except Unclean:
        return  # dots in a row and the like: refused, which is fine
    assert clean_email(once) == once
    assert once == once.lower() and once.strip() == once


@given(digits=st.from_regex(r"[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True))
@settings(max_examples=200)
def test_a_clean_phone_cleans_to_itself(digits: str) -> None:
    try:
        once = clean_phone(digits, "US")
    except Unclean:
        return  # not every ten digits are a valid US number
    assert clean_phone(once) == once  # E.164 needs no region
    assert once.startswith("+1") and once[1:].isdigit()


@given(st.emails())
@settings(max_examples=200)
def test_a_clean_email_is_already_folded_and_folding_is_one_form(address: str) -> None:
    # What compares addresses stored earlier folds them as cleaning stores them.
    clean = clean_email(address)
    assert fold_email(clean) == clean
    assert fold_email(f" {address.upper()} ") == fold_email(address.upper())


def test_folding_joins_the_unicode_forms_and_cases_of_one_address() -> None:
    assert fold_email(" ZOE\u0308@Example.com ") == fold_email("zoë@example.com")
    assert fold_email("zoë@example.com") == clean_email("Zoe\u0308@example.com")
