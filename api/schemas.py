"""Request and response models of the API (GeoJSON bodies are plain dicts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from geogrid.db.models import PLAN_STATUSES
from geogrid.incidents.reports import MAX_LENGTHS, MAX_MEDIA
from geogrid.partition.rules import Rules


class Token(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the token expires")


class UserOut(BaseModel):
    """A user as others may see them."""

    username: str
    role: str
    scope: str
    display_name: str | None = None
    department: str | None = None


class HierarchyNode(BaseModel):
    """One area of the tree, with figures summed over its published grids inside the caller's scope."""

    code: str
    name: str
    level: Literal["district", "street", "community"]
    kind: str | None = Field(None, description="street or town; urban (社区) or rural (村)")
    households: int = 0
    population: int = 0
    grid_count: int = 0
    grids_breaking_rules: int = Field(0, description="grids outside a limit or with any flag")
    published_plan_id: int | None = Field(None, description="communities only")
    children: list[HierarchyNode] = Field(default_factory=list)


class Hierarchy(BaseModel):
    """The district → street/town → community tree."""

    districts: list[HierarchyNode]


class PlanSummary(BaseModel):
    """A plan version of one community."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    community_code: str
    number: int
    status: Literal[PLAN_STATUSES]  # type: ignore[valid-type]
    rules: dict[str, Any]
    created_by: str
    created_at: datetime
    published_by: str | None = None
    published_at: datetime | None = None
    parent_id: int | None = None
    revision: int
    note: str | None = None
    publish_reason: str | None = None


class PlanDetail(PlanSummary):
    """A plan version with its totals."""

    grid_count: int
    households: int
    population: int
    grids_breaking_rules: int
    limits: dict[str, Any] = Field(
        description="the grids' count windows by the plan's rules and its community's kind: households and "
        "population as [low, high] (high null: none), and near_share: a count inside its window within this share "
        "of a bound is near the edge")


class Change(BaseModel):
    """A building (or a tower's unit range) whose grid differs between two plan versions."""

    building_id: str
    units: str
    grid_a: str | None
    grid_b: str | None
    households: int
    population: int


class Comparison(BaseModel):
    """What moved between plan versions a and b."""

    plan_a: int
    plan_b: int
    buildings_changed: int
    households_moved: int
    population_moved: int
    changes: list[Change]


class PartitionRequest(Rules):
    """The rules to partition by (defaults: the published rules), and how."""

    model_config = ConfigDict(extra="forbid")

    keep_previous: bool = Field(
        True, description="start from the published plan, keeping its grids that obey the rules"
    )
    note: str | None = Field(None, max_length=2000)

    def rules(self) -> Rules:
        """The rule parameters alone."""
        return Rules(**self.model_dump(include=set(Rules.model_fields)))


JobStatus = Literal["queued", "running", "succeeded", "failed"]


class JobCreated(BaseModel):
    """A partition job that was accepted."""

    job_id: str
    status: JobStatus
    community_code: str
    href: str = Field(description="where to poll the job")


class JobResult(BaseModel):
    """What a finished job made: a new draft plan version and the engine's report."""

    plan_id: int
    report: dict[str, Any]


class JobOut(BaseModel):
    """A partition job's state."""

    job_id: str
    community_code: str
    status: JobStatus
    progress: float = Field(ge=0, le=1)
    created_by: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: JobResult | None = None
    error: str | None = None


class ImportResult(BaseModel):
    """Rows written per layer kind."""

    imported: dict[str, int]


class PointIn(BaseModel):
    """A point with its coordinate system: wgs84 (default), gcj02, bd09, cgcs2000 / EPSG:4490 or any EPSG code."""

    lon: float = Field(description="Longitude, or x in a projected CRS")
    lat: float = Field(description="Latitude, or y in a projected CRS")
    crs: str = Field("wgs84", description="wgs84, gcj02, bd09, EPSG:4490, …")


class ReporterIn(BaseModel):
    """Who reported it (optional)."""

    name: str | None = Field(None, max_length=MAX_LENGTHS["reporter_name"])
    contact: str | None = Field(None, max_length=MAX_LENGTHS["reporter_contact"])


class IncidentIn(BaseModel):
    """A new report: what, where (a point, an address, or both), through which channel, by whom."""

    category: str = Field(description="A category code of GET /api/v1/taxonomy")
    channel: str = Field("grid_patrol", description="grid_patrol, citizen_app, hotline_12345 or video_patrol")
    description: str = Field("", max_length=MAX_LENGTHS["description"])
    location: PointIn | None = None
    address: str | None = Field(None, max_length=MAX_LENGTHS["address"])
    reporter: ReporterIn | None = None
    media_urls: list[str] = Field(default_factory=list, max_length=MAX_MEDIA,
                                  description="http(s) URLs of photos (or /media/ paths of this server)")
    external_id: str | None = Field(None, max_length=MAX_LENGTHS["external_id"], description="The id in the source system; a second "
                                    "report with the same id returns the first")
    attributes: dict[str, str | float | list[str]] | None = Field(
        None, description="Answers to the category's questions (GET /taxonomy: categories.<code>.attributes), by code; "
        "with them the category's required questions must be answered")


class ActionIn(BaseModel):
    """A workflow action on a case."""

    action: str = Field(description="accept, handle, escalate, dispatch, check_in, close, reject, assess, rate, "
                        "reopen or mark_duplicate")
    note: str | None = Field(None, max_length=4000)
    department: str | None = Field(None, description="dispatch: the department (default: the category's)")
    rating: int | None = Field(None, description="rate (the reporter's) or assess (the street's rating of the "
                               "department's work): 1 (poor) to 5 (very satisfied)")
    media_urls: list[str] = Field(default_factory=list, max_length=MAX_MEDIA,
                                  description="photos of the step (/media/ paths from POST /api/v1/media)")
    duplicate_of: int | None = Field(None, ge=1, description="mark_duplicate: the case this one repeats")
    deadline_at: datetime | None = Field(None, description="dispatch: the department's deadline, in the future "
                                         "(China time unless a zone is given; default: the street's deadline)")


class AttachIn(BaseModel):
    """"Me too": a report added to an open case instead of a second case."""

    note: str | None = Field(None, max_length=MAX_LENGTHS["description"])
    media_urls: list[str] = Field(default_factory=list, max_length=MAX_MEDIA,
                                  description="photos (/media/ paths from POST /api/v1/media)")
    location: PointIn | None = Field(None, description="where the reporter stood (WGS-84)")


class PlaceIn(BaseModel):
    """Put an unlocated case into a grid."""

    grid_code: str
    note: str | None = Field(None, max_length=4000)
