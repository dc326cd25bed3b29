"""Create the store: hierarchy, source layers, plan versions, grids, users, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create every table of the store, with spatial indexes."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)

    op.create_geospatial_table(
        "districts",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_districts")),
    )
    op.create_geospatial_index(
        "idx_districts_geom", "districts", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )

    op.create_geospatial_table(
        "roads",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("road_class", sa.String(length=32), nullable=True),
        sa.Column("geom", Geometry(geometry_type="MULTILINESTRING", srid=4326, spatial_index=False), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roads")),
    )
    op.create_geospatial_index(
        "idx_roads_geom", "roads", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_geospatial_table(
        "streets",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=False),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.ForeignKeyConstraint(["district_code"], ["districts.code"], name=op.f("fk_streets_district_code_districts")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_streets")),
    )
    op.create_geospatial_index(
        "idx_streets_geom", "streets", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_streets_district_code"), "streets", ["district_code"], unique=False)

    op.create_geospatial_table(
        "communities",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("street_code", sa.String(length=32), nullable=False),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.ForeignKeyConstraint(["street_code"], ["streets.code"], name=op.f("fk_communities_street_code_streets")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_communities")),
    )
    op.create_geospatial_index(
        "idx_communities_geom", "communities", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_communities_street_code"), "communities", ["street_code"], unique=False)

    op.create_geospatial_table(
        "buildings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("community_code", sa.String(length=32), nullable=True),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("compound", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=400), nullable=True),
        sa.Column("units", sa.Integer(), nullable=True),
        sa.Column("floors", sa.Integer(), nullable=True),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["communities.code"], name=op.f("fk_buildings_community_code_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
    )
    op.create_geospatial_index(
        "idx_buildings_geom", "buildings", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_buildings_community_code"), "buildings", ["community_code"], unique=False)

    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_code"], ["communities.code"], name=op.f("fk_plan_versions_community_code_communities")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["plan_versions.id"], name=op.f("fk_plan_versions_parent_id_plan_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_versions")),
        sa.UniqueConstraint("community_code", "number", name=op.f("uq_plan_versions_community_code")),
    )
    op.create_index(op.f("ix_plan_versions_community_code"), "plan_versions", ["community_code"], unique=False)
    op.create_index(op.f("ix_plan_versions_status"), "plan_versions", ["status"], unique=False)
    op.create_index(
        "uq_plan_versions_published",
        "plan_versions",
        ["community_code"],
        unique=True,
        postgresql_where=sa.text("status = 'published'"),
        sqlite_where=sa.text("status = 'published'"),
    )

    op.create_geospatial_table(
        "villager_groups",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("community_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["communities.code"], name=op.f("fk_villager_groups_community_code_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_villager_groups")),
    )
    op.create_geospatial_index(
        "idx_villager_groups_geom",
        "villager_groups",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_villager_groups_community_code"), "villager_groups", ["community_code"], unique=False)

    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_version_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.String(length=64), nullable=False),
        sa.Column("grid_code", sa.String(length=64), nullable=True),
        sa.Column("units", sa.String(length=64), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
            name=op.f("fk_assignments_plan_version_id_plan_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("plan_version_id", "building_id", "units", name=op.f("uq_assignments_plan_version_id")),
    )
    op.create_index(op.f("ix_assignments_building_id"), "assignments", ["building_id"], unique=False)
    op.create_index(op.f("ix_assignments_plan_version_id"), "assignments", ["plan_version_id"], unique=False)

    op.create_geospatial_table(
        "grids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_version_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("building_count", sa.Integer(), nullable=False),
        sa.Column("compactness", sa.Float(), nullable=True),
        sa.Column("within_limits", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
            name=op.f("fk_grids_plan_version_id_plan_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grids")),
        sa.UniqueConstraint("plan_version_id", "code", name=op.f("uq_grids_plan_version_id")),
    )
    op.create_geospatial_index(
        "idx_grids_geom", "grids", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_grids_plan_version_id"), "grids", ["plan_version_id"], unique=False)


def downgrade() -> None:
    """Drop every table of the store."""
    op.drop_geospatial_index("idx_grids_geom", "grids", column_name="geom")
    op.drop_geospatial_table("grids")
    op.drop_table("assignments")
    op.drop_geospatial_index("idx_villager_groups_geom", "villager_groups", column_name="geom")
    op.drop_geospatial_table("villager_groups")
    op.drop_table("plan_versions")
    op.drop_geospatial_index("idx_buildings_geom", "buildings", column_name="geom")
    op.drop_geospatial_table("buildings")
    op.drop_geospatial_index("idx_communities_geom", "communities", column_name="geom")
    op.drop_geospatial_table("communities")
    op.drop_geospatial_index("idx_streets_geom", "streets", column_name="geom")
    op.drop_geospatial_table("streets")
    op.drop_table("users")
    op.drop_geospatial_index("idx_roads_geom", "roads", column_name="geom")
    op.drop_geospatial_table("roads")
    op.drop_geospatial_index("idx_districts_geom", "districts", column_name="geom")
    op.drop_geospatial_table("districts")
    op.drop_table("audit_log")
