"""The engine's tables, as typed SQLAlchemy 2 models: organisation and accounts, definitions,
instances, the task/timer/message projections, the outbox, incidents, audit, the calendar, stored files.

Workflow state (``ProcessInstance.state``) is the truth about where a process is;
``Task``, ``Timer`` and ``MessageWait`` are projections of it written in the same
transaction, so that lists and searches never deserialize a workflow. Domain tables
(documents, receipts, seals, archives, notifications) live in their ``handlers`` package.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, str_enum

# -- organisation --------------------------------------------------------------------------------------

class UnitKind(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    OFFICE = "office"            # 办公厅（室）of a government
    DEPARTMENT = "department"    # 政府组成部门, e.g. 财政局
    DIRECT_BODY = "direct_body"  # 直属机构

    @property
    def label(self) -> str:
        return {"province": "省政府", "city": "市政府", "county": "县（区）政府", "office": "政府办公厅（室）",
                "department": "政府组成部门", "direct_body": "直属机构"}[self.value]


class UnitStatus(enum.StrEnum):
    ACTIVE = "active"
    MERGED = "merged"
    DISSOLVED = "dissolved"


class Unit(Base):
    """An organ that sends and receives documents (单位)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str | None] = mapped_column(String(50))
    kind: Mapped[UnitKind] = mapped_column(str_enum(UnitKind, "unit_kind"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    issuer_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    status: Mapped[UnitStatus] = mapped_column(str_enum(UnitStatus, "unit_status"), default=UnitStatus.ACTIVE)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    fonds_code: Mapped[str | None] = mapped_column(String(20))  # 全宗号 for archiving
    # 主要负责人: signs off the unit's upward and important documents.
    principal_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", use_alter=True))

    parent: Mapped[Unit | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    departments: Mapped[list[Department]] = relationship(back_populates="unit")


class Department(Base):
    """A 处室 inside a unit; only the unit's office (办公室) may issue external documents."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    is_office: Mapped[bool] = mapped_column(Boolean, default=False)
    code: Mapped[str | None] = mapped_column(String(20))  # 机构代码 in archive codes, e.g. BGS

    unit: Mapped[Unit] = relationship(back_populates="departments")


class PersonStatus(enum.StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"


class Person(Base):
    """A person with an account."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    status: Mapped[PersonStatus] = mapped_column(str_enum(PersonStatus, "person_status"), default=PersonStatus.ACTIVE)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    # Raised to end every session of the person at once (logout, password change, freeze, reset).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column()
    # How Gongwen reaches the person outside the app: texts (SMS) and mail. Either may be unknown.
    mobile: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(50))  # 职务, shown beside the name in opinion trails

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    department: Mapped[Department | None] = relationship()
    grants: Mapped[list[RoleGrant]] = relationship(back_populates="person")


class Role(enum.StrEnum):
    DRAFTER = "drafter"
    DEPARTMENT_HEAD = "department_head"
    REVIEWER = "reviewer"
    SIGNING_LEADER = "signing_leader"
    SEAL_KEEPER = "seal_keeper"
    CLERK = "clerk"
    HANDLER = "handler"
    LEADER = "leader"
    ARCHIVIST = "archivist"
    SUPERVISOR = "supervisor"      # 督查员: reads the figures of every unit in their area
    SYSTEM_ADMIN = "system_admin"
    SECURITY_OFFICER = "security_officer"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_admin(self) -> bool:
        return self in ADMIN_ROLES


ROLE_LABELS = {
    Role.DRAFTER: "拟稿人",
    Role.DEPARTMENT_HEAD: "部门负责人",
    Role.REVIEWER: "核稿人",
    Role.SIGNING_LEADER: "签发人",
    Role.SEAL_KEEPER: "印章管理员",
    Role.CLERK: "收发员",
    Role.HANDLER: "承办人",
    Role.LEADER: "领导",
    Role.ARCHIVIST: "档案员",
    Role.SUPERVISOR: "督查员",
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.SECURITY_OFFICER: "安全保密管理员",
    Role.AUDITOR: "安全审计员",
}
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_OFFICER, Role.AUDITOR})


class RoleGrant(Base):
    """A role a person holds in a unit (and, for a department head, in one department).

    Administrator roles have no unit: they are system-wide and reach no business data.
    """

    __tablename__ = "role_grant"
    __table_args__ = (Index("ix_role_grant_person", "person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    granted_at: Mapped[datetime] = mapped_column()

    person: Mapped[Person] = relationship(back_populates="grants")
    unit: Mapped[Unit | None] = relationship()


# -- process definitions and instances ------------------------------------------------------------------

class BpmnSource(Base):
    """A deployed BPMN file, stored once under the SHA-256 of its bytes."""

    __tablename__ = "bpmn_source"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ProcessDefinition(Base):
    """One version of one process. Instances keep the version they started on."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    source_sha256: Mapped[str] = mapped_column(ForeignKey("bpmn_source.sha256"))
    deployed_at: Mapped[datetime] = mapped_column()
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    source: Mapped[BpmnSource] = relationship()


class InstanceStatus(enum.StrEnum):
    RUNNING = "running"      # has ready tasks or waits on a timer or message
    ERROR = "error"          # a handler failed; see the open incident
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProcessInstance(Base):
    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    owning_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    initiator_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")  # Urgency.rank
    correlation: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[InstanceStatus] = mapped_column(str_enum(InstanceStatus, "instance_status"))
    state: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()

    definition: Mapped[ProcessDefinition] = relationship()


class TaskState(enum.StrEnum):
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Task(Base):
    """A human task as the inbox sees it: who may do it, who has it, by when."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_ready_pool", "candidate_unit_id", "candidate_role", "due_at",
              postgresql_where=text("state = 'ready'"), sqlite_where=text("state = 'ready'")),
        Index("ix_task_ready_assignee", "assignee_id",
              postgresql_where=text("state = 'ready'"), sqlite_where=text("state = 'ready'")),
        Index("ix_task_ready_person", "candidate_person_id",
              postgresql_where=text("state = 'ready'"), sqlite_where=text("state = 'ready'")),
        Index("ix_task_completed_by", "completed_by_id", "completed_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    spec_name: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    form_key: Mapped[str] = mapped_column(String(100))
    lane: Mapped[str | None] = mapped_column(String(100))
    candidate_role: Mapped[Role | None] = mapped_column(str_enum(Role, "role"))
    candidate_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    candidate_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    candidate_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    state: Mapped[TaskState] = mapped_column(str_enum(TaskState, "task_state"))
    created_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    form_data: Mapped[dict | None] = mapped_column(JSON)


class Timer(Base):
    """A waiting timer's due time, so a sweep finds due ones without loading any workflow."""

    __tablename__ = "timer"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(index=True)


class MessageWait(Base):
    """An instance waiting for a named message under its correlation key."""

    __tablename__ = "message_wait"
    __table_args__ = (Index("ix_message_wait_lookup", "name", "correlation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    correlation: Mapped[str | None] = mapped_column(String(200))


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"        # a message nobody waits for: kept for an administrator, never dropped
    FAILED = "failed"    # delivery raised; retried by the next sweep


class Outbox(Base):
    """Work that leaves a step after it commits: messages to other instances, notifications.

    Written in the step's transaction; delivered at least once; ``key`` makes a second
    delivery of the same item a no-op.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "id",
              postgresql_where=text("status IN ('pending', 'failed')"),
              sqlite_where=text("status IN ('pending', 'failed')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(50))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    source_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    created_at: Mapped[datetime] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()
    # Not delivered before this moment: a retry's back-off, or a text held for the morning.
    not_before: Mapped[datetime | None] = mapped_column()


class InboxLook(Base):
    """A person opened their inbox: the duty watch and the supervision figures count these.

    At most one row per person per few minutes (``engine.inbox.record_look``), so that a clerk's
    page reloads do not grow the table.
    """

    __tablename__ = "inbox_look"
    __table_args__ = (
        Index("ix_inbox_look_person_at", "person_id", "at"),
        Index("ix_inbox_look_unit_at", "unit_id", "at"),  # supervision: a period's looks per unit
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    at: Mapped[datetime] = mapped_column()


class LoginDay(Base):
    """A person's logins on one day (Beijing time), kept as they happen.

    Supervision counts logins and people online per day for a quarter from these rows; counting
    ``login.ok`` audit events instead would read millions of rows at a city's scale.
    """

    __tablename__ = "login_day"
    __table_args__ = (Index("ix_login_day_day_unit", "day", "unit_id"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    logins: Mapped[int] = mapped_column(Integer)


class UnitDay(Base):
    """A unit's counters for one day (Beijing time), added to as things happen (``engine.daily``)."""

    __tablename__ = "unit_day"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    person_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")   # people who logged in
    looks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")         # at the inbox
    watch_reminders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    texts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")         # not switched off
    text_segments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # of the accepted
    text_cost: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=0, server_default="0")


class Incident(Base):
    """A handler that failed: the task waits in error until an administrator retries it."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    task_name: Mapped[str] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()


class AuditEvent(Base):
    """One thing that happened. Append-only: each row's hash covers the previous row's hash."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column()
    action: Mapped[str] = mapped_column(String(50), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    detail: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# -- working-day calendar --------------------------------------------------------------------------------

class CalendarOverride(Base):
    """An administrator's word on one day, consulted before the holiday package."""

    __tablename__ = "calendar_override"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(100), default="")


class CalendarYear(Base):
    """A year whose official schedule an administrator has entered as overrides.

    Marking it silences the warning that the year's lunar holidays and make-up days are missing.
    """

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(String(200), default="")


class StoredFile(Base):
    """A file kept under ``files_dir`` by the SHA-256 of its bytes; stored once, never changed."""

    __tablename__ = "stored_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column()


class ApiToken(Base):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
