"""keyed suppression hashes and reason codes

Existing entries are plain SHA-256 (hash_version 1), which anyone holding a copy can
check against guessed addresses. Those whose identifier a contact still has are re-keyed
here: HMAC-SHA256 under a key made from TIDINGS_SECRET_KEY and the workspace's secret when
the secret key is set (3), else under the workspace's secret (2). The others cannot be
re-keyed without the address: they stay and are still matched until the identifier is
suppressed again. Free-text reasons (a bounce's text can hold the address and a name)
become codes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 08:30:00
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: The engine option carrying TIDINGS_SECRET_KEY (tidings.storage.engine.SECRET_KEY_OPTION,
#: written out: a migration must not change when the application does).
_SECRET_KEY_OPTION = "tidings_secret_key"
#: Each kind of suppressed identifier and the contacts column that holds it.
_COLUMNS = {
    "email": "email",
    "phone": "phone",
    "user_id": "external_id",
    "anonymous_id": "anonymous_id",
}


def upgrade() -> None:
    with op.batch_alter_table("suppressions") as batch:
        batch.add_column(
            sa.Column("hash_version", sa.Integer(), nullable=False, server_default="1")
        )
    op.execute(
        """
        UPDATE suppressions SET reason = CASE
            WHEN reason LIKE 'bounced:%' OR reason LIKE 'hard:%' THEN 'hard_bounce'
            WHEN reason LIKE 'complained:%' OR reason LIKE 'complaint%' THEN 'complaint'
            WHEN reason LIKE 'erased%' THEN 'erased'
            ELSE 'manual'
        END
        """
    )
    _rekey_known(op.get_bind())


def _normal(kind: str, value: str, *, nfc: bool = True) -> str:
    # The plain hashes were made without NFC; the keyed ones fold as tidings.cleaning's
    # fold_email does today.
    text = value.strip()
    if kind == "email":
        text = (unicodedata.normalize("NFC", text) if nfc else text).lower()
    return f"{kind}:{text}"


def _hmac(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def _rekey_known(conn: sa.Connection) -> None:
    """Re-key the plain SHA-256 entries whose identifier a contact still has."""
    legacy = {
        (r.workspace_id, r.kind, r.value_hash): r.id
        for r in conn.execute(
            sa.text("SELECT id, workspace_id, kind, value_hash FROM suppressions")
        )
    }
    if not legacy:
        return
    secret_key = conn.get_execution_options().get(_SECRET_KEY_OPTION)
    keys: dict[int, str] = {}
    for r in conn.execute(sa.text("SELECT id, secret FROM workspaces")):
        # The same derivation as tidings.storage.suppressions.server_key.
        keys[r.id] = _hmac(secret_key, f"suppressions:{r.secret}") if secret_key else r.secret
    version = 3 if secret_key else 2
    changes = []
    columns = ", ".join(_COLUMNS.values())
    for contact in conn.execute(sa.text(f"SELECT workspace_id, {columns} FROM contacts")):
        for kind, column in _COLUMNS.items():
            value = getattr(contact, column)
            if not value or contact.workspace_id not in keys:
                continue
            normal = _normal(kind, value)
            plain = hashlib.sha256(_normal(kind, value, nfc=False).encode()).hexdigest()
            found = legacy.pop((contact.workspace_id, kind, plain), None)
            if found is not None:
                keyed = _hmac(keys[contact.workspace_id], normal)
                changes.append({"id": found, "value_hash": keyed, "version": version})
    if changes:
        conn.execute(
            sa.text(
                "UPDATE suppressions SET value_hash = :value_hash, hash_version = :version"
                " WHERE id = :id"
            ),
            changes,
        )


def downgrade() -> None:
    with op.batch_alter_table("suppressions") as batch:
        batch.drop_column("hash_version")
