"""What a process keeps for each store it opens (one object per SQLAlchemy engine, gone with the engine)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

T = TypeVar("T")


class PerStore(Generic[T]):
    """One object per store, made by make on first use, for the store a session is bound to; safe between threads."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._kept: weakref.WeakKeyDictionary[Engine, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def of(self, session: Session) -> T:
        """The object kept for the store session is bound to (an engine with execution options counts as its own)."""
        bind = session.get_bind()
        engine: Engine = bind if isinstance(bind, Engine) else bind.engine
        with self._lock:
            found = self._kept.get(engine)
            if found is None:
                found = self._kept[engine] = self._make()
            return found
