"""Admins change the status page's settings: its title (1 to 120 characters), introduction (at
most 2,000), support link (an ``http``/``https`` URL or a ``mailto:`` address, or none) and logo
(a path on this site such as ``/static/logo.svg``, or none). The logo must be same-site because
the pages' Content-Security-Policy (``img-src 'self' data:``) blocks images from anywhere else, so
an off-site URL, a protocol-relative ``//host`` path and any other scheme (``javascript:``,
``data:``) are refused, each as ``Invalid`` on its field. The settings are one row, ``id`` 1,
made here when it is missing (tried again, changing it, if another admin's first save made it
meanwhile); ``app.services.status_public.page_settings`` reads it, answering the defaults until
then.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError

from app import policy
from app.db import Database
from app.errors import Forbidden, Invalid
from app.models import StatusPageSettings, User
from app.text import clean_text

SETTINGS_ID = 1
TITLE_LENGTH = 120
INTRO_LENGTH = 2000
URL_LENGTH = 2000

# A same-site path: one leading slash (never "//", which is another host), then only the
# characters a URL path and query may hold unescaped (no backslash, quote, space or "<").
_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/?#-]*")
_MAILTO = re.compile(r"mailto:[^\s<>\"'\\]+@[^\s<>\"'\\]+")
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]")


def _support_url(value: str | None) -> str | None:
    value = clean_text(value or "", field="supportUrl", limit=URL_LENGTH, empty=True)
    if not value:
        return None
    bad = Invalid(
        "The support link must be an http:// or https:// address, or mailto: and an email address.",
        field="supportUrl",
    )
    if _SPACE.search(value):
        raise bad
    if value.lower().startswith("mailto:"):
        if not _MAILTO.fullmatch(value):
            raise bad
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        raise bad from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise bad
    return value


def _logo_url(value: str | None) -> str | None:
    value = clean_text(value or "", field="logoUrl", limit=URL_LENGTH, empty=True)
    if not value:
        return None
    if not _PATH.fullmatch(value):
        raise Invalid(
            "The logo must be a path on this site starting with “/”, such as "
            "/static/logo.svg: the page's security policy blocks images from other sites.",
            field="logoUrl",
        )
    return value


async def update_settings(
    db: Database,
    *,
    actor: User,
    title: str,
    intro: str = "",
    support_url: str | None = None,
    logo_url: str | None = None,
) -> StatusPageSettings:
    """Admins: replace the page's settings (row 1, made if missing); empty links mean none."""
    if not policy.can_configure(actor):
        raise Forbidden("Only admins can change the status page settings.")
    title = clean_text(title, field="title", limit=TITLE_LENGTH)
    if "\n" in title or "\r" in title or "\t" in title:
        raise Invalid("Title must be one line.", field="title")
    intro = clean_text(intro, field="intro", limit=INTRO_LENGTH, empty=True)
    support = _support_url(support_url)
    logo = _logo_url(logo_url)
    for attempt in (1, 2):
        try:
            async with db.write() as session:
                now = db.now()
                row = await session.get(StatusPageSettings, SETTINGS_ID, with_for_update=True)
                if row is None:
                    row = StatusPageSettings(id=SETTINGS_ID, updated_at=now)
                    session.add(row)
                row.title, row.intro, row.support_url, row.logo_url = title, intro, support, logo
                row.updated_at = now
            return row
        except IntegrityError:
            if attempt == 2:  # another admin made the row first: change theirs
                raise
    raise AssertionError("unreachable")
