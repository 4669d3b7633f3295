"""Opaque ids: what clients see instead of database keys, and turning them back.

An id is the URL-safe base64 of ``Kind:key`` without padding. Decoding checks the kind, so an id
of one kind never reaches another's lookup; anything malformed is ``NotFound`` for the input
named, exactly as an id that points nowhere.
"""

from __future__ import annotations

import base64
import binascii

import strawberry

from app.errors import NotFound


def encode(kind: str, key: int) -> strawberry.ID:
    raw = f"{kind}:{key}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def decode(kind: str, value: str, *, field: str) -> int:
    """The key inside an id of ``kind``, or ``NotFound`` naming ``field``."""
    missing = NotFound(f"No {_noun(kind)} with that id.", field=field)
    if not value or len(value) > 64:
        raise missing
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise missing from error
    found_kind, _, key = raw.partition(":")
    if found_kind != kind or not key.isdigit() or len(key) > 18:
        raise missing
    return int(key)


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
