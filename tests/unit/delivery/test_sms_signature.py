"""The inbound SMS signature against Twilio's own published example, not against itself.

The vector is the one twilio-python's test suite checks its RequestValidator with
(tests/unit/test_request_validator.py): auth token 12345, the URL and form below, and the
signature RSOYDt4T1cUTdK1PDd93/VVr8B8=. The same example, with the caller +12349013030,
appears in Twilio's webhook security guide with the signature 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
"""

from __future__ import annotations

import hmac

import pytest

from tidings.delivery.sms import twilio_signature

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"


def form(caller: str) -> dict[str, str]:
    # Written out of name order on purpose: the signature sorts the parameters itself.
    return {
        "To": "+18005551212",
        "Digits": "1234",
        "From": caller,
        "CallSid": "CA1234567890ABCDE",
        "Caller": caller,
    }


def is_signed(token: str, url: str, params: dict[str, str], signature: str) -> bool:
    # The inbound route's check: the computed signature against the header, in constant time.
    return hmac.compare_digest(twilio_signature(token, url, params), signature)


@pytest.mark.parametrize(
    ("caller", "published"),
    [
        ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),  # twilio-python's test suite
        ("+12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),  # Twilio's webhook security guide
    ],
)
def test_twilios_published_example_is_accepted(caller: str, published: str) -> None:
    assert twilio_signature(TOKEN, URL, form(caller)) == published
    assert is_signed(TOKEN, URL, form(caller), published)


PUBLISHED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        # one character of the token
        ("12346", URL, form("+14158675309"), PUBLISHED),
        # one character of the query string: the whole URL is signed, query included
        (TOKEN, URL.replace("bar=2", "bar=3"), form("+14158675309"), PUBLISHED),
        # one character of the path
        (TOKEN, URL.replace("myapp", "myapq"), form("+14158675309"), PUBLISHED),
        # http for https: the scheme is signed too
        (TOKEN, URL.replace("https", "http"), form("+14158675309"), PUBLISHED),
        # one digit of one parameter's value
        (TOKEN, URL, {**form("+14158675309"), "Digits": "1235"}, PUBLISHED),
        # one character of one parameter's name
        (
            TOKEN,
            URL,
            {("digits" if k == "Digits" else k): v for k, v in form("+14158675309").items()},
            PUBLISHED,
        ),
        # one parameter more than was signed
        (TOKEN, URL, {**form("+14158675309"), "Body": "STOP"}, PUBLISHED),
        # one character of the signature itself
        (TOKEN, URL, form("+14158675309"), "RSOYDt4T1cUTdK1PDd93/VVr8B9="),
    ],
)
def test_a_one_character_change_is_refused(
    token: str, url: str, params: dict[str, str], signature: str
) -> None:
    assert not is_signed(token, url, params, signature)
