"""Telling people: ``tell()`` is the one way a notice leaves Gongwen.

It records the notice in the app (a ``Notification`` row per person, in the caller's
transaction, so a step that rolls back tells nobody) and queues its delivery on every
registered channel (SMS, mail, ...) through the outbox, at least once, under an
idempotency key: delivering the same item twice sends nothing twice. The in-app channel
is the row itself and needs no delivery.

Which channels carry a notice: an urgent one (``urgent=True``: 特急 arrivals, overdue sign-for)
goes on every channel that can reach the person, at once, day or night; any other goes on the
channels the person chose (``ChannelChoice``), or each channel's default, and a channel may hold
it (texts wait for the morning in quiet hours).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.background import JobContext, consumer
from engine.errors import GongwenError
from engine.messages import after_commit
from engine.models import Outbox, OutboxStatus, Person, Role
from engine.organisation import holders
from engine.registry import HandlerContext, handler

from .models import ChannelChoice, Notification

__all__ = ["CHANNELS", "Channel", "Undeliverable", "channels_for", "latest", "notify", "register_channel", "tell"]


class Undeliverable(GongwenError):
    """A notice a channel can never deliver (no gateway configured, no number): kept, shown, not retried."""


class Channel(Protocol):
    """A way to reach a person outside the app.

    ``send`` may raise: the outbox retries it with back-off, and after its last attempt the
    system administrator sees it; raising :class:`Undeliverable` ends the attempts at once.
    """

    name: str
    label: str        # as the person's settings page names it: 短信, 邮件
    default: bool     # carries non-urgent notices for a person who made no choice

    def reaches(self, person: Person) -> bool:
        """Whether the person can be reached this way at all (a mobile number, a mail address)."""

    def send(self, job: JobContext, session: Session, notification: Notification, key: str) -> None:
        """Send ``notification``; ``key`` is the same on every attempt, for the gateway to drop repeats.

        Raising ``engine.background.Deferred(until)`` holds it (quiet hours) without counting an attempt.
        """


CHANNELS: dict[str, Channel] = {}


def register_channel(channel: Channel) -> Channel:
    """Deliver every notice from now on through ``channel`` too."""
    CHANNELS[channel.name] = channel
    return channel


def channels_for(session: Session, people: list[int], *, urgent: bool,
                 only: Iterable[str] | None = None) -> dict[int, list[Channel]]:
    """The channels, beyond the app, that carry a notice to each of ``people`` (of ``only``, if given)."""
    channels = [c for c in CHANNELS.values() if only is None or c.name in set(only)]
    if not channels or not people:
        return {p: [] for p in people}
    persons = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(people)))}
    chosen = {} if urgent else {
        (c.person_id, c.channel): c.enabled
        for c in session.scalars(select(ChannelChoice).where(ChannelChoice.person_id.in_(people)))}
    return {p: [c for c in channels if p in persons and c.reaches(persons[p])
                and (urgent or chosen.get((p, c.name), c.default))] for p in people}


def tell(session: Session, people: Iterable[int], text: str, *, kind: str, reason: str = "",
         instance_id: int | None = None, key: str, urgent: bool = False,
         channels: Iterable[str] | None = None) -> list[Notification]:
    """Tell ``people`` ``text``: in the app now, on their channels after the commit.

    ``key`` names this notice (e.g. ``chase:{receipt}:{time}``): it makes each delivery idempotent.
    ``urgent`` sends it on every channel that reaches each person, at once, whatever they chose;
    ``channels`` limits the channels beyond the app (e.g. no text where one went already).
    """
    now = clock.now()
    notes = [Notification(person_id=p, kind=kind, text=text, reason=reason, instance_id=instance_id, created_at=now,
                          urgent=urgent)
             for p in dict.fromkeys(people)]
    session.add_all(notes)
    routes = channels_for(session, [n.person_id for n in notes], urgent=urgent, only=channels)
    if any(routes.values()):
        session.flush()
        session.add_all(Outbox(topic="tell", key=f"tell:{key}:{n.person_id}:{c.name}", created_at=now,
                               payload={"notification_id": n.id, "channel": c.name}, source_instance_id=instance_id)
                        for n in notes for c in routes[n.person_id])
        after_commit(session, "deliver_outbox")
    return notes


@consumer("tell")
def deliver(job: JobContext, session: Session, item: Outbox) -> None:
    """Send one notice on one channel (a channel since unregistered is skipped, not failed)."""
    channel = CHANNELS.get(item.payload["channel"])
    if channel is None:
        return
    try:
        channel.send(job, session, session.get(Notification, item.payload["notification_id"]), item.key)
    except Undeliverable as err:
        item.status, item.last_error = OutboxStatus.DEAD, str(err)


@handler("notify")
def notify(ctx: HandlerContext, text: str, *, person: int | None = None, role: str | None = None,
           unit: int | None = None, department: int | None = None, reason: str = "",
           kind: str = "reminder", urgent: bool = False) -> dict:
    """The diagram's way to tell one person, or everyone holding ``role`` in ``unit`` (default: the owning unit).

    With ``department``, holders of the role in that department are told, or, if
    nobody holds it there, every holder in the unit. ``urgent``: see :func:`tell`.
    """
    if person is not None:
        recipients = [person]
    elif role is not None:
        recipients = holders(ctx.session, Role(role), unit or ctx.owning_unit_id, department)
    else:
        raise ValueError("notify needs a person or a role")
    tell(ctx.session, recipients, text, kind=kind, reason=reason, instance_id=ctx.instance_id, urgent=bool(urgent),
         key=f"notify:{ctx.instance_id}:{ctx.task_id}")
    ctx.audit("notify", kind=kind, recipients=recipients, reason=reason)
    return {"notified": recipients, "at": ctx.now().isoformat()}


def latest(session: Session, person_id: int, limit: int = 10) -> list[Notification]:
    """The person's latest notices, newest first."""
    return list(session.scalars(select(Notification).where(Notification.person_id == person_id)
                                .order_by(Notification.id.desc()).limit(limit)))
