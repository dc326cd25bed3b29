"""Users with argon2 hashes, and audit rows that share the transaction of the change."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from geogrid.db.models import AuditLog, PlanVersion, User
from geogrid.db.session import session_scope
from geogrid.errors import InputError
from geogrid.partition.rules import Rules
from geogrid.store import audit
from geogrid.store.plans import save_partition
from geogrid.store.users import add_user, authenticate, verify_password

from .test_plans import URBAN, hand_made_result


def test_add_and_authenticate(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_user(session, "zhang", "s3cret-pass", "planner", "360702001", display_name="张三")
    with session_scope(engine) as session:
        user = session.scalar(select(User).where(User.username == "zhang"))
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, "s3cret-pass")
        assert not verify_password(user.password_hash, "wrong")
        assert not verify_password("not a hash", "s3cret-pass")
        assert authenticate(session, "zhang", "s3cret-pass").display_name == "张三"
        assert authenticate(session, "zhang", "wrong") is None
        assert authenticate(session, "nobody", "s3cret-pass") is None
        entry = session.scalar(select(AuditLog).where(AuditLog.object_type == "user"))
        assert entry.after["username"] == "zhang" and "password_hash" not in entry.after


@pytest.mark.parametrize(
    ("username", "password", "role", "match"),
    [
        ("li", "s3cret-pass", "boss", "role"),
        ("li", "short", "admin", "at least 8"),
        ("zhang", "s3cret-pass", "admin", "already exists"),
        ("  ", "s3cret-pass", "admin", "empty"),
    ],
)
def test_bad_users(engine: Engine, username: str, password: str, role: str, match: str) -> None:
    with session_scope(engine) as session:
        add_user(session, "zhang", "s3cret-pass", "planner", "360702001")
    with session_scope(engine) as session, pytest.raises(InputError, match=match):
        add_user(session, username, password, role, "360702")


def test_audit_rolls_back_with_the_change(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        before = session.scalar(select(func.count()).select_from(AuditLog))
    with pytest.raises(RuntimeError), session_scope(loaded) as session:
        save_partition(session, URBAN, hand_made_result(), Rules(), "planner1")
        session.flush()
        assert session.scalar(select(func.count()).select_from(AuditLog)) == before + 1
        raise RuntimeError("the request failed after the write")
    with session_scope(loaded) as session:
        assert session.scalar(select(func.count()).select_from(AuditLog)) == before
        assert session.scalar(select(func.count()).select_from(PlanVersion)) == 0


def test_audit_record_and_entries(engine: Engine) -> None:
    with session_scope(engine) as session:
        audit.record(session, "admin", "rename", "district", 360702, before={"name": "a"}, after={"name": "b"})
    with session_scope(engine) as session:
        (entry,) = audit.entries(session, object_type="district", object_id="360702")
        assert (entry.username, entry.before, entry.after) == ("admin", {"name": "a"}, {"name": "b"})
        assert entry.at.tzinfo is not None
