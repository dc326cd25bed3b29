"""Partition jobs kept in the store: every API worker and instance behind a proxy sees, and refuses to double, each one."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geogrid.db.models import PartitionJob, utcnow
from geogrid.store.plans import Conflict

ACTIVE = ("queued", "running")
# a queued or running job's owner renews its lease (heartbeat_at) well within this; a job whose lease ran out
# (its process killed, its host gone) is failed by whichever worker next looks at it or at its community
LEASE_S = 60.0
EXPIRED = "the worker running the job stopped answering (no heartbeat for {lease:g} s); start it again"


class JobUnderWay(Conflict):
    """A partition job of that community is queued or running already (409)."""


def this_worker() -> str:
    """host:pid, the owner written on the jobs this process runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def create_job(session: Session, community_code: str, username: str, lease_s: float = LEASE_S) -> PartitionJob:
    """A new queued job (committed by the caller), or JobUnderWay naming the unfinished one.

    An unfinished job of the community whose lease ran out is failed first: it no longer blocks a new one."""
    fail_expired(session, lease_s, community_code=community_code)
    running = _active(session, community_code)
    if running is None:
        now = utcnow()
        job = PartitionJob(id=uuid.uuid4().hex, community_code=community_code, created_by=username, status="queued",
                           progress=0.0, owner=this_worker(), created_at=now, heartbeat_at=now)
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


def get_job(session: Session, job_id: str, lease_s: float = LEASE_S) -> PartitionJob | None:
    """The job, if any worker ever made it; failed first if its lease ran out."""
    fail_expired(session, lease_s, job_id=job_id)
    return session.get(PartitionJob, job_id)


def mark_running(session: Session, job_id: str) -> None:
    """The job started."""
    now = utcnow()
    session.execute(update(PartitionJob).where(PartitionJob.id == job_id)
                    .values(status="running", started_at=now, owner=this_worker(), heartbeat_at=now))


def renew(session: Session, job_ids: Iterable[str]) -> int:
    """Renew the lease of this worker's unfinished jobs (a heartbeat); how many were still unfinished."""
    ids = list(job_ids)
    if not ids:
        return 0
    done = session.execute(update(PartitionJob).where(PartitionJob.id.in_(ids), PartitionJob.status.in_(ACTIVE))
                           .values(heartbeat_at=utcnow()))
    return int(done.rowcount or 0)


def fail_expired(session: Session, lease_s: float = LEASE_S, *, community_code: str | None = None,
                 job_id: str | None = None) -> int:
    """Mark failed the unfinished jobs (of a community, or one job, or all) whose lease ran out; how many.

    A job of before the heartbeat has none: its lease runs from its start, or from its creation."""
    cutoff = utcnow() - timedelta(seconds=lease_s)
    last_sign = func.coalesce(PartitionJob.heartbeat_at, PartitionJob.started_at, PartitionJob.created_at)
    query = update(PartitionJob).where(PartitionJob.status.in_(ACTIVE), last_sign < cutoff)
    if community_code is not None:
        query = query.where(PartitionJob.community_code == community_code)
    if job_id is not None:
        query = query.where(PartitionJob.id == job_id)
    done = session.execute(query.values(status="failed", finished_at=utcnow(), error=EXPIRED.format(lease=lease_s))
                           .execution_options(synchronize_session=False))
    return int(done.rowcount or 0)


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
