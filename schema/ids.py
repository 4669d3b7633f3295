"""Opaque ids and cursors: what clients see instead of database keys, and turning them back.

Ids and cursors are sealed with AES-SIV (deterministic authenticated encryption) under a key
derived with HKDF from ``MUSTER_SECRET_KEY``: the same object always has the same id, in every
process and after restarts, and no id or cursor tells anyone how many rows came before or between
(a plain key would: an event cursor counts the private events in between). What is sealed is a
fixed 8 bytes per number, and the kind of id (``Incident``, ``User``) or cursor is the associated
data, so an id of one kind never opens as another's. Anything that does not open (malformed,
tampered with, made under another key, of another kind) is ``NotFound`` for the input named,
exactly as an id that points nowhere. Text is URL-safe base64 without padding.

``build_schema`` installs the process's ``Sealer`` with ``use_secret``; tests and scripts that
build ids for a server call it with that server's secret.
"""

from __future__ import annotations

import base64
import binascii
import functools

import strawberry
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.errors import NotFound

NUMBER = 8  # bytes per sealed number: every id and cursor of a kind has one length
LONGEST = 96  # characters: anything longer was not made here
_HKDF_INFO = b"muster: opaque ids and cursors v1"


class Sealer:
    """Seals numbers into opaque text under one key, and opens that text again."""

    def __init__(self, secret_key: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_HKDF_INFO).derive(
            secret_key.encode()
        )
        self._siv = AESSIV(key)
        self.seal = functools.lru_cache(maxsize=8192)(self._seal)

    def _seal(self, purpose: str, numbers: tuple[int, ...]) -> str:
        plain = b"".join(number.to_bytes(NUMBER, "big", signed=True) for number in numbers)
        sealed = self._siv.encrypt(plain, [purpose.encode()])
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, purpose: str, text: str, count: int) -> tuple[int, ...] | None:
        """The ``count`` numbers sealed in ``text`` for ``purpose``, or None if it was not."""
        if not text or len(text) > LONGEST or not text.isascii():
            return None
        try:
            sealed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            plain = self._siv.decrypt(sealed, [purpose.encode()])
        except (binascii.Error, ValueError, InvalidTag):
            return None
        if len(plain) != count * NUMBER:
            return None
        return tuple(
            int.from_bytes(plain[i : i + NUMBER], "big", signed=True)
            for i in range(0, len(plain), NUMBER)
        )


_sealer: Sealer | None = None


def use_secret(secret_key: str) -> None:
    """Seal ids and cursors with a key derived from ``secret_key`` from now on, in this process."""
    global _sealer
    _sealer = Sealer(secret_key)


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
