"""Drawings kept in process and shared by everyone who asks for the same: one store for the
public status pages (``views.status_cache``) and the signed-in pages (``views.page_cache``).

``Drawings.get(key, draw)`` answers a drawing of ``key``: a stored one younger than
``fresh_for`` seconds, the one under way (everyone asking while it is drawn waits for that one
drawing, through ``asyncio.shield``: one of them hanging up never cancels it for the others), or
a new one. ``changed(affects)`` says that what the drawings show has changed for the keys
``affects`` picks (all, without it): those stored are dropped, the version moves on, and a
drawing of one of them begun before the change is handed to those already waiting for it but
neither stored nor joined by anyone asking after the change (it may show what was there
before). A drawing that fails is neither stored nor kept: its waiters get
the error and the next to ask draws again. At most ``entries`` are kept, the least recently
used going first, so odd keys cannot grow memory. ``hits`` (answered without drawing: stored,
or joining a drawing under way) and ``misses`` (drawn) are counted for ``views.metrics``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Drawings(Generic[T]):
    """Stored drawings by key, each drawn once per change for everyone asking."""

    def __init__(
        self,
        *,
        fresh_for: float,
        entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fresh_for = fresh_for
        self.entries = entries
        self.clock = clock
        self.version = 0
        self.hits = 0
        self.misses = 0
        self._stored: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._drawing: dict[Hashable, asyncio.Future[T]] = {}  # under way since the last change

    def __len__(self) -> int:
        """How many drawings are stored."""
        return len(self._stored)

    def changed(self, affects: Callable[[Any], bool] | None = None) -> None:
        """What the drawings of the keys ``affects`` picks (all, without it) show has changed:
        draw each again when next asked."""
        self.version += 1
        if affects is None:
            self._stored.clear()
            self._drawing.clear()
            return
        for store in (self._stored, self._drawing):
            for key in [key for key in store if affects(key)]:
                del store[key]

    def forget(self, key: Hashable) -> None:
        """Draw ``key`` again when next asked."""
        self._stored.pop(key, None)

    async def get(self, key: Hashable, draw: Callable[[], Awaitable[T]]) -> T:
        """The drawing of ``key``: stored and fresh, under way since the last change, or drawn
        now by ``draw``."""
        found = self._stored.get(key)
        if found is not None and self.clock() - found[0] < self.fresh_for:
            self._stored.move_to_end(key)
            self.hits += 1
            return found[1]
        under_way = self._drawing.get(key)
        if under_way is not None:
            self.hits += 1
            return await asyncio.shield(under_way)
        self.misses += 1
        drawing: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        made = self.clock()
        self._drawing[key] = drawing
        try:
            result = await draw()
        except BaseException as error:
            drawing.set_exception(error)
            drawing.exception()  # those waiting get it; nobody else needs to look
            raise
        finally:
            # Still the one under way (no change since it began): it is kept.
            current = self._drawing.get(key) is drawing
            if current:
                del self._drawing[key]
        if current:  # else it may show what was there before the change
            self._stored[key] = (made, result)
            self._stored.move_to_end(key)
            while len(self._stored) > self.entries:
                self._stored.popitem(last=False)
        drawing.set_result(result)
        return result
