"""The organiser's side of a meeting: send it, read every answer at once, change it, cancel it; and the reminders.

Transactions: every function here writes in the caller's session and commits nothing; the pages call them
inside ``db.write()``. Sending starts one ``meeting_reply`` instance per invited unit (or person) in the same
transaction, as :class:`handlers.exchange.envelope.LocalTransport` starts one ``incoming`` per recipient: the
document envelope itself does not fit (it carries a sealed file and feeds the document's receipts). Changes
and cancellations reach the running instances as messages (``会议变更``, ``会议取消``), correlated by
invitation, delivered after the commit; people are told through :func:`handlers.notifications.tell.tell`.

Who may do what: a 收发员 or 拟稿人 of a unit organises its meetings; the overview is for them and the unit's
leaders (:data:`READERS`); anyone else, the three administrators included, meets ``NotFound``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine import audit, clock
from engine.background import JobContext, periodic
from engine.config import option
from engine.daily import add_counts, local_day
from engine.errors import NotFound, Refused
from engine.messages import send_message
from engine.models import Person, PersonStatus, Role, RoleGrant, Unit, UnitStatus
from engine.organisation import holders
from engine.runtime import Runtime
from engine.text import clean

from ..notifications.tell import tell
from .models import Answer, Invitation, Meeting, MeetingKind, MeetingStatus, ReplySlipDay

__all__ = ["ORGANISERS", "PROCESS_ID", "READERS", "MeetingDetails", "cancel", "change", "create", "offered_people",
           "offered_units", "organised", "organising_unit", "readable", "remind", "told_people"]

PROCESS_ID = "meeting_reply"
ORGANISERS = (Role.CLERK, Role.DRAFTER)
READERS = (*ORGANISERS, Role.LEADER)
MAX_INVITED = 2000
# How long before the reply deadline a unit (or person) that has not answered is reminded, once.
REMIND_BEFORE_HOURS = option("meeting_remind_before_hours", "GONGWEN_MEETING_REMIND_BEFORE_HOURS", float, 24.0)


@dataclass(frozen=True)
class MeetingDetails:
    """What the organiser writes: checked by :meth:`checked` before anything is stored."""

    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    agenda: str
    attendance: str
    reply_by: datetime

    def checked(self, now: datetime, *, new_deadline: bool = True) -> MeetingDetails:
        """The details with their texts cleaned; ``Refused`` (in Chinese) for an empty, long or odd text, a
        start passed, an end before the start, or a reply deadline after the start or (``new_deadline``)
        passed."""
        if self.starts_at <= now:
            raise Refused("会议开始时间已过，请重新填写")
        if self.ends_at <= self.starts_at:
            raise Refused("会议结束时间应晚于开始时间")
        if self.reply_by > self.starts_at:
            raise Refused("回执截止时间不能晚于会议开始时间")
        if new_deadline and self.reply_by <= now:
            raise Refused("回执截止时间已过，请重新填写")
        return MeetingDetails(
            title=clean(self.title, field="会议名称", max_length=200),
            starts_at=self.starts_at, ends_at=self.ends_at,
            place=clean(self.place, field="会议地点", max_length=200),
            agenda=clean(self.agenda, field="会议议程", max_length=5000, lines=True),
            attendance=clean(self.attendance, field="参会人员要求", max_length=200),
            reply_by=self.reply_by)


def organising_unit(session: Session, person_id: int) -> int:
    """The unit the person organises meetings for (where they are 收发员 or 拟稿人); ``NotFound`` if none."""
    unit_id = session.scalar(select(RoleGrant.unit_id).join(Person, Person.id == RoleGrant.person_id).where(
        RoleGrant.person_id == person_id, RoleGrant.unit_id == Person.unit_id, RoleGrant.role.in_(ORGANISERS),
        Person.status == PersonStatus.ACTIVE).limit(1))
    if unit_id is None:
        raise NotFound("您不能组织会议")
    return unit_id


def offered_units(session: Session, unit_id: int) -> list[tuple[int, str]]:
    """The units a meeting of ``unit_id`` may be sent to: every active unit but the organiser's own."""
    return [tuple(r) for r in session.execute(select(Unit.id, Unit.name).where(
        Unit.status == UnitStatus.ACTIVE, Unit.id != unit_id).order_by(Unit.id)).all()]


def offered_people(session: Session, unit_id: int) -> list[tuple[int, str]]:
    """The people an internal meeting of ``unit_id`` may invite: its active people holding a business role there."""
    return [tuple(r) for r in session.execute(
        select(Person.id, Person.name).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.unit_id == unit_id, Person.unit_id == unit_id, Person.status == PersonStatus.ACTIVE)
        .distinct().order_by(Person.id)).all()]


def create(session: Session, runtime: Runtime, organiser_id: int, kind: MeetingKind, details: MeetingDetails,
           invited: list[int]) -> Meeting:
    """Send a meeting of the organiser's unit to ``invited`` (unit ids, or for an internal meeting person ids),
    each of which must be one the page offered; one reply process starts per invitation, its task in the
    unit clerks' (or the person's) inbox. ``Refused`` for bad details or picks; nothing is written then."""
    unit_id = organising_unit(session, organiser_id)
    now = clock.now()
    details = details.checked(now)
    offered = {i for i, _ in (offered_units if kind == MeetingKind.UNITS else offered_people)(session, unit_id)}
    invited = list(dict.fromkeys(invited))
    if not invited:
        raise Refused("请选择参会单位" if kind == MeetingKind.UNITS else "请选择参会人员")
    if len(invited) > MAX_INVITED or not set(invited) <= offered:
        raise Refused("所选参会单位或人员不在可选范围内")
    meeting = Meeting(unit_id=unit_id, organiser_id=organiser_id, kind=kind, status=MeetingStatus.OPEN,
                      created_at=now, revision=1, **vars(details))
    session.add(meeting)
    session.flush()
    internal = kind == MeetingKind.INTERNAL
    invitations = [Invitation(meeting_id=meeting.id, unit_id=unit_id if internal else i,
                              person_id=i if internal else None, answer=Answer.PENDING) for i in invited]
    session.add_all(invitations)
    session.flush()
    with runtime.batch(session, len(invitations)):
        for inv in invitations:
            inv.instance_id = runtime.start(
                PROCESS_ID, owning_unit_id=inv.unit_id, initiator_id=organiser_id, title=meeting.title,
                data={"meeting_id": meeting.id, "invitation_id": inv.id, "person_id": inv.person_id},
                correlation=_correlation(inv), session=session)
    if not internal:  # each unit's meetings received, for supervision (one row per unit: the ids are distinct)
        add_counts(session, ReplySlipDay.__table__, ("unit_id", "day"),
                   [{"unit_id": i.unit_id, "day": local_day(now), "invited": 1} for i in invitations])
    _tell(session, meeting, invitations, f"会议通知：{meeting.title}，{_when(meeting)}，请于 "
          f"{clock.local(meeting.reply_by):%m月%d日%H:%M} 前回复", "meeting_notice", "收到会议通知", "sent")
    audit.record(session, "meeting.send", actor_id=organiser_id, unit_id=unit_id, meeting_id=meeting.id,
                 kind=kind.value, invited=len(invitations))
    return meeting


def readable(session: Session, meeting_id: int, person_id: int) -> Meeting:
    """The meeting, for a 收发员, 拟稿人 or leader of the organising unit; ``NotFound`` for anyone else."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or session.scalar(select(RoleGrant.id).where(
            RoleGrant.person_id == person_id, RoleGrant.unit_id == meeting.unit_id,
            RoleGrant.role.in_(READERS)).limit(1)) is None:
        raise NotFound("没有这个会议")
    return meeting


def organised(session: Session, person_id: int, limit: int = 200) -> list[Meeting]:
    """The latest meetings of the units where the person may read the overview."""
    units = select(RoleGrant.unit_id).where(RoleGrant.person_id == person_id, RoleGrant.role.in_(READERS))
    return list(session.scalars(select(Meeting).where(Meeting.unit_id.in_(units)).options(
        selectinload(Meeting.invitations)).order_by(Meeting.starts_at.desc()).limit(limit)))


def change(session: Session, meeting: Meeting, actor_id: int, starts_at: datetime, ends_at: datetime,
           place: str) -> None:
    """Move the meeting (time, place): every invited unit or person is told; answers are kept, and those
    already given are asked for again to confirm (``会议变更`` reopens their reply task)."""
    _ensure_open(meeting)
    # The reply deadline stays, unless the meeting now starts before it (a passed one stays passed).
    details = MeetingDetails(meeting.title, starts_at, ends_at, place, meeting.agenda, meeting.attendance,
                             min(meeting.reply_by, starts_at)).checked(clock.now(), new_deadline=False)
    meeting.starts_at, meeting.ends_at, meeting.place = details.starts_at, details.ends_at, details.place
    meeting.reply_by, meeting.revision, meeting.changed_at = details.reply_by, meeting.revision + 1, clock.now()
    for inv in meeting.invitations:
        if inv.answer != Answer.PENDING:
            send_message(session, "会议变更", _correlation(inv), {"revision": meeting.revision},
                         key=f"meeting:{meeting.id}:change:{meeting.revision}:{inv.id}")
    _tell(session, meeting, meeting.invitations, f"会议变更：{meeting.title} 改为{_when(meeting)}，"
          "请确认参会安排", "meeting_change", "会议时间或地点变更", f"change:{meeting.revision}")
    audit.record(session, "meeting.change", actor_id=actor_id, unit_id=meeting.unit_id, meeting_id=meeting.id,
                 revision=meeting.revision)


def cancel(session: Session, meeting: Meeting, actor_id: int, reason: str) -> None:
    """Cancel the meeting: every invited unit or person is told and every reply process ends (``会议取消``)."""
    _ensure_open(meeting)
    reason = clean(reason, field="取消原因", max_length=500)
    meeting.status, meeting.cancelled_at, meeting.cancel_reason = MeetingStatus.CANCELLED, clock.now(), reason
    for inv in meeting.invitations:
        send_message(session, "会议取消", _correlation(inv), {}, key=f"meeting:{meeting.id}:cancel:{inv.id}")
    _tell(session, meeting, meeting.invitations, f"会议取消：{meeting.title}（原定{_when(meeting)}）已取消。"
          f"原因：{reason}", "meeting_cancel", "会议取消", "cancel")
    audit.record(session, "meeting.cancel", actor_id=actor_id, unit_id=meeting.unit_id, meeting_id=meeting.id)


def _ensure_open(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused("会议已取消，不能再修改")


def _correlation(invitation: Invitation) -> dict:
    return {"meeting_invitation": invitation.id}


def _when(meeting: Meeting) -> str:
    start, end = clock.local(meeting.starts_at), clock.local(meeting.ends_at)
    return f"{start:%Y年%m月%d日 %H:%M}–{end:%H:%M}，{meeting.place}"


def told_people(session: Session, invitation: Invitation) -> list[int]:
    """Who hears about an invitation: the person invited, or the unit's 收发员."""
    return [invitation.person_id] if invitation.person_id else holders(session, Role.CLERK, invitation.unit_id)


def _tell(session: Session, meeting: Meeting, invitations: Iterable[Invitation], text: str, kind: str,
          reason: str, key: str) -> None:
    for inv in invitations:
        tell(session, told_people(session, inv), text, kind=kind, reason=reason, instance_id=inv.instance_id,
             key=f"meeting:{meeting.id}:{key}:{inv.id}")


# -- reminders ---------------------------------------------------------------------------------------------

@periodic(every=timedelta(minutes=10))
def _remind(job: JobContext) -> None:
    with job.db.write() as session:
        remind(session, timedelta(hours=job.settings.option(REMIND_BEFORE_HOURS)))


def remind(session: Session, before: timedelta, now: datetime | None = None) -> int:
    """Remind, once, every invitation of an open meeting still unanswered ``before`` its reply deadline (or
    after it); returns how many were reminded. Idempotent: ``reminded_at`` records it.

    A periodic sweep rather than a timer in the diagram: the deadline can move when the organiser changes
    the meeting, and the sweep reads it as it stands, in one query for all meetings.
    """
    now = now or clock.now()
    due = session.scalars(select(Invitation).join(Meeting).where(
        Meeting.status == MeetingStatus.OPEN, Invitation.answer == Answer.PENDING, Invitation.reminded_at.is_(None),
        Meeting.reply_by <= now + before)
        .options(selectinload(Invitation.meeting)).limit(5000)).all()
    for inv in due:
        meeting = inv.meeting
        tell(session, told_people(session, inv), f"会议回执提醒：{meeting.title} 的回执须于 "
             f"{clock.local(meeting.reply_by):%m月%d日%H:%M} 前报送，请尽快填报", kind="meeting_reminder",
             reason="会议回执尚未报送", instance_id=inv.instance_id, key=f"meeting:{meeting.id}:remind:{inv.id}")
        inv.reminded_at = now
    if due:
        audit.record(session, "meeting.remind", invitations=len(due))
    return len(due)
