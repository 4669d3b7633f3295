"""Opaque ids and cursors: what clients see instead of database keys, and turning them back.

Ids and cursors are sealed by ``app.opaque`` (AES-SIV under a key derived from
``MUSTER_SECRET_KEY``): the same object always has the same id, in every process and after
restarts, and no id or cursor tells anyone how many rows came before or between (a plain key
would: an event cursor counts the private events in between). The kind of id (``Incident``,
``User``) or cursor is sealed with it, so an id of one kind never opens as another's. Anything
that does not open (malformed, tampered with, made under another key, of another kind) is
``NotFound`` for the input named, exactly as an id that points nowhere.

``build_schema`` installs the process's ``Sealer`` with ``use_secret``; tests and scripts that
build ids for a server call it with that server's secret.
"""

from __future__ import annotations

import strawberry

from app.errors import NotFound
from app.opaque import Sealer, sealer_for

_sealer: Sealer | None = None


def use_secret(secret_key: str) -> None:
    """Seal ids and cursors with a key derived from ``secret_key`` from now on, in this process."""
    global _sealer
    _sealer = sealer_for(secret_key)


def sealer() -> Sealer:
    """This process's sealer; ``build_schema(secret_key=...)`` installs it."""
    if _sealer is None:
        raise RuntimeError("Ids need the secret key: build the schema with secret_key first.")
    return _sealer


def encode(kind: str, key: int) -> strawberry.ID:
    return strawberry.ID(sealer().seal(kind, (key,)))


def decode(kind: str, value: str, *, field: str) -> int:
    """The key inside an id of ``kind``, or ``NotFound`` naming ``field``."""
    opened = sealer().open(kind, value, 1) if isinstance(value, str) else None
    if opened is None:
        raise NotFound(f"No {_noun(kind)} with that id.", field=field)
    return opened[0]


def decode_optional(kind: str, value: strawberry.ID | None, *, field: str) -> int | None:
    """The key inside an optional id, or None when the id was left out."""
    return None if value is None else decode(kind, value, field=field)


def decode_all(kind: str, values: list[strawberry.ID] | None, *, field: str) -> list[int]:
    return [decode(kind, value, field=field) for value in values or []]


def _noun(kind: str) -> str:
    words = [kind[0].lower()]
    for char in kind[1:]:
        words.append(f" {char.lower()}" if char.isupper() else char)
    return "".join(words)
