"""Whole numbers people send in forms and URLs: ASCII digits only.

``str.isdigit`` and ``int`` accept far more than a person types into a number field: ``"²"`` is
a digit that ``int`` refuses (a 500 where a form error belongs), and ``int("٢١")`` is 21, so a
field could mean something the page never offered. ``whole`` takes ``0``-``9`` and nothing else
(no sign, spaces or underscores), within a bound.
"""

from __future__ import annotations


def whole(text: str, *, most: int) -> int | None:
    """``text`` as a whole number from 0 to ``most``, or None when it is anything else."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(most)):
        return None
    value = int(text)
    return value if value <= most else None
