"""Opaque ids: numbers sealed into text that tells nobody how many rows came before or between.

Numbers are sealed with AES-SIV (deterministic authenticated encryption) under a key derived with
HKDF from ``MUSTER_SECRET_KEY``: the same object always has the same id, in every process and
after restarts. What is sealed is a fixed 8 bytes per number, and the kind of id (``Incident``,
``StatusIncident``) or cursor is the associated data, so an id of one kind never opens as
another's. Text is URL-safe base64 without padding. The API's ids are made here
(``schema.ids``), and so are the links background jobs put into email (a status incident's page).
"""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

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


@functools.cache
def sealer_for(secret_key: str) -> Sealer:
    """The sealer for ``secret_key``, made once per process."""
    return Sealer(secret_key)
