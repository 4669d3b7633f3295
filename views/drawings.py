"""Drawings kept in process and shared by everyone who asks for the same: one store for the
public status pages (``views.status_cache``) and the signed-in pages (``views.page_cache``).

``Drawings.get(key, draw)`` answers a drawing of ``key``: a stored one younger than
``fresh_for`` seconds, the one under way (everyone asking while it is drawn waits for that one
drawing, through ``asyncio.shield``: one of them hanging up never cancels it for the others), or
a new one. ``changed()`` says that what the drawings show has changed: every stored one is
dropped and the version moves on, and a drawing begun before the change is handed to those
already waiting for it but neither stored nor joined by anyone asking after the change (it may
show what was there before). A drawing that fails is neither stored nor kept: its waiters get
the error and the next to ask draws again. At most ``entries`` are kept, the least recently
used going first, so odd keys cannot grow memory. ``hits`` (answered without drawing: stored,
or joining a drawing under way) and ``misses`` (drawn) are counted for ``views.metrics``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

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
        self._drawing: dict[Hashable, tuple[int, asyncio.Future[T]]] = {}

    def __len__(self) -> int:
        """How many drawings are stored."""
        return len(self._stored)

    def changed(self) -> None:
        """What the drawings show has changed: draw each again when next asked."""
        self.version += 1
        self._stored.clear()

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
        if under_way is not None and under_way[0] == self.version:
            self.hits += 1
            return await asyncio.shield(under_way[1])
        self.misses += 1
        drawing: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        version, made = self.version, self.clock()
        self._drawing[key] = (version, drawing)
        try:
            result = await draw()
        except BaseException as error:
            drawing.set_exception(error)
            drawing.exception()  # those waiting get it; nobody else needs to look
            raise
        finally:
            if self._drawing.get(key, (version, None))[1] is drawing:  # not a newer one's
                del self._drawing[key]
        if version == self.version:  # else it may show what was there before the change
            self._stored[key] = (made, result)
            self._stored.move_to_end(key)
            while len(self._stored) > self.entries:
                self._stored.popitem(last=False)
        drawing.set_result(result)
        return result
