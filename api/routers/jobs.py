"""Auto-partition as a background job: start one for a community, then poll its progress and result."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response, status

from api.background import Job, JobRunner, Progress
from api.deps import PLANNERS, CurrentUser, Planner, SessionDep, check_area
from api.errors import ForbiddenError, NotFoundError
from api.queries import check_community
from api.schemas import JobCreated, JobOut, JobResult, PartitionRequest
from geogrid.store import partitioning

router = APIRouter(prefix="/api/v1", tags=["Partition jobs"])
LOADED, PARTITIONED = 0.05, 0.9  # progress when the inputs are read, and when the engine is done


@router.post(
    "/communities/{code}/partition-jobs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobCreated,
    summary="Start partitioning a community",
    responses={409: {"description": "a job is already running"}},
)
def start_job(
    code: str,
    user: Planner,
    session: SessionDep,
    request: Request,
    response: Response,
    body: PartitionRequest | None = None,
) -> JobCreated:
    """Partition the community by the given rules in the background; the result is a new draft plan version.

    Only one job per community runs at a time: starting another meanwhile answers 409."""
    check_area(user, code)
    check_community(session, code)
    body = body or PartitionRequest()
    inputs = partitioning.read_inputs(session, [code], keep_previous=body.keep_previous)
    runner: JobRunner = request.app.state.jobs
    work = partial(_partition, inputs, body, user.username, request.app.state.write_sessions)
    job = runner.submit(session, code, user.username, work)
    href = f"/api/v1/jobs/{job.id}"
    response.headers["Location"] = href
    return JobCreated(job_id=job.id, status=job.status, community_code=code, href=href)  # type: ignore[arg-type]


@router.get("/jobs/{job_id}", response_model=JobOut, summary="A job's status, progress and result")
def get_job(job_id: str, user: CurrentUser, request: Request) -> JobOut:
    """Poll a job: status (queued, running, succeeded, failed), progress from 0 to 1, and when it
    succeeded the id of the new draft plan version with the engine's report."""
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise NotFoundError(f"no job {job_id!r}")
    if job.created_by != user.username and not (user.role in PLANNERS and user.covers(job.community_code)):
        raise ForbiddenError(f"job {job_id} is on community {job.community_code}, outside what you may see")
    return _job_out(job)


def _job_out(job: Job) -> JobOut:
    result = JobResult(**job.result) if job.result else None
    return JobOut(
        job_id=job.id,
        community_code=job.community_code,
        status=job.status,  # type: ignore[arg-type]
        progress=job.progress,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        result=result,
        error=job.error,
    )


def _partition(inputs: partitioning.StoreInputs, body: PartitionRequest, username: str, sessions: Any,
               progress: Progress) -> dict[str, Any]:
    """Run the engine on one community and store the result as a draft (in the job's thread)."""
    return partitioning.run_job(inputs, body.rules(), username, sessions, progress, note=body.note,
                                loaded=LOADED, partitioned=PARTITIONED)
