"""Service functions: every change to incidents and configuration goes through one of these.

Each write is ``async def verb(db, *, actor, ...)`` and runs in exactly one transaction: check the
access policy, change rows, bump the incident's ``version``, append timeline events, commit.
Reads are ``get_*`` (raise ``NotFound``), ``find_*`` (return None) and ``list_*``.
"""
