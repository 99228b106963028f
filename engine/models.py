"""Every table Gongwen keeps, as typed SQLAlchemy 2 models.

Workflow state (``ProcessInstance.state``) is the truth about where a process is;
``Task``, ``Timer`` and ``MessageWait`` are projections of it written in the same
transaction, so that lists and searches never deserialize a workflow.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


# -- organisation --------------------------------------------------------------------------------------

class UnitKind(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    OFFICE = "office"            # 办公厅（室）of a government
    DEPARTMENT = "department"    # 政府组成部门, e.g. 财政局
    DIRECT_BODY = "direct_body"  # 直属机构


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
    kind: Mapped[UnitKind] = mapped_column(_enum(UnitKind, "unit_kind"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    issuer_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    status: Mapped[UnitStatus] = mapped_column(_enum(UnitStatus, "unit_status"), default=UnitStatus.ACTIVE)
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
    status: Mapped[PersonStatus] = mapped_column(_enum(PersonStatus, "person_status"), default=PersonStatus.ACTIVE)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()

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
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
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
    status: Mapped[InstanceStatus] = mapped_column(_enum(InstanceStatus, "instance_status"))
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
    candidate_role: Mapped[Role | None] = mapped_column(_enum(Role, "role"))
    candidate_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    candidate_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    candidate_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    state: Mapped[TaskState] = mapped_column(_enum(TaskState, "task_state"))
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
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    source_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    created_at: Mapped[datetime] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()


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


class Notification(Base):
    """Something a person is told in the app: a reminder, an escalation, an arrival."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_person", "person_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(500), default="")
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    created_at: Mapped[datetime] = mapped_column()
    read_at: Mapped[datetime | None] = mapped_column()


# -- working-day calendar --------------------------------------------------------------------------------

class CalendarOverride(Base):
    """An administrator's word on one day, consulted before the holiday package."""

    __tablename__ = "calendar_override"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(100), default="")


class CalendarYear(Base):
    """A year whose official schedule an administrator has entered as overrides.

    For such a year, days without an override follow Monday to Friday.
    """

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(String(200), default="")


# -- documents (公文) -------------------------------------------------------------------------------------

class DocType(enum.StrEnum):
    """The 15 document types of the 2012 regulations (Art. 8); nothing else is a 文种."""

    RESOLUTION = "resolution"
    DECISION = "decision"
    ORDER = "order"
    COMMUNIQUE = "communique"
    ANNOUNCEMENT = "announcement"
    PUBLIC_NOTICE = "public_notice"
    OPINION = "opinion"
    NOTICE = "notice"
    CIRCULAR = "circular"
    REPORT = "report"
    REQUEST = "request"
    REPLY = "reply"
    MOTION = "motion"
    LETTER = "letter"
    MINUTES = "minutes"

    @property
    def label(self) -> str:
        return DOC_TYPE_LABELS[self]


DOC_TYPE_LABELS = {
    DocType.RESOLUTION: "决议", DocType.DECISION: "决定", DocType.ORDER: "命令", DocType.COMMUNIQUE: "公报",
    DocType.ANNOUNCEMENT: "公告", DocType.PUBLIC_NOTICE: "通告", DocType.OPINION: "意见", DocType.NOTICE: "通知",
    DocType.CIRCULAR: "通报", DocType.REPORT: "报告", DocType.REQUEST: "请示", DocType.REPLY: "批复",
    DocType.MOTION: "议案", DocType.LETTER: "函", DocType.MINUTES: "纪要",
}


class Direction(enum.StrEnum):
    UPWARD = "upward"
    DOWNWARD = "downward"
    PARALLEL = "parallel"


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"              # 加急
    EXTRA_URGENT = "extra_urgent"  # 特急

    @property
    def label(self) -> str:
        return {"normal": "", "urgent": "加急", "extra_urgent": "特急"}[self.value]

    @property
    def rank(self) -> int:
        """The instance's ``priority``: the inbox lists 特急 first, then 加急, then the rest."""
        return {"normal": 0, "urgent": 1, "extra_urgent": 2}[self.value]


UNCLASSIFIED = "非密"


class DocStatus(enum.StrEnum):
    DRAFTING = "drafting"          # 起草
    REVIEWING = "reviewing"        # 审核中
    RETURNED = "returned"          # 退回修改
    AWAITING_SIGN_OFF = "awaiting_sign_off"  # 待签发
    SIGNED_OFF = "signed_off"      # 已签发
    NUMBERED = "numbered"          # 已编号
    TYPESET = "typeset"            # 已排版
    SEALED = "sealed"              # 已用印
    DISPATCHED = "dispatched"      # 已分发
    REVOKED = "revoked"            # 已撤销 (void from the start)
    REPEALED = "repealed"          # 已废止 (void from repeal)


class Document(Base):
    """An outgoing document with every GB/T 9704 element that applies."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("number_code", "number_year", "number_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    issuing_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    drafter_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    drafting_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    doc_type: Mapped[DocType] = mapped_column(_enum(DocType, "doc_type"))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"))
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency, "urgency"), default=Urgency.NORMAL)
    classification: Mapped[str] = mapped_column(String(20), default=UNCLASSIFIED)
    copy_number: Mapped[str | None] = mapped_column(String(6))          # 份号
    title: Mapped[str] = mapped_column(String(300), default="")
    main_to: Mapped[list] = mapped_column(JSON, default=list)          # unit ids
    main_to_text: Mapped[str] = mapped_column(Text, default="")
    cc: Mapped[list] = mapped_column(JSON, default=list)               # unit ids
    cc_text: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[list] = mapped_column(JSON, default=list)             # paragraphs
    signers: Mapped[list] = mapped_column(JSON, default=list)          # 签发人 names (upward documents)
    signing_date: Mapped[date | None] = mapped_column(Date)            # 成文日期
    note: Mapped[str | None] = mapped_column(String(300))              # 附注
    printed_by: Mapped[str] = mapped_column(String(100), default="")  # 印发机关
    printed_on: Mapped[date | None] = mapped_column(Date)              # 印发日期
    important: Mapped[bool] = mapped_column(Boolean, default=False)    # signed off by the principal leader
    one_matter: Mapped[bool] = mapped_column(Boolean, default=False)   # a 请示's drafter confirmed 一文一事
    doc_number: Mapped[str | None] = mapped_column(String(60), index=True)
    number_code: Mapped[str | None] = mapped_column(String(20))
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[DocStatus] = mapped_column(_enum(DocStatus, "doc_status"), default=DocStatus.DRAFTING)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))         # typeset, not yet sealed
    sealed_sha256: Mapped[str | None] = mapped_column(String(64))      # sealed: never changes again
    seal_boxes: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)  # a corrected re-dispatch is a new version
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))  # a 批复's 请示
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    issuers: Mapped[list[DocumentIssuer]] = relationship(order_by="DocumentIssuer.position",
                                                         cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.position",
                                                         cascade="all, delete-orphan")


class DocumentIssuer(Base):
    """The issuing units of a document; position 0 is the lead (its number is used)."""

    __tablename__ = "document_issuer"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column()
    seal_id: Mapped[int | None] = mapped_column(ForeignKey("seal.id"))

    unit: Mapped[Unit] = relationship()


class StoredFile(Base):
    """A file kept under ``files_dir`` by the SHA-256 of its bytes; stored once, never changed."""

    __tablename__ = "stored_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column()


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"))


class NumberCounter(Base):
    """The next 发文字号 sequence per issuer code and year; allocated under a row lock."""

    __tablename__ = "number_counter"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_seq: Mapped[int] = mapped_column(Integer)


class DistributionList(Base):
    """A unit's saved list of recipients (e.g. 各县区政府)."""

    __tablename__ = "distribution_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_ids: Mapped[list] = mapped_column(JSON, default=list)


class ReceiptStatus(enum.StrEnum):
    PENDING = "pending"
    SIGNED = "signed"
    RETURNED = "returned"


class Receipt(Base):
    """One recipient of one version of a dispatched document; the receiver's instance keeps it current."""

    __tablename__ = "receipt"
    __table_args__ = (UniqueConstraint("document_id", "unit_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    copy: Mapped[bool] = mapped_column(Boolean, default=False)        # 抄送 rather than 主送
    status: Mapped[ReceiptStatus] = mapped_column(_enum(ReceiptStatus, "receipt_status"))
    incoming_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    dispatched_at: Mapped[datetime] = mapped_column()
    signed_at: Mapped[datetime | None] = mapped_column()
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    return_reason: Mapped[str | None] = mapped_column(String(500))
    due_at: Mapped[datetime | None] = mapped_column()          # sign-for deadline
    overdue_since: Mapped[datetime | None] = mapped_column()
    last_chased_at: Mapped[datetime | None] = mapped_column()
    verification: Mapped[dict | None] = mapped_column(JSON)     # the report shown at sign-for


class DocumentVersion(Base):
    """A sealed version of a document, kept when a corrected one replaces it for some recipients."""

    __tablename__ = "document_version"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sealed_sha256: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column()


class DeadlineRule(Base):
    """How long a unit has to sign for a document of one urgency; an administrator edits these."""

    __tablename__ = "deadline_rule"

    urgency: Mapped[str] = mapped_column(String(20), primary_key=True)
    amount: Mapped[float] = mapped_column()
    measure: Mapped[str] = mapped_column(String(20))  # working_days | working_hours | hours


class IncomingRecord(Base):
    """A received document in the receiving unit's register (收文登记)."""

    __tablename__ = "incoming_record"
    __table_args__ = (UniqueConstraint("unit_id", "year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipt.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    incoming_number: Mapped[str] = mapped_column(String(40))
    registered_at: Mapped[datetime] = mapped_column()
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    assisting_department_ids: Mapped[list] = mapped_column(JSON, default=list)
    handle_due: Mapped[datetime | None] = mapped_column()
    handled_at: Mapped[datetime | None] = mapped_column()
    result: Mapped[str | None] = mapped_column(Text)
    reply_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))


class Retention(enum.StrEnum):
    PERMANENT = "Y"     # 永久
    YEARS_30 = "D30"
    YEARS_10 = "D10"

    @property
    def label(self) -> str:
        return {"Y": "永久", "D30": "30年", "D10": "10年"}[self.value]


class ArchiveItem(Base):
    """One archived item (件) under DA/T 22: 全宗号-WS·年度-保管期限-机构代码-件号."""

    __tablename__ = "archive_item"
    __table_args__ = (UniqueConstraint("fonds_code", "year", "retention", "org_code", "item_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    fonds_code: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    retention: Mapped[Retention] = mapped_column(_enum(Retention, "retention"))
    org_code: Mapped[str] = mapped_column(String(20))
    item_number: Mapped[int] = mapped_column(Integer)
    archive_code: Mapped[str] = mapped_column(String(80), unique=True)
    pages: Mapped[int] = mapped_column(Integer)
    copy_sha256: Mapped[str] = mapped_column(String(64))   # the archived copy with its stamp
    # The exported package's manifest hash, kept apart from the package it vouches for.
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    archived_at: Mapped[datetime] = mapped_column()
    archived_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))


# -- electronic seals -------------------------------------------------------------------------------------

class CertificateAuthority(Base):
    """Gongwen's CA hierarchy: a root, and an issuing CA per issuing office."""

    __tablename__ = "certificate_authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), unique=True)  # None: the root
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_authority.id"))
    certificate_pem: Mapped[str] = mapped_column(Text)
    key_blob: Mapped[bytes] = mapped_column(LargeBinary)                # encrypted private key
    crl_number: Mapped[int] = mapped_column(Integer, default=0)
    crl_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    crl_published_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()


class SealStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"   # renewed: the old certificate stays valid for what it sealed


class Seal(Base):
    """A unit's electronic seal: its drawn image and its own signing certificate."""

    __tablename__ = "seal"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    ca_id: Mapped[int] = mapped_column(ForeignKey("certificate_authority.id"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="official")  # 公章
    diameter_mm: Mapped[float] = mapped_column()
    image_pdf: Mapped[bytes] = mapped_column(LargeBinary)
    certificate_pem: Mapped[str] = mapped_column(Text)
    serial: Mapped[str] = mapped_column(String(64))
    key_blob: Mapped[bytes] = mapped_column(LargeBinary)
    valid_from: Mapped[datetime] = mapped_column()
    valid_to: Mapped[datetime] = mapped_column()
    status: Mapped[SealStatus] = mapped_column(_enum(SealStatus, "seal_status"), default=SealStatus.ACTIVE)
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoke_reason: Mapped[str | None] = mapped_column(String(20))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("seal.id"))
    created_at: Mapped[datetime] = mapped_column()

    unit: Mapped[Unit] = relationship()


class ApiToken(Base):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
