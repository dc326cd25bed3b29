"""An in-process cache of rendered answers (vector tiles, GeoJSON, the hierarchy), keyed by the store's data version.

Every write to the store adds an audit row and raises the data version (``geogrid.store.audit``): an
answer cached under one version is served until a write makes a new one. Each worker process keeps
its own cache, bounded in bytes, least recently used out first.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


def etag(data: bytes) -> str:
    """A strong ETag for a response body."""
    return f'"{hashlib.blake2b(data, digest_size=16).hexdigest()}"'


class AnswerCache:
    """Rendered answers (bytes) and their ETags, up to max_bytes in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[bytes, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> tuple[bytes, str] | None:
        """The cached answer for key and its ETag, if kept."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def get(self, key: Hashable, render: Callable[[], bytes]) -> tuple[bytes, str]:
        """The cached answer for key, or render it now (outside the lock) and keep it."""
        found = self.peek(key)
        if found is not None:
            return found
        data = render()
        item = (data, etag(data))
        if len(data) <= self.max_bytes:
            self._keep(key, item)
        return item

    def _keep(self, key: Hashable, item: tuple[bytes, str]) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[0])
            self._items[key] = item
            self._bytes += len(item[0])
            while self._bytes > self.max_bytes:
                _, (data, _) = self._items.popitem(last=False)
                self._bytes -= len(data)
