"""Background jobs in a thread pool inside each API worker, their status, progress and result kept in the store.

Any worker (or instance behind a proxy) answers a job's polling, whichever one runs it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from geogrid.db.models import PartitionJob
from geogrid.db.session import session_scope
from geogrid.errors import InputError
from geogrid.store import jobs

logger = logging.getLogger("geogrid.api.jobs")
PROGRESS_EVERY_S = 0.5  # progress is written to the store at most this often (and at every 5 %)
HEARTBEATS_PER_LEASE = 6  # a lease is renewed this often within its length: a few lost writes do not lose it

Progress = Callable[[float], None]
Work = Callable[[Progress], dict[str, Any]]
Job = PartitionJob


class JobRunner:
    """Runs jobs in a pool of worker threads; at most one unfinished job per community across all workers.

    While this runner holds unfinished jobs, a heartbeat thread renews their lease in the store and fails the
    jobs of any worker, on any host, whose lease ran out (jobs.fail_expired); polling a job or starting one on
    its community does the same, so that a job whose process is gone never stays "running"."""

    def __init__(self, sessions: sessionmaker[Session], workers: int = 2, lease_s: float = jobs.LEASE_S) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geogrid-job")
        self._sessions = sessions
        self.lease_s = lease_s
        self._mine: set[str] = set()  # this runner's unfinished jobs, whose lease it renews
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._heart: threading.Thread | None = None

    def submit(self, session: Session, community_code: str, username: str, work: Work) -> Job:
        """Queue work for the community, or jobs.JobUnderWay (409) if a job of that community is unfinished.

        The job is recorded in session, the request's own, which is committed here (on SQLite a second writer
        would wait for the request's lock), so that the job's thread and every worker see it at once."""
        job = jobs.create_job(session, community_code, username, self.lease_s)
        session.commit()
        with self._lock:
            self._mine.add(job.id)
            if self._heart is None or not self._heart.is_alive():
                self._heart = threading.Thread(target=self._beat, name="geogrid-job-heartbeat", daemon=True)
                self._heart.start()
        self._pool.submit(self._run, job.id, job.community_code, work)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job, if it is known (failed first if its lease ran out)."""
        with session_scope(self._sessions) as session:
            return jobs.get_job(session, job_id, self.lease_s)

    def fail_orphans(self) -> None:
        """Jobs left unfinished by a worker of this host that stopped: failed, so that they can be started again."""
        try:
            with session_scope(self._sessions) as session:
                count = jobs.fail_orphans(session, _alive)
        except Exception:  # noqa: BLE001 - a store not migrated yet: the first request will say so
            logger.warning("could not look for the partition jobs of stopped workers", exc_info=True)
            return
        if count:
            logger.warning("%d partition jobs of a stopped worker marked failed", count)

    def shutdown(self) -> None:
        """Stop taking jobs and wait for the running ones."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._stopping.set()

    def _beat(self) -> None:
        """Renew the lease of this runner's jobs while it holds any; fail the jobs whose lease ran out."""
        interval = self.lease_s / HEARTBEATS_PER_LEASE
        while not self._stopping.wait(interval):
            with self._lock:
                mine = set(self._mine)
                if not mine:
                    self._heart = None
                    return
            self._write(jobs.renew, mine)
            self._write(jobs.fail_expired, self.lease_s)

    def _run(self, job_id: str, community_code: str, work: Work) -> None:
        try:
            self._run_job(job_id, community_code, work)
        finally:
            with self._lock:
                self._mine.discard(job_id)

    def _run_job(self, job_id: str, community_code: str, work: Work) -> None:
        self._write(jobs.mark_running, job_id)
        written = [0.0, time.monotonic()]

        def progress(share: float) -> None:
            now = time.monotonic()
            if share - written[0] >= 0.05 or now - written[1] >= PROGRESS_EVERY_S:
                self._write(jobs.set_progress, job_id, share)
                written[:] = [share, now]

        result, error = None, None
        try:
            result = work(progress)
        except InputError as exc:
            error = str(exc)
        except Exception as exc:  # a job's failure is reported, never raised into the pool
            logger.exception("job %s on community %s failed", job_id, community_code)
            error = f"the job failed unexpectedly ({type(exc).__name__}); see the server log"
        self._write(jobs.finish, job_id, result=result, error=error)

    def _write(self, change: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        try:
            with session_scope(self._sessions) as session:
                change(session, *args, **kwargs)
        except Exception:  # noqa: BLE001 - a lost progress write must not stop the job
            logger.exception("could not record a change of a partition job")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
