"""Units, departments, people, accounts and role grants.

Under 三员分立 the system administrator, the security officer and the auditor are
three different people, none of whom does business work: an administrator role
cannot be combined with another administrator role or with any business role.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import audit, clock
from .daily import add_to_day
from .errors import Conflict, Forbidden, GongwenError, NotFound
from .models import (
    ADMIN_ROLES,
    ROLE_LABELS,
    ApiToken,
    Department,
    LoginDay,
    Person,
    PersonStatus,
    Role,
    RoleGrant,
    Unit,
    UnitKind,
    UnitStatus,
)
from .registry import DEPARTURES
from .text import clean

_hasher = PasswordHasher()  # argon2id with the library's recommended cost


_dummy_hash: str | None = None  # verified for unknown logins, so that they take as long as known ones


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Replace the hasher (tests use a cheap one; production keeps the default)."""
    global _hasher, _dummy_hash
    _hasher, _dummy_hash = hasher, None


MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# The password policy (等保 level 3: length and complexity): at least 8 characters of three of the four
# kinds (lower case, upper case, digits, others such as punctuation or Chinese), or a passphrase of
# at least 12 characters of two kinds; never the login, never a well-known password.
MIN_PASSWORD_LENGTH = 8
MIN_PASSPHRASE_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
_COMMON = frozenset({"12345678", "123456789", "1234567890", "11111111", "88888888", "password", "password1",
                     "Password1", "Passw0rd", "P@ssw0rd", "P@ssword1", "qwerty123", "Qwerty123", "abc12345",
                     "Abc12345", "Abc@1234", "Abcd1234", "admin123", "Admin123", "Admin@123", "1qaz2wsx",
                     "1qaz@WSX", "Aa123456", "Aa123456!", "Gongwen123", "gongwen123"})


def create_unit(session: Session, name: str, kind: UnitKind, *, parent: Unit | None = None,
                issuer_code: str | None = None, short_name: str | None = None, actor_id: int | None = None) -> Unit:
    name = clean(name, field="单位名称", max_length=100)
    issuer_code = clean(issuer_code, field="机关代字", max_length=20, required=False)
    short_name = clean(short_name, field="简称", max_length=50, required=False)
    if session.scalar(select(Unit.id).where(Unit.name == name, Unit.status == UnitStatus.ACTIVE)) is not None:
        raise Conflict(f"已有名为 {name} 的单位")
    if issuer_code and (holder := session.scalar(select(Unit.name).where(Unit.issuer_code == issuer_code))):
        raise Conflict(f"机关代字 {issuer_code} 已由{holder}使用")
    unit = Unit(name=name, kind=kind, parent=parent, issuer_code=issuer_code or None, short_name=short_name or None,
                status=UnitStatus.ACTIVE)
    session.add(unit)
    session.flush()
    audit.record(session, "unit.create", actor_id=actor_id, unit_id=unit.id, name=name, kind=kind.value)
    return unit


def create_department(session: Session, unit: Unit, name: str, *, is_office: bool = False,
                      actor_id: int | None = None) -> Department:
    name = clean(name, field="部门名称", max_length=100)
    if any(d.name == name for d in unit.departments):
        raise Conflict(f"{unit.name}已有{name}")
    department = Department(unit=unit, name=name, is_office=is_office)
    session.add(department)
    session.flush()
    audit.record(session, "department.create", actor_id=actor_id, unit_id=unit.id, department_id=department.id,
                 name=name)
    return department


def _check_password(password: str, login: str = "") -> None:
    """Refuse a password the policy does not allow, saying what is missing."""
    kinds = sum(any(test(c) for c in password)
                for test in (str.islower, str.isupper, str.isdigit, lambda c: not (c.isascii() and c.isalnum())))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise GongwenError(f"密码不能超过 {MAX_PASSWORD_LENGTH} 位")
    passphrase = len(password) >= MIN_PASSPHRASE_LENGTH and kinds >= 2
    if not (passphrase or (len(password) >= MIN_PASSWORD_LENGTH and kinds >= 3)):
        raise GongwenError(f"密码至少 {MIN_PASSWORD_LENGTH} 位，并含大写字母、小写字母、数字、符号中的三种"
                           f"（或至少 {MIN_PASSPHRASE_LENGTH} 位、含其中两种）")
    if password in _COMMON or (login and login.lower() in password.lower()):
        raise GongwenError("密码过于常见或包含登录名，请换一个")


def create_person(session: Session, login: str, name: str, password: str, *, unit: Unit | None = None,
                  department: Department | None = None, actor_id: int | None = None) -> Person:
    login, name = clean(login, field="登录名", max_length=MAX_LOGIN_LENGTH), clean(name, field="姓名", max_length=50)
    if not re.fullmatch(r"[A-Za-z0-9._-]+", login):
        raise GongwenError("登录名只能由字母、数字和 . _ - 组成")
    if session.scalar(select(Person.id).where(Person.login == login)) is not None:
        raise Conflict(f"登录名 {login} 已被使用")
    _check_password(password, login)
    person = Person(login=login, name=name, unit=unit, department=department,
                    password_hash=_hasher.hash(password), status=PersonStatus.ACTIVE, failed_logins=0,
                    created_at=clock.now())
    session.add(person)
    session.flush()
    audit.record(session, "person.create", actor_id=actor_id, unit_id=unit.id if unit else None,
                 person_id=person.id, login=login)
    return person


def names_by_id(session: Session, model: type[Unit] | type[Person], ids) -> dict[int, str]:
    """The names of the units or people ``ids`` (None among them ignored), in one query; for pages listing many."""
    ids = set(ids) - {None}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all()) if ids else {}


def find_person(session: Session, login: str) -> Person:
    person = session.scalar(select(Person).where(Person.login == login))
    if person is None:
        raise NotFound(f"没有登录名为 {login} 的人员")
    return person


def end_sessions(session: Session, person: Person, *, actor_id: int | None = None) -> None:
    """End every session and API token of ``person``, on every device, now."""
    person.session_generation = (person.session_generation or 0) + 1
    session.execute(delete(ApiToken).where(ApiToken.person_id == person.id))
    audit.record(session, "person.sessions_end", actor_id=actor_id, person_id=person.id)


def set_frozen(session: Session, person: Person, frozen: bool, *, actor_id: int | None = None) -> None:
    """Freeze (or thaw) an account; freezing ends its sessions and what it held (``DEPARTURES``)."""
    person.status = PersonStatus.FROZEN if frozen else PersonStatus.ACTIVE
    if frozen:
        end_sessions(session, person, actor_id=actor_id)
        for depart in DEPARTURES:
            depart(session, person, actor_id)
    else:
        person.failed_logins, person.locked_until = 0, None
    audit.record(session, "person.freeze" if frozen else "person.unfreeze", actor_id=actor_id, person_id=person.id)


def set_job_title(session: Session, person: Person, job_title: str | None, *, actor_id: int | None = None) -> None:
    """Set ``person``'s 职务 (at most 50 characters, one line; blank clears it); ``Refused`` for anything else."""
    person.job_title = clean(job_title, field="职务", max_length=50, required=False) or None
    audit.record(session, "person.job_title", actor_id=actor_id, person_id=person.id)


def move_person(session: Session, person: Person, unit: Unit, department: Department | None = None, *,
                actor_id: int | None = None) -> None:
    """Move ``person`` to ``unit``: the roles they held in other units, and what else they held there
    (``DEPARTURES``), end with the move."""
    if department is not None and department.unit_id != unit.id:
        raise GongwenError(f"{department.name}不属于{unit.name}")
    if person.unit_id is not None and person.unit_id != unit.id:
        for depart in DEPARTURES:
            depart(session, person, actor_id)
    for grant in list(person.grants):
        if grant.unit_id is not None and grant.unit_id != unit.id:
            revoke_role(session, grant, actor_id=actor_id)
    person.unit, person.department = unit, department
    audit.record(session, "person.move", actor_id=actor_id, unit_id=unit.id, person_id=person.id,
                 department_id=department.id if department else None)


def change_own_password(session: Session, person: Person, current: str, new: str) -> None:
    """A person replaces their own password; the current one must be given (a left-open session is not enough)."""
    if not _verify(person.password_hash, current):
        raise Forbidden("当前密码不正确")  # the caller audits the refusal in a transaction of its own
    if new == current:
        raise GongwenError("新密码不能与当前密码相同")
    set_password(session, person, new, actor_id=person.id)


def unlock(session: Session, person: Person, *, actor_id: int | None = None) -> None:
    """Lift a lockout from failed logins before it runs out."""
    person.failed_logins, person.locked_until = 0, None
    audit.record(session, "person.unlock", actor_id=actor_id, person_id=person.id)


def set_password(session: Session, person: Person, password: str, *, actor_id: int | None = None) -> None:
    """A new password (the person's own, or an administrator's reset): every session and token ends."""
    _check_password(password, person.login)
    person.password_hash = _hasher.hash(password)
    end_sessions(session, person, actor_id=actor_id)
    audit.record(session, "person.password", actor_id=actor_id, person_id=person.id)


WRONG = "登录名或密码错误"
MAX_LOGIN_LENGTH = 64


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Login:
    """The outcome of a login attempt: a person, or the reason they were refused."""

    person: Person | None
    refusal: str = ""


def authenticate(session: Session, login: str, password: str) -> Login:
    """Check a login; five failures lock the account for fifteen minutes.

    Refusals are returned, not raised, so that the caller commits the failure count
    and the audit event along with the refusal. Whether an account exists, is frozen or is
    locked is told only to someone who gave its password: every other attempt gets the same
    answer after the same work (one password hash checked).
    """
    person = session.scalar(select(Person).where(Person.login == login[:MAX_LOGIN_LENGTH]))
    now = clock.now()
    right = _verify(person.password_hash if person else _dummy(), password)
    if person is None:
        audit.record(session, "login.fail", login=login[:MAX_LOGIN_LENGTH], reason="unknown")
        return Login(None, WRONG)
    if not right and person.status == PersonStatus.ACTIVE and not is_locked(person, now):
        person.failed_logins += 1
        if person.failed_logins >= MAX_FAILED_LOGINS:
            person.locked_until, person.failed_logins = now + LOCKOUT, 0
    if not right:
        audit.record(session, "login.fail", actor_id=person.id, reason="password")
        return Login(None, WRONG)
    if person.status == PersonStatus.FROZEN:
        audit.record(session, "login.fail", actor_id=person.id, reason="frozen")
        return Login(None, "账号已冻结，请联系系统管理员")
    if is_locked(person, now):
        audit.record(session, "login.fail", actor_id=person.id, reason="locked")
        return Login(None, f"密码错误次数过多，账号锁定至 {clock.local(person.locked_until):%H:%M}")
    person.failed_logins, person.locked_until = 0, None
    if _hasher.check_needs_rehash(person.password_hash):
        person.password_hash = _hasher.hash(password)
    audit.record(session, "login.ok", actor_id=person.id)
    _count_login(session, person)
    return Login(person)


def _count_login(session: Session, person: Person) -> None:
    """Add one to the person's logins today (LoginDay) and to their unit's day, in the login's transaction."""
    table = LoginDay.__table__
    dialect_insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    today = clock.local_today()
    statement = dialect_insert(table).values(person_id=person.id, day=today, unit_id=person.unit_id, logins=1)
    logins = session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.person_id, table.c.day],
        set_={"logins": table.c.logins + 1, "unit_id": person.unit_id}).returning(table.c.logins)).scalar_one()
    add_to_day(session, person.unit_id, today, logins=1, person_days=int(logins == 1))


def grant_role(session: Session, person: Person, role: Role, *, unit: Unit | None = None,
               department: Department | None = None, actor_id: int | None = None) -> RoleGrant:
    """Give ``person`` ``role`` in ``unit``; refuses combinations 三员分立 forbids."""
    held = {g.role for g in person.grants}
    if role.is_admin:
        if unit is not None:
            raise GongwenError(f"{role.label}是系统级角色，不属于任何单位")
        others = held - {role}
        if others:
            names = "、".join(ROLE_LABELS[r] for r in sorted(others))
            raise Forbidden(f"三员分立：{person.name} 已是{names}，不能再担任{role.label}")
    else:
        if unit is None:
            raise GongwenError(f"{role.label}必须属于一个单位")
        admin = held & {r for r in Role if r.is_admin}
        if admin:
            raise Forbidden(f"三员分立：{person.name} 是{ROLE_LABELS[admin.pop()]}，不能担任业务角色")
    for grant in person.grants:
        if grant.role == role and grant.unit_id == (unit.id if unit else None) and \
                grant.department_id == (department.id if department else None):
            return grant
    grant = RoleGrant(person=person, role=role, unit=unit, department_id=department.id if department else None,
                      granted_at=clock.now())
    session.add(grant)
    session.flush()
    audit.record(session, "role.grant", actor_id=actor_id, unit_id=unit.id if unit else None,
                 person_id=person.id, role=role.value, department_id=grant.department_id)
    return grant


def revoke_role(session: Session, grant: RoleGrant, *, actor_id: int | None = None) -> None:
    audit.record(session, "role.revoke", actor_id=actor_id, unit_id=grant.unit_id, person_id=grant.person_id,
                 role=grant.role.value)
    session.delete(grant)


def is_locked(person: Person, at: datetime | None = None) -> bool:
    return person.locked_until is not None and person.locked_until > (at or clock.now())


TOKEN_LIFETIME = timedelta(hours=8)


def issue_token(session: Session, person: Person) -> tuple[str, datetime]:
    """A new bearer token for ``person``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    expires = clock.now() + TOKEN_LIFETIME
    session.add(ApiToken(token_sha256=hashlib.sha256(token.encode()).hexdigest(), person_id=person.id,
                         created_at=clock.now(), expires_at=expires))
    audit.record(session, "token.issue", actor_id=person.id)
    return token, expires


def person_for_token(session: Session, token: str) -> Person | None:
    """The active person a valid, unexpired token belongs to."""
    row = session.get(ApiToken, hashlib.sha256(token.encode()).hexdigest())
    if row is None or row.expires_at <= clock.now():
        return None
    person = session.get(Person, row.person_id)
    return person if person is not None and person.status == PersonStatus.ACTIVE else None


def roles_of(session: Session, person_id: int) -> set[Role]:
    """Every role the person holds, in any unit."""
    return set(session.scalars(select(RoleGrant.role).where(RoleGrant.person_id == person_id)))


def holds(session: Session, person_id: int, role: Role) -> bool:
    return session.scalar(select(RoleGrant.id).where(RoleGrant.person_id == person_id,
                                                     RoleGrant.role == role).limit(1)) is not None


def works_in(session: Session, person_id: int, unit_ids: set[int]) -> bool:
    """Whether the person holds a business role in one of ``unit_ids``."""
    return session.scalar(select(RoleGrant.id).where(
        RoleGrant.person_id == person_id, RoleGrant.unit_id.in_(unit_ids),
        RoleGrant.role.not_in(list(ADMIN_ROLES))).limit(1)) is not None


GOVERNMENTS = (UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY)


def area_root(session: Session, unit_id: int) -> Unit:
    """The government whose units a 督查员 in ``unit_id`` oversees: the unit itself when it is a
    government, else the nearest government above it (a 政府办 supervises its government's area)."""
    unit = session.get(Unit, unit_id)
    while unit.kind not in GOVERNMENTS and unit.parent_id is not None:
        unit = session.get(Unit, unit.parent_id)
    return unit


def lineage(session: Session, unit_id: int) -> list[int]:
    """``unit_id`` and the units above it, nearest first (empty for no such unit)."""
    ids, unit = [], session.get(Unit, unit_id)
    while unit is not None and unit.id not in ids:
        ids.append(unit.id)
        unit = session.get(Unit, unit.parent_id) if unit.parent_id is not None else None
    return ids


def supervisors_of(session: Session, unit_id: int) -> list[int]:
    """The active 督查员 whose area holds ``unit_id``, by id: those of its government and the ones above."""
    above = lineage(session, unit_id)
    rows = session.execute(select(RoleGrant.person_id, RoleGrant.unit_id).join(Person, Person.id == RoleGrant.person_id)
                           .where(RoleGrant.role == Role.SUPERVISOR, Person.status == PersonStatus.ACTIVE)).all()
    return sorted({person for person, unit_id in rows if area_root(session, unit_id).id in above})


def holders(session: Session, role: Role, unit_id: int, department_id: int | None = None) -> list[int]:
    """The active people holding ``role`` in ``unit_id``, by id.

    With ``department_id``, the holders in that department, or every holder in the unit
    if nobody holds the role there.
    """
    rows = session.execute(
        select(RoleGrant.person_id, RoleGrant.department_id).join(Person, Person.id == RoleGrant.person_id)
        .where(RoleGrant.role == role, RoleGrant.unit_id == unit_id, Person.status == PersonStatus.ACTIVE)).all()
    in_department = [p for p, d in rows if department_id is not None and d == department_id]
    return sorted(set(in_department or [p for p, _ in rows]))
