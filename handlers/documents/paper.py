"""Paper alongside the electronic file (Shaanxi §三): 份数, 份号 and the recipients marked 纸质.

The smallest model that serves: the document records its print run (``Document.print_run``, 份数) and
which of its 主送/抄送 units are not connected and get paper (``Document.paper_to``); typesetting
leaves the 份号 line free and gives each copy its 份号 in a ``PaperCopy`` row, paper recipients first
(主送 then 抄送, in order), the rest kept by the issuing unit. The sealed PDF stays one file: the clerk
prints the copies on demand (:func:`print_paper_copies`, the 份号 stamped on each) with a dispatch list
(发文清单: recipient, 份号, a column to sign in) for the paper copies; dispatch sends no envelope to a
paper recipient.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import Refused
from engine.files import FileStore
from engine.models import Unit

from .models import Document, PaperCopy
from .typesetting.copies import copy_mark, print_copies

MAX_PRINT_RUN = 999   # a small run for the recipients' archives, not a print shop's order
KEPT = "（本机关留存）"


def check_paper(print_run: int, paper_to: Sequence[int], main_to: Sequence[int], cc: Sequence[int]) -> None:
    """Refuse a 份数 out of range, a 纸质 unit that is not a recipient, or fewer copies than paper recipients."""
    if not 0 <= print_run <= MAX_PRINT_RUN:
        raise Refused(f"份数应在 0 到 {MAX_PRINT_RUN} 之间")
    if [u for u in paper_to if u not in main_to and u not in cc]:
        raise Refused("标为“纸质”的单位须是本文的主送或抄送机关")
    if len(paper_to) > print_run:
        raise Refused(f"份数（{print_run}）少于标为“纸质”的收文单位数（{len(paper_to)}），每个纸质单位至少一份")


def paper_recipients(document: Document) -> list[int]:
    """The units marked 纸质, in the order of 主送 then 抄送: the order their 份号 are given in."""
    marked = set(document.paper_to)
    return [u for u in [*document.main_to, *document.cc] if u in marked]


def assign_copies(session: Session, document: Document) -> None:
    """Give each of the document's 份数 its 份号 and recipient, once: typesetting again after a
    correction keeps the numbers already given."""
    given = set(session.scalars(select(PaperCopy.copy_number).where(PaperCopy.document_id == document.id)))
    owners = paper_recipients(document)
    for number in range(1, document.print_run + 1):
        if number not in given:
            unit_id = owners[number - 1] if number <= len(owners) else None
            session.add(PaperCopy(document_id=document.id, copy_number=number, unit_id=unit_id))


def dispatch_list(session: Session, document_id: int) -> list[tuple[str, str]]:
    """The 发文清单: (份号, recipient) of every copy, a kept copy named :data:`KEPT`."""
    rows = session.execute(select(PaperCopy.copy_number, Unit.name).outerjoin(Unit, Unit.id == PaperCopy.unit_id)
                           .where(PaperCopy.document_id == document_id).order_by(PaperCopy.copy_number)).all()
    return [(copy_mark(number), name or KEPT) for number, name in rows]


def print_paper_copies(session: Session, files: FileStore, document: Document, person_id: int) -> bytes:
    """The sealed file printed once per copy with its 份号 stamped, recorded as printed by ``person_id``."""
    if not document.print_run:
        raise Refused("本文没有印制纸质份数")
    if document.sealed_sha256 is None:
        raise Refused("公文用印后才能打印纸质件")
    copies = list(session.scalars(select(PaperCopy).where(PaperCopy.document_id == document.id)
                                  .order_by(PaperCopy.copy_number)))
    now = clock.now()
    for copy in copies:
        copy.printed_at, copy.printed_by_id = now, person_id
    audit.record(session, "document.print_copies", actor_id=person_id, document_id=document.id,
                 copies=len(copies))
    return print_copies(files.get(document.sealed_sha256), [c.copy_number for c in copies])
