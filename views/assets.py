"""Static files under ``/static``: content-hashed URLs, cached for a year when they match.

``Assets`` hashes every file under ``static/`` once, at start-up (SHA-256 of its bytes, the first
``HASH_LENGTH`` hex digits). Templates link to ``url(path)``, ``/static/<path>?v=<hash>``, so a
changed file gets a new URL. ``files()`` is the ``StaticFiles`` app that serves them and checks
``v``: the file's current hash gets ``Cache-Control: public, max-age=31536000, immutable``; no
``v`` or another one (an old page asking after a deploy) still gets the file, with ``no-cache``
(revalidated by its ETag), so nothing stale is kept for long.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

HASH_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class Assets:
    """The static files' content hashes, read once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.hashes = {
            path.relative_to(directory).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[
                :HASH_LENGTH
            ]
            for path in sorted(directory.rglob("*"))
            if path.is_file()
        }

    def url(self, path: str) -> str:
        """The URL that names this version of ``path`` (a file under ``static/``)."""
        return f"/static/{path}?v={self.hashes[path]}"

    def files(self) -> StaticFiles:
        return _HashedFiles(directory=self.directory, hashes=self.hashes)


class _HashedFiles(StaticFiles):
    def __init__(self, *, directory: Path, hashes: dict[str, str]) -> None:
        super().__init__(directory=directory)
        self.hashes = hashes

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
            current = self.hashes.get(Path(path).as_posix())
            fresh = current is not None and asked == current
            response.headers["Cache-Control"] = IMMUTABLE if fresh else REVALIDATE
        return response
