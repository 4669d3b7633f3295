"""What ``build_schema`` is told about the process it serves, for the resolvers that need it:
``MUSTER_SECRET_KEY`` (webhook secrets are sealed under a key derived from it, status
subscription links are signed with another) and whether email is set up (``MUSTER_SMTP_URL``:
without it nobody can subscribe to the status page by email)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Process:
    secret_key: str
    email: bool


_process: Process | None = None


def use(process: Process) -> None:
    """Serve ``process`` from now on (``build_schema`` calls it)."""
    global _process
    _process = process


def secret_key() -> str:
    if _process is None:
        raise RuntimeError("This needs the secret key: build the schema with it.")
    return _process.secret_key


def email() -> bool:
    """Whether this process sends email."""
    return _process is not None and _process.email
