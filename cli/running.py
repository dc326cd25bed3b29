"""How the command line runs the engine: in this process, in a process pool or on a Dask scheduler, with a progress bar."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from geogrid.errors import InputError

AUTO_PARALLEL_BUILDINGS = 20_000
DASK_CONNECT_SECONDS = 10


@contextmanager
def executor(workers: int, scheduler: str | None, n_buildings: int) -> Iterator[Executor | None]:
    """None (run here), a process pool (workers, 0: all cores on large inputs) or a Dask scheduler's executor."""
    if scheduler:
        with _dask_client(scheduler) as client:
            yield client.get_executor()
        return
    if workers == 0:
        workers = (os.cpu_count() or 1) if n_buildings >= AUTO_PARALLEL_BUILDINGS else 1
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(workers) as pool:
        yield pool


@contextmanager
def _dask_client(scheduler: str) -> Iterator[object]:
    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError("--dask-scheduler needs dask[distributed]: pip install 'geogrid[dask]'") from None
    try:
        client = Client(scheduler, timeout=DASK_CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:  # refused, timed out, or a malformed address
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({reason})") from None
    with client:
        yield client


@contextmanager
def progress(console: Console, what: str = "partitioning") -> Iterator[Callable[[int, int], None]]:
    """A tick(done, total) that draws a progress bar over communities (on a terminal only)."""
    columns = (TextColumn(what), BarColumn(), MofNCompleteColumn(), TextColumn("communities"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(what, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick
