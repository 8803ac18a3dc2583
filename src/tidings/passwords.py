"""Password hashing: argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
#: Passwords shorter than this are refused: argon2 slows guessing, it cannot save "1234".
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    """The argon2id hash of `password`, salt and parameters included."""
    return _HASHER.hash(password)


def verify_password(hashed: str | None, password: str) -> bool:
    """Whether `password` matches `hashed`.

    With no hash (an unknown email, or a person who has not accepted an invitation), the
    password is checked against a dummy hash anyway, so both answers cost the same work
    and the response time does not tell which emails exist.
    """
    try:
        matched = _HASHER.verify(hashed or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return matched and hashed is not None


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("no one has this password")


def password_problem(password: str) -> str | None:
    """Why `password` cannot be used, or None."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    return None
