"""Incidents with their event trace, cameras, and the department of department staff.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the incidents, incident_events and cameras tables and users.department."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("department", sa.String(length=64), nullable=True))

    op.create_geospatial_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("reporter_name", sa.String(length=200), nullable=True),
        sa.Column("reporter_contact", sa.String(length=200), nullable=True),
        sa.Column("media_urls", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=True),
        sa.Column("input_crs", sa.String(length=32), nullable=True),
        sa.Column("input_x", sa.Float(), nullable=True),
        sa.Column("input_y", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("located_by", sa.String(length=32), nullable=True),
        sa.Column("location_confidence", sa.Float(), nullable=True),
        sa.Column("matched_building_id", sa.String(length=64), nullable=True),
        sa.Column("suggestions", sa.JSON(), nullable=False),
        sa.Column("grid_code", sa.String(length=64), nullable=True),
        sa.Column("community_code", sa.String(length=32), nullable=True),
        sa.Column("street_code", sa.String(length=32), nullable=True),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=True),
        sa.Column("reported_at", TZ, nullable=False),
        sa.Column("reported_by", sa.String(length=64), nullable=True),
        sa.Column("level_since", TZ, nullable=False),
        sa.Column("deadline_at", TZ, nullable=True),
        sa.Column("was_overdue", sa.Boolean(), nullable=False),
        sa.Column("closed_at", TZ, nullable=True),
        sa.Column("hours_to_close", sa.Float(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("geom", Geometry(geometry_type="POINT", srid=4326, spatial_index=False), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("external_id", name=op.f("uq_incidents_external_id")),
        sa.UniqueConstraint("token", name=op.f("uq_incidents_token")),
    )
    op.create_geospatial_index(
        "idx_incidents_geom", "incidents", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_incidents_category"), "incidents", ["category"], unique=False)
    op.create_index(op.f("ix_incidents_grid_code"), "incidents", ["grid_code"], unique=False)
    op.create_index(op.f("ix_incidents_street_code"), "incidents", ["street_code"], unique=False)
    op.create_index(op.f("ix_incidents_status"), "incidents", ["status"], unique=False)
    op.create_index(op.f("ix_incidents_department"), "incidents", ["department"], unique=False)
    op.create_index("ix_incidents_area_time", "incidents", ["district_code", "reported_at"], unique=False)
    op.create_index("ix_incidents_community_time", "incidents", ["community_code", "reported_at"], unique=False)

    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("from_level", sa.Integer(), nullable=True),
        sa.Column("to_level", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_events_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
    )
    op.create_index(op.f("ix_incident_events_incident_id"), "incident_events", ["incident_id"], unique=False)

    op.create_geospatial_table(
        "cameras",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("heading", sa.Float(), nullable=True),
        sa.Column("fov", sa.Float(), nullable=True),
        sa.Column("range_m", sa.Float(), nullable=True),
        sa.Column("grid_code", sa.String(length=64), nullable=True),
        sa.Column("community_code", sa.String(length=32), nullable=True),
        sa.Column("geom", Geometry(geometry_type="POINT", srid=4326, spatial_index=False), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
    )
    op.create_geospatial_index(
        "idx_cameras_geom", "cameras", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_cameras_grid_code"), "cameras", ["grid_code"], unique=False)
    op.create_index(op.f("ix_cameras_community_code"), "cameras", ["community_code"], unique=False)


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_geospatial_index("idx_cameras_geom", "cameras", column_name="geom")
    op.drop_geospatial_table("cameras")
    op.drop_table("incident_events")
    op.drop_geospatial_index("idx_incidents_geom", "incidents", column_name="geom")
    op.drop_geospatial_table("incidents")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("department")
