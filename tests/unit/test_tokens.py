"""Link tokens are canonical: only the exact text `make_token` wrote opens anything."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.delivery.tokens import BadToken, Purpose, make_token, read_token

SECRET = "s3cret-of-workspace-7"
TOKEN = make_token(7, SECRET, Purpose.CLICK, 1234, 2)
URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def secret_of(workspace_id: int) -> str | None:
    # Any id gets a secret, so a forged id is judged by the token alone, as the database
    # would have been asked about it.
    return SECRET if workspace_id == 7 else "other-secret"


def test_a_real_token_opens() -> None:
    opened = read_token(TOKEN, Purpose.CLICK, secret_of)
    assert (opened.workspace_id, opened.payload) == (7, [1234, 2])


def _last_char_variants(token: str) -> list[str]:
    return [token[:-1] + char for char in URLSAFE if char != token[-1] and char != "."]


@pytest.mark.parametrize(
    "forged",
    [
        # Leading zeros, full-width and superscript digits name the same workspace to int().
        "007." + TOKEN.split(".", 1)[1],
        "\uff17." + TOKEN.split(".", 1)[1],
        "\u00b2." + TOKEN.split(".", 1)[1],
        # Sixty digits: past any 64-bit id.
        "9" * 60 + "." + TOKEN.split(".", 1)[1],
        "+7." + TOKEN.split(".", 1)[1],
        " 7." + TOKEN.split(".", 1)[1],
        "",
        ".",
        "7.",
        "x" * 600,
    ],
)
def test_forged_workspace_ids_are_refused(forged: str) -> None:
    with pytest.raises(BadToken):
        read_token(forged, Purpose.CLICK, secret_of)


def test_a_different_last_base64_character_is_refused() -> None:
    # Some of these decode to the same signature bytes (base64's spare low bits); all
    # are refused, because a token is the one text make_token writes.
    for forged in _last_char_variants(TOKEN):
        with pytest.raises(BadToken):
            read_token(forged, Purpose.CLICK, secret_of)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_any_mutation_of_a_real_token_is_refused(data: st.DataObject) -> None:
    workspace_id = data.draw(st.integers(1, 10**12), label="workspace")
    token = make_token(
        workspace_id,
        _secret_of_each(workspace_id),
        Purpose.CLICK,
        data.draw(st.integers(1, 10**9)),
        data.draw(st.integers(0, 40)),
    )
    position = data.draw(st.integers(0, len(token)), label="position")
    action = data.draw(st.sampled_from(["replace", "insert", "delete"]), label="action")
    char = data.draw(st.one_of(st.sampled_from(URLSAFE), st.characters()), label="char")
    if action == "replace" and position < len(token):
        forged = token[:position] + char + token[position + 1 :]
    elif action == "insert":
        forged = token[:position] + char + token[position:]
    else:
        forged = token[:position] + token[position + 1 :]
    if forged == token:
        return
    with pytest.raises(BadToken):
        read_token(forged, Purpose.CLICK, _secret_of_each)


def _secret_of_each(workspace_id: int) -> str:
    # Each workspace signs with its own secret, which is what ties a token to its id.
    return f"secret-{workspace_id}"
