"""The reply side: the ``meeting_reply`` diagram's step that records a reply slip (回执) or a person's answer.

:func:`record_answer` is the one place an answer is written (the reply process's own step calls it, in that
step's transaction), as :func:`handlers.exchange.replies.apply_reply` is for a document's receipt. The
reply form (``forms.meetings``) has already validated the rows; this keeps what it is given.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.daily import add_counts, local_day
from engine.registry import HandlerContext, handler

from .models import Answer, Attendee, Invitation, MeetingStatus, ReplySlipDay

__all__ = ["record_answer"]


def record_answer(session: Session, invitation_id: int, person_id: int, decision: str, reason: str,
                  attendees: list[dict], at: datetime) -> Invitation:
    """Record the answer to one invitation as given by ``person_id`` at ``at``: attend with ``attendees`` (a
    unit's rows of name, 职务 and mobile; none for a person) or decline with ``reason``.

    A first answer after the reply deadline is marked late (迟报) for good; answering again (after a change)
    replaces the rows and confirms the meeting as it now stands. An answer to a meeting cancelled meanwhile
    changes nothing: the cancellation ends the process.
    """
    invitation = session.get(Invitation, invitation_id)
    meeting = invitation.meeting
    if meeting.status == MeetingStatus.CANCELLED:
        return invitation
    if invitation.answered_at is None:
        invitation.late = at > meeting.reply_by
        if invitation.person_id is None:  # a unit's slip, counted once for supervision
            add_counts(session, ReplySlipDay.__table__, ("unit_id", "day"), [
                {"unit_id": invitation.unit_id, "day": local_day(at), "on_time": int(not invitation.late),
                 "late": int(invitation.late)}])
    invitation.answer = Answer(decision)
    invitation.reason = reason or None
    invitation.answered_at, invitation.answered_by_id, invitation.answered_revision = at, person_id, meeting.revision
    invitation.attendees = [Attendee(name=a["name"], job_title=a["job_title"], mobile=a["mobile"])
                            for a in attendees] if invitation.answer == Answer.ATTEND else []
    return invitation


@handler("meeting_answer")
def meeting_answer(ctx: HandlerContext, invitation_id: int, decision: str, person: int, reason: str = "",
                   attendees: list | None = None) -> dict:
    """The reply task's answer, recorded for the organiser to read."""
    invitation = record_answer(ctx.session, invitation_id, person, decision, reason, attendees or [], ctx.now())
    ctx.audit("meeting.answer", meeting_id=invitation.meeting_id, invitation_id=invitation.id, answer=decision,
              late=invitation.late, attendees=len(invitation.attendees))
    return {"answer": decision, "late": invitation.late, "at": ctx.now().isoformat()}
