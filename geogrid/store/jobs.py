"""Partition jobs kept in the store: every API worker and instance behind a proxy sees, and refuses to double, each one."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geogrid.db.models import PartitionJob, utcnow
from geogrid.store.plans import Conflict

ACTIVE = ("queued", "running")


class JobUnderWay(Conflict):
    """A partition job of that community is queued or running already (409)."""


def this_worker() -> str:
    """host:pid, the owner written on the jobs this process runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def create_job(session: Session, community_code: str, username: str) -> PartitionJob:
    """A new queued job (committed by the caller), or JobUnderWay naming the unfinished one."""
    running = _active(session, community_code)
    if running is None:
        job = PartitionJob(id=uuid.uuid4().hex, community_code=community_code, created_by=username, status="queued",
                           progress=0.0, owner=this_worker(), created_at=utcnow())
        try:
            with session.begin_nested():
                session.add(job)
            return job
        except IntegrityError:  # another worker queued one between the look and the insert
            running = _active(session, community_code)
    raise JobUnderWay(
        f"a partition job ({running.id if running else '?'}, {running.status if running else 'queued'}) is already "
        f"under way for community {community_code}; wait for it "
        f"(GET /api/v1/jobs/{running.id if running else ''}) before starting another")


def get_job(session: Session, job_id: str) -> PartitionJob | None:
    """The job, if any worker ever made it."""
    return session.get(PartitionJob, job_id)


def mark_running(session: Session, job_id: str) -> None:
    """The job started."""
    session.execute(update(PartitionJob).where(PartitionJob.id == job_id)
                    .values(status="running", started_at=utcnow(), owner=this_worker()))


def set_progress(session: Session, job_id: str, share: float) -> None:
    """The job's share done, from 0 to 1 (never going back)."""
    session.execute(update(PartitionJob).where(PartitionJob.id == job_id, PartitionJob.progress < share)
                    .values(progress=min(float(share), 1.0)))


def finish(session: Session, job_id: str, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
    """The job succeeded with result, or failed with error."""
    values: dict[str, Any] = {"finished_at": utcnow(), "result": result, "error": error,
                              "status": "failed" if error is not None else "succeeded"}
    if error is None:
        values["progress"] = 1.0
    session.execute(update(PartitionJob).where(PartitionJob.id == job_id).values(**values))


def fail_orphans(session: Session, alive: Callable[[int], bool]) -> int:
    """Mark failed the unfinished jobs of this host whose worker process is gone (a restart); how many."""
    host = socket.gethostname()
    jobs = session.scalars(select(PartitionJob).where(PartitionJob.status.in_(ACTIVE),
                                                      PartitionJob.owner.like(f"{host}:%"))).all()
    gone = [job for job in jobs if not alive(int(job.owner.rsplit(":", 1)[1]))]
    for job in gone:
        finish(session, job.id, error="the service stopped while the job ran; start it again")
    return len(gone)


def _active(session: Session, community_code: str) -> PartitionJob | None:
    query = select(PartitionJob).where(PartitionJob.community_code == community_code,
                                       PartitionJob.status.in_(ACTIVE))
    return session.scalar(query)
