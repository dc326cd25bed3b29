"""User accounts: argon2 password hashes, roles and scopes."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.access import GRID_WORKER, ROLES, needs_department
from geogrid.db.models import Community, District, Grid, Street, User
from geogrid.errors import InputError
from geogrid.store import audit

MIN_PASSWORD = 8
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if password matches the hash; never raises for a wrong or malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    scope: str,
    display_name: str | None = None,
    *,
    department: str | None = None,
    actor: str = "cli",
) -> User:
    """Create an active user, or raise InputError naming what is wrong (department staff need a department)."""
    username = username.strip()
    _check_new_user(session, username, password, role, scope)
    if needs_department(role) and not department:
        raise InputError("department staff need a department (the one cases are dispatched to)")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        scope=scope.strip(),
        display_name=display_name,
        department=department if needs_department(role) else None,
        active=True,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "create", "user", user.id, after=public(user))
    return user


def _check_new_user(session: Session, username: str, password: str, role: str, scope: str) -> None:
    if not username:
        raise InputError("username must not be empty")
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if not scope.strip():
        raise InputError("scope must be an area code (district, street or community)")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password must have at least {MIN_PASSWORD} characters")
    if get_user(session, username) is not None:
        raise InputError(f"user {username!r} already exists")


def check_scope_is_an_area(session: Session, role: str, scope: str) -> None:
    """InputError unless scope is a stored area: a district, street or community code, or for a grid worker a grid
    code of a plan; a made-up scope would give an account that sees nothing, or (a typo) the wrong area."""
    scope = scope.strip()
    if role not in ROLES:
        return  # add_user names the unknown role
    models = (Grid,) if role == GRID_WORKER else (District, Street, Community)
    if any(session.scalar(select(model.code).where(model.code == scope).limit(1)) is not None for model in models):
        return
    what = "grid code" if role == GRID_WORKER else "district, street or community code"
    raise InputError(f"scope {scope!r} is no {what} in the store: import the areas (and for grid workers publish "
                     "their plan) first, or check the code")


def get_user(session: Session, username: str) -> User | None:
    """The user with this username, if any."""
    return session.scalar(select(User).where(User.username == username))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user whose password matches, else None (rehashing outdated hashes)."""
    user = get_user(session, username)
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        return None
    if not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(session: Session, username: str, password: str, *, actor: str = "cli") -> User:
    """Replace a user's password, or raise InputError."""
    user = get_user(session, username)
    if user is None:
        raise InputError(f"no user {username!r}")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password must have at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    user.token_version += 1  # a new password signs out every token issued with the old one
    audit.record(session, actor, "set_password", "user", user.id)
    return user


def set_active(session: Session, username: str, active: bool, *, actor: str = "cli") -> User:
    """Enable or disable a user's sign-in (a disabled user's tokens stop working at once), or raise InputError."""
    user = get_user(session, username)
    if user is None:
        raise InputError(f"no user {username!r}")
    before = public(user)
    if user.active and not active:
        user.token_version += 1  # every token issued before stays refused, also after enabling the account again
    user.active = active
    audit.record(session, actor, "enable" if active else "disable", "user", user.id, before=before, after=public(user))
    return user


def public(user: User) -> dict[str, object]:
    """The user's fields that may be shown or audited (never the hash)."""
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "scope": user.scope,
        "display_name": user.display_name,
        "department": user.department,
        "active": user.active,
    }
