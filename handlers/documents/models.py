"""The document's tables: the 公文 with its GB/T 9704 elements, issuers, attachments,
number counters, distribution lists, earlier sealed versions and the wording's revisions."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, str_enum
from engine.models import Unit


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
        return {"normal": "平件", "urgent": "加急", "extra_urgent": "特急"}[self.value]

    @property
    def mark(self) -> str:
        """What GB/T 9704 prints in the 紧急程度 position: nothing for a 平件."""
        return "" if self is Urgency.NORMAL else self.label

    @property
    def rank(self) -> int:
        """The instance's ``priority``: the inbox lists 特急 first, then 加急, then the rest."""
        return {"normal": 0, "urgent": 1, "extra_urgent": 2}[self.value]

    @classmethod
    def of_rank(cls, rank: int) -> Urgency:
        return next(u for u in cls if u.rank == rank)


UNCLASSIFIED = "非密"
# 密级 as the drafting form offers it (value -> what the form shows). Gongwen carries non-classified
# documents only, so every value offered is one of them; a classified level never enters the system.
CLASSIFICATIONS = {UNCLASSIFIED: "无（非密）", "公开": "公开（非密）"}
# Levels that must travel by the 机要 channel instead (内部: 工作秘密, kept off the open network as well).
CLASSIFIED_LEVELS = ("秘密", "机密", "绝密", "内部")


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
    __table_args__ = (
        UniqueConstraint("number_code", "number_year", "number_seq"),
        Index("ix_document_issuer_created", "issuing_unit_id", "created_at"),  # supervision: a period's drafts
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    issuing_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    drafter_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    drafting_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    doc_type: Mapped[DocType] = mapped_column(str_enum(DocType, "doc_type"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "direction"))
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, "urgency"), default=Urgency.NORMAL)
    classification: Mapped[str] = mapped_column(String(20), default=UNCLASSIFIED)
    copy_number: Mapped[str | None] = mapped_column(String(6))          # 份号
    # 份数: paper copies printed beside the sealed file (0: electronic only); each gets a 份号 (``PaperCopy``).
    print_run: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300), default="")
    main_to: Mapped[list] = mapped_column(JSON, default=list)          # unit ids
    main_to_text: Mapped[str] = mapped_column(Text, default="")
    cc: Mapped[list] = mapped_column(JSON, default=list)               # unit ids
    cc_text: Mapped[str] = mapped_column(Text, default="")
    # Those of main_to and cc marked 纸质: not connected, they get a paper copy on the dispatch list, no envelope.
    paper_to: Mapped[list] = mapped_column(JSON, default=list)         # unit ids
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
    issue_total: Mapped[int | None] = mapped_column(Integer)           # a publication's 总期号 (总第M期)
    # The series the drafter chose (函, 明电 …); None numbers it in the series its 文种 belongs to.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("number_series.id"))
    status: Mapped[DocStatus] = mapped_column(str_enum(DocStatus, "doc_status"), default=DocStatus.DRAFTING)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))         # typeset, not yet sealed
    sealed_sha256: Mapped[str | None] = mapped_column(String(64))      # sealed: never changes again
    sealed_format: Mapped[str | None] = mapped_column(String(20))      # the signer's format, e.g. PAdES
    seal_algorithm: Mapped[str | None] = mapped_column(String(40))     # e.g. ECDSA-P256-SHA256
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


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"))


class NumberSeries(Base):
    """One of an issuing unit's number series beside its main one (``Unit.issuer_code``).

    Each has its own 机关代字 and so its own counter: 函 (连政办函), 明电 (连政办发明电), 字 (陕政字) …
    A document is numbered in the series its drafter chose, else in the one listing its 文种, else in
    the unit's main series.
    """

    __tablename__ = "number_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(20))                       # 函, 明电, 字
    code: Mapped[str] = mapped_column(String(20), unique=True)          # the series' 机关代字
    doc_types: Mapped[list] = mapped_column(JSON, default=list)         # DocType values numbered here by default
    telegram: Mapped[bool] = mapped_column(Boolean, default=False)      # 明传电报
    # 内部刊物 (陕政通报): ``name`` is the publication's, numbered 第N期 per year and 总第M期 over all years.
    publication: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class NumberCounter(Base):
    """The next 发文字号 sequence per issuer code and year; allocated under a row lock.

    Year 0 is a publication's 总期号, which never restarts."""

    __tablename__ = "number_counter"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_seq: Mapped[int] = mapped_column(Integer)


class PaperCopy(Base):
    """One printed copy of a document with 份数: its 份号 and the paper recipient it goes to (None: kept).

    Given when the document is typeset, paper recipients first in the order of 主送 then 抄送; printed on
    demand with its 份号 stamped (``handlers.documents.paper``)."""

    __tablename__ = "paper_copy"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    copy_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # 份号
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    printed_at: Mapped[datetime | None] = mapped_column()       # last printed
    printed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))


class DistributionList(Base):
    """A unit's saved list of recipients (e.g. 各县区政府)."""

    __tablename__ = "distribution_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_ids: Mapped[list] = mapped_column(JSON, default=list)


class DocumentVersion(Base):
    """A sealed version of a document, kept when a corrected one replaces it for some recipients."""

    __tablename__ = "document_version"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sealed_sha256: Mapped[str] = mapped_column(String(64))
    sealed_format: Mapped[str | None] = mapped_column(String(20))
    seal_algorithm: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column()


class DocumentRevision(Base):
    """A version of a document's wording (留痕): the whole title and body as someone left them.

    Number 1 is the draft as first submitted; each later number is a re-submitted draft, a reviewer's or
    signing leader's change before sign-off, or a proofreading correction, written only when the wording
    changed. ``Document`` keeps the current text.
    """

    __tablename__ = "document_revision"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)                          # paragraphs, one per line
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)          # the step's task (拟稿, 部门审核, 签发, ...)
    step: Mapped[str] = mapped_column(String(100))                   # its name, as the trail shows it
    created_at: Mapped[datetime] = mapped_column()
