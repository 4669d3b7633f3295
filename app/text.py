"""Checking the text people type: trimmed, within its length, free of control characters.

Every service passes user text through ``clean_text`` before storing it, so the rules and the
error messages are the same for every field.
"""

from __future__ import annotations

import re

from app.errors import Invalid

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(
    value: str, *, field: str, limit: int, empty: bool = False, label: str | None = None
) -> str:
    """Return ``value`` trimmed, or raise ``Invalid`` naming ``field``; the message calls it
    ``label`` (a custom field's own name), else ``field`` in words."""
    value = value.strip()
    label = label or _label(field)
    if not value and not empty:
        raise Invalid(f"{label} cannot be empty.", field=field)
    if len(value) > limit:
        raise Invalid(f"{label} is too long: at most {limit:,} characters.", field=field)
    if _CONTROL.search(value):
        raise Invalid(f"{label} contains control characters.", field=field)
    return value


def _label(field: str) -> str:
    words = re.sub(r"([A-Z])", r" \1", field).lower().strip()
    return words[:1].upper() + words[1:]
