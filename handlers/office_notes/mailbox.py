"""Mail between people (站内邮件): the informal notices that are not 公文, with read receipts.

Whom one may mail: anyone active who works in a unit of the same organisation tree as the sender (the tree
under the installation's top unit, a province or a city): the internal address book of a government, where a
county clerk writes to the city office's 文电处 as readily as to a colleague. One may pick people, or units,
whose active people all receive it (the distribution list of mail). The three administrators have no unit and
neither send nor receive mail (三员分立). Sending tells each recipient through ``tell()`` (in the app and on their
channels after the commit). A mail is readable by its sender and its recipients only (``NotFound`` otherwise);
a recipient's first opening is their read receipt. Writes are in the caller's transaction, audited with ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import NotFound, Refused
from engine.models import Person, PersonStatus, Unit, UnitStatus
from engine.organisation import lineage
from engine.text import clean

from ..notifications.tell import tell
from .models import Mail, MailRecipient
from .uploads import NONE, Uploads

NO_MAIL = "没有这封邮件"
BODY_MAX = 20000
MAX_RECIPIENTS = 500


def _tree(session: Session, unit_id: int) -> list[int]:
    """The active units of the tree ``unit_id`` belongs to: its top unit and everything under it."""
    found, level = [], [lineage(session, unit_id)[-1]]
    while level:
        found += level
        level = list(session.scalars(select(Unit.id).where(Unit.parent_id.in_(level),
                                                           Unit.status == UnitStatus.ACTIVE)))
    return found


def _sender(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.unit_id is None or person.status != PersonStatus.ACTIVE:
        raise Refused("管理员账号不收发站内邮件")
    return person


def people_offered(session: Session, person_id: int) -> list[tuple[Person, str]]:
    """Whom ``person_id`` may mail, with their unit's name, by unit then name; empty for an administrator."""
    person = session.get(Person, person_id)
    if person is None or person.unit_id is None:
        return []
    return [(p, name) for p, name in session.execute(
        select(Person, Unit.name).join(Unit, Unit.id == Person.unit_id)
        .where(Person.unit_id.in_(_tree(session, person.unit_id)), Person.status == PersonStatus.ACTIVE,
               Person.id != person_id).order_by(Unit.id, Person.name)).all()]


def units_offered(people: list[tuple[Person, str]]) -> list[tuple[int, str]]:
    """The units of ``people`` (from :func:`people_offered`) a sender may mail as a whole, in order."""
    return list(dict.fromkeys((p.unit_id, name) for p, name in people))


def send(session: Session, sender_id: int, subject: str, body: str, person_ids: Sequence[int],
         unit_ids: Sequence[int], attachments: Uploads = NONE) -> Mail:
    """Send a mail to ``person_ids`` and the people of ``unit_ids``, every one of them offered by
    :func:`people_offered` (``Refused`` otherwise), with ``attachments`` (stored only once it is accepted), and
    tell each recipient."""
    sender = _sender(session, sender_id)
    subject = clean(subject, field="邮件主题", max_length=100)
    body = clean(body, field="邮件正文", max_length=BODY_MAX, lines=True)
    offered = people_offered(session, sender_id)
    by_id = {p.id: p for p, _ in offered}
    if any(p not in by_id for p in person_ids) or any(u not in {p.unit_id for p in by_id.values()}
                                                     for u in unit_ids):
        raise Refused("只能发给页面列出的人员或单位")
    chosen = list(dict.fromkeys([*person_ids, *(p.id for p, _ in offered if p.unit_id in set(unit_ids))]))
    if not chosen:
        raise Refused("请选择收件人")
    if len(chosen) > MAX_RECIPIENTS:
        raise Refused(f"一封邮件最多发给 {MAX_RECIPIENTS} 人（现有 {len(chosen)} 人），请改发公告")
    files = attachments.keep(session)
    mail = Mail(sender_id=sender_id, subject=subject, body=body, files=files, sent_at=clock.now())
    session.add(mail)
    session.flush()
    session.add_all(MailRecipient(mail_id=mail.id, person_id=p) for p in chosen)
    tell(session, chosen, f"{sender.name}发来邮件：{subject}", kind="mail", key=f"mail:{mail.id}")
    audit.record(session, "mail.send", actor_id=sender_id, mail_id=mail.id, recipients=len(chosen),
                 files=len(files))
    return mail


def readable(session: Session, mail_id: int, person_id: int) -> Mail:
    """The mail if ``person_id`` sent or received it; else ``NotFound``."""
    mail = session.get(Mail, mail_id)
    if mail is None or (mail.sender_id != person_id and all(r.person_id != person_id for r in mail.recipients)):
        raise NotFound(NO_MAIL)
    return mail


def mark_read(session: Session, mail: Mail, person_id: int) -> None:
    """A recipient's first opening: their read receipt (the sender's own opening changes nothing)."""
    for recipient in mail.recipients:
        if recipient.person_id == person_id and recipient.read_at is None:
            recipient.read_at = clock.now()
            audit.record(session, "mail.read", actor_id=person_id, mail_id=mail.id)


@dataclass(frozen=True)
class Received:
    """A mail in a person's inbox."""

    mail: Mail
    sender: str
    read: bool


def inbox(session: Session, person_id: int, limit: int = 100) -> list[Received]:
    """The mail ``person_id`` received, newest first."""
    rows = session.execute(select(Mail, Person.name, MailRecipient.read_at)
                           .join(MailRecipient, MailRecipient.mail_id == Mail.id)
                           .join(Person, Person.id == Mail.sender_id).where(MailRecipient.person_id == person_id)
                           .order_by(Mail.id.desc()).limit(limit)).all()
    return [Received(mail, name, read_at is not None) for mail, name, read_at in rows]


def sent(session: Session, person_id: int, limit: int = 100) -> list[tuple[Mail, int, int]]:
    """The mail ``person_id`` sent, newest first, as (mail, recipients, of them read)."""
    mails = session.scalars(select(Mail).where(Mail.sender_id == person_id).order_by(Mail.id.desc())
                            .limit(limit)).all()
    return [(m, len(m.recipients), sum(r.read_at is not None for r in m.recipients)) for m in mails]


def receipts(session: Session, mail: Mail, person_id: int) -> list[tuple[str, str, MailRecipient]]:
    """The read receipts, for the sender only (empty for a recipient): (name, unit, row) per recipient."""
    if person_id != mail.sender_id:
        return []
    names = dict(session.execute(select(Person.id, Person.name)
                                 .where(Person.id.in_([r.person_id for r in mail.recipients]))).all())
    units = dict(session.execute(select(Person.id, Unit.name).join(Unit, Unit.id == Person.unit_id)
                                 .where(Person.id.in_(names))).all())
    return [(names[r.person_id], units.get(r.person_id, ""), r) for r in mail.recipients]
