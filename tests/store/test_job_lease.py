"""A partition job's lease, on both stores: a job whose worker is gone (any host) is failed by whoever looks next.

A worker renews the lease of its unfinished jobs; a job whose lease ran out no longer blocks its community."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from api.background import JobRunner
from geogrid.db.models import PartitionJob, utcnow
from geogrid.db.session import make_sessionmaker, session_scope
from geogrid.store import jobs

COMMUNITY = "360702-001-001"


def stuck_job(engine: Engine, status: str = "running", silent_s: float = 120.0, code: str = COMMUNITY) -> str:
    """A job left by a worker on another host that stopped silent_s seconds ago (its process gone)."""
    with session_scope(engine) as session:
        job = jobs.create_job(session, code, "planner1")
        job_id = job.id
        then = utcnow() - timedelta(seconds=silent_s)
        session.execute(update(PartitionJob).where(PartitionJob.id == job_id).values(
            status=status, owner="another-host:4242", created_at=then, started_at=then, heartbeat_at=then))
    return job_id


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_job_whose_lease_ran_out_is_failed_when_polled(engine: Engine, status: str) -> None:
    job_id = stuck_job(engine, status)
    with session_scope(engine) as session:
        job = jobs.get_job(session, job_id, lease_s=60)
        assert job is not None and job.status == "failed" and job.finished_at is not None
        assert "no heartbeat for 60 s" in job.error and "start it again" in job.error
    with session_scope(engine) as session:  # kept
        assert jobs.get_job(session, job_id).status == "failed"


def test_a_job_whose_lease_ran_out_no_longer_blocks_its_community(engine: Engine) -> None:
    old = stuck_job(engine)
    with session_scope(engine) as session:
        new = jobs.create_job(session, COMMUNITY, "planner2", lease_s=60)
        new_id = new.id
    with session_scope(engine) as session:
        assert jobs.get_job(session, old).status == "failed"
        assert jobs.get_job(session, new_id).status == "queued"


def test_a_job_within_its_lease_is_left_alone_and_still_blocks(engine: Engine) -> None:
    job_id = stuck_job(engine, silent_s=30)
    with session_scope(engine) as session:
        with pytest.raises(jobs.JobUnderWay, match=job_id):
            jobs.create_job(session, COMMUNITY, "planner2", lease_s=60)
    with session_scope(engine) as session:
        assert jobs.get_job(session, job_id, lease_s=60).status == "running"
        assert jobs.fail_expired(session, 60) == 0


def test_a_renewed_lease_keeps_the_job_and_others_expire_alone(engine: Engine) -> None:
    kept, lost = stuck_job(engine), stuck_job(engine, code="360702-001-002")
    with session_scope(engine) as session:
        assert jobs.renew(session, [kept]) == 1
    with session_scope(engine) as session:
        assert jobs.fail_expired(session, 60) == 1
    with session_scope(engine) as session:
        assert jobs.get_job(session, kept).status == "running"
        assert jobs.get_job(session, lost).status == "failed"
        assert jobs.renew(session, [lost]) == 0  # a finished job's lease is not renewed


def test_a_job_of_before_the_heartbeat_expires_from_its_start(engine: Engine) -> None:
    job_id = stuck_job(engine)
    with session_scope(engine) as session:
        session.execute(update(PartitionJob).where(PartitionJob.id == job_id).values(heartbeat_at=None))
    with session_scope(engine) as session:
        assert jobs.fail_expired(session, 60, community_code=COMMUNITY) == 1


def test_the_runner_renews_the_lease_of_a_job_longer_than_its_lease(engine: Engine) -> None:
    """A job running for longer than its lease stays running: the runner's heartbeat renews it."""
    runner = JobRunner(make_sessionmaker(engine), workers=1, lease_s=1.5)
    release = threading.Event()
    started = threading.Event()

    def work(progress) -> dict:
        started.set()
        release.wait(30)
        return {"done": True}

    try:
        with session_scope(make_sessionmaker(engine)) as session:
            job_id = runner.submit(session, COMMUNITY, "planner1", work).id
        assert started.wait(30)
        begun = time.monotonic()
        while time.monotonic() - begun < 3.5:  # more than two leases, polled as a client would
            assert runner.get(job_id).status == "running"
            time.sleep(0.25)
        with session_scope(engine) as session:  # another worker looking finds nothing to fail
            assert jobs.fail_expired(session, 1.5) == 0
        release.set()
        for _ in range(300):
            if runner.get(job_id).status != "running":
                break
            time.sleep(0.1)
        job = runner.get(job_id)
        assert job.status == "succeeded" and job.result == {"done": True}
    finally:
        release.set()
        runner.shutdown()
