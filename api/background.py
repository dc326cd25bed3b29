"""Background jobs in a thread pool inside the app: a registry with each job's status, progress and result."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from api.errors import ConflictError
from geogrid.db.models import utcnow
from geogrid.errors import InputError

logger = logging.getLogger("geogrid.api.jobs")
KEEP_FINISHED = 500  # finished jobs remembered for polling

Progress = Callable[[float], None]
Work = Callable[[Progress], dict[str, Any]]


@dataclass
class Job:
    """One job on one community."""

    id: str
    community_code: str
    created_by: str
    status: str = "queued"
    progress: float = 0.0
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class JobRunner:
    """Runs at most one job per community at a time, in a pool of worker threads."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geogrid-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, community_code: str, username: str, work: Work) -> Job:
        """Queue work for the community, or ConflictError if a job of that community is unfinished."""
        with self._lock:
            running = next((j for j in self._jobs.values() if j.community_code == community_code and j.active), None)
            if running is not None:
                raise ConflictError(
                    f"a partition job ({running.id}, {running.status}) is already under way for community "
                    f"{community_code}; wait for it (GET /api/v1/jobs/{running.id}) before starting another"
                )
            job = Job(id=uuid.uuid4().hex, community_code=community_code, created_by=username)
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job, if it is known."""
        return self._jobs.get(job_id)

    def shutdown(self) -> None:
        """Stop taking jobs and wait for the running ones."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: Job, work: Work) -> None:
        job.status, job.started_at = "running", utcnow()

        def progress(share: float) -> None:
            job.progress = min(max(float(share), job.progress), 1.0)

        try:
            job.result = work(progress)
        except InputError as exc:
            job.error = str(exc)
        except Exception as exc:  # a job's failure is reported, never raised into the pool
            logger.exception("job %s on community %s failed", job.id, job.community_code)
            job.error = f"the job failed unexpectedly ({type(exc).__name__}); see the server log"
        job.finished_at = utcnow()
        if job.error is None:
            job.progress = 1.0
        job.status = "failed" if job.error is not None else "succeeded"

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if not j.active]
        for job in sorted(finished, key=lambda j: j.created_at)[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]
