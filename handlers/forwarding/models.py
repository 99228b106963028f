"""The tables of forwarding (转发) and of departments' own exchange boxes (处室收文箱)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class Forward(Base):
    """A covering notice (关于转发《…》的通知) and the received document it forwards.

    The original travels as one of the notice's attachments, its sealed file byte for byte (``sealed_sha256``,
    the version the forwarding unit signed for), so that its seal still verifies wherever the notice is received.
    """

    __tablename__ = "forward"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)   # the covering notice
    original_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)         # the document forwarded
    sealed_sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"))
    forwarded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    forwarded_at: Mapped[datetime] = mapped_column()


class DepartmentBox(Base):
    """A department's own exchange box (Guangdong Art 11, 19, 35): documents addressed to the department are
    signed for, registered and routed by its 收文员 (a clerk's grant naming the department), numbered in the
    department's own 收文号 series (``prefix``〔year〕n号). Only departments with a box are offered as recipients."""

    __tablename__ = "department_box"

    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(20))            # e.g. 预算处收文: the series' name in its numbers
    opened_at: Mapped[datetime] = mapped_column()


class BoxDelivery(Base):
    """A recipient unit of a document whose copy goes to one of its departments' boxes, not the unit's own.

    One copy per unit (the receipt stays one per document, unit and version): the unit is among the document's
    主送 or 抄送 as ever, and this row says which department's clerk signs for it.
    """

    __tablename__ = "box_delivery"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department_box.department_id"))
